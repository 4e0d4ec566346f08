"""Tests for plans.indicators on a small hand-made store whose numbers are obvious.

The fixture store holds the shipped district boundaries, the shipped plan catalog and a few
features of every layer placed around three anchors well inside three counties (鲅鱼圈区 and
盖州市 in 营口, 龙山区 in 辽源), plus bad features (missing status year, unknown status,
geometry at sea or missing). Expected numbers are worked out by hand from the table of
features below; distances and lengths independently with pyproj. One test checks headline
numbers on the shipped demo store against a geopandas computation.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point, box, shape
from shapely.geometry.base import BaseGeometry

from geo.sources import LayerData, read_source
from geo.store import AttributeTable, GeoPackageStore, build_geopackage
from layers import all_layers
from plans import indicators as ind
from plans.catalog import PLANS_DIR, TABLE_DESCRIPTIONS, TABLE_FIELDS, catalog_rows, load_catalog
from plans.indicators import (
    AT_RISK,
    BEHIND,
    MET,
    NO_DATA,
    NO_TARGET,
    ON_TRACK,
    SHIPPED_INDICATORS,
    CitationError,
    evaluate,
    judge,
)
from plans.links import LINKS_PATH

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parents[2]
DISTRICTS = ROOT / "data" / "boundaries" / "districts.geojson"
YK, LY, LN = "210800", "220400", "210000"
YA, YB, LA = "210804", "210881", "220402"  # 鲅鱼圈区, 盖州市 (营口); 龙山区 (辽源)
# Anchors deep inside those counties (checked in the fixture: ≥ 0.06° from the border).
A = (122.1314, 40.2436)
B = (122.5553, 40.2632)
C = (125.2375, 42.9303)
SEA = (121.6, 40.2)  # 渤海, a third of a degree from every county
LAYERS = {layer.id: layer for layer in all_layers()}


def at(anchor: tuple[float, float], dx: float = 0.0, dy: float = 0.0) -> Point:
    return Point(anchor[0] + dx, anchor[1] + dy)


def square(anchor: tuple[float, float], x0: float, y0: float, x1: float, y1: float):
    return box(anchor[0] + x0, anchor[1] + y0, anchor[0] + x1, anchor[1] + y1)


def boiler(fid, geom, cap, status, year, replacement=None):
    return (
        fid,
        geom,
        {
            "capacity_t_per_h": cap,
            "status": status,
            "status_year": year,
            "replacement": replacement,
            "use": "供暖",
            "enterprise": "测试单位",
        },
    )


def village(fid, geom, beautiful=None, sewage=None, heating=None, toilet=None):
    """Flags as years: None → flag false; "?" → flag true without a year."""

    def flag(v):
        return (v is not None), (None if v in (None, "?") else v)

    s, sy = flag(sewage)
    h, hy = flag(heating)
    t, ty = flag(toilet)
    return (
        fid,
        geom,
        {
            "township": "测试镇",
            "households": 100,
            "beautiful_village_year": beautiful,
            "sewage_treated": s,
            "sewage_year": sy,
            "clean_heating": h,
            "clean_heating_year": hy,
            "toilet_retrofit": t,
            "toilet_retrofit_year": ty,
        },
    )


# -- the features (what each is there to show is in the expected numbers of the tests) -------
BUILT_UP = [
    ("bu-ya", square(A, -0.02, -0.02, 0.02, 0.02), {}),
    ("bu-yb", square(B, -0.02, -0.02, 0.02, 0.02), {}),
    ("bu-la", square(C, -0.02, -0.02, 0.02, 0.02), {}),
]
COVERAGE = [("hc-ya", square(A, 0.005, -0.005, 0.05, 0.005), {"heat_source": "热电联产"})]
WASTE_HEAT = [
    ("wh-ya", at(A, 0, 0.03), {"enterprise": "测试钢厂", "heat_type": "钢铁余热"}),
    ("wh-la", at(C, 0.03, 0.03), {"enterprise": "测试电厂", "heat_type": "电厂余热"}),
]
BOILERS = [
    boiler("b1", at(A, -0.01, 0), 20, "运行", 2018),  # built-up: running all years
    boiler("b2", at(A, 0, 0.01), 30, "已淘汰", 2023),  # built-up: running to 2022
    boiler("b3", at(A, 0.01, 0), 35, "已替代", 2021, "余热"),  # built-up + coverage: 2020 only
    boiler("b4", at(A, 0, -0.01), 40, "运行", 2019),  # built-up but > 35 t/h
    boiler("b5", at(A, 0.04, 0), 10, "运行", 2017),  # coverage, not built-up
    boiler("b6", at(B, 0.01, 0), 15, "超低排放改造完成", 2022),  # built-up, still coal
    boiler("b7", at(A, -0.04, 0), 100, "超低排放改造完成", 2022),  # ≥65: ultra-low from 2022
    boiler("b8", at(B, 0.04, 0), 70, "运行", 2015),  # ≥65, no ultra-low
    boiler("b9", at(B, 0.04, 0.01), 65, "已淘汰", 2024),  # ≥65, gone from 2024
    boiler("bad1", at(A, 0.005, 0.005), 10, "运行", None),  # built-up, no status year
    boiler("bad2", at(A, -0.005, -0.005), 10, "报废", 2022),  # built-up, unknown status
    boiler("out1", Point(*SEA), 80, "运行", 2018),  # ≥65 at sea: 区外
    boiler("l1", at(C, 0.01, 0), 20, "运行", 2019),  # 辽源 built-up
]
PARKS = [
    (
        "p1",
        square(A, -0.03, 0.03, -0.01, 0.05),
        {
            "level": "国家级",
            "circular_retrofit_status": "已完成",
            "circular_retrofit_year": 2022,
            "bulk_cargo_10kt_per_year": 200.0,
        },
    ),
    (
        "p2",
        square(B, -0.03, 0.03, -0.01, 0.05),
        {
            "level": "省级",
            "circular_retrofit_status": "实施中",
            "circular_retrofit_year": 2023,
            "bulk_cargo_10kt_per_year": 300.0,
        },
    ),
    (
        "p3",
        square(B, 0.02, -0.06, 0.04, -0.04),
        {
            "level": "市级",
            "circular_retrofit_status": "已完成",
            "circular_retrofit_year": 2021,
            "bulk_cargo_10kt_per_year": 160.0,
        },
    ),
    (
        "p4",
        square(C, -0.03, 0.01, -0.01, 0.03),
        {
            "level": "省级",
            "circular_retrofit_status": "已完成",
            "circular_retrofit_year": None,
            "bulk_cargo_10kt_per_year": 50.0,
        },
    ),
    (
        "p5",
        square(C, 0.01, -0.04, 0.03, -0.02),
        {
            "level": "省级",
            "circular_retrofit_status": "未启动",
            "circular_retrofit_year": None,
            "bulk_cargo_10kt_per_year": 100.0,
        },
    ),
]
SPURS = [
    # crosses p1
    (
        "s1",
        LineString([(A[0] - 0.05, A[1] + 0.04), (A[0] - 0.02, A[1] + 0.04)]),
        {"status": "建成", "status_year": 2019},
    ),
    # planned from 2024, ends ≈17 m west of p3's fence (inside the 50 m tolerance)
    (
        "s2",
        LineString([(B[0] - 0.03, B[1] - 0.05), (B[0] + 0.0198, B[1] - 0.05)]),
        {"status": "规划", "status_year": 2024},
    ),
    # far from every park; 在建 before 2023, 建成 from 2023
    (
        "s3",
        LineString([(B[0] - 0.1, B[1] + 0.1), (B[0] - 0.05, B[1] + 0.1)]),
        {"status": "建成", "status_year": 2023},
    ),
    # no status year
    (
        "s4",
        LineString([(C[0] - 0.02, C[1] - 0.03), (C[0] + 0.02, C[1] - 0.03)]),
        {"status": "在建", "status_year": None},
    ),
]
PLANTS = [
    (
        "w1",
        at(A, 0.03, -0.03),
        {
            "status": "运行",
            "status_year": 2015,
            "influent_bod_mg_l": 80.0,
            "network_rectification": "未启动",
        },
    ),
    (
        "w2",
        at(A, -0.03, -0.03),
        {
            "status": "运行",
            "status_year": 2015,
            "influent_bod_mg_l": 90.0,
            "network_rectification": "已完成",
            "network_rectification_year": 2023,
        },
    ),
    (
        "w3",
        at(B, 0.05, 0.05),
        {
            "status": "运行",
            "status_year": 2022,
            "influent_bod_mg_l": 70.0,
            "network_rectification": "实施中",
        },
    ),
    (
        "w4",
        at(B, -0.05, 0.05),
        {
            "status": "运行",
            "status_year": 2015,
            "influent_bod_mg_l": 150.0,
            "network_rectification": "不需要",
        },
    ),
    (
        "w5",
        at(B, -0.05, -0.05),
        {
            "status": "运行",
            "status_year": 2015,
            "influent_bod_mg_l": None,
            "network_rectification": None,
        },
    ),
    (
        "w6",
        at(C, 0.03, -0.03),
        {
            "status": "在建",
            "status_year": 2024,
            "influent_bod_mg_l": 60.0,
            "network_rectification": "未启动",
        },
    ),
    (
        "w7",
        at(C, -0.03, -0.03),
        {
            "status": "停运",
            "status_year": 2023,
            "influent_bod_mg_l": 50.0,
            "network_rectification": "未启动",
        },
    ),
]
VILLAGES = [
    village("v1", at(A, 0.02, 0.04), beautiful=2022, sewage=2021, heating=2023, toilet=2020),
    village("v2", at(A, 0.03, 0.04), beautiful=2022),
    village("v3", at(A, 0.04, 0.03), beautiful=2021, sewage=2024, toilet=2022),
    village("v4", at(A, 0.04, 0.02), sewage="?"),  # treated, year unknown: 无数据
    village("v5", at(B, 0.06, 0.06), beautiful=2022, sewage=2020, heating=2021),
    village("v6", at(B, 0.07, 0.06), beautiful=2023, toilet=2025),
    village("v7", at(B, 0.08, 0.06)),
    village("v8", at(C, 0.03, 0.0), beautiful=2022, sewage=2022, heating=2022, toilet=2022),
    village("v9", at(C, 0.03, 0.01)),
    village("v10", Point(*SEA), sewage=2020),  # at sea: 区外
    village("v11", None, sewage=2020),  # no geometry: 区外
]


def layer_data(layer_id: str, rows: list[tuple[str, BaseGeometry | None, dict]]) -> LayerData:
    """LayerData built by hand, bypassing source validation (as a hand-edited GeoPackage)."""
    schema = LAYERS[layer_id]
    data = LayerData(schema=schema)
    for fid, geom, props in rows:
        full: dict[str, Any] = {f.name: None for f in schema.fields}
        full.update(id=fid, name=fid, is_demo=True, city_adcode=None, county_adcode=None)
        full.update(props)
        data.ids.append(fid)
        data.properties.append(full)
        data.geometries.append(geom)
    return data


@pytest.fixture(scope="module")
def catalog_tables() -> list[AttributeTable]:
    catalog = load_catalog(PLANS_DIR, LINKS_PATH, layer_ids=list(LAYERS))
    rows = catalog_rows(catalog)
    return [AttributeTable(n, f, rows[n], TABLE_DESCRIPTIONS[n]) for n, f in TABLE_FIELDS.items()]


@pytest.fixture(scope="module")
def districts() -> LayerData:
    return read_source(DISTRICTS, LAYERS["districts"])


def make_store(path: Path, data: dict[str, LayerData], tables) -> GeoPackageStore:
    build_geopackage(path, data, {"test": "indicators"}, tables)
    return GeoPackageStore(path)


@pytest.fixture(scope="module")
def small(tmp_path_factory, catalog_tables, districts):
    counties = {
        p["adcode"]: g for p, g in zip(districts.properties, districts.geometries, strict=True)
    }
    for code, anchor in ((YA, A), (YB, B), (LA, C)):
        assert counties[code].boundary.distance(Point(anchor)) > 0.059
    assert all(not g.covers(Point(SEA)) for g in counties.values())
    data = {
        "districts": districts,
        "built_up_areas": layer_data("built_up_areas", BUILT_UP),
        "heating_coverage": layer_data("heating_coverage", COVERAGE),
        "waste_heat_sources": layer_data("waste_heat_sources", WASTE_HEAT),
        "coal_boilers": layer_data("coal_boilers", BOILERS),
        "parks": layer_data("parks", PARKS),
        "rail_spurs": layer_data("rail_spurs", SPURS),
        "wastewater_plants": layer_data("wastewater_plants", PLANTS),
        "villages": layer_data("villages", VILLAGES),
    }
    store = make_store(tmp_path_factory.mktemp("ind") / "small.gpkg", data, catalog_tables)
    yield store
    store.close()


def one(store, indicator_id: str, year: int, **kw) -> ind.IndicatorResult:
    (result,) = evaluate(store, year, [indicator_id], **kw)
    return result


def series(store, indicator_id: str, adcode: str) -> list[float | None]:
    """The area's value at every year 2020–2025, each from its own evaluation."""
    return [one(store, indicator_id, y).area(adcode).value for y in range(2020, 2026)]


