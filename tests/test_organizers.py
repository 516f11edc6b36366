"""The register importer, on a small register written here in Skolenhetsregistret v2's shape.

The shape follows public client code of the API (test fixtures of deno-li/fuzzy-MCP):
``data.schoolUnitCode``, ``data.attributes.displayName/status/addresses[].geoCoordinates``
and the organizer in ``included`` (``organizationNumber``, ``attributes.displayName``,
``attributes.organizerType``).
"""

from __future__ import annotations

import json

import pytest

from siting import DataError, load_atlas, organizers_from_register


def _unit(code, organizer, lat, lon, status="AKTIV", name=None):
    number, display, kind = organizer
    included = {
        "type": "organization",
        "attributes": {"displayName": display, "organizerType": kind},
    }
    if number:
        included["organizationNumber"] = number
    return {
        "meta": {"extractDate": "2025-05-08T00:06:10.19+02:00"},
        "data": {
            "type": "schoolunit",
            "schoolUnitCode": code,
            "attributes": {
                "displayName": name or f"Skola {code}",
                "status": status,
                "addresses": [
                    {
                        "type": "POSTADRESS",
                        "geoCoordinates": {"latitude": None, "longitude": None},
                    },
                    {
                        "type": "BESOKSADRESS",
                        "geoCoordinates": {"latitude": str(lat), "longitude": str(lon)},
                    },
                ],
            },
        },
        "included": included,
    }


@pytest.fixture
def register(tmp_path):
    units = tmp_path / "school-units"
    units.mkdir()
    lulea = ("2120002627", "LULEÅ KOMMUN", "KOMMUN")
    chain = ("5565555555", "Skolbolaget AB", "ENSKILD")
    documents = {
        "10000001": _unit("10000001", lulea, 65.5842, 22.1547),  # Luleå centre
        "10000002": _unit("10000002", lulea, 65.6200, 22.0500),
        "10000003": _unit("10000003", lulea, 65.5500, 22.2000),
        "20000001": _unit("20000001", chain, 59.3600, 18.0000),  # Solna
        "20000002": _unit("20000002", chain, 57.7070, 11.9670),  # Göteborg
        "20000003": _unit("20000003", chain, 59.3300, 18.0600),  # Stockholm
        "30000001": _unit("30000001", chain, 59.0, 18.0, status="UPPHORT"),
    }
    for code, document in documents.items():
        (units / f"{code}.json").write_text(json.dumps(document), encoding="utf-8")
    organizers = {
        "data": {
            "type": "organizer",
            "attributes": [
                {
                    "organizationNumber": "5565555555",
                    "displayName": "Skolbolaget i Sverige AB",
                    "organizerType": "ENSKILD",
                }
            ],
        }
    }
    (tmp_path / "organizers.json").write_text(json.dumps(organizers), encoding="utf-8")
    return tmp_path


def test_register_organizers_at_medoid(register):
    organizers = organizers_from_register(register, "EPSG:3006")
    assert list(organizers.index) == ["o2120002627", "o5565555555"]
    assert organizers.at["o2120002627", "school_units"] == 3
    assert organizers.at["o5565555555", "school_units"] == 3  # the closed unit is left out
    assert organizers.at["o5565555555", "name"] == "Skolbolaget i Sverige AB"
    assert organizers.at["o2120002627", "name"] == "LULEÅ KOMMUN"
    assert organizers.at["o2120002627", "organizer_type"] == "kommunal"
    assert organizers.at["o5565555555", "organizer_type"] == "enskild"
    atlas = load_atlas(organizers=organizers)
    # the chain's medoid is one of its Stockholm-area units, not Göteborg
    assert atlas.organizers.at["o5565555555", "county_id"] == "01"
    assert atlas.organizers.at["o2120002627", "county_id"] == "25"
    assert atlas.organizers.at["o2120002627", "municipality_id"] == "2580"


def test_register_with_inactive_units(register):
    organizers = organizers_from_register(register, "EPSG:3006", include_inactive=True)
    assert organizers.at["o5565555555", "school_units"] == 4


