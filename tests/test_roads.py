"""The roads backend on small .osm.pbf files written here with pyosmium (no network)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest
import yaml
from pyproj import Geod

from siting import DataError
from siting.config import EstimateSettings, RoadSettings, TravelSettings
from siting.travel import roads
from siting.travel.roads import (
    FerryLink,
    load_road_graph,
    read_road_graph,
    road_matrix,
)

NODES = {  # id: (lat, lon)
    1: (59.30, 18.00),
    2: (59.30, 18.02),
    3: (59.30, 18.04),
    4: (59.31, 18.04),
    5: (59.305, 18.01),
    6: (59.305, 18.011),
    7: (59.306, 18.011),
    8: (59.40, 18.20),
    9: (59.40, 18.22),
    10: (59.32, 18.04),
    11: (59.30, 18.30),  # on the island
    12: (59.30, 18.32),
    13: (59.30, 18.299),  # a ferry pier, not on a kept road
}
ROADS = [  # id, nodes, tags
    (100, [1, 2, 3], {"highway": "primary", "maxspeed": "90"}),
    (101, [3, 4], {"highway": "residential"}),  # 40 km/h by default
    (102, [5, 6, 7, 5], {"building": "yes"}),
    (103, [8, 9], {"highway": "primary", "maxspeed": "90"}),
    (104, [4, 10], {"highway": "secondary", "oneway": "yes"}),  # 70 km/h by default
    (106, [11, 12], {"highway": "primary", "maxspeed": "50"}),
    (107, [1, 5], {"highway": "footway"}),
    (108, [2, 6], {"highway": "residential", "motor_vehicle": "no"}),
]
FERRY = (105, [3, 11], {"route": "ferry", "duration": "00:45"})


def write_pbf(path: Path, ways, nodes=NODES) -> Path:
    if path.exists():
        path.unlink()
    writer = osmium.SimpleWriter(str(path))
    for node, (lat, lon) in sorted(nodes.items()):
        writer.add_node(osmium.osm.mutable.Node(id=node, location=(lon, lat)))
    for way, refs, tags in ways:
        writer.add_way(osmium.osm.mutable.Way(id=way, nodes=refs, tags=tags))
    writer.close()
    return path


def points(ids, **extra) -> gpd.GeoDataFrame:
    lat = [NODES[i][0] for i in ids] + [v[0] for v in extra.values()]
    lon = [NODES[i][1] for i in ids] + [v[1] for v in extra.values()]
    frame = gpd.GeoDataFrame(
        {"name": [f"Node {i}" for i in ids] + list(extra)},
        index=pd.Index([f"n{i}" for i in ids] + [k.lower().replace(" ", "") for k in extra]),
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    return frame.to_crs("EPSG:3006")


GEOD = Geod(ellps="WGS84")


def east_m(lat: float, degrees: float) -> float:
    """Geodesic metres along a parallel (the projection is within 0.1 % of it in Sweden)."""
    return GEOD.inv(18.0, lat, 18.0 + degrees, lat)[2]


def north_m(degrees: float, lat: float = 59.30) -> float:
    return GEOD.inv(18.0, lat, 18.0, lat + degrees)[2]


def minutes(metres: float, kmh: float) -> float:
    return metres / 1000 / kmh * 60


PRIMARY_1_3 = minutes(east_m(59.30, 0.04), 90)
RESIDENTIAL_3_4 = minutes(north_m(0.01), 40)
SECONDARY_4_10 = minutes(north_m(0.01), 70)
ISLAND_11_12 = minutes(east_m(59.30, 0.02), 50)


@pytest.fixture
def pbf(tmp_path) -> Path:
    return write_pbf(tmp_path / "area.osm.pbf", [*ROADS, FERRY])


@pytest.fixture
def graph(pbf):
    return read_road_graph(pbf)


def test_only_drivable_ways_and_ferries_are_kept(graph):
    # no building, no footway, no street closed to cars
    assert set(graph.node_osm_id) == {1, 2, 3, 4, 8, 9, 10, 11, 12}
    assert graph.n_ferries == 1
    # node 2 is a shape point of way 100: the contracted graph has 8 junctions
    assert graph.n_junctions == 8


def test_minutes_checked_by_hand(graph):
    result = road_matrix(graph, points([1, 10]), points([3, 10, 1]), crs="EPSG:3006")
    frame = result.matrix.to_frame()
    assert frame.at["n1", "n3"] == pytest.approx(PRIMARY_1_3, rel=2e-3)  # 1.51 min
    assert frame.at["n1", "n10"] == pytest.approx(
        PRIMARY_1_3 + RESIDENTIAL_3_4 + SECONDARY_4_10, rel=2e-3
    )  # 4.13 min
    assert frame.at["n10", "n10"] == 0
    assert math.isinf(frame.at["n10", "n1"])  # the one-way street leads into n10 only
    assert result.matrix.mode[0, 0] == "road"  # the whole word, not "r"
    assert result.matrix.mode.dtype.kind == "U"


def test_access_legs_are_costed(graph):
    near = {"Near": (59.301, 18.00)}  # 111 m north of node 1
    result = road_matrix(graph, points([], **near), points([3]), access_speed_kmh=30.0)
    snap = result.origin_snap_m["near"]
    assert snap == pytest.approx(north_m(0.001), rel=5e-3)
    assert result.matrix.minutes[0, 0] == pytest.approx(
        minutes(north_m(0.001), 30) + PRIMARY_1_3, rel=2e-3
    )  # 0.22 + 1.51 min
    slower = road_matrix(graph, points([], **near), points([3]), access_speed_kmh=10.0)
    assert slower.matrix.minutes[0, 0] - result.matrix.minutes[0, 0] == pytest.approx(
        minutes(snap, 10) - minutes(snap, 30)
    )


def test_points_far_from_the_network_are_an_error_naming_them(graph):
    far = {"Far Town": (59.50, 18.00), "Farther Town": (60.0, 18.0)}
    with pytest.raises(DataError, match=r"2 point\(s\) lie farther than 5 km") as caught:
        road_matrix(graph, points([1], **far), points([3]))
    message = str(caught.value)
    assert "Farther Town (farthertown, 68 km), Far Town (fartown, 16 km)" in message
    assert "travel.roads.max_access_km" in message and "Node 1" not in message
    # a larger limit lets them through, with long access legs
    result = road_matrix(graph, points([], **far), points([3]), max_access_km=100)
    assert result.matrix.minutes.min() > minutes(15_000, 30)


def test_unreachable_pairs_are_listed_by_id_and_name(graph):
    result = road_matrix(graph, points([1, 8]), points([3, 9]))
    pairs = set(map(tuple, result.unreachable[["origin_id", "destination_id"]].to_numpy()))
    assert pairs == {("n1", "n9"), ("n8", "n3")}
    assert set(result.unreachable["origin_name"]) == {"Node 1", "Node 8"}
    assert result.origin_snap_m.max() < 1.0  # the points sit on nodes


def test_ferry_with_duration_joins_the_island(graph):
    result = road_matrix(graph, points([1, 12]), points([12, 3]))
    frame = result.matrix.to_frame()
    assert frame.at["n1", "n12"] == pytest.approx(PRIMARY_1_3 + 45 + ISLAND_11_12, rel=1e-3)
    assert frame.at["n12", "n3"] == pytest.approx(45 + ISLAND_11_12, rel=1e-3)
    mode = pd.DataFrame(result.matrix.mode, index=frame.index, columns=frame.columns)
    assert mode.at["n1", "n12"] == "road+ferry" and mode.at["n12", "n12"] == "road"


def test_ferry_pier_off_the_roads_is_linked(tmp_path):
    pier = (105, [3, 13], {"route": "ferry", "duration": "45"})
    graph = read_road_graph(write_pbf(tmp_path / "pier.osm.pbf", [*ROADS, pier]))
    pier_m = east_m(59.30, 0.001)
    result = road_matrix(graph, points([1]), points([12]))
    assert result.matrix.minutes[0, 0] == pytest.approx(
        PRIMARY_1_3 + 45 + minutes(pier_m, 30) + ISLAND_11_12, rel=1e-3
    )


def test_without_ferry_routes_the_given_links_join_islands(tmp_path):
    graph = read_road_graph(write_pbf(tmp_path / "no-ferry.osm.pbf", ROADS))
    assert graph.n_ferries == 0
    island = points([3, 11])
    link = FerryLink(
        "pier-island",
        a_xy=(island.geometry.x.iloc[0], island.geometry.y.iloc[0]),
        b_xy=(island.geometry.x.iloc[1], island.geometry.y.iloc[1]),
        minutes=60.0,
    )
    alone = road_matrix(graph, points([1]), points([12]))
    assert math.isinf(alone.matrix.minutes[0, 0])
    joined = road_matrix(graph, points([1]), points([12]), ferry_links=(link,))
    assert joined.matrix.minutes[0, 0] == pytest.approx(PRIMARY_1_3 + 60 + ISLAND_11_12, rel=1e-3)
    assert joined.matrix.mode[0, 0] == "road+ferry"


def test_graph_cache_is_reused_and_invalidated(tmp_path, monkeypatch):
    path = write_pbf(tmp_path / "area.osm.pbf", [*ROADS, FERRY])
    folder = tmp_path / "cache"
    first = load_road_graph(path, folder=folder)
    entries = list((folder / "roads").glob("*.npz"))
    assert len(entries) == 1
    assert load_road_graph(path, folder=folder) is first  # kept in memory
    roads._load_road_graph.cache_clear()

    def no_build(*args, **kwargs):
        raise AssertionError("the cached graph must be read, not built")

    monkeypatch.setattr(roads, "read_road_graph", no_build)
    again = load_road_graph(path, folder=folder)
    assert again is not first
    np.testing.assert_array_equal(again.chain_seconds, first.chain_seconds)
    assert again.source == "area.osm.pbf"
    monkeypatch.undo()

    faster = [(100, [1, 2, 3], {"highway": "primary", "maxspeed": "45"}), *ROADS[1:], FERRY]
    write_pbf(path, faster)  # same name, new content: a new key
    changed = load_road_graph(path, folder=folder)
    assert len(list((folder / "roads").glob("*.npz"))) == 2
    result = road_matrix(changed, points([1]), points([3]))
    assert result.matrix.minutes[0, 0] == pytest.approx(2 * PRIMARY_1_3, rel=2e-3)


def test_missing_unreadable_and_roadless_files(tmp_path):
    with pytest.raises(DataError, match="OSM file not found"):
        read_road_graph(tmp_path / "none.osm.pbf")
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm><node", encoding="utf-8")
    with pytest.raises(DataError, match=r"broken\.osm: not a readable OSM file"):
        read_road_graph(broken)
    with pytest.raises(DataError, match=r"roads\.txt: not an OSM file name"):
        (tmp_path / "roads.txt").write_text("x")
        read_road_graph(tmp_path / "roads.txt")
    buildings = write_pbf(tmp_path / "buildings.osm.pbf", [w for w in ROADS if w[0] == 102])
    with pytest.raises(DataError, match=r"buildings.osm.pbf: no roads of the kept classes"):
        read_road_graph(buildings)


def test_osm_xml_is_read_too(tmp_path):
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for node in (1, 2, 3):
        lat, lon = NODES[node]
        lines.append(f'  <node id="{node}" lat="{lat}" lon="{lon}" version="1"/>')
    lines += [
        '  <way id="100" version="1">',
        *[f'    <nd ref="{r}"/>' for r in (1, 2, 3)],
        '    <tag k="highway" v="primary"/>',
        '    <tag k="maxspeed" v="90"/>',
        "  </way>",
        "</osm>",
    ]
    path = tmp_path / "area.osm"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = road_matrix(read_road_graph(path), points([1]), points([3]))
    assert result.matrix.minutes[0, 0] == pytest.approx(PRIMARY_1_3, rel=2e-3)


def test_tag_parsing():
    assert roads.parse_maxspeed("50;70") == 50
    assert roads.parse_maxspeed("SE:urban") == 50
    assert roads.parse_maxspeed("signals") is None
    assert roads.parse_duration_s("1:30") == 5400


def test_roads_backend_by_name(pbf, sweden):
    from siting.travel.multimodal import road_leg, travel_matrix

    settings = TravelSettings(backend="roads", roads=RoadSettings(osm_file=str(pbf)))
    origins = points([1, 4]).assign(county_id="01")
    destinations = points([3]).assign(county_id="01")
    leg = road_leg(sweden, origins, destinations, settings)
    assert leg.minutes[0, 0] == pytest.approx(PRIMARY_1_3, rel=2e-3)
    matrix = travel_matrix(sweden, origins, destinations, settings)
    assert list(matrix.mode[:, 0]) == ["road", "road"]
    with pytest.raises(DataError, match=r"1 origin-destination pair\(s\) have no road path"):
        travel_matrix(sweden, points([8]).assign(county_id="01"), destinations, settings)
    with pytest.raises(ValueError, match=r"backend roads needs roads\.osm_file"):
        TravelSettings(backend="roads")


def test_missing_osm_file_names_the_scenario_field(sweden, tmp_path):
    from siting.travel.cache import cached_travel_matrix
    from siting.travel.multimodal import travel_matrix

    settings = TravelSettings(
        backend="roads", roads=RoadSettings(osm_file=str(tmp_path / "gone.osm.pbf"))
    )
    frame = points([1]).assign(county_id="01")
    for compute in (cached_travel_matrix, travel_matrix):
        with pytest.raises(DataError, match=r"travel\.roads\.osm_file: .*not found.*gone"):
            compute(sweden, frame, frame, settings)


def test_estimate_access_minutes_are_bounded():
    with pytest.raises(ValueError, match="access_min"):
        EstimateSettings(access_min=1e300)
    assert EstimateSettings(access_min=600).access_min == 600


def test_saved_graphml_is_read_without_network(tmp_path, monkeypatch):
    import networkx as nx
    import osmnx as ox

    graph = nx.MultiDiGraph(crs="EPSG:3006")
    graph.add_node(1, x=600_000.0, y=6_600_000.0)
    graph.add_node(2, x=601_000.0, y=6_600_000.0)
    graph.add_edge(1, 2, travel_time=60.0)
    path = tmp_path / "area.graphml"
    ox.save_graphml(graph, path)

    def no_network(*args, **kwargs):
        raise AssertionError("no download may happen")

    monkeypatch.setattr(ox, "graph_from_polygon", no_network)
    loaded = roads.road_graph_for_polygon(None, path)
    converted = roads.road_graph_from_networkx(loaded, crs="EPSG:3006")
    ends = pd.DataFrame({"x": [600_000.0, 601_000.0], "y": [6_600_000.0] * 2}, index=["a", "b"])
    result = road_matrix(converted, ends.iloc[:1], ends.iloc[1:])
    assert result.matrix.minutes[0, 0] == pytest.approx(1.0)


def test_download_failure_is_a_clear_error(tmp_path, monkeypatch):
    import osmnx as ox

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(ox, "graph_from_polygon", offline)
    with pytest.raises(DataError, match=r"could not download roads \(no network\); save an OSM"):
        roads.road_graph_for_polygon(None, tmp_path / "new.graphml")


# --- calibration ------------------------------------------------------------------------


def test_estimate_reads_per_county_calibration(sweden, tmp_path):
    from siting.travel.estimate import estimate_matrix

    table = tmp_path / "calibration.csv"
    table.write_text(
        "# made up for this test\ncounty_id,circuity,speed_kmh\n01,1.5,60\n", encoding="utf-8"
    )
    stockholm = sweden.localities[sweden.localities["county_id"] == "01"].iloc[:2]
    uppsala = sweden.localities[sweden.localities["county_id"] == "03"].iloc[:1]
    plain = estimate_matrix(sweden, stockholm, uppsala, EstimateSettings()).minutes
    fitted = estimate_matrix(
        sweden, stockholm, uppsala, EstimateSettings(calibration=str(table))
    ).minutes
    # the pair drives at the mean pace of its counties: (1.5/60 + 1.2/90) / 2 per km
    assert fitted / plain == pytest.approx(np.full((2, 1), (1.5 / 60 + 1.2 / 90) / 2 / (1.2 / 90)))
    table.write_text("county_id,circuity,speed_kmh\n01,0.5,60\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 2 \(county 01\): circuity 0.5"):
        estimate_matrix(sweden, stockholm, uppsala, EstimateSettings(calibration=str(table)))


def grid_network(path: Path, bounds, *, step=(0.06, 0.03), maxspeed="70") -> Path:
    """A street grid over a lon/lat box: one way per row and per column."""
    west, south, east, north = bounds
    lons = np.arange(west, east + step[0], step[0])
    lats = np.arange(south, north + step[1], step[1])
    nodes = {}
    ids = np.arange(1, len(lons) * len(lats) + 1).reshape(len(lats), len(lons))
    for r, lat in enumerate(lats):
        for c, lon in enumerate(lons):
            nodes[int(ids[r, c])] = (float(lat), float(lon))
    ways = [
        (1000 + r, ids[r].tolist(), {"highway": "primary", "maxspeed": maxspeed})
        for r in range(len(lats))
    ]
    ways += [
        (5000 + c, ids[:, c].tolist(), {"highway": "secondary", "maxspeed": maxspeed})
        for c in range(len(lons))
    ]
    return write_pbf(path, ways, nodes)


def test_calibrate_command_fits_a_grid(tmp_path):
    """On a grid at one speed the fitted speed is that speed and circuity is about 4/pi."""
    small = small_manifest(tmp_path)
    osm = grid_network(tmp_path / "grid.osm.pbf", (16.6, 59.4, 18.7, 60.75))
    out = tmp_path / "calibration.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "siting",
            "travel",
            "calibrate",
            "--osm",
            str(osm),
            "--out",
            str(out),
            "--manifest",
            str(small),
            "--towns-per-county",
            "15",
            "--destinations",
            "15",
        ],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").startswith("# fitted by `siting travel calibrate`")
    table = pd.read_csv(out, comment="#", dtype={"county_id": str})
    assert list(table["county_id"]) == ["03"]
    row = table.iloc[0]
    # grid routes are Manhattan paths: between 1 and sqrt(2) times the straight line
    assert 1.05 < row["circuity"] < 1.42
    # 70 km/h on the grid, slower access legs at 30 km/h pull the mean down a little
    assert 62 < row["speed_kmh"] < 70


# --- the whole command ------------------------------------------------------------------


def cli_env(tmp_path: Path) -> dict:
    return {**os.environ, "SITING_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "250"}


def small_manifest(tmp_path: Path, county: str = "03") -> Path:
    """A copy of the Swedish atlas cut to one county (no ferries, no rail)."""
    from siting.atlas import default_data_dir

    source = default_data_dir()
    target = tmp_path / "data"
    (target / "counties").mkdir(parents=True)
    (target / "places").mkdir()
    (target / "facts").mkdir()
    counties = gpd.read_file(source / "counties" / "sweden.gpkg", layer="counties")
    municipalities = gpd.read_file(source / "counties" / "sweden.gpkg", layer="municipalities")
    gpkg = target / "counties" / "sweden.gpkg"
    counties[counties["county_id"] == county].to_file(gpkg, layer="counties")
    kept = municipalities[municipalities["county_id"] == county]
    kept.to_file(gpkg, layer="municipalities")
    localities = pd.read_csv(source / "places" / "localities.csv", dtype=str)
    localities = localities[localities["municipality_id"].isin(kept["municipality_id"])]
    localities.to_csv(target / "places" / "localities.csv", index=False)
    sites = pd.read_csv(source / "facts" / "sites.csv", dtype=str)
    sites[sites["town"].isin(localities["name"])].to_csv(
        target / "facts" / "sites.csv", index=False
    )
    (target / "population").mkdir()
    population = pd.read_csv(source / "population" / "municipalities.csv", dtype=str)
    population[population["municipality_id"].isin(kept["municipality_id"])].to_csv(
        target / "population" / "municipalities.csv", index=False
    )
    manifest = yaml.safe_load((source / "sweden.yaml").read_text(encoding="utf-8"))
    manifest.pop("ferries", None)
    manifest.pop("rail", None)
    manifest["criteria"].pop("rail", None)  # an intercity criterion needs the rail network
    path = target / "small.yaml"
    path.write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    return path


def test_solve_on_real_roads_end_to_end(tmp_path):
    small = small_manifest(tmp_path)
    osm = grid_network(tmp_path / "uppsala.osm.pbf", (16.6, 59.4, 18.7, 60.75))
    scenario = tmp_path / "roads.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "name": "Uppsala county on roads",
                "data": {"manifest": str(small)},
                "travel": {"backend": "roads", "roads": {"osm_file": str(osm)}},
                "model": {"objective": "median", "p": 2},
                "outputs": {"formats": ["csv", "json"]},
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "siting", "solve", str(scenario), "--out", str(out)],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kpis"]["offices"] == 2
    assignments = pd.read_csv(out / "assignments.csv")
    column = next(c for c in assignments.columns if "minutes" in c)
    # Uppsala county is ~100 x 130 km: trips of a few to ~90 minutes at 70 km/h on a grid
    assert assignments[column].min() >= 0 and assignments[column].max() < 120
    assert assignments[column].mean() > 10
    assert "Traceback" not in result.stderr


def test_three_node_extract_names_the_organizers_too_far(tmp_path):
    nodes = {1: (59.3293, 18.0686), 2: (59.8586, 17.6389), 3: (59.6099, 16.5448)}
    ways = [
        (10, [1, 2], {"highway": "motorway"}),
        (11, [2, 3], {"highway": "primary"}),
    ]
    osm = write_pbf(tmp_path / "three.osm.pbf", ways, nodes)
    scenario = tmp_path / "three.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "name": "Sweden on three nodes",
                "travel": {"backend": "roads", "roads": {"osm_file": str(osm)}},
                "model": {"p": 4},
                "outputs": {"formats": ["json"]},
            }
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "siting", "solve", str(scenario), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "Kiruna (m2584" in result.stderr
    assert "farther than 5 km from the nearest road of three.osm.pbf" in result.stderr
    assert "Traceback" not in result.stderr
