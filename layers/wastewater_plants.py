"""污水处理厂 Wastewater treatment plants: service areas of plants whose influent BOD is below
100 mg/L get network rectification; new capacity; harmless sludge disposal."""

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
    note_field,
    year_field,
)

LOW_BOD_MG_L = 100.0  # 001 三（十）: 进水生化需氧量浓度低于100毫克/升


def classify(properties: Mapping[str, Any]) -> str:
    """Operating plants are split by influent strength, since weak influent is the measure."""
    status = properties.get("status")
    bod = properties.get("influent_bod_mg_l")
    if status == "运行" and bod is not None and bod < LOW_BOD_MG_L:
        return "运行·进水BOD偏低"
    return str(status)


def as_of(properties: Mapping[str, Any], year: int) -> dict[str, Any]:
    """The plant at the end of `year`, as plans/indicators.py counts it: a 运行 plant runs
    from its status year (在建 before), a 停运 one ran until it; network rectification
    已完成 counts from its year (实施中 before). Missing years leave a field as it is."""
    state = dict(properties)
    since = state.get("status_year")
    if since is not None and since > year:
        if state.get("status") == "运行":
            state["status"] = "在建"
        elif state.get("status") == "停运":
            state["status"] = "运行"
    rectified_in = state.get("network_rectification_year")
    rectified_later = rectified_in is not None and rectified_in > year
    if state.get("network_rectification") == "已完成" and rectified_later:
        state["network_rectification"] = "实施中"
    return state


if TYPE_CHECKING:
    from layers.demo import DemoContext

# Demo plants: (county, name, role, capacity 万吨/日). Roles: "low" = operating with influent
# BOD < 100 mg/L (network rectification 未启动/实施中), "ok" = operating, BOD 100–220,
# "building" = 在建, "planned" = 规划. Names are fictitious (示例).
_DEMO_PLANTS = (
    ("210803", "营口市示例第一污水处理厂", "low", 20.0),
    ("210811", "营口市示例第二污水处理厂", "low", 10.0),
    ("210804", "鲅鱼圈区示例污水处理厂", "ok", 15.0),
    ("210804", "鲅鱼圈区示例第二污水处理厂", "building", 5.0),
    ("210881", "盖州市示例污水处理厂", "low", 6.0),
    ("210882", "大石桥市示例污水处理厂", "ok", 8.0),
    ("210882", "大石桥市示例第二污水处理厂", "planned", 4.0),
    ("210802", "站前区示例污水处理厂", "ok", 12.0),
    ("220402", "辽源市示例第一污水处理厂", "low", 12.0),
    ("220403", "辽源市示例第二污水处理厂", "low", 8.0),
    ("220421", "东丰县示例污水处理厂", "low", 3.0),
    ("220422", "东辽县示例污水处理厂", "ok", 2.0),
    ("220402", "辽源高新区示例污水处理厂", "ok", 3.0),
    ("220421", "东丰县示例第二污水处理厂", "building", 1.0),
    ("220402", "辽源市示例第三污水处理厂", "planned", 5.0),
    ("220422", "东辽县示例乡镇污水处理厂", "ok", 0.5),
)


def demo_features(ctx: "DemoContext") -> list[dict[str, Any]]:
    """Plants at the edge of each county's built-up area: ≥3 operating ones per city with weak
    influent (BOD < 100 mg/L), the others 100–220 mg/L, plus plants being built and planned."""
    rng = ctx.rng
    out: list[dict[str, Any]] = []
    for city in ctx.cities:
        n = ctx.count("wastewater_plants", city.adcode)
        rows = [r for r in _DEMO_PLANTS if ctx.city_of(r[0]) == city.adcode][:n]
        counties = ctx.counties(city.adcode)
        for k in range(len(rows), n):
            county = ctx.choose(counties)
            role = ctx.choose(("low", "ok", "ok", "ok", "building", "planned"))
            rows.append(
                (
                    county,
                    f"{ctx.name(county)}示例乡镇污水处理厂{k + 1 - 8:d}号",
                    role,
                    float(ctx.choose((0.5, 1.0, 2.0, 3.0, 5.0))),
                )
            )
        built = dict(
            zip(
                (
                    f["properties"]["county_adcode"]
                    for f in ctx.features_of("built_up_areas", city.adcode)
                ),
                ctx.shapes_of("built_up_areas", city.adcode),
                strict=True,
            )
        )
        sites = {}
        for county in counties:  # 0.3–3 km outside the county's built-up area, on its land
            land = ctx.land(county)
            if county in built:
                area = built[county]
                ring = ctx.buffer_km(area, 3.0).difference(ctx.buffer_km(area, 0.3))
                ring = ring.intersection(land)
                sites[county] = ring if ctx.area_km2(ring) > 1.0 else land
            else:
                sites[county] = land
        for fid, (county, name, role, cap) in zip(
            ctx.ids(city.adcode, "wwtp", n), rows, strict=True
        ):
            lon, lat = ctx.random_point_in(sites[county])
            operating = role in ("low", "ok")
            if role == "low":
                bod = round(float(rng.uniform(55, 98)), 1)
                rect = ctx.choose(("未启动", "实施中"))
            elif role == "ok":
                bod = round(float(rng.uniform(100, 220)), 1)
                rect = ctx.choose(("不需要", "不需要", "已完成"))
            else:
                bod, rect = None, None
            status = {"low": "运行", "ok": "运行", "building": "在建", "planned": "规划"}[role]
            year = {
                "运行": int(rng.integers(2005, 2022)),
                "在建": int(rng.integers(2023, 2025)),
                "规划": int(rng.integers(2024, 2026)),
            }[status]
            out.append(
                ctx.feature(
                    "wastewater_plants",
                    fid,
                    ctx.point(lon, lat),
                    {
                        "name": name,
                        "city_adcode": city.adcode,
                        "county_adcode": ctx.county_of(lon, lat)[0],
                        "operator": f"{ctx.name(county)}某水务有限公司",
                        "capacity_10kt_per_day": round(cap * float(rng.uniform(0.9, 1.1)), 1)
                        if cap > 1
                        else cap,
                        "influent_bod_mg_l": bod,
                        "status": status,
                        "status_year": year,
                        "network_rectification": rect,
                        "network_rectification_year": int(rng.integers(2022, 2026))
                        if rect in ("实施中", "已完成")
                        else None,
                        "sludge_harmless_disposal": bool(rng.random() < 0.6) if operating else None,
                    },
                )
            )
    return out