# -- definitions -----------------------------------------------------------------------------
def test_every_definition_cites_text_in_the_shipped_catalog(store: GeoPackageStore) -> None:
    ind.check_citations(store)  # raises CitationError otherwise
    texts: dict[str, list[str]] = {}
    for table, key in (("plan_measures", "id"), ("plan_targets", "measure_id")):
        for row in store.query(table, limit=None, with_geometry=False).features:
            texts.setdefault(row.properties[key], []).append(row.properties["text"])
    for d in SHIPPED_INDICATORS:
        assert d.measures and len(d.measures) == len(d.target_text)
        for measure, text in zip(d.measures, d.target_text, strict=True):
            assert any(text in t for t in texts[measure]), (d.id, measure, text)
        assert (d.target is None) == (d.deadline is None) or d.target is not None
        assert d.layer in LAYERS and all(layer in LAYERS for layer in d.layers)
    assert len({d.id for d in SHIPPED_INDICATORS}) == len(SHIPPED_INDICATORS)


def test_a_wrong_citation_or_a_missing_catalog_raises(small, tmp_path, districts) -> None:
    bad = ind.Indicator(
        **{**SHIPPED_INDICATORS[0].__dict__, "target_text": ("城市建成区全部淘汰燃煤锅炉",)}
    )
    with pytest.raises(CitationError, match="城市建成区全部淘汰燃煤锅炉"):
        ind.check_citations(small, [bad])
    bare = make_store(tmp_path / "bare.gpkg", {"districts": districts}, [])
    with pytest.raises(CitationError, match="catalog missing"):
        evaluate(bare, 2025)
    bare.close()


