"""The GTFS backend on a tiny feed written here."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from siting import DataError
from siting.travel.gtfs import gtfs_matrix

MONDAY = dt.date(2026, 11, 23)

FEED = {
    "stops.txt": "stop_id,stop_name,parent_station\n"
    "A,Alpha,\nA1,Alpha spår 1,A\nB,Beta,\nC,Gamma,\nD,Delta,\n",
    "routes.txt": "route_id,route_type\nR1,2\nBUS,3\n",
    "trips.txt": "route_id,service_id,trip_id\nR1,WK,t1\nR1,WK,t2\nR1,WK,t3\nR1,SUN,t4\n"
    "BUS,WK,b1\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
    "start_date,end_date\nWK,1,1,1,1,1,0,0,20260101,20261231\n"
    "SUN,0,0,0,0,0,0,1,20260101,20261231\n",
    "calendar_dates.txt": "service_id,date,exception_type\n",
    # t1 and t2: A -> B -> C; t3: C -> D; t4 runs on Sundays only; b1 is a bus A -> D
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
    "t1,07:00:00,07:00:00,A1,1\nt1,07:40:00,07:42:00,B,2\nt1,08:30:00,08:30:00,C,3\n"
    "t2,13:00:00,13:00:00,A1,1\nt2,13:50:00,13:52:00,B,2\nt2,14:40:00,14:40:00,C,3\n"
    "t3,09:00:00,09:00:00,C,1\nt3,10:00:00,10:00:00,D,2\n"
    "t4,07:00:00,07:00:00,A1,1\nt4,07:10:00,07:10:00,D,2\n"
    "b1,07:00:00,07:00:00,A,1\nb1,07:05:00,07:05:00,D,2\n",
}


def write_feed(folder, files=FEED):
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_station_minutes_in_vehicle_plus_wait(tmp_path):
    feed = write_feed(tmp_path / "feed")
    matrix = gtfs_matrix(feed, MONDAY, window=("06:00:00", "20:00:00")).to_frame()
    window = 14 * 60
    # A -> B: fastest ride 40 min (t1), two departures: wait 840 / 2 / 2 = 210
    assert matrix.at["A", "B"] == pytest.approx(40 + window / 2 / 2)
    # A -> C: ride 90 (t1), two departures
    assert matrix.at["A", "C"] == pytest.approx(90 + window / 2 / 2)
    # A -> D needs a change at C (t3 runs once): the second wait is the whole window / 2
    assert matrix.at["A", "D"] == pytest.approx(90 + window / 4 + 60 + window / 2)
    assert matrix.at["D", "A"] == float("inf")  # nothing runs back
    assert "A1" not in matrix.index  # platforms grouped under their station


def test_zip_feed_and_other_day(tmp_path):
    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in FEED.items():
            archive.writestr(name, text)
    sunday = gtfs_matrix(path, dt.date(2026, 11, 22)).to_frame()
    assert sunday.at["A", "D"] == pytest.approx(10 + 14 * 60 / 2)  # t4 only
    with_buses = gtfs_matrix(path, MONDAY, route_types=None).to_frame()
    assert with_buses.at["A", "D"] == pytest.approx(5 + 14 * 60 / 2)


def test_missing_required_file_is_named(tmp_path):
    files = {k: v for k, v in FEED.items() if k != "stop_times.txt"}
    feed = write_feed(tmp_path / "feed", files)
    with pytest.raises(DataError, match=r"missing required GTFS file\(s\) stop_times.txt"):
        gtfs_matrix(feed, MONDAY)
    files = {k: v for k, v in FEED.items() if not k.startswith("calendar")}
    feed = write_feed(tmp_path / "nocal", files)
    with pytest.raises(DataError, match=r"neither calendar\.txt nor calendar_dates\.txt"):
        gtfs_matrix(feed, MONDAY)


def test_no_service_that_day(tmp_path):
    feed = write_feed(tmp_path / "feed")
    with pytest.raises(DataError, match="no trips of the kept route types run on 2026-11-28"):
        gtfs_matrix(feed, dt.date(2026, 11, 28))  # a Saturday


def test_door_to_door_with_gtfs_rail(sweden, tmp_path):
    from siting.config import RailSettings, TravelSettings
    from siting.travel.multimodal import travel_matrix

    files = dict(FEED)
    # place the feed's stations at Stockholm (A) and Göteborg (B) and run one fast train
    files["stops.txt"] = (
        "stop_id,stop_name,stop_lat,stop_lon,parent_station\n"
        "A,Stockholm C,59.3300,18.0580,\nB,Göteborg C,57.7090,11.9730,\n"
    )
    files["trips.txt"] = "route_id,service_id,trip_id\nR1,WK,t1\n"
    files["stop_times.txt"] = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "t1,07:00:00,07:00:00,A,1\nt1,10:00:00,10:00:00,B,2\n"
    )
    feed = write_feed(tmp_path / "feed", files)
    settings = TravelSettings(
        modes=["road", "rail"],
        rail=RailSettings(source="gtfs", gtfs_feed=str(feed), gtfs_date=MONDAY, transfer_min=10),
    )
    places = sweden.localities.loc[[sweden.locality_id(t) for t in ("Stockholm", "Göteborg")]]
    matrix = travel_matrix(sweden, places, places, settings).to_frame()
    road = travel_matrix(sweden, places, places, TravelSettings()).to_frame()
    # the train runs once in a 14 h window: 180 min ride + 420 min expected wait + transfers
    expected = min(road.iloc[0, 1], 180 + 420 + 2 * 10 + 2)  # + ~2 min to the stations
    assert matrix.iloc[0, 1] == pytest.approx(expected, abs=3)


def test_gtfs_settings_are_checked():
    from pydantic import ValidationError

    from siting.config import RailSettings

    with pytest.raises(ValidationError, match="source gtfs needs gtfs_feed and gtfs_date"):
        RailSettings(source="gtfs")


def test_station_minutes_keep_the_whole_mode_name(tmp_path):
    matrix = gtfs_matrix(write_feed(tmp_path / "feed"), MONDAY)
    assert matrix.mode[0, 0] == "rail"  # was "r": a one-character string array


def test_malformed_zip_and_tables_are_data_errors(tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(DataError, match=r"broken\.zip: not a readable zip of GTFS files"):
        gtfs_matrix(broken, MONDAY)
    files = dict(FEED)
    files["stop_times.txt"] = "trip_id,stop_id\nt1,A1\n"
    feed = write_feed(tmp_path / "columns", files)
    with pytest.raises(DataError, match=r"stop_times\.txt lacks column\(s\) arrival_time"):
        gtfs_matrix(feed, MONDAY)
    files = dict(FEED)
    files["stop_times.txt"] = FEED["stop_times.txt"].replace("07:40:00", "7h40")
    feed = write_feed(tmp_path / "times", files)
    with pytest.raises(DataError, match=r"stop_times\.txt arrival_time: expected HH:MM:SS"):
        gtfs_matrix(feed, MONDAY)


def test_missing_or_broken_feed_names_the_scenario_field(sweden, tmp_path):
    from siting.config import RailSettings, TravelSettings
    from siting.travel.cache import cached_travel_matrix
    from siting.travel.multimodal import travel_matrix

    places = sweden.localities.loc[[sweden.locality_id("Stockholm")]]
    for feed in (tmp_path / "gone.zip", tmp_path / "broken.zip"):
        if feed.name == "broken.zip":
            feed.write_bytes(b"not a zip")
        settings = TravelSettings(
            modes=["road", "rail"],
            rail=RailSettings(source="gtfs", gtfs_feed=str(feed), gtfs_date=MONDAY),
        )
        for compute in (cached_travel_matrix, travel_matrix):
            with pytest.raises(DataError, match=rf"travel\.rail\.gtfs_feed: .*{feed.name}"):
                compute(sweden, places, places, settings)
