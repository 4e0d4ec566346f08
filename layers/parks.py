"""园区 Industrial, agricultural and logistics parks: circular retrofit of provincial-level and
higher parks by end-2025; bulk-cargo parks of ≥150万吨/年 plan a rail spur line."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from geo.schema import Field
from layers.base import (
    LayerType,
    LegendEntry,
    demo_field,
    id_field,
    location_fields,
    name_field,
    no_data_legend,
    note_field,
    year_field,
)

RETROFIT = ("未启动", "规划中", "实施中", "已完成")

if TYPE_CHECKING:
    from layers.demo import DemoContext


def as_of(properties: Mapping[str, Any], year: int) -> dict[str, Any]:
    """The park at the end of `year`: a circular retrofit counts as 已完成 from its
    `circular_retrofit_year` and was 实施中 before (as plans/indicators.py counts it); other
    statuses, or 已完成 without a year, are left as they are."""
    state = dict(properties)
    since = state.get("circular_retrofit_year")
    if state.get("circular_retrofit_status") == "已完成" and since is not None and since > year:
        state["circular_retrofit_status"] = "实施中"
    return state


# Demo parks: the parks the plans name (positions and extents 示意, attributes invented), one
# fictitious park per city besides. (county, lon, lat, km², name, level, type, retrofit status,
# status year, bulk cargo 万吨/年, managing body, real?)
_DEMO_PARKS = (
    (
        "210804",
        122.19,
        40.305,
        12.0,
        "营口经济技术开发区",
        "国家级",
        "经济技术开发区",
        "实施中",
        2023,
        600.0,
        "营口经济技术开发区管委会",
        True,
    ),
    (
        "210811",
        122.345,
        40.63,
        8.0,
        "营口高新技术产业开发区",
        "国家级",
        "高新技术产业开发区",
        "已完成",
        2021,
        80.0,
        "营口高新技术产业开发区管委会",
        True,
    ),
    (
        "210881",
        122.21,
        40.41,
        10.0,
        "营口仙人岛能源化工区",
        "省级",
        "化工园区",
        "规划中",
        2024,
        450.0,
        "营口仙人岛能源化工区管委会",
        True,
    ),
    (
        "210803",
        122.27,
        40.55,
        9.0,
        "营口沿海产业基地",
        "省级",
        "工业园区",
        "实施中",
        2022,
        200.0,
        "营口沿海产业基地管委会",
        True,
    ),
    (
        "210882",
        122.585,
        40.585,
        7.0,
        "大石桥镁质材料产业园",
        "省级",
        "工业园区",
        "未启动",
        None,
        260.0,
        "大石桥市镁质材料产业园管委会",
        True,
    ),
    (
        "210804",
        122.075,
        40.29,
        5.0,
        "营口港鲅鱼圈港区物流园区",
        "市级",
        "物流园区",
        "规划中",
        2024,
        1200.0,
        "营口港鲅鱼圈港区物流园区管理办公室",
        True,
    ),
    (
        "210881",
        122.42,
        40.40,
        3.0,
        "营口市环保装备产业园",
        "市级",
        "环保装备产业园",
        "已完成",
        2022,
        30.0,
        "盖州市某园区管理办公室（示例）",
        False,
    ),
    (
        "210881",
        122.55,
        40.30,
        2.5,
        "盖州市示例农产品加工产业园",
        "县级",
        "农业产业园",
        "未启动",
        None,
        20.0,
        "盖州市某乡镇人民政府（示例）",
        False,
    ),
    (
        "220402",
        125.22,
        42.91,
        9.0,
        "辽源高新技术产业开发区",
        "省级",
        "高新技术产业开发区",
        "实施中",
        2023,
        220.0,
        "辽源高新技术产业开发区管委会",
        True,
    ),
    (
        "220403",
        125.10,
        42.96,
        6.0,
        "辽源经济开发区",
        "省级",
        "经济技术开发区",
        "已完成",
        2021,
        120.0,
        "辽源经济开发区管委会",
        True,
    ),
    (
        "220422",
        125.00,
        42.80,
        14.0,
        "东辽县国家现代农业产业园",
        "国家级",
        "农业产业园",
        "规划中",
        2024,
        40.0,
        "东辽县农业农村局",
        True,
    ),
    (
        "220402",
        125.18,
        42.845,
        3.0,
        "龙山区农产品深加工基地",
        "市级",
        "农业产业园",
        "未启动",
        None,
        25.0,
        "龙山区人民政府",
        True,
    ),
    (
        "220403",
        125.16,
        42.97,
        2.5,
        "西安区“绿电”产业园",
        "市级",
        "新能源产业园",
        "规划中",
        2023,
        None,
        "西安区人民政府",
        True,
    ),
    (
        "220402",
        125.245,
        42.99,
        2.0,
        "辽源智慧物流产业园",
        "市级",
        "物流园区",
        "未启动",
        None,
        180.0,
        "辽源市某物流园区管理公司（示例）",
        True,
    ),
    (
        "220422",
        125.05,
        42.88,
        2.5,
        "辽源市环保装备产业园",
        "市级",
        "环保装备产业园",
        "已完成",
        2022,
        15.0,
        "东辽县某园区管理办公室（示例）",
        False,
    ),
    (
        "220421",
        125.50,
        42.70,
        6.0,
        "东丰经济开发区",
        "省级",
        "经济技术开发区",
        "实施中",
        2023,
        160.0,
        "东丰经济开发区管委会",
        True,
    ),
)


def demo_features(ctx: "DemoContext") -> list[dict[str, Any]]:
    """The named parks (irregular 1–15 km² outlines in the named county); more, fictitious
    ones when more are asked for. Every retrofit status occurs and some 省级+ parks are not
    done; bulk-cargo figures give the rail-spur layer parks to serve and parks to miss."""
    rng = ctx.rng
    out: list[dict[str, Any]] = []
    for city in ctx.cities:
        n = ctx.count("parks", city.adcode)
        rows = [r for r in _DEMO_PARKS if ctx.city_of(r[0]) == city.adcode][:n]
        counties = ctx.counties(city.adcode)
        weights = [ctx.land(c).area for c in counties]
        for k in range(len(rows), n):  # fictitious extra parks, anywhere on land
            county = ctx.choose(counties, [w / sum(weights) for w in weights])
            lon, lat = ctx.random_point_in(ctx.land(county))
            status = ctx.choose(RETROFIT)
            rows.append(
                (
                    county,
                    lon,
                    lat,
                    float(rng.uniform(1.2, 5.0)),
                    f"{ctx.name(county)}示例产业园{k - 7:d}号",
                    ctx.choose(("市级", "县级")),
                    ctx.choose(("工业园区", "农业产业园", "新能源产业园")),
                    status,
                    None if status == "未启动" else int(rng.integers(2019, 2026)),
                    ctx.choose((None, 10.0, 40.0, 90.0)),
                    None,
                    False,
                )
            )
        for fid, row in zip(ctx.ids(city.adcode, "park", n), rows, strict=True):
            county, lon, lat, km2, name, level, kind, status, year, bulk, body, real = row
            land = ctx.land(county)
            lon, lat = ctx.snap_inside(land, lon, lat, 1000)
            geom = ctx.blob(
                lon, lat, km2, within=land, irregularity=0.4, vertices=26, min_fraction=0.75
            )
            out.append(
                ctx.feature(
                    "parks",
                    fid,
                    geom,
                    {
                        "name": name,
                        "city_adcode": city.adcode,
                        "county_adcode": ctx.county_of_geom(geom),
                        "level": level,
                        "park_type": kind,
                        "circular_retrofit_status": status,
                        "circular_retrofit_year": year,
                        "bulk_cargo_10kt_per_year": bulk,
                        "managing_body": body,
                        "note": "示例数据（虚构）；位置示意" if real else "示例数据（虚构）",
                    },
                )
            )
    return out


LAYER = LayerType(
    id="parks",
    name_zh="园区",
    name_en="Parks",
    geometry_type="MultiPolygon",
    label_min_zoom=12,  # from here a park is big enough on screen to carry its name
    fields=(
        id_field(),
        name_field("园区名称", "Park", aliases=("园区", "park")),
        *location_fields(),
        Field(
            name="level",
            type="str",
            label_zh="园区级别",
            label_en="Level",
            required=True,  # what the measure selects by: 省级及以上 parks
            allowed=("国家级", "省级", "市级", "县级"),
            aliases=("级别", "园区等级", "批准级别", "level"),
            synonyms=(
                ("国家", "国家级"),
                ("国家级开发区", "国家级"),
                ("省", "省级"),
                ("省级开发区", "省级"),
                ("市", "市级"),
                ("县", "县级"),
                ("区级", "县级"),
                ("县区级", "县级"),
            ),
        ),
        Field(
            name="park_type",
            type="str",
            label_zh="园区类型",
            label_en="Kind of park",
            allowed=(
                "经济技术开发区",
                "高新技术产业开发区",
                "工业园区",
                "化工园区",
                "农业产业园",
                "物流园区",
                "环保装备产业园",
                "新能源产业园",
                "其他",
            ),
            aliases=("类型", "园区类别", "type", "kind"),
            synonyms=(
                ("经开区", "经济技术开发区"),
                ("经济开发区", "经济技术开发区"),
                ("高新区", "高新技术产业开发区"),
                ("高新技术开发区", "高新技术产业开发区"),
                ("工业园", "工业园区"),
                ("产业园区", "工业园区"),
                ("化工园", "化工园区"),
                ("物流园", "物流园区"),
                ("农业园区", "农业产业园"),
                ("现代农业产业园", "农业产业园"),
            ),
        ),
        Field(
            name="circular_retrofit_status",
            type="str",
            label_zh="循环化改造状态",
            label_en="Circular retrofit",
            allowed=RETROFIT,
            aliases=("循环化改造", "循环化改造进展", "改造状态", "circular_retrofit"),
            synonyms=(
                ("未开展", "未启动"),
                ("未改造", "未启动"),
                ("尚未启动", "未启动"),
                ("计划", "规划中"),
                ("规划", "规划中"),
                ("拟实施", "规划中"),
                ("正在实施", "实施中"),
                ("推进中", "实施中"),
                ("改造中", "实施中"),
                ("进行中", "实施中"),
                ("完成", "已完成"),
                ("已验收", "已完成"),
                ("完成改造", "已完成"),
            ),
            ambiguous=(
                ("运营中", "园区在运营并不说明循环化改造进度：写未启动、规划中、实施中或已完成"),
                ("已改造", "已改造是实施中还是已完成（验收）？写「实施中」或「已完成」"),
            ),
        ),
        year_field(
            "circular_retrofit_year",
            "循环化改造状态年份",
            "Circular retrofit year",
            aliases=("改造年份", "循环化改造年份", "完成年份"),
        ),
        Field(
            name="bulk_cargo_10kt_per_year",
            type="float",
            label_zh="年大宗货物运量",
            label_en="Bulk cargo per year",
            unit="万吨/年",
            minimum=0,
            aliases=("大宗货物运量", "年货运量", "货运量", "bulk_cargo"),
            unit_aliases=("万吨",),
        ),
        Field(
            name="managing_body",
            type="str",
            label_zh="管理机构",
            label_en="Managing body",
            aliases=("管委会", "管理单位", "运营主体", "managing_body", "manager"),
        ),
        note_field(),
        demo_field(),
    ),
    temporal_field="circular_retrofit_year",
    as_of=as_of,
    # a circular retrofit is done from circular_retrofit_year, 实施中 before; only 已完成
    # needs a year
    year_rule={
        "rule": "status_since",
        "field": "circular_retrofit_status",
        "year_field": "circular_retrofit_year",
        "states": ["未启动", "规划中", "实施中", "已完成"],
        "before": {"已完成": "实施中"},
        "dated": ["已完成"],
    },
    status_field="circular_retrofit_status",
    legend=(
        LegendEntry(
            key="未启动",
            label_zh="循环化改造未启动",
            label_en="Retrofit not started",
            color="#b2182b",
        ),
        LegendEntry(
            key="规划中", label_zh="循环化改造规划中", label_en="Retrofit planned", color="#ef8a62"
        ),
        LegendEntry(
            key="实施中",
            label_zh="循环化改造实施中",
            label_en="Retrofit under way",
            color="#8073ac",
        ),
        LegendEntry(
            key="已完成", label_zh="循环化改造已完成", label_en="Retrofit done", color="#4dac26"
        ),
        no_data_legend(),
    ),
    keywords=(
        "园区",
        "开发区",
        "产业园",
        "高新区",
        "循环化改造",
    ),
    demo=demo_features,
    demo_order=30,
)