def test_targets_are_never_invented() -> None:
    no_target = {d.id for d in SHIPPED_INDICATORS if d.target is None}
    assert {
        "boilers_heating_coverage",
        "boilers_waste_heat_candidates",
        "parks_bulk_no_spur",
        "rail_spurs_built",
        "wastewater_low_bod_unrectified",
        "village_toilet_retrofit",
        "village_clean_heating",
    } <= no_target
    by_id = {d.id: d for d in SHIPPED_INDICATORS}
    assert (by_id["boilers_small_builtup"].target, by_id["boilers_small_builtup"].deadline) == (
        0,
        2025,
    )
    assert (by_id["rural_sewage_rate"].target, by_id["rural_sewage_rate"].deadline) == (35, 2025)
    assert by_id["beautiful_villages_2022"].target == 100
    assert by_id["beautiful_villages_2022"].deadline == 2022
    assert by_id["beautiful_villages_liaoning"].target == 1000
    assert by_id["parks_circular_retrofit"].target == 100


# -- the status rule -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "target", "direction", "year", "baseline", "status", "expected"),
    [
        (None, 100, "higher", 2023, 0, NO_DATA, None),
        (5, None, "higher", 2023, 0, NO_TARGET, None),
        (100, 100, "higher", 2023, 0, MET, 100),
        (60, 100, "higher", 2023, 0, ON_TRACK, 60),  # exactly on the path
        (50, 100, "higher", 2023, 0, AT_RISK, 60),  # 10 % of the distance behind: still 有风险
        (49.9, 100, "higher", 2023, 0, BEHIND, 60),
        (99, 100, "higher", 2025, 0, BEHIND, 100),  # deadline reached
        (0, 0, "lower", 2022, 10, MET, 0),
        (6, 0, "lower", 2022, 10, ON_TRACK, 6),
        (7, 0, "lower", 2022, 10, AT_RISK, 6),
        (7.01, 0, "lower", 2022, 10, BEHIND, 6),
        (10, 0, "lower", 2020, 10, ON_TRACK, 10),  # the baseline year is on the path
        (35, 36, "higher", 2022, 36, BEHIND, 36),  # baseline met, now not: no distance left
        (0, 100, "higher", 2020, 0, ON_TRACK, None),  # the path starts in 2021 (below)
    ],
)
def test_status_rule_boundaries(value, target, direction, year, baseline, status, expected):
    start = 2021 if expected is None and status == ON_TRACK else 2020
    got, exp, reason = judge(value, target, direction, 2025, year, baseline, start)
    assert got == status, reason
    assert exp == (pytest.approx(expected) if expected is not None else None)
    assert reason


