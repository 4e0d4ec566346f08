"""余热资源 Waste-heat sources (鞍钢鲅鱼圈, 日钢营口中板 …) that can replace coal boilers."""

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

# Demo sources: county, approximate position (lon, lat), name, enterprise, kind, usable MW,
# status, status year, real (→ "位置示意") or fictitious. Heat figures are invented.
_DEMO_SOURCES = (
    (
        "210804",
        122.10,
        40.27,
        "鞍钢鲅鱼圈钢铁基地余热",
        "鞍钢股份有限公司鲅鱼圈钢铁分公司",
        "钢铁余热",
        320.0,
        "已供热",
        2021,
        True,
    ),
    (
        "210811",
        122.345,
        40.615,
        "日钢营口中板余热",
        "日钢营口中板有限公司（原五矿营口中板）",
        "钢铁余热",
        180.0,
        "未利用",
        2022,
        True,
    ),
    (
        "210804",
        122.17,
        40.22,
        "华能营口电厂余热",
        "华能营口电厂",
        "电厂余热",
        260.0,
        "规划供热",
        2024,
        True,
    ),
    (
        "210811",
        122.31,
        40.665,
        "营口热电厂余热",
        "营口热电厂",
        "电厂余热",
        150.0,
        "已供热",
        2019,
        True,
    ),
    (
        "220402",
        125.175,
        42.88,
        "辽源热电厂余热",
        "辽源热电厂",
        "电厂余热",
        210.0,
        "已供热",
        2020,
        True,
    ),
    (
        "220403",
        125.115,
        42.95,
        "辽源某冶金企业余热（示例）",
        "辽源市某冶金有限公司（示例）",
        "其他工业余热",
        28.0,
        "未利用",
        2023,
        False,
    ),
)


def demo_features(ctx: "DemoContext") -> list[dict[str, Any]]:
    """The steel works and power plants the plans name (positions approximate) plus one
    fictitious metallurgy plant in 辽源; every supply status occurs."""
    out: list[dict[str, Any]] = []
    for city in ctx.cities:
        rows = [r for r in _DEMO_SOURCES if ctx.city_of(r[0]) == city.adcode]
        for fid, row in zip(ctx.ids(city.adcode, "heat", len(rows)), rows, strict=True):
            county, lon, lat, name, enterprise, kind, mw, status, year, real = row
            lon, lat = ctx.snap_inside(ctx.land(county), lon, lat, 1500)
            out.append(
                ctx.feature(
                    "waste_heat_sources",
                    fid,
                    ctx.point(lon, lat),
                    {
                        "name": name,
                        "city_adcode": city.adcode,
                        "county_adcode": ctx.county_of(lon, lat)[0],
                        "enterprise": enterprise,
                        "heat_type": kind,
                        "available_heat_mw": mw,
                        "supply_status": status,
                        "status_year": year,
                        "note": "示例数据（虚构）；位置示意" if real else "示例数据（虚构）",
                    },
                )
            )
    return out


LAYER = LayerType(
    id="waste_heat_sources",
    name_zh="余热资源",
    name_en="Waste-heat sources",
    geometry_type="Point",
    fields=(
        id_field(),
        name_field(),
        *location_fields(),
        Field(
            name="enterprise",
            type="str",
            label_zh="企业",
            label_en="Enterprise",
            aliases=("企业名称", "单位", "所属企业", "enterprise"),
        ),
        Field(
            name="heat_type",
            type="str",
            label_zh="余热类型",
            label_en="Kind of waste heat",
            allowed=("钢铁余热", "电厂余热", "化工余热", "其他工业余热"),
            aliases=("类型", "余热种类", "heat_type"),
            synonyms=(("钢铁", "钢铁余热"), ("电厂", "电厂余热"), ("化工", "化工余热")),
        ),
        Field(
            name="available_heat_mw",
            type="float",
            label_zh="可利用余热",
            label_en="Usable heat",
            unit="MW",
            minimum=0,
            aliases=("可利用余热量", "余热量", "available_heat"),
            unit_aliases=("兆瓦",),
        ),
        Field(
            name="supply_status",
            type="str",
            label_zh="供热状态",
            label_en="Supply status",
            required=True,  # the measure's progress: is the heat used
            allowed=("未利用", "规划供热", "已供热"),
            aliases=("利用状态", "状态", "status"),
            synonyms=(
                ("未供热", "未利用"),
                ("闲置", "未利用"),
                ("规划", "规划供热"),
                ("拟供热", "规划供热"),
                ("供热中", "已供热"),
                ("已利用", "已供热"),
            ),
            ambiguous=(("运营中", "企业在运营并不说明余热是否已供热：写未利用、规划供热或已供热"),),
        ),
        year_field("status_year", "状态年份", "Status year"),
        note_field(),
        demo_field(),
    ),
    temporal_field="status_year",
    status_field="supply_status",
    legend=(
        LegendEntry(key="未利用", label_zh="未利用", label_en="Unused", color="#8c510a"),
        LegendEntry(
            key="规划供热", label_zh="规划供热", label_en="Supply planned", color="#f6a600"
        ),
        LegendEntry(key="已供热", label_zh="已供热", label_en="Supplying heat", color="#de77ae"),
    ),
    keywords=(
        "余热",
        "余压",
        "鞍钢",
        "日钢",
        "本钢",
        "凌钢",
    ),
    demo=demo_features,
    demo_order=12,
    point_radius=8.5,
    code_prefix="H",  # 余热 heat (W is taken by wastewater plants)
    report_marker="^",
    size_field="available_heat_mw",
)
