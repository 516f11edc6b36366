"""The register importer, on a small register written here in Skolenhetsregistret v2's shape."""

from __future__ import annotations

import json

import pytest

from siting import DataError, load_atlas, organizers_from_register


def _unit(code, organizer, lat, lon, status="AKTIV", name=None):
    return {
        "data": {
            "type": "schoolunit",
            "attributes": {
                "schoolUnitCode": code,
                "name": name or f"Skola {code}",
                "status": status,
                "organizer": organizer,
                "addresses": [
                    {"type": "POSTADRESS", "geoCoordinates": {"latitude": "0", "longitude": "0"}},
                    {
                        "type": "BESOKSADRESS",
                        "geoCoordinates": {"latitude": str(lat), "longitude": str(lon)},
                    },
                ],
            },
        }
    }


@pytest.fixture
def register(tmp_path):
    units = tmp_path / "school-units"
    units.mkdir()
    lulea = {"organizationNumber": "2120002627", "name": "Luleå kommun", "type": "KOMMUN"}
    chain = {"organizationNumber": "5565555555", "name": "Skolbolaget AB", "type": "ENSKILD"}
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
        "data": [
            {
                "type": "organizer",
                "attributes": {
                    "organizationNumber": "5565555555",
                    "name": "Skolbolaget i Sverige AB",
                },
            }
        ]
    }
    (tmp_path / "organizers.json").write_text(json.dumps(organizers), encoding="utf-8")
    return tmp_path


def test_register_organizers_at_medoid(register):
    organizers = organizers_from_register(register, "EPSG:3006")
    assert list(organizers.index) == ["o2120002627", "o5565555555"]
    assert organizers.at["o2120002627", "school_units"] == 3
    assert organizers.at["o5565555555", "school_units"] == 3  # the closed unit is left out
    assert organizers.at["o5565555555", "name"] == "Skolbolaget i Sverige AB"
    assert organizers.at["o2120002627", "name"] == "Luleå kommun"
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
    bad.write_text(json.dumps(_unit("40000001", {"name": "Utan kod"}, 60, 15)), encoding="utf-8")
    (register / "school-units" / "40000002.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError) as info:
        organizers_from_register(register, "EPSG:3006")
    assert "40000001.json: organizer has no code" in str(info.value)
    assert "40000002.json: not a school-unit response" in str(info.value)


def test_register_folder_missing(tmp_path):
    with pytest.raises(DataError, match="has no school-units/ folder"):
        organizers_from_register(tmp_path, "EPSG:3006")