# -- boilers ---------------------------------------------------------------------------------
def test_small_boilers_in_built_up_areas(small) -> None:
    # ≤35 t/h in a built-up area and not 淘汰/替代: b1 always, b2 to 2022, b3 in 2020, b6 always
    # (超低排放 is still coal); b4 is 40 t/h, b5 outside; bad1/bad2 go to 无数据.
    assert series(small, "boilers_small_builtup", YK) == [4, 3, 3, 2, 2, 2]
    assert series(small, "boilers_small_builtup_capacity", YK) == [100, 65, 65, 35, 35, 35]
    r = one(small, "boilers_small_builtup", 2022)
    yk, ya, yb, ly = r.area(YK), r.area(YA), r.area(YB), r.area(LY)
    assert sorted(yk.feature_ids) == ["b1", "b2", "b6"] and yk.feature_layer == "coal_boilers"
    assert sorted(ya.feature_ids) == ["b1", "b2"] and yb.feature_ids == ["b6"]
    assert yk.target == 0 and yk.deadline == 2025 and yk.gap == 3
    # path from 4 (2020) to 0 (2025): 2.4 expected in 2022, 3 is 15 % of the way behind
    assert yk.expected == pytest.approx(2.4) and yk.status == BEHIND
    assert "落后路径15.0%" in yk.status_reason
    assert one(small, "boilers_small_builtup", 2021).area(YK).status == ON_TRACK  # 3 ≤ 3.2
    assert one(small, "boilers_small_builtup", 2025).area(YK).status == BEHIND
    assert ly.value == 1 and ly.target is None and ly.status == NO_TARGET  # 辽源 sets no target
    assert [p.value for p in yk.trend] == [4, 3, 3] and [p.year for p in yk.trend] == [
        2020,
        2021,
        2022,
    ]
    assert yk.details["capacity_t_per_h"] == 65 and yk.details["eliminated_or_replaced"] == 1
    assert {(u.id, u.reason) for u in ya.no_data} == {
        ("bad1", "无数据：缺少状态年份 status_year"),
        ("bad2", "无数据：未知状态"),
    }
    assert {u.id for u in yk.no_data} == {"bad1", "bad2"}
    # 西市区 has no boiler at all: nothing to count
    assert r.area("210803").status == NO_DATA and r.area("210803").value is None


