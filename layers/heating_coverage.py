"""供热管网覆盖范围 Heating-network coverage: boilers inside it are to be phased out."""

import math
from typing import TYPE_CHECKING, Any

import shapely

from geo.schema import Field
from layers.base import (
    LayerType,
    LegendEntry,
    demo_field,
    id_field,
    location_fields,
    name_field,
    note_field,
    year_field,
)

if TYPE_CHECKING:
    from layers.demo import DemoContext

# Demo coverage: the built-up areas (by county) it serves, name, heat source, operator, size
# relative to those built-up areas. Each overlaps them substantially and reaches beyond.
_DEMO_COVERAGE = (
    (
        ("210802", "210803"),
        "营口市中心城区热电联产供热范围",
        "热电联产",
        "营口某热力有限公司（示例）",
        1.15,
    ),
    (("210804",), "鲅鱼圈区工业余热供热范围", "工业余热", "鲅鱼圈某热力有限公司（示例）", 1.05),
    (("210882",), "大石桥市城区集中供热范围", "燃煤锅炉房", "大石桥市某供热有限公司（示例）", 0.9),
    (("210881",), "盖州市城区集中供热范围", "燃气锅炉房", "盖州市某热力有限公司（示例）", 0.8),
    (
        ("220402", "220403"),
        "辽源市中心城区热电联产供热范围",
        "热电联产",
        "辽源市某热力公司（示例）",
        1.1,
    ),
    (("220421",), "东丰县城集中供热范围", "燃煤锅炉房", "东丰县某供热公司（示例）", 0.95),
    (("220422",), "东辽县城清洁能源供热范围", "清洁能源", "东辽县某新能源供热公司（示例）", 0.85),
)


def demo_features(ctx: "DemoContext") -> list[dict[str, Any]]:
    """2–4 coverage areas per city, each shifted off the built-up areas it serves, so that
    some of it lies outside them and some built-up area lies outside it."""
    out: list[dict[str, Any]] = []
    for city in ctx.cities:
        rows = [r for r in _DEMO_COVERAGE if ctx.city_of(r[0][0]) == city.adcode]
        built = ctx.shapes_of("built_up_areas", city.adcode)
        land = ctx.inner(city.adcode)
        for fid, (counties, name, source, operator, factor) in zip(
            ctx.ids(city.adcode, "heating", len(rows)), rows, strict=True
        ):
            served = [b for b in built if ctx.county_of_geom(b) in counties]
            target = factor * sum(ctx.area_km2(b) for b in served)
            centre = shapely.union_all(served).centroid
            shift_deg = 0.35 * math.sqrt(target / math.pi) / 111.0  # ~0.35 of the radius
            angle = ctx.rng.uniform(0, 2 * math.pi)
            lon = centre.x + shift_deg * math.cos(angle) / math.cos(math.radians(centre.y))
            lat = centre.y + shift_deg * math.sin(angle)
            lon, lat = ctx.snap_inside(land, lon, lat, 500)
            geom = ctx.blob(lon, lat, target, within=land, irregularity=0.3)
            out.append(
                ctx.feature(
                    "heating_coverage",
                    fid,
                    geom,
                    {
                        "name": name,
                        "city_adcode": city.adcode,
                        "county_adcode": ctx.county_of_geom(geom),
                        "operator": operator,
                        "heat_source": source,
                        "year": 2022,
                        "note": "示例数据（虚构）；范围示意",
                    },
                )
            )
    return out


LAYER = LayerType(
    id="heating_coverage",
    name_zh="供热管网覆盖范围",
    name_en="Heating-network coverage",
    geometry_type="MultiPolygon",
    fields=(
        id_field(),
        name_field(),
        *location_fields(),
        Field(
            name="operator",
            type="str",
            label_zh="供热企业",
            label_en="Heat supplier",
            aliases=("供热单位", "热力公司", "operator"),
        ),
        Field(
            name="heat_source",
            type="str",
            label_zh="主要热源",
            label_en="Main heat source",
            allowed=("热电联产", "工业余热", "燃煤锅炉房", "燃气锅炉房", "清洁能源"),
            aliases=("热源", "热源类型", "heat_source"),
            synonyms=(("热电厂", "热电联产"), ("余热", "工业余热"), ("燃气", "燃气锅炉房")),
        ),
        year_field("year", "覆盖范围年份", "Coverage year", aliases=("年份",)),
        note_field(),
        demo_field(),
    ),
    temporal_field="year",
    legend=(
        LegendEntry(
            key="coverage",
            label_zh="供热管网覆盖范围",
            label_en="Heating-network coverage",
            color="#d9534f",
            fill_color="#f4b6b4",
        ),
    ),
    keywords=(
        "供热管网",
        "集中供热",
        "城镇供热",
        "热电联产",
    ),
    demo=demo_features,
    demo_order=11,
    map_group="base",
)
