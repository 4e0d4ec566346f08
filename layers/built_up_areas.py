"""城市建成区 Built-up areas: where 35 t/h-and-smaller coal boilers are to be eliminated."""

from typing import TYPE_CHECKING, Any

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

# Demo built-up areas: county adcode, name, approximate urban centre (lon, lat), area in km².
# 营口's urban core spans 站前/西市/老边; it is drawn as one blob per district.
_DEMO_AREAS = (
    ("210802", "营口市中心城区（站前区）建成区", 122.255, 40.675, 16.0),
    ("210803", "营口市中心城区（西市区）建成区", 122.215, 40.668, 12.0),
    ("210804", "鲅鱼圈区城区建成区", 122.135, 40.262, 28.0),
    ("210811", "老边区城区建成区", 122.36, 40.665, 8.0),
    ("210881", "盖州市城区建成区", 122.36, 40.40, 14.0),
    ("210882", "大石桥市城区建成区", 122.505, 40.635, 18.0),
    ("220402", "辽源市中心城区（龙山区）建成区", 125.15, 42.895, 22.0),
    ("220403", "辽源市中心城区（西安区）建成区", 125.145, 42.935, 10.0),
    ("220421", "东丰县城建成区", 125.53, 42.68, 9.0),
    ("220422", "东辽县城（白泉镇）建成区", 125.01, 42.925, 5.0),
)


def demo_features(ctx: "DemoContext") -> list[dict[str, Any]]:
    """One irregular built-up area around each county's urban centre (示意 extents)."""
    out: list[dict[str, Any]] = []
    for city in ctx.cities:
        rows = [r for r in _DEMO_AREAS if ctx.city_of(r[0]) == city.adcode]
        for fid, (county, name, lon, lat, km2) in zip(
            ctx.ids(city.adcode, "builtup", len(rows)), rows, strict=True
        ):
            land = ctx.land(county)
            lon, lat = ctx.snap_inside(land, lon, lat, 800)
            geom = ctx.blob(lon, lat, km2, within=land, irregularity=0.35)
            out.append(
                ctx.feature(
                    "built_up_areas",
                    fid,
                    geom,
                    {
                        "name": name,
                        "city_adcode": city.adcode,
                        "county_adcode": ctx.county_of_geom(geom),
                        "survey_year": 2021,
                        "area_basis": "示意",
                        "note": "示例数据（虚构）；范围示意",
                    },
                )
            )
    return out


LAYER = LayerType(
    id="built_up_areas",
    name_zh="城市建成区",
    name_en="Built-up areas",
    geometry_type="MultiPolygon",
    fields=(
        id_field(),
        name_field(),
        *location_fields(),
        year_field("survey_year", "认定年份", "Survey year"),
        Field(
            name="area_basis",
            type="str",
            label_zh="范围依据",
            label_en="Basis of extent",
            allowed=("城市总体规划", "国土空间规划", "统计年鉴", "示意"),
            aliases=("依据", "来源", "basis"),
        ),
        note_field(),
        demo_field(),
    ),
    temporal_field="survey_year",
    legend=(
        LegendEntry(
            key="built_up",
            label_zh="城市建成区",
            label_en="Built-up area",
            color="#b07d48",
            fill_color="#e8c9a0",
        ),
    ),
    keywords=(
        "城市建成区",
        "建成区",
    ),
    demo=demo_features,
    demo_order=10,
    map_group="base",
)