def test_boilers_in_heating_coverage(small) -> None:
    assert series(small, "boilers_heating_coverage", YK) == [2, 1, 1, 1, 1, 1]  # b3 then b5
    r = one(small, "boilers_heating_coverage", 2025).area(YK)
    assert r.feature_ids == ["b5"] and r.status == NO_TARGET and r.target is None


def test_large_boilers_ultra_low(small) -> None:
    # ≥65 t/h in service: b7 (ultra-low from 2022), b8, b9 (gone from 2024); out1 is at sea.
    assert series(small, "boilers_large_ultra_low", YK) == [
        0,
        0,
        pytest.approx(100 / 3),
        pytest.approx(100 / 3),
        50,
        50,
    ]
    r = one(small, "boilers_large_ultra_low", 2023)
    yk = r.area(YK)
    assert sorted(yk.feature_ids) == ["b7", "b8", "b9"]
    assert dict(zip(yk.feature_ids, yk.feature_values["ultra_low"], strict=True)) == {
        "b7": True,
        "b8": False,
        "b9": False,
    }
    assert yk.details["numerator"] == 1 and yk.details["denominator"] == 3
    assert yk.expected == pytest.approx(60) and yk.status == BEHIND  # 33 % vs 60 % on the path
    assert [u.id for u in r.outside] == ["out1"] and r.outside[0].reason.startswith("区外")


def _gk_distance(a: Point, b: Point) -> float:
    t = Transformer.from_crs("EPSG:4326", "EPSG:4550", always_xy=True)
    return math.dist(t.transform(a.x, a.y), t.transform(b.x, b.y))


def test_boilers_near_waste_heat(small) -> None:
    source = WASTE_HEAT[0][1]
    dist = {fid: _gk_distance(g, source) for fid, g, _ in BOILERS if fid.startswith("b")}
    running_2022 = {"b1", "b2", "b4", "b5", "b6", "b7", "b8", "b9"}  # b3 was replaced in 2021
    for km in (10, 3):
        near = {f for f in running_2022 if dist[f] <= km * 1000}
        r = one(small, "boilers_waste_heat_candidates", 2022, waste_heat_distance_m=km * 1000)
        yk = r.area(YK)
        assert set(yk.feature_ids) == near, km
        got = dict(zip(yk.feature_ids, yk.feature_values["distance_m"], strict=True))
        for f in near:
            assert got[f] == pytest.approx(dist[f], abs=1.0)
        assert set(yk.feature_values["source_id"]) == {"wh-ya"}
        assert r.params == {"waste_heat_distance_m": km * 1000.0}
    assert {"b1", "b2", "b5"} <= {f for f in dist if dist[f] <= 10_000}  # the fixture's intent
    assert {f for f in running_2022 if dist[f] <= 3_000} == {"b2"}
    # bad1 (no status year) lies 2.8 km away: a candidate of unknown status, under 无数据
    assert [u.id for u in r.area(YA).no_data] == ["bad1"]
    ten = one(small, "boilers_waste_heat_candidates", 2022).area(YK)
    assert ten.details["replaced_by_waste_heat"] == (1 if dist["b3"] <= 10_000 else 0)


# -- parks and spur lines --------------------------------------------------------------------
def test_bulk_parks_without_spur(small) -> None:
    # p2 has no spur ever; p3's planned spur s2 (ending 17 m from it) exists from 2024; p1 is
    # crossed by the built s1.
    assert series(small, "parks_bulk_no_spur", YK) == [2, 2, 2, 2, 1, 1]
    r = one(small, "parks_bulk_no_spur", 2025)
    assert r.area(YK).feature_ids == ["p2"] and r.area(YK).feature_layer == "parks"
    assert r.area(YK).details == {
        "bulk_parks": 3,
        "reached_by_built": 1,
        "reached_by_planned_only": 1,
    }
    assert r.area(LY).status == NO_DATA  # no park of ≥150万吨 in 辽源
    assert [(u.layer, u.id) for u in r.area(LA).no_data] == [("rail_spurs", "s4")]