def test_register_problems_name_the_file(register):
    bad = register / "school-units" / "40000001.json"
    document = _unit("40000001", ("", "", ""), 60, 15)
    bad.write_text(json.dumps(document), encoding="utf-8")
    (register / "school-units" / "40000002.json").write_text("{not json", encoding="utf-8")
    (register / "school-units" / "40000003.json").write_bytes(
        json.dumps({"data": {"attributes": {"displayName": "Skola"}}}, ensure_ascii=False)
        .replace("Skola", "Sk\u00e5la")
        .encode("latin-1")
    )
    (register / "school-units" / "40000004.json").write_text('{"data": [1, 2]}', encoding="utf-8")
    with pytest.raises(DataError) as info:
        organizers_from_register(register, "EPSG:3006")
    message = str(info.value)
    assert "40000001.json: no organizer" in message
    assert "40000002.json: not JSON" in message
    assert "40000003.json: not UTF-8 text" in message
    assert "40000004.json: not a school-unit answer" in message
    assert "school-units" in message


def test_organizer_without_number_is_keyed_by_name(register):
    path = register / "school-units" / "50000001.json"
    path.write_text(json.dumps(_unit("50000001", ("", "EKERÖ KOMMUN", "KOMMUN"), 59.39, 17.66)))
    organizers = organizers_from_register(register, "EPSG:3006")
    ekero = organizers[organizers["name"] == "EKERÖ KOMMUN"]
    assert len(ekero) == 1 and ekero["organizer_type"].iloc[0] == "kommunal"


def test_register_coordinate_errors_name_the_register_not_the_manifest(register):
    path = register / "school-units" / "60000001.json"
    path.write_text(json.dumps(_unit("60000001", ("999", "Utlandsskolan", "HMANUTL"), 48.85, 2.35)))
    with pytest.raises(DataError) as info:
        load_atlas(school_register=register)
    message = str(info.value)
    assert "organizer o999 lies" in message and "outside every municipality" in message
    assert str(register) in message and "sweden.yaml" not in message


def test_register_json_problem_in_the_cli_is_exit_2(register, tmp_path):
    import subprocess
    import sys

    import yaml

    (register / "school-units" / "70000001.json").write_bytes(b'{"data": "\xe5"}')
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        yaml.safe_dump({"name": "r", "data": {"school_register": str(register)}, "model": {"p": 2}})
    )
    result = subprocess.run(
        [sys.executable, "-m", "siting", "solve", str(scenario), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "70000001.json: not UTF-8 text" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


# --- siting data fetch-register, with the network replaced by a fake ------------------------


def _fake_server(monkeypatch, codes, fail_on=None):
    from siting import register as register_module

    requested = []

    def fake_get(url, timeout_s):
        requested.append(url)
        if fail_on and fail_on in url:
            raise DataError(f"could not download {url}: connection refused")
        if url.endswith("/v2/organizers"):
            return {"data": {"type": "organizer", "attributes": []}}
        if url.endswith("/v2/school-units"):
            return {
                "data": {"type": "schoolunit", "attributes": [{"schoolUnitCode": c} for c in codes]}
            }
        code = url.rsplit("/", 1)[-1]
        return _unit(code, ("1", "A", "KOMMUN"), 65.58, 22.15)

    monkeypatch.setattr(register_module, "_get", fake_get)
    return requested


def test_fetch_register_saves_units(monkeypatch, tmp_path):
    from siting.register import fetch_register

    _fake_server(monkeypatch, ["10000001", "10000002"])
    assert fetch_register(tmp_path / "reg") == 2
    assert organizers_from_register(tmp_path / "reg", "EPSG:3006").index.tolist() == ["o1"]


@pytest.mark.parametrize("code", ["../../escaped", "/tmp/absolute", "..", "a/b"])
def test_fetch_register_refuses_codes_that_are_paths(monkeypatch, tmp_path, code):
    from siting.register import fetch_register

    requested = _fake_server(monkeypatch, ["10000001", code])
    out = tmp_path / "deep" / "reg"
    with pytest.raises(DataError, match="not letters and digits"):
        fetch_register(out)
    assert not (tmp_path / "deep").exists()  # no folder left behind
    assert not any("escaped" in str(p) or "absolute" in str(p) for p in tmp_path.rglob("*"))
    assert not [u for u in requested if "/v2/school-units/" in u]


def test_failed_download_leaves_no_empty_folder(monkeypatch, tmp_path):
    from siting.register import fetch_register

    _fake_server(monkeypatch, [], fail_on="/v2/organizers")
    with pytest.raises(DataError, match="could not download"):
        fetch_register(tmp_path / "reg")
    assert list(tmp_path.iterdir()) == []


def test_register_folder_missing(tmp_path):
    with pytest.raises(DataError, match="has no school-units/ folder"):
        organizers_from_register(tmp_path, "EPSG:3006")
