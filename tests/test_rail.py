from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from siting import DataError
from siting.config import TravelSettings
from siting.travel.multimodal import min_plus, rail_network, travel_matrix
from siting.travel.rail import calibration_table, load_rail


@pytest.fixture(scope="module")
def network(sweden):
    return rail_network(sweden)


def test_calibration_meets_published_times_within_two_percent(sweden, network):
    table = calibration_table(network, sweden)
    assert len(table) == 5
    assert table["error_pct"].abs().max() <= 2.0
    shipped = pd.read_csv(sweden.rail_file.with_name("calibration.csv"))
    pd.testing.assert_frame_equal(
        shipped[["from", "to", "model_minutes"]], table[["from", "to", "model_minutes"]]
    )


def test_stations_and_intercity_service(sweden, network):
    stations = network.stations
    assert stations.at[sweden.locality_id("Hallsberg"), "intercity"]
    assert "Västra stambanan" in stations.at[sweden.locality_id("Hallsberg"), "lines"]
    # Vänersborg is on a regional line only
    assert not stations.at[sweden.locality_id("Vänersborg"), "intercity"]
    assert sweden.locality_id("Visby") not in stations.index
    graph = network.graph()
    assert graph.number_of_nodes() == len(stations)


def test_rail_minutes_between_stations(sweden, network):
    matrix = network.matrix().to_frame()
    stockholm, goteborg = sweden.locality_id("Stockholm"), sweden.locality_id("Göteborg")
    assert matrix.at[stockholm, goteborg] == pytest.approx(185, abs=2)
    faster = network.matrix(speed_factor=1.25).to_frame()
    assert faster.at[stockholm, goteborg] < matrix.at[stockholm, goteborg]


def test_door_to_door_takes_the_faster_mode(sweden):
    towns = ["Stockholm", "Göteborg", "Visby", "Vänersborg"]
    places = sweden.localities.loc[[sweden.locality_id(t) for t in towns]]
    road = travel_matrix(sweden, places, places, TravelSettings(modes=["road"])).to_frame()
    both = travel_matrix(sweden, places, places, TravelSettings(modes=["road", "rail"]))
    frame = both.to_frame()
    s, g, v, w = (sweden.locality_id(t) for t in towns)
    assert frame.at[s, g] == pytest.approx(185 + 2 * 15, abs=2)  # rail + two transfers
    assert (frame.to_numpy() <= road.to_numpy() + 1e-9).all()
    modes = pd.DataFrame(both.mode, index=both.origins, columns=both.destinations)
    assert modes.at[s, g] == "rail"
    assert modes.at[v, g] == "rail+ferry"
    assert modes.at[g, w] == "road"  # 62 min by road beats any train with transfers


def test_min_plus_matches_brute_force():
    rng = np.random.default_rng(0)
    left, right = rng.uniform(0, 100, (7, 5)), rng.uniform(0, 100, (5, 6))
    value, best = min_plus(left, right)
    brute = np.array(
        [[min(left[i, k] + right[k, j] for k in range(5)) for j in range(6)] for i in range(7)]
    )
    np.testing.assert_allclose(value, brute)
    np.testing.assert_allclose(left[np.arange(7)[:, None], best] + right[best, np.arange(6)], brute)


def _lines(tmp_path, lines):
    path = tmp_path / "lines.yaml"
    path.write_text(yaml.safe_dump({"lines": lines}, allow_unicode=True), encoding="utf-8")
    return path


def test_unknown_station_is_named(sweden, tmp_path):
    path = _lines(tmp_path, [{"name": "Testbanan", "stations": ["Stockholm", "Uppsalla"]}])
    with pytest.raises(
        DataError,
        match=r"lines\[0\] \(Testbanan\): station unknown town "
        r"'Uppsalla'; did you mean 'Uppsala'",
    ):
        load_rail(sweden, path)


def test_disconnected_network_is_named(sweden, tmp_path):
    path = _lines(
        tmp_path,
        [
            {"name": "A-banan", "stations": ["Stockholm", "Uppsala"]},
            {"name": "B-banan", "stations": ["Lund", "Malmö"]},
        ],
    )
    with pytest.raises(DataError, match=r"the rail network is in 2 pieces: .*A-banan.*B-banan"):
        load_rail(sweden, path)


def test_rail_criterion_now_has_data(sweden):
    from siting.config import Criterion, ModelSettings
    from siting.model.solve import solve_problem
    from siting.problem_builder import build_problem

    problem = build_problem(sweden)
    intercity = problem.attribute("rail")
    assert 0 < intercity.sum() < problem.n_sites  # e.g. Visby has no station
    assert not intercity[list(problem.site_ids).index(sweden.locality_id("Visby"))]
    hard = {"rail": Criterion(mode="hard")}
    solution = solve_problem(problem, ModelSettings(p=4, criteria=hard))
    chosen = [list(problem.site_ids).index(o) for o in solution.offices]
    assert intercity[chosen].all()