def test_spur_lines_built_against_planned(small) -> None:
    t = Transformer.from_crs("EPSG:4326", "EPSG:4550", always_xy=True)
    km = {fid: LineString([t.transform(*c) for c in g.coords]).length / 1000 for fid, g, _ in SPURS}
    assert series(small, "rail_spurs_built", YK) == [1, 1, 1, 2, 2, 2]
    r22 = one(small, "rail_spurs_built", 2022).area(YK)
    assert sorted(r22.feature_ids) == ["s1", "s3"]  # s2 is not planned yet in 2022
    assert dict(zip(r22.feature_ids, r22.feature_values["status"], strict=True)) == {
        "s1": "建成",
        "s3": "在建",
    }
    r25 = one(small, "rail_spurs_built", 2025).area(YK)
    assert r25.details["built"] == 2 and r25.details["planned"] == 1
    assert r25.details["built_km"] == pytest.approx(km["s1"] + km["s3"], rel=1e-4)
    assert r25.details["not_built_km"] == pytest.approx(km["s2"], rel=1e-4)
    assert [u.id for u in one(small, "rail_spurs_built", 2025).area(LY).no_data] == ["s4"]


def test_circular_retrofit_of_provincial_parks(small) -> None:
    # 营口: p1 (国家级, done 2022) and p2 (省级, 实施中); p3 is 市级. 辽源: p5 (未启动); p4
    # is 已完成 without a year → 无数据.
    assert series(small, "parks_circular_retrofit", YK) == [0, 0, 50, 50, 50, 50]
    r22 = one(small, "parks_circular_retrofit", 2022)
    yk = r22.area(YK)
    assert yk.status == ON_TRACK and yk.expected == pytest.approx(40)  # 50 % ≥ 40 % on the path
    assert sorted(yk.feature_ids) == ["p1", "p2"]
    assert one(small, "parks_circular_retrofit", 2021).area(YK).feature_values[
        "circular_retrofit_status"
    ] == ["实施中", "实施中"]
    r25 = one(small, "parks_circular_retrofit", 2025)
    assert r25.area(YK).status == BEHIND and r25.area(YK).gap == 50
    ly = r25.area(LY)
    assert ly.value == 0 and ly.target == 100 and ly.status == BEHIND
    assert [u.id for u in ly.no_data] == ["p4"]


# -- wastewater ------------------------------------------------------------------------------
def test_low_bod_plants_without_rectification(small) -> None:
    # 营口: w1 always; w2 until its rectification is done (2023); w3 runs from 2022.
    assert series(small, "wastewater_low_bod_unrectified", YK) == [2, 2, 3, 2, 2, 2]
    # 辽源: w7 ran until it stopped in 2023; w6 is being built.
    assert series(small, "wastewater_low_bod_unrectified", LY) == [1, 1, 1, None, None, None]
    r = one(small, "wastewater_low_bod_unrectified", 2022)
    assert sorted(r.area(YK).feature_ids) == ["w1", "w2", "w3"]
    assert [u.id for u in r.area(YB).no_data] == ["w5"]
    assert "BOD" in r.area(YB).no_data[0].reason
    assert r.area(LY).status == NO_TARGET
    assert one(small, "wastewater_low_bod_unrectified", 2024).area(LY).status == NO_DATA


# -- villages --------------------------------------------------------------------------------
def test_rural_sewage_rate(small) -> None:
    # 营口 villages with known data: v1 v2 v3 v5 v6 v7 (v4: treated, no year → 无数据).
    # Treated by year: v5 2020, v1 2021, v3 2024.
    values = series(small, "rural_sewage_rate", YK)
    assert values == pytest.approx([100 / 6, 200 / 6, 200 / 6, 200 / 6, 50, 50])
    r22 = one(small, "rural_sewage_rate", 2022)
    yk = r22.area(YK)
    assert sorted(yk.feature_ids) == ["v1", "v5"]
    assert yk.details["numerator"] == 2 and yk.details["denominator"] == 6
    # path from 16.7 % (2020) to 35 % (2025): 24 % expected in 2022; 33.3 % is ahead
    assert yk.expected == pytest.approx(100 / 6 + (35 - 100 / 6) * 2 / 5)
    assert yk.status == ON_TRACK
    assert [u.id for u in r22.area(YA).no_data] == ["v4"]
    assert "另有1个要素数据不全" in r22.area(YA).status_reason
    assert one(small, "rural_sewage_rate", 2025).area(YK).status == MET
    assert r22.area(YA).target == 35  # counties answer to the city's rate
    assert {(u.id, u.reason) for u in r22.outside} == {
        ("v10", "区外：不在任何县（市、区）内"),
        ("v11", "区外：缺少几何"),
    }


def test_beautiful_villages_2022_target(small) -> None:
    assert series(small, "beautiful_villages_2022", YK) == [0, 0, 3, 3, 3, 3]
    r21 = one(small, "beautiful_villages_2022", 2021).area(YK)
    assert r21.status == ON_TRACK and r21.baseline == 0  # the campaign year is 2022
    r22 = one(small, "beautiful_villages_2022", 2022)
    yk = r22.area(YK)
    assert sorted(yk.feature_ids) == ["v1", "v2", "v5"]
    assert (yk.target, yk.gap, yk.deadline, yk.status) == (100, 97, 2022, BEHIND)
    assert r22.area(YA).target is None and r22.area(YA).status == NO_TARGET  # not split
    assert r22.area(LY).value == 1 and r22.area(LY).status == NO_TARGET


