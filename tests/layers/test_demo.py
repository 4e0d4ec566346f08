"""The demo-data generator: reproducible, schema-valid, on land, and exercising every measure.

The shipped data/demo files must be exactly what `python -m layers.demo` writes, every feature
must pass its layer's schema, and the data must give every plan indicator something to find.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, shape

from layers import all_layers, get_layer
from layers.demo import (
    DEFAULT_OUT,
    DemoContext,
    generate,
    load_districts,
    main,
    split_total,
    zone_epsg,
)

YK, LY = "210800", "220400"
CITIES = (YK, LY)
PREFIX = {YK: "yk", LY: "ly"}
Features = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def demo() -> Features:
    return generate()


@pytest.fixture(scope="module")
def ctx() -> DemoContext:
    return DemoContext(rng=np.random.default_rng(0), districts=load_districts(), counts={})


def props(features: Iterable[dict[str, Any]], city: str | None = None) -> list[dict[str, Any]]:
    return [f["properties"] for f in features if city in (None, f["properties"]["city_adcode"])]


def of_city(features: Iterable[dict[str, Any]], city: str) -> list[dict[str, Any]]:
    return [f for f in features if f["properties"]["city_adcode"] == city]


def shapes(features: Iterable[dict[str, Any]]) -> list[Any]:
    return [shape(f["geometry"]) for f in features]


# -- reproducible files ----------------------------------------------------------------------
def test_regenerating_gives_the_shipped_files_byte_for_byte(tmp_path) -> None:
    lines: list[str] = []
    assert main(["--out", str(tmp_path)], echo=lines.append) == 0
    assert "total" in lines[-1]
    written = sorted(p.name for p in tmp_path.glob("*.geojson"))
    shipped = sorted(p.name for p in DEFAULT_OUT.glob("*.geojson"))
    expected = sorted(f"{lt.id}.geojson" for lt in all_layers() if lt.demo is not None)
    assert written == shipped == expected
    for name in written:
        assert (tmp_path / name).read_bytes() == (DEFAULT_OUT / name).read_bytes(), name


def test_shipped_files_are_rfc7946_one_feature_per_line() -> None:
    for path in sorted(DEFAULT_OUT.glob("*.geojson")):
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        layer = get_layer(path.stem)
        assert data["type"] == "FeatureCollection" and "crs" not in data
        assert "\\u" not in text  # UTF-8, not ASCII escapes
        lines = text.splitlines()
        assert len(lines) == len(data["features"]) + 2, path.name
        for line, feat in zip(lines[1:-1], data["features"], strict=True):
            assert json.loads(line.rstrip(",")) == feat
            assert list(feat) == ["type", "id", "geometry", "properties"]
            assert list(feat["properties"]) == [f.name for f in layer.fields]
            coords = shapely.get_coordinates(shape(feat["geometry"]))
            assert np.array_equal(coords, np.round(coords, 6))
            assert ((coords[:, 0] > 121) & (coords[:, 0] < 127)).all()


# -- schema ----------------------------------------------------------------------------------
def test_every_feature_passes_its_layer_schema(demo: Features) -> None:
    assert set(demo) == {lt.id for lt in all_layers() if lt.demo is not None}
    for layer_id, features in demo.items():
        layer = get_layer(layer_id)
        names = [f.name for f in layer.fields]
        assert features, layer_id
        assert len({f["id"] for f in features}) == len(features)
        for feat in features:
            p = feat["properties"]
            assert list(p) == names, feat["id"]
            assert p["id"] == feat["id"] and p["is_demo"] is True
            assert "示例数据" in p["note"]
            for fld in layer.fields:
                assert fld.check(p[fld.name]) is None, (feat["id"], fld.name, p[fld.name])
            for check in layer.row_checks:
                assert check.ok(p), (feat["id"], check.message)
            geom = shape(feat["geometry"])
            assert geom.geom_type == layer.geometry_type, feat["id"]
            assert geom.is_valid and not geom.is_empty, feat["id"]


def test_counts_and_ids_per_city(demo: Features) -> None:
    per_city = {
        "coal_boilers": 44,
        "parks": 8,
        "rail_spurs": 8,
        "wastewater_plants": 8,
        "villages": 150,
    }
    stems = {
        "coal_boilers": "boiler",
        "parks": "park",
        "rail_spurs": "spur",
        "wastewater_plants": "wwtp",
        "villages": "village",
    }
    for city in CITIES:
        for layer_id, n in per_city.items():
            feats = of_city(demo[layer_id], city)
            assert len(feats) == n, (city, layer_id)
            assert [f["id"] for f in feats] == [
                f"{PREFIX[city]}-{stems[layer_id]}-{i:04d}" for i in range(1, n + 1)
            ]
        assert 2 <= len(of_city(demo["heating_coverage"], city)) <= 4
    # one built-up area per county
    assert Counter(p["city_adcode"] for p in props(demo["built_up_areas"])) == {YK: 6, LY: 4}
    assert len({p["county_adcode"] for p in props(demo["built_up_areas"])}) == 10
    assert Counter(p["city_adcode"] for p in props(demo["waste_heat_sources"])) == {YK: 4, LY: 2}


def test_every_feature_lies_in_the_county_it_names(demo: Features, ctx: DemoContext) -> None:
    for features in demo.values():
        for feat in features:
            p = feat["properties"]
            county = ctx.districts[p["county_adcode"]]
            assert county.level == "county" and county.parent_adcode == p["city_adcode"]
            c = shape(feat["geometry"]).centroid
            assert shapely.contains_xy(county.geom, c.x, c.y), feat["id"]


def test_polygons_lie_inside_their_county_or_city(demo: Features, ctx: DemoContext) -> None:
    for layer_id in ("built_up_areas", "parks"):
        for feat in demo[layer_id]:
            county = ctx.geom(feat["properties"]["county_adcode"])
            assert county.contains(shape(feat["geometry"])), feat["id"]
    for feat in demo["heating_coverage"]:
        assert ctx.geom(feat["properties"]["city_adcode"]).contains(shape(feat["geometry"]))


# -- coal boilers ----------------------------------------------------------------------------
def _cap_class(cap: float) -> str:
    return "≤35" if cap <= 35 else "≥65" if cap >= 65 else "35–65"


def test_boilers_cover_every_class_status_and_replacement(demo: Features) -> None:
    realistic = {2, 4, 6, 10, 15, 20, 25, 35, 40, 45, 58, 65, 75, 90, 130, 220}
    for city in CITIES:
        ps = props(demo["coal_boilers"], city)
        classes = Counter(_cap_class(p["capacity_t_per_h"]) for p in ps)
        assert min(classes[c] for c in ("≤35", "35–65", "≥65")) >= 8, classes
        assert {p["capacity_t_per_h"] for p in ps} <= realistic
        assert {p["status"] for p in ps} == {"运行", "超低排放改造完成", "已淘汰", "已替代"}
        assert {p["replacement"] for p in ps if p["status"] == "已替代"} == {
            "余热",
            "电",
            "气",
            "热电联产",
        }
        assert all(2016 <= p["status_year"] <= 2025 for p in ps)
        assert all(p["commissioned_year"] < p["status_year"] for p in ps)
        assert {p["use"] for p in ps} <= {"生产", "供暖", "生产兼供暖", "其他"}
        assert all("某" in p["enterprise"] or "示例" in p["enterprise"] for p in ps)
        # ≥65 t/h boilers that have not reached ultra-low emission yet
        assert sum(p["capacity_t_per_h"] >= 65 and p["status"] == "运行" for p in ps) >= 2


def test_boilers_leave_work_for_the_measures(demo: Features, ctx: DemoContext) -> None:
    for city in CITIES:
        built = shapely.union_all(shapes(of_city(demo["built_up_areas"], city)))
        heating = shapely.union_all(shapes(of_city(demo["heating_coverage"], city)))
        sources = shapes(of_city(demo["waste_heat_sources"], city))
        boilers = of_city(demo["coal_boilers"], city)
        running = [b for b in boilers if b["properties"]["status"] == "运行"]
        small_running_built = [
            b
            for b in running
            if b["properties"]["capacity_t_per_h"] <= 35 and built.contains(shape(b["geometry"]))
        ]
        assert len(small_running_built) >= 3  # 2025: 35 t/h and smaller eliminated — not yet
        assert sum(heating.contains(shape(b["geometry"])) for b in running) >= 2
        near = [
            b
            for b in boilers
            if min(ctx.distance_km(shape(b["geometry"]), s) for s in sources) <= 10
        ]
        assert len(near) >= 3
        assert any(b["properties"]["replacement"] == "余热" for b in near)


def test_waste_heat_sources_named_in_the_plans(demo: Features) -> None:
    by_name = {p["name"]: p for p in props(demo["waste_heat_sources"])}
    assert by_name["鞍钢鲅鱼圈钢铁基地余热"]["county_adcode"] == "210804"
    assert by_name["日钢营口中板余热"]["county_adcode"] == "210811"
    assert by_name["华能营口电厂余热"]["county_adcode"] == "210804"
    assert "营口热电厂余热" in by_name and "辽源热电厂余热" in by_name
    assert all("位置示意" in p["note"] for n, p in by_name.items() if "示例" not in n)
    assert {p["supply_status"] for p in by_name.values()} == {"未利用", "规划供热", "已供热"}


# -- context polygons ------------------------------------------------------------------------
def test_built_up_areas_and_heating_coverage_overlap(demo: Features, ctx: DemoContext) -> None:
    for geom in shapes(demo["built_up_areas"]):
        assert 3 <= ctx.area_km2(geom) <= 35
    for city in CITIES:
        built = shapely.union_all(shapes(of_city(demo["built_up_areas"], city)))
        for cov in shapes(of_city(demo["heating_coverage"], city)):
            shared = cov.intersection(built).area
            assert shared >= 0.4 * cov.area  # substantially over a built-up area
            assert cov.difference(built).area > 0.05 * cov.area  # and beyond it
        assert (
            built.difference(
                shapely.union_all(shapes(of_city(demo["heating_coverage"], city)))
            ).area
            > 0
        )


# -- parks and rail spurs --------------------------------------------------------------------
def test_parks_named_in_the_plans(demo: Features, ctx: DemoContext) -> None:
    ps = {p["name"]: p for p in props(demo["parks"])}
    expected = {
        "营口经济技术开发区": ("国家级", "210804"),
        "营口高新技术产业开发区": ("国家级", None),
        "营口仙人岛能源化工区": ("省级", "210881"),
        "营口沿海产业基地": ("省级", None),
        "大石桥镁质材料产业园": ("省级", "210882"),
        "辽源高新技术产业开发区": ("省级", None),
        "辽源经济开发区": ("省级", None),
        "东辽县国家现代农业产业园": ("国家级", "220422"),
        "龙山区农产品深加工基地": ("市级", "220402"),
        "西安区“绿电”产业园": ("市级", "220403"),
    }
    for name, (level, county) in expected.items():
        assert ps[name]["level"] == level
        assert county is None or ps[name]["county_adcode"] == county
    assert ps["营口仙人岛能源化工区"]["park_type"] == "化工园区"
    assert ps["西安区“绿电”产业园"]["park_type"] == "新能源产业园"
    assert ps["营口港鲅鱼圈港区物流园区"]["bulk_cargo_10kt_per_year"] >= 150
    assert ps["辽源智慧物流产业园"]["bulk_cargo_10kt_per_year"] >= 150
    for city in CITIES:
        cps = props(demo["parks"], city)
        assert {p["circular_retrofit_status"] for p in cps} == {
            "未启动",
            "规划中",
            "实施中",
            "已完成",
        }
        assert any(
            p["level"] in ("国家级", "省级") and p["circular_retrofit_status"] != "已完成"
            for p in cps
        )
        assert any(p["park_type"] == "环保装备产业园" for p in cps)
        assert any(p["park_type"] == "物流园区" for p in cps)
    for geom in shapes(demo["parks"]):
        assert 1 <= ctx.area_km2(geom) <= 15


def test_rail_spurs_geometry_and_attributes(demo: Features, ctx: DemoContext) -> None:
    for city in CITIES:
        spurs = of_city(demo["rail_spurs"], city)
        ps = props(spurs)
        assert {p["status"] for p in ps} == {"规划", "在建", "建成"}
        assert {p["serves"] for p in ps} <= {"港口", "园区", "工矿企业", "物流园区"}
        assert all(p["bulk_cargo_10kt_per_year"] is not None for p in ps)
        parks = shapely.union_all(shapes(of_city(demo["parks"], city)))
        for spur in spurs:
            line = shape(spur["geometry"])
            assert 3 <= len(line.coords) <= 15
            assert 2 <= ctx.length_km(line) <= 25
            assert spur["properties"]["length_km"] == round(ctx.length_km(line), 2)
            if spur["properties"]["serves"] == "园区":
                assert parks.contains(Point(line.coords[0])), spur["id"]
    assert any("长春—辽源—通化铁路" in p["name"] for p in props(demo["rail_spurs"], LY))
    assert any(p["serves"] == "港口" for p in props(demo["rail_spurs"], YK))


def test_some_bulk_parks_have_spurs_and_one_per_city_has_none(
    demo: Features, ctx: DemoContext
) -> None:
    for city in CITIES:
        lines = shapes(of_city(demo["rail_spurs"], city))
        reached, missed = [], []
        for park in of_city(demo["parks"], city):
            if (park["properties"]["bulk_cargo_10kt_per_year"] or 0) < 150:
                continue
            geom = shape(park["geometry"])
            if any(line.intersects(geom) for line in lines):
                reached.append(park["properties"]["name"])
            elif min(ctx.distance_km(geom, line) for line in lines) >= 1.5:
                missed.append(park["properties"]["name"])
        assert reached and missed, city
    # the gaps are the ones the README describes
    assert "大石桥镁质材料产业园" in [
        p["properties"]["name"]
        for p in demo["parks"]
        if not any(
            shape(s["geometry"]).intersects(shape(p["geometry"])) for s in demo["rail_spurs"]
        )
    ]


# -- wastewater plants and villages ----------------------------------------------------------
def test_wastewater_plants(demo: Features) -> None:
    for city in CITIES:
        ps = props(demo["wastewater_plants"], city)
        weak = [p for p in ps if p["status"] == "运行" and p["influent_bod_mg_l"] < 100]
        assert len(weak) >= 3
        assert {p["network_rectification"] for p in weak} <= {"未启动", "实施中"}
        others = [
            p["influent_bod_mg_l"]
            for p in ps
            if p["influent_bod_mg_l"] is not None and p["influent_bod_mg_l"] >= 100
        ]
        assert others and all(100 <= b <= 220 for b in others)
        assert {"运行", "在建", "规划"} <= {p["status"] for p in ps}
        assert {True, False} <= {p["sludge_harmless_disposal"] for p in ps}
        assert all(0.5 <= p["capacity_10kt_per_day"] <= 30 for p in ps)


def test_villages(demo: Features) -> None:
    yk, ly = props(demo["villages"], YK), props(demo["villages"], LY)
    years = Counter(p["beautiful_village_year"] for p in yk)
    assert years[2022] == 96 and years[2021] > 0 and years[2023] > 0  # target 100 narrowly missed
    assert sum(p["beautiful_village_year"] is not None for p in ly) > 0
    for ps in (yk, ly):
        assert all(80 <= p["households"] <= 900 for p in ps)
        assert all(p["name"].endswith("村") and len(p["name"]) == 3 for p in ps)
        assert all(p["township"][-1] in "镇乡" for p in ps)
        for flag, year in (
            ("sewage_treated", "sewage_year"),
            ("clean_heating", "clean_heating_year"),
            ("toilet_retrofit", "toilet_retrofit_year"),
        ):
            assert {p[flag] for p in ps} == {True, False}
            assert all(2019 <= p[year] <= 2025 for p in ps if p[flag])
        by_county: dict[str, list[bool]] = {}
        for p in ps:
            by_county.setdefault(p["county_adcode"], []).append(p["sewage_treated"])
        rates = [sum(v) / len(v) for v in by_county.values()]
        assert all(0.2 <= r <= 0.45 for r in rates), rates  # around the 35% target
        assert min(rates) < 0.35 < max(rates)
    counties = Counter(p["county_adcode"] for p in yk)
    assert counties["210881"] + counties["210882"] > 0.6 * len(yk)  # 盖州, 大石桥
    counties = Counter(p["county_adcode"] for p in ly)
    assert counties["220421"] + counties["220422"] > 0.7 * len(ly)  # 东丰, 东辽


# -- scale and helpers -----------------------------------------------------------------------
def test_scale_option_keeps_villages_in_their_counties(demo: Features, ctx: DemoContext) -> None:
    big = generate(counts={"villages": 3001})
    villages = big["villages"]
    assert len(villages) == 3001
    assert Counter(p["city_adcode"] for p in props(villages)) == {YK: 1501, LY: 1500}
    xy = shapely.get_coordinates(shapely.points([f["geometry"]["coordinates"] for f in villages]))
    found = ctx.county_of(xy[:, 0], xy[:, 1])
    assert list(found) == [p["county_adcode"] for p in props(villages)]
    assert big["coal_boilers"] == demo["coal_boilers"]  # each layer has its own random stream


def test_split_ids_and_zones(ctx: DemoContext) -> None:
    assert split_total(3001) == [1501, 1500]
    ctx.counts = {}
    assert ctx.ids(YK, "village", 12_000)[0] == "yk-village-00001"
    assert ctx.ids(LY, "boiler", 3)[-1] == "ly-boiler-0003"
    assert zone_epsg(122.2) == "EPSG:4550" and zone_epsg(125.2) == "EPSG:4551"
    # 0.1° of latitude is about 11.1 km in Gauss-Krüger
    assert ctx.length_km(shapely.LineString([(122.2, 40.5), (122.2, 40.6)])) == pytest.approx(
        11.1, abs=0.05
    )
    with pytest.raises(ValueError):
        generate(counts={"trees": 3})


def test_random_points_in_is_vectorised_and_strict(ctx: DemoContext) -> None:
    land = ctx.land("210881")
    x, y = ctx.random_points_in(land, 200_000)
    assert x.size == y.size == 200_000
    assert shapely.contains_xy(land, x, y).all()
    assert np.array_equal(x, np.round(x, 6))
    assert (ctx.county_of(x[:1000], y[:1000]) == "210881").all()