LAYER = LayerType(
    id="wastewater_plants",
    name_zh="污水处理厂",
    name_en="Wastewater plants",
    geometry_type="Point",
    fields=(
        id_field(),
        name_field("污水处理厂名称", "Plant", aliases=("污水处理厂", "厂名", "plant")),
        *location_fields(),
        Field(
            name="operator",
            type="str",
            label_zh="运营单位",
            label_en="Operator",
            aliases=("运营企业", "运维单位", "单位", "operator"),
        ),
        Field(
            name="capacity_10kt_per_day",
            type="float",
            label_zh="设计处理能力",
            label_en="Design capacity",
            unit="万吨/日",
            minimum=0,
            aliases=("设计规模", "处理能力", "处理规模", "规模", "capacity"),
            unit_aliases=("万吨/天", "万m³/d", "万立方米/日", "万吨"),
        ),
        Field(
            name="influent_bod_mg_l",
            type="float",
            label_zh="进水BOD浓度",
            label_en="Influent BOD",
            unit="mg/L",
            minimum=0,
            maximum=2000,
            aliases=("进水BOD", "进水BOD5", "进水BOD5浓度", "BOD", "BOD5", "influent_bod"),
            unit_aliases=("mg/l", "毫克/升"),
        ),
        Field(
            name="status",
            type="str",
            label_zh="状态",
            label_en="Status",
            required=True,  # only operating plants' influent counts for the measure
            allowed=("运行", "在建", "规划", "停运"),
            aliases=("运行状态", "现状", "status"),
            synonyms=(
                ("运营", "运行"),
                ("运营中", "运行"),
                ("运行中", "运行"),
                ("正常运行", "运行"),
                ("在运", "运行"),
                ("建设中", "在建"),
                ("施工中", "在建"),
                ("规划中", "规划"),
                ("拟建", "规划"),
                ("停产", "停运"),
                ("停用", "停运"),
                ("关停", "停运"),
            ),
        ),
        year_field("status_year", "状态年份", "Status year", aliases=("投运年份",)),
        Field(
            name="network_rectification",
            type="str",
            label_zh="片区管网系统化整治",
            label_en="Sewer network rectification",
            allowed=("不需要", "未启动", "实施中", "已完成"),
            aliases=("管网整治", "管网系统化整治", "管网整治状态"),
            synonyms=(
                ("无需", "不需要"),
                ("无需整治", "不需要"),
                ("未开展", "未启动"),
                ("整治中", "实施中"),
                ("正在实施", "实施中"),
                ("完成", "已完成"),
            ),
        ),
        year_field(
            "network_rectification_year",
            "管网整治状态年份",
            "Network rectification year",
            aliases=("管网整治年份",),
        ),
        Field(
            name="sludge_harmless_disposal",
            type="bool",
            label_zh="污泥无害化处置",
            label_en="Harmless sludge disposal",
            aliases=("污泥处置", "污泥无害化", "sludge"),
        ),
        note_field(),
        demo_field(),
    ),
    temporal_field="status_year",
    as_of=as_of,
    # a 运行 plant runs from its status year (在建 before), a 停运 one ran until it
    year_rule={
        "rule": "status_since",
        "field": "status",
        "year_field": "status_year",
        "states": ["运行", "在建", "规划", "停运"],
        "before": {"运行": "在建", "停运": "运行"},
    },
    classify=classify,
    symbol_fields=("status", "status_year", "influent_bod_mg_l"),
    legend=(
        LegendEntry(key="运行", label_zh="运行", label_en="Operating", color="#2171b5"),
        LegendEntry(
            key="运行·进水BOD偏低",
            label_zh="运行，进水BOD<100 mg/L",
            label_en="Operating, influent BOD < 100 mg/L",
            color="#e7298a",
        ),
        LegendEntry(key="在建", label_zh="在建", label_en="Under construction", color="#6baed6"),
        LegendEntry(key="规划", label_zh="规划", label_en="Planned", color="#c6dbef"),
        LegendEntry(key="停运", label_zh="停运", label_en="Out of service", color="#737373"),
    ),
    keywords=(
        "污水处理厂",
        "污水处理",
        "污泥",
        "污水管网",
    ),
    demo=demo_features,
    demo_order=50,
    point_radius=7,
    report_marker="D",
    size_field="capacity_10kt_per_day",
)