def test_liaoning_target_with_yingkou_contribution(small) -> None:
    r = one(small, "beautiful_villages_liaoning", 2025)
    assert [a.adcode for a in r.areas[:2]] == [LN, YK]
    assert LY not in {a.adcode for a in r.areas} and "220402" not in {a.adcode for a in r.areas}
    ln, yk = r.area(LN), r.area(YK)
    assert (ln.value, ln.target, ln.gap) == (5, 1000, 995)
    assert ln.status == NO_DATA and "14个市中的1个" in ln.status_reason
    assert yk.value == 5 and yk.target is None and yk.details["contribution_pct"] == 0.5
    assert sorted(yk.feature_ids) == ["v1", "v2", "v3", "v5", "v6"]
    assert [p.value for p in yk.trend] == [0, 1, 4, 5, 5, 5]


def test_liaoyuan_retrofits_have_no_invented_target(small) -> None:
    toilet = one(small, "village_toilet_retrofit", 2025)
    heating = one(small, "village_clean_heating", 2025)
    for r in (toilet, heating):
        assert r.indicator.target is None
        assert r.area(LY).status == NO_TARGET and r.area(LY).target is None
        assert r.area(LY).value == 50 and r.area(LY).feature_ids == ["v8"]
    # 营口 (7 known villages): toilets v1 2020, v3 2022, v6 2025; heating v5 2021, v1 2023
    assert series(small, "village_toilet_retrofit", YK) == pytest.approx(
        [100 / 7, 100 / 7, 200 / 7, 200 / 7, 200 / 7, 300 / 7]
    )
    assert series(small, "village_clean_heating", YK) == pytest.approx(
        [0, 100 / 7, 100 / 7, 200 / 7, 200 / 7, 200 / 7]
    )
    assert one(small, "village_clean_heating", 2020).area(LY).value == 0


# -- the whole result ------------------------------------------------------------------------
def test_every_indicator_every_year_and_json(small) -> None:
    for year in range(2020, 2026):
        results = evaluate(small, year)
        assert [r.indicator.id for r in results] == [d.id for d in SHIPPED_INDICATORS]
        for r in results:
            doc = json.loads(json.dumps(r.to_json(), ensure_ascii=False, allow_nan=False))
            assert doc["id"] == r.indicator.id and doc["year"] == year
            assert doc["indicator"]["target_text"] and doc["status_rule"]
            for a in r.areas:
                assert a.status in ind.STATUSES and a.status_reason
                assert len(a.trend) == year - 2019
                assert all(len(v) == len(a.feature_ids) for v in a.feature_values.values())
                if a.value is None:
                    assert a.status == NO_DATA
    with pytest.raises(ValueError, match="2020"):
        evaluate(small, 2019)
    with pytest.raises(KeyError):
        evaluate(small, 2025, ["no_such_indicator"])


def test_missing_layers_give_no_data_not_a_crash(tmp_path, districts, catalog_tables) -> None:
    bare = make_store(tmp_path / "districts-only.gpkg", {"districts": districts}, catalog_tables)
    for r in evaluate(bare, 2023):
        assert {a.status for a in r.areas} == {NO_DATA}, r.indicator.id
    bare.close()


def test_year_independent_work_is_cached_per_store(small, monkeypatch) -> None:
    evaluate(small, 2024)
    calls = []
    for name in ("positions", "query"):
        real = getattr(small, name)
        monkeypatch.setattr(
            small, name, lambda *a, _real=real, **k: calls.append(a) or _real(*a, **k)
        )
    evaluate(small, 2021)
    evaluate(small, 2024)
    assert calls == []


# -- the shipped demo data -------------------------------------------------------------------
def _frame(store: GeoPackageStore, layer: str) -> gpd.GeoDataFrame:
    features = store.query(layer, limit=None).features
    return gpd.GeoDataFrame(
        pd.DataFrame([f.properties for f in features]),
        geometry=[f.geometry for f in features],
        crs="EPSG:4326",
    )


