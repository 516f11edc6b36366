"""The osmnx roads backend on a small OSM file written here (no network)."""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest

from siting import DataError
from siting.travel.roads import road_graph_from_xml, road_matrix

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
}
WAYS = [  # id, nodes, tags
    (100, [1, 2, 3], {"highway": "primary", "maxspeed": "90"}),
    (101, [3, 4], {"highway": "residential"}),
    (102, [5, 6, 7, 5], {"building": "yes"}),
    (103, [8, 9], {"highway": "primary", "maxspeed": "90"}),
    (104, [4, 10], {"highway": "secondary", "oneway": "yes"}),
]


def osm_xml(ways=WAYS) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for node, (lat, lon) in NODES.items():
        lines.append(f'  <node id="{node}" lat="{lat}" lon="{lon}" version="1"/>')
    for way, refs, tags in ways:
        lines.append(f'  <way id="{way}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines)


def points(ids) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        index=pd.Index([f"n{i}" for i in ids]),
        geometry=gpd.points_from_xy([NODES[i][1] for i in ids], [NODES[i][0] for i in ids]),
        crs="EPSG:4326",
    )
    return frame.to_crs("EPSG:3006")


def metres_east(lat: float, degrees: float) -> float:
    return math.radians(degrees) * 6_371_009 * math.cos(math.radians(lat))


@pytest.fixture
def graph(tmp_path):
    path = tmp_path / "roads.osm"
    path.write_text(osm_xml(), encoding="utf-8")
    return road_graph_from_xml(path)


def test_only_roads_are_kept(graph):
    highways = {data["highway"] for _, _, data in graph.edges(data=True)}  # one class each
    assert highways == {"primary", "residential", "secondary"}
    assert 5 not in graph.nodes  # the building's nodes are gone


def test_minutes_follow_lengths_and_speeds(graph):
    result = road_matrix(graph, points([1, 8, 10]), points([3, 10, 1]), crs="EPSG:3006")
    frame = result.matrix.to_frame()
    primary_min = metres_east(59.30, 0.04) / 1000 / 90 * 60
    assert frame.at["n1", "n3"] == pytest.approx(primary_min, rel=0.01)
    residential_min = math.radians(0.01) * 6_371_009 / 1000 / 40 * 60
    secondary_min = math.radians(0.01) * 6_371_009 / 1000 / 70 * 60
    assert frame.at["n1", "n10"] == pytest.approx(
        primary_min + residential_min + secondary_min, rel=0.01
    )
    # the one-way street leads into n10 but not out of it
    assert math.isinf(frame.at["n10", "n1"])
    assert frame.at["n10", "n10"] == 0


def test_unreachable_pairs_are_listed_by_id(graph):
    result = road_matrix(graph, points([1, 8]), points([3, 9]), crs="EPSG:3006")
    pairs = set(map(tuple, result.unreachable.to_numpy()))
    assert pairs == {("n1", "n9"), ("n8", "n3")}
    assert result.origin_snap_m.max() < 1.0  # the points sit on nodes


def test_snapping_distance_is_kept(graph):
    off_road = gpd.GeoDataFrame(
        index=pd.Index(["near"]), geometry=gpd.points_from_xy([18.0], [59.301]), crs="EPSG:4326"
    ).to_crs("EPSG:3006")
    result = road_matrix(graph, off_road, points([3]), crs="EPSG:3006")
    assert result.origin_snap_m["near"] == pytest.approx(111, abs=3)  # 0.001 degree north


def test_file_without_roads_is_an_error(tmp_path):
    path = tmp_path / "buildings.osm"
    path.write_text(osm_xml([w for w in WAYS if "building" in w[2]]), encoding="utf-8")
    with pytest.raises(DataError, match=r"buildings.osm: no roads of the kept classes"):
        road_graph_from_xml(path)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(DataError, match="OSM file not found"):
        road_graph_from_xml(tmp_path / "none.osm")
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm><node", encoding="utf-8")
    with pytest.raises(DataError, match="not a readable OSM XML file"):
        road_graph_from_xml(broken)


def test_roads_backend_by_name(graph, tmp_path, sweden):
    from siting.config import RoadSettings, TravelSettings
    from siting.travel.multimodal import road_leg

    path = tmp_path / "area.osm"
    path.write_text(osm_xml(), encoding="utf-8")
    settings = TravelSettings(backend="roads", roads=RoadSettings(osm_file=str(path)))
    origins = points([1]).assign(county_id="01")
    destinations = points([3]).assign(county_id="01")
    leg = road_leg(sweden, origins, destinations, settings)
    assert leg.minutes[0, 0] == pytest.approx(metres_east(59.30, 0.04) / 1000 / 90 * 60, rel=0.01)
    with pytest.raises(ValueError, match=r"backend roads needs roads\.osm_file"):
        TravelSettings(backend="roads")


def test_saved_graphml_is_read_without_network(graph, tmp_path, monkeypatch):
    import osmnx as ox

    from siting.travel import roads

    path = tmp_path / "area.graphml"
    ox.save_graphml(graph, path)

    def no_network(*args, **kwargs):
        raise AssertionError("no download may happen")

    monkeypatch.setattr(ox, "graph_from_polygon", no_network)
    loaded = roads.road_graph_for_polygon(None, path)
    assert loaded.number_of_edges() == graph.number_of_edges()


def test_download_failure_is_a_clear_error(tmp_path, monkeypatch):
    import osmnx as ox

    from siting.travel import roads

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(ox, "graph_from_polygon", offline)
    with pytest.raises(DataError, match=r"could not download roads \(no network\); save an OSM"):
        roads.road_graph_for_polygon(None, tmp_path / "new.graphml")
