from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from siting import DataError, TravelTimeMatrix, load_atlas
from siting.config import EstimateSettings
from siting.travel.estimate import estimate_matrix


def places(atlas, *towns):
    ids = [atlas.locality_id(t) for t in towns]
    return atlas.localities.loc[ids]


def test_road_estimate_is_distance_times_circuity_over_speed(sweden):
    frame = places(sweden, "Stockholm", "Göteborg")
    matrix = estimate_matrix(sweden, frame.iloc[:1], frame.iloc[1:])
    metres = frame.geometry.iloc[0].distance(frame.geometry.iloc[1])
    assert 390_000 < metres < 400_000
    assert matrix.minutes[0, 0] == pytest.approx(metres / 1000 * 1.2 / 90 * 60)
    assert matrix.mode[0, 0] == "road"
    slower = estimate_matrix(
        sweden, frame.iloc[:1], frame.iloc[1:], EstimateSettings(circuity=1.3, speed_kmh=75)
    )
    assert slower.minutes[0, 0] == pytest.approx(metres / 1000 * 1.3 / 75 * 60)


def test_gotland_is_reached_by_ferry(sweden):
    visby = places(sweden, "Visby")
    mainland = places(sweden, "Stockholm", "Kalmar", "Nynäshamn", "Oskarshamn")
    matrix = estimate_matrix(sweden, visby, mainland).to_frame().iloc[0]
    road = estimate_matrix(
        sweden,
        mainland.loc[[sweden.locality_id("Nynäshamn")]],
        mainland.loc[[sweden.locality_id("Stockholm")]],
    ).minutes[0, 0]
    stockholm = sweden.locality_id("Stockholm")
    assert matrix[stockholm] == pytest.approx(180 + 20 + road)  # via Nynäshamn
    assert matrix[sweden.locality_id("Nynäshamn")] == pytest.approx(200)
    assert matrix[sweden.locality_id("Oskarshamn")] == pytest.approx(220)
    # Kalmar is nearer Oskarshamn: the faster link wins
    via_oskarshamn = (
        220
        + estimate_matrix(
            sweden,
            mainland.loc[[sweden.locality_id("Oskarshamn")]],
            mainland.loc[[sweden.locality_id("Kalmar")]],
        ).minutes[0, 0]
    )
    assert matrix[sweden.locality_id("Kalmar")] == pytest.approx(via_oskarshamn)
    modes = estimate_matrix(sweden, visby, mainland).mode
    assert (modes == "road+ferry").all()
    # within the island, no ferry
    inland = estimate_matrix(sweden, visby, visby)
    assert inland.minutes[0, 0] == 0 and inland.mode[0, 0] == "road"


def test_full_default_matrix_is_symmetric_in_labels(sweden):
    matrix = estimate_matrix(sweden, sweden.organizers, sweden.candidates)
    assert matrix.minutes.shape == (290, 123)
    assert np.isfinite(matrix.minutes).all() and (matrix.minutes >= 0).all()
    long = matrix.to_long()
    assert len(long) == 290 * 123
    back = TravelTimeMatrix.from_long(long)
    frame = back.to_frame().loc[list(matrix.origins), list(matrix.destinations)]
    np.testing.assert_allclose(frame.to_numpy(), matrix.minutes)


def test_bad_points_are_named(sweden):
    frame = places(sweden, "Luleå").drop(columns="county_id")
    with pytest.raises(DataError, match="origins: a county_id column is needed"):
        estimate_matrix(sweden, frame, frame)
    wrong = places(sweden, "Luleå").to_crs("EPSG:4326")
    with pytest.raises(DataError, match=r"origins: CRS is EPSG:4326, expected EPSG:3006"):
        estimate_matrix(sweden, wrong, wrong)
    empty = gpd.GeoDataFrame(
        {"county_id": ["25"]},
        index=pd.Index(["x"]),
        geometry=gpd.points_from_xy([np.nan], [np.nan]),
        crs="EPSG:3006",
    )
    with pytest.raises(DataError, match=r"origins: no coordinates for id\(s\) x"):
        estimate_matrix(sweden, empty, empty)


def test_negative_speed_is_rejected():
    with pytest.raises(ValueError, match="speed_kmh"):
        EstimateSettings(speed_kmh=-5)


def test_unknown_ferry_terminal_is_named(data_copy):
    data_copy.write_text(
        data_copy.read_text().replace(
            "mainland_terminal: Oskarshamn", "mainland_terminal: Oskarshamm"
        )
    )
    with pytest.raises(
        DataError,
        match=r"ferries\[1\].mainland_terminal: unknown town "
        r"'Oskarshamm'; did you mean 'Oskarshamn'",
    ):
        load_atlas(data_copy)


def test_matrix_labels_must_be_unique():
    with pytest.raises(DataError, match="duplicate origin id"):
        TravelTimeMatrix(("a", "a"), ("b",), np.zeros((2, 1)))
    with pytest.raises(DataError, match=r"shape \(1, 1\), labels say \(2, 1\)"):
        TravelTimeMatrix(("a", "b"), ("c",), np.zeros((1, 1)))


def test_cache_returns_the_same_matrix_and_keys_on_inputs(sweden, tmp_path):
    from siting.config import TravelSettings
    from siting.travel.cache import cached_travel_matrix, matrix_key

    settings = TravelSettings(modes=["road", "rail"])
    first = cached_travel_matrix(
        sweden, sweden.organizers, sweden.candidates, settings, folder=tmp_path
    )
    files = list(tmp_path.glob("*.parquet"))
    assert len(files) == 1
    again = cached_travel_matrix(
        sweden, sweden.organizers, sweden.candidates, settings, folder=tmp_path
    )
    assert again.origins == first.origins and again.destinations == first.destinations
    np.testing.assert_array_equal(again.minutes, first.minutes)
    np.testing.assert_array_equal(again.mode, first.mode)
    slower = TravelSettings(modes=["road", "rail"], estimate=EstimateSettings(speed_kmh=80))
    assert matrix_key(sweden, sweden.organizers, sweden.candidates, slower) != files[0].stem
    fewer = sweden.organizers.iloc[:10]
    assert matrix_key(sweden, fewer, sweden.candidates, settings) != files[0].stem


def test_damaged_cache_entry_is_recomputed(sweden, tmp_path):
    from siting.config import TravelSettings
    from siting.travel.cache import cached_travel_matrix, matrix_key

    settings = TravelSettings()
    key = matrix_key(sweden, sweden.organizers, sweden.candidates, settings)
    (tmp_path / f"{key}.parquet").write_bytes(b"not parquet")
    matrix = cached_travel_matrix(
        sweden, sweden.organizers, sweden.candidates, settings, folder=tmp_path
    )
    assert matrix.minutes.shape == (290, 123)
    assert cached_travel_matrix(
        sweden, sweden.organizers, sweden.candidates, settings, folder=tmp_path
    ).minutes.shape == (290, 123)