def test_demo_headline_numbers_match_an_independent_computation(store: GeoPackageStore) -> None:
    districts = _frame(store, "districts")
    city = {
        code: shape(districts[districts.adcode == code].geometry.iloc[0].__geo_interface__)
        for code in (YK, LY)
    }
    villages = _frame(store, "villages")
    in_yk = villages.geometry.within(city[YK])
    boilers = _frame(store, "coal_boilers")
    built_up = _frame(store, "built_up_areas").geometry.union_all()
    parks = _frame(store, "parks")
    for year in (2022, 2025):
        results = {r.indicator.id: r for r in evaluate(store, year)}
        # 美丽宜居村 of 2022 in 营口 (the demo README: 96 against the target of 100)
        assert results["beautiful_villages_2022"].area(YK).value == 96
        assert results["beautiful_villages_2022"].area(YK).status == BEHIND
        # ≤35 t/h boilers not eliminated/replaced by `year`, inside a built-up area
        running = (boilers.status_year > year) | boilers.status.isin(["运行", "超低排放改造完成"])
        small_ = boilers[
            (boilers.capacity_t_per_h <= 35)
            & running
            & boilers.geometry.within(city[YK])
            & boilers.geometry.intersects(built_up)
        ]
        got = results["boilers_small_builtup"].area(YK)
        assert got.value == len(small_) > 0 and sorted(got.feature_ids) == sorted(small_.id)
        assert results["boilers_small_builtup_capacity"].area(YK).value == pytest.approx(
            small_.capacity_t_per_h.sum()
        )
        # rural sewage rate, by villages
        treated = villages.sewage_treated.astype(bool) & (villages.sewage_year <= year)
        rate = 100 * (treated & in_yk).sum() / in_yk.sum()
        assert results["rural_sewage_rate"].area(YK).value == pytest.approx(rate)
        # provincial-or-higher parks with the retrofit done
        for code in (YK, LY):
            eligible = parks[parks.level.isin(["国家级", "省级"]) & parks.within(city[code])]
            done = (eligible.circular_retrofit_status == "已完成") & (
                eligible.circular_retrofit_year <= year
            )
            got = results["parks_circular_retrofit"].area(code)
            assert got.value == pytest.approx(100 * done.sum() / len(eligible))


@pytest.mark.parametrize("stored_by_county", [True, False])
def test_county_runs_count_and_list_as_bincount_and_a_stable_sort(stored_by_county: bool) -> None:
    import numpy as np

    rng = np.random.default_rng(7)
    county = rng.integers(-1, 5, 1000)
    if stored_by_county:
        county = np.sort(county)
        county = np.concatenate([county[county >= 0], county[county < 0]])
    layer = ind._Layer(
        "t",
        np.arange(1000).astype(str).astype(object),
        {},
        np.zeros(1000),
        np.zeros(1000),
        None,
        county,
        [],
    )
    n = 5
    assert (layer.runs(n)[0] is None) == stored_by_county
    for _ in range(5):
        mask = rng.random(1000) < 0.3
        slots = np.where(county >= 0, county, n)
        want = np.bincount(slots, weights=mask * 1.0, minlength=n + 1)
        assert layer.county_counts(mask, n).tolist() == want.tolist()
        listed = np.flatnonzero(mask & (county >= 0))
        listed = listed[np.argsort(county[listed], kind="stable")]
        assert layer.by_county(mask, n).tolist() == listed.tolist()


def test_unassigned_lists_each_feature_once_in_the_frames_order() -> None:
    """The 无数据 and 区外 lists as the loop over features they replace made them."""
    import numpy as np

    rng = np.random.default_rng(11)

    def layer(name: str, size: int) -> ind._Layer:
        county = rng.integers(-1, 4, size)
        ids = np.array([f"{name}-{i}" for i in range(size)], dtype=object)
        return ind._Layer(name, ids, {}, np.zeros(size), np.zeros(size), None, county, [])

    def reference(frame: ind._Frame) -> tuple[dict, list]:
        rows = []
        for mask, reason in frame.no_data:
            for i in np.flatnonzero(mask):
                rows.append(
                    (int(frame.layer.county[i]), frame.layer.name, frame.layer.ids[i], reason)
                )
        for other, mask, reason in frame.other_no_data:
            for i in np.flatnonzero(mask):
                rows.append((int(other.county[i]), other.name, other.ids[i], reason))
        seen, by_county, outside = set(), {}, []
        for c, name, fid, reason in rows:
            if (name, fid) in seen:
                continue
            seen.add((name, fid))
            if c < 0:
                outside.append(
                    ind.Unassigned(name, fid, f"{ind.OUTSIDE}：不在任何县（市、区）内；{reason}")
                )
            else:
                by_county.setdefault(c, []).append(ind.Unassigned(name, fid, reason))
        relevant = frame.universe | frame.listed
        for i in np.flatnonzero(relevant & (frame.layer.county < 0)):
            if (frame.layer.name, frame.layer.ids[i]) not in seen:
                outside.append(
                    ind.Unassigned(
                        frame.layer.name,
                        frame.layer.ids[i],
                        f"{ind.OUTSIDE}：不在任何县（市、区）内",
                    )
                )
        return by_county, outside

    for _ in range(20):
        own, lines = layer("a", 300), layer("b", 40)
        frame = ind._Frame(
            layer=own,
            universe=rng.random(300) < 0.5,
            num=np.zeros(300),
            listed=rng.random(300) < 0.3,
            no_data=[(rng.random(300) < p, f"r{p}") for p in (0.1, 0.2, 0.0)],
            other_no_data=[
                (lines, rng.random(40) < 0.3, "s1"),
                (lines, rng.random(40) < 0.3, "s2"),
            ],
        )
        assert ind._unassigned(frame) == reference(frame)
