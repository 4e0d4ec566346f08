"""铁路专用线 Rail spur lines to ports, key parks, large mines and logistics parks."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, shape

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
    from shapely.geometry.base import BaseGeometry

    from layers.demo import DemoContext

# The status a line had before its status year; a 规划 line did not exist before (None).
_STATUS_BEFORE = {"建成": "在建", "在建": "规划", "规划": None}


def as_of(properties: Mapping[str, Any], year: int) -> dict[str, Any] | None:
    """The line at the end of `year`, as plans/indicators.py counts it: 在建 before it was
    建成, 规划 before it was 在建, and before its status year a 规划 line was not yet planned
    (None). A missing year or an unknown status leaves it as is."""
    state = dict(properties)
    since = state.get("status_year")
    status = state.get("status")
    if since is None or since <= year or status not in _STATUS_BEFORE:
        return state
    before = _STATUS_BEFORE[status]
    if before is None:
        return None
    state["status"] = before
    return state


# -- demo data ------------------------------------------------------------------------------
# Trunk railways the demo spurs head for (approximate courses, lon/lat).
_DEMO_TRUNKS = {
    "210800": {
        "沈大铁路": (
            (122.60, 40.94),
            (122.55, 40.78),
            (122.51, 40.64),
            (122.45, 40.52),
            (122.37, 40.41),
            (122.28, 40.30),
            (122.17, 40.18),
            (122.10, 40.06),
            (122.06, 39.93),
        ),
        "大石桥—营口铁路": ((122.51, 40.64), (122.40, 40.66), (122.26, 40.672)),
    },
    "220400": {
        "四平—梅河口铁路": (
            (124.84, 43.10),
            (124.98, 42.98),
            (125.14, 42.90),
            (125.30, 42.80),
            (125.45, 42.72),
            (125.53, 42.68),
            (125.70, 42.57),
            (125.84, 42.46),
        ),
        "长春—辽源—通化铁路": (
            (125.22, 43.25),
            (125.17, 43.06),
            (125.155, 42.94),
            (125.25, 42.76),
            (125.36, 42.52),
            (125.45, 42.30),
        ),
    },
}
# (start, name, serves, status, status year, bulk 万吨/年, owner, trunk or None, real?).
# A start is ("park", park name), ("heat", waste-heat source name) or ("site", county, lon,
# lat) for a port, mine or depot. Parks of ≥150万吨/年 that no row starts in are kept clear
# of every spur: the gap the indicators must find (大石桥镁质材料产业园, 辽源智慧物流产业园).
_DEMO_SPURS = (
    (
        ("site", "210804", 122.045, 40.30),
        "营口港鲅鱼圈港区疏港铁路专用线",
        "港口",
        "建成",
        2015,
        3500.0,
        "营口港务集团有限公司",
        "沈大铁路",
        True,
    ),
    (
        ("park", "营口港鲅鱼圈港区物流园区"),
        "营口港鲅鱼圈港区物流园区铁路专用线",
        "物流园区",
        "建成",
        2019,
        900.0,
        "营口港某物流有限公司",
        "沈大铁路",
        False,
    ),
    (
        ("heat", "鞍钢鲅鱼圈钢铁基地余热"),
        "鞍钢鲅鱼圈钢铁基地铁路专用线",
        "工矿企业",
        "建成",
        2010,
        1600.0,
        "鞍钢股份有限公司鲅鱼圈钢铁分公司",
        "沈大铁路",
        True,
    ),
    (
        ("park", "营口仙人岛能源化工区"),
        "营口仙人岛能源化工区铁路专用线",
        "园区",
        "在建",
        2024,
        450.0,
        "仙人岛某铁路运营有限公司",
        None,
        False,
    ),
    (
        ("park", "营口经济技术开发区"),
        "营口经济技术开发区铁路专用线",
        "园区",
        "建成",
        2018,
        600.0,
        "营口经济技术开发区某投资有限公司",
        None,
        False,
    ),
    (
        ("site", "210882", 122.75, 40.75),
        "大石桥示例镁矿铁路专用线",
        "工矿企业",
        "在建",
        2025,
        280.0,
        "大石桥市某镁矿有限公司",
        None,
        False,
    ),
    (
        ("site", "210881", 122.55, 40.45),
        "盖州示例矿业铁路专用线",
        "工矿企业",
        "规划",
        2025,
        160.0,
        "盖州市某矿业有限公司",
        None,
        False,
    ),
    (
        ("park", "营口沿海产业基地"),
        "营口沿海产业基地铁路专用线",
        "园区",
        "规划",
        2024,
        200.0,
        "营口沿海产业基地某开发有限公司",
        None,
        False,
    ),
    (
        ("park", "辽源高新技术产业开发区"),
        "长春—辽源—通化铁路辽源高新区联络线",
        "园区",
        "在建",
        2024,
        220.0,
        "辽源高新区某投资有限公司",
        "长春—辽源—通化铁路",
        False,
    ),
    (
        ("park", "辽源经济开发区"),
        "辽源经济开发区铁路专用线",
        "园区",
        "建成",
        2016,
        120.0,
        "辽源经济开发区某投资有限公司",
        "四平—梅河口铁路",
        False,
    ),
    (
        ("park", "东丰经济开发区"),
        "东丰经济开发区铁路专用线",
        "园区",
        "在建",
        2024,
        160.0,
        "东丰县某投资有限公司",
        None,
        False,
    ),
    (
        ("site", "220422", 125.05, 43.05),
        "辽源示例煤矿铁路专用线",
        "工矿企业",
        "建成",
        2008,
        300.0,
        "辽源某煤业有限公司",
        None,
        False,
    ),
    (
        ("site", "220422", 124.95, 42.75),
        "东辽县示例矿业铁路专用线",
        "工矿企业",
        "规划",
        2025,
        150.0,
        "东辽县某矿业有限公司",
        None,
        False,
    ),
    (
        ("site", "220403", 125.175, 42.965),
        "西安区示例建材企业铁路专用线",
        "工矿企业",
        "建成",
        2012,
        80.0,
        "辽源市某建材有限公司",
        None,
        False,
    ),
    (
        ("site", "220421", 125.60, 42.62),
        "东丰示例粮食物流中心铁路专用线",
        "物流园区",
        "规划",
        2025,
        60.0,
        "东丰县某粮食物流有限公司",
        None,
        False,
    ),
    (
        ("park", "辽源市环保装备产业园"),
        "辽源市环保装备产业园铁路专用线",
        "园区",
        "规划",
        2025,
        20.0,
        "东辽县某园区开发有限公司",
        None,
        False,
    ),
)


def _demo_line(
    ctx: "DemoContext",
    start: "BaseGeometry",
    targets: np.ndarray,
    avoid: list["BaseGeometry"],
    county: str | None,
) -> LineString | None:
    """A gently curving spur from `start` towards the trunk: tries target points (local
    metres, nearest first) until the line is 2–25 km long, stays 2 km clear of `avoid` and has
    its centroid on land (in `county` when possible). None when no target works."""
    epsg = ctx.city(ctx.city_of(ctx.county_of(start.x, start.y)[0])).epsg
    s = np.array(ctx.to_local(start, epsg).coords[0])
    d = np.hypot(*(targets - s).T)
    order = np.argsort(d, kind="stable")
    avoid_local = [ctx.to_local(a, epsg) for a in avoid]
    fallback = None
    for want_county in (county, None):
        for i in order:
            if d[i] < 2500:
                continue
            end = targets[i]
            if d[i] > 25_000:  # too far: head towards it for 12–20 km
                end = s + (end - s) * ctx.rng.uniform(12_000, 20_000) / d[i]
            length = float(np.hypot(*(end - s)))
            k = int(np.clip(round(length / 1500) + 2, 3, 15))
            t = np.linspace(0, 1, k)
            normal = np.array([-(end - s)[1], (end - s)[0]]) / length
            bend = ctx.rng.uniform(-0.12, 0.12) * length * np.sin(np.pi * t)
            bend += ctx.rng.normal(0, 0.01 * length, k) * np.sin(np.pi * t)
            xy = s + np.outer(t, end - s) + np.outer(bend, normal)
            line = ctx.from_local(LineString(xy), epsg)
            if not 2.0 <= ctx.length_km(line) <= 25.0:
                continue
            local = LineString(xy)
            if any(local.distance(a) < 2000 for a in avoid_local):
                continue
            where = ctx.county_of_geom(line)
            if where is None:
                continue
            if want_county is None or where == want_county:
                return line
            fallback = fallback or line
    return fallback


def demo_features(ctx: "DemoContext") -> list[dict[str, Any]]:
    """Spur lines from parks, ports and mines towards the trunk railways, every status and
    kind of user; some ≥150万吨/年 parks are served, one per city is left without a spur."""
    out: list[dict[str, Any]] = []
    for city in ctx.cities:
        n = ctx.count("rail_spurs", city.adcode)
        parks = {f["properties"]["name"]: f for f in ctx.features_of("parks", city.adcode)}
        sources = {
            f["properties"]["name"]: f for f in ctx.features_of("waste_heat_sources", city.adcode)
        }
        rows = [r for r in _DEMO_SPURS if r[0][0] != "site" or ctx.city_of(r[0][1]) == city.adcode]
        rows = [r for r in rows if r[0][0] == "site" or r[0][1] in parks or r[0][1] in sources]
        rows = rows[:n]
        served = {r[0][1] for r in rows if r[0][0] == "park"}
        avoid = [
            shape(f["geometry"])
            for name, f in parks.items()
            if name not in served and (f["properties"]["bulk_cargo_10kt_per_year"] or 0) >= 150
        ]
        land = ctx.land(city.adcode)
        counties = ctx.counties(city.adcode)
        weights = np.array([ctx.land(c).area for c in counties])
        for k in range(len(rows), n):  # fictitious extra mines, anywhere on land
            county = ctx.choose(counties, weights / weights.sum())
            rows.append(
                (
                    ("random", county),
                    f"{ctx.name(county)}示例矿业铁路专用线{k + 1 - 8:d}号",
                    "工矿企业",
                    ctx.choose(("规划", "在建", "建成")),
                    int(ctx.rng.integers(2005, 2026)),
                    float(np.round(ctx.rng.uniform(20, 400), 0)),
                    f"{ctx.name(county)}某矿业有限公司",
                    None,
                    False,
                )
            )
        # trunk lines as candidate end points every ~500 m on this city's land
        trunks = {}
        for name, coords in _DEMO_TRUNKS[city.adcode].items():
            line = ctx.to_local(LineString(coords), city.epsg)
            pts = shapely.line_interpolate_point(line, np.arange(0, line.length, 500.0))
            xy = shapely.get_coordinates(pts)
            ll = shapely.get_coordinates(ctx.from_local(shapely.multipoints(xy), city.epsg))
            trunks[name] = xy[shapely.contains_xy(land, ll[:, 0], ll[:, 1])]
        all_targets = np.concatenate(list(trunks.values()))
        for fid, row in zip(ctx.ids(city.adcode, "spur", n), rows, strict=True):
            start_ref, name, serves, status, year, bulk, owner, trunk, real = row
            if start_ref[0] == "park":
                park = shape(parks[start_ref[1]]["geometry"])
                start = Point(ctx.random_point_in(park.buffer(-0.001)))
            elif start_ref[0] == "heat":
                start = Point(sources[start_ref[1]]["geometry"]["coordinates"])
            elif start_ref[0] == "site":
                county = start_ref[1]
                start = Point(ctx.snap_inside(ctx.land(county), start_ref[2], start_ref[3], 800))
            targets = trunks[trunk] if trunk else all_targets
            for _ in range(50):
                if start_ref[0] == "random":  # anywhere clear of the parks left without spurs
                    start = Point(ctx.random_point_in(ctx.land(start_ref[1])))
                    if any(ctx.distance_km(start, a) < 3.0 for a in avoid):
                        continue
                line = _demo_line(ctx, start, targets, avoid, ctx.county_of(start.x, start.y)[0])
                if line is not None or start_ref[0] != "random":
                    break
            if line is None:
                raise ValueError(f"{name}: no spur line fits")
            geom = ctx.geometry(line)
            out.append(
                ctx.feature(
                    "rail_spurs",
                    fid,
                    geom,
                    {
                        "name": name,
                        "city_adcode": city.adcode,
                        "county_adcode": ctx.county_of_geom(shape(geom)),
                        "owner": owner,
                        "serves": serves,
                        "length_km": round(ctx.length_km(shape(geom)), 2),
                        "bulk_cargo_10kt_per_year": bulk,
                        "status": status,
                        "status_year": year,
                        "note": "示例数据（虚构）；位置示意" if real else "示例数据（虚构）",
                    },
                )
            )
    return out


LAYER = LayerType(
    id="rail_spurs",
    name_zh="铁路专用线",
    name_en="Rail spur lines",
    geometry_type="LineString",
    label_min_zoom=12,  # from here a spur line is long enough on screen to carry its name
    fields=(
        id_field(),
        name_field("专用线名称", "Spur line", aliases=("专用线", "线路名称", "spur", "line")),
        *location_fields(),
        Field(
            name="owner",
            type="str",
            label_zh="产权单位",
            label_en="Owner",
            aliases=("产权人", "建设单位", "所属企业", "单位", "owner", "operator"),
        ),
        Field(
            name="serves",
            type="str",
            label_zh="服务对象",
            label_en="Serves",
            allowed=("港口", "园区", "工矿企业", "物流园区"),
            aliases=("服务", "接轨对象", "serves"),
            synonyms=(
                ("港区", "港口"),
                ("码头", "港口"),
                ("工业园区", "园区"),
                ("开发区", "园区"),
                ("企业", "工矿企业"),
                ("工矿", "工矿企业"),
                ("厂矿企业", "工矿企业"),
                ("物流园", "物流园区"),
                ("物流基地", "物流园区"),
            ),
        ),
        Field(
            name="length_km",
            type="float",
            label_zh="线路长度",
            label_en="Length",
            unit="km",
            minimum=0,
            aliases=("长度", "里程", "线路里程", "length"),
            unit_aliases=("公里", "千米"),
        ),
        Field(
            name="bulk_cargo_10kt_per_year",
            type="float",
            label_zh="年大宗货物运量",
            label_en="Bulk cargo per year",
            unit="万吨/年",
            minimum=0,
            aliases=("大宗货物运量", "年运量", "运量", "bulk_cargo"),
            unit_aliases=("万吨",),
        ),
        Field(
            name="status",
            type="str",
            label_zh="状态",
            label_en="Status",
            required=True,  # the measure's progress: which lines are built
            allowed=("规划", "在建", "建成"),
            aliases=("建设状态", "现状", "进展", "status"),
            synonyms=(
                ("规划中", "规划"),
                ("拟建", "规划"),
                ("前期", "规划"),
                ("计划", "规划"),
                ("建设中", "在建"),
                ("施工中", "在建"),
                ("正在建设", "在建"),
                ("已建成", "建成"),
                ("完工", "建成"),
                ("已完工", "建成"),
                ("运营中", "建成"),
                ("已通车", "建成"),
            ),
        ),
        year_field("status_year", "状态年份", "Status year", aliases=("建成年份", "开工年份")),
        note_field(),
        demo_field(),
    ),
    temporal_field="status_year",
    as_of=as_of,
    # 建成 from its year (在建 before), 在建 from its year (规划 before); a 规划 line exists
    # only from its year
    year_rule={
        "rule": "status_since",
        "field": "status",
        "year_field": "status_year",
        "states": ["规划", "在建", "建成"],
        "before": {"建成": "在建", "在建": "规划", "规划": ""},
    },
    status_field="status",
    legend=(
        LegendEntry(key="规划", label_zh="规划", label_en="Planned", color="#9e9ac8", dash="8 5"),
        LegendEntry(
            key="在建", label_zh="在建", label_en="Under construction", color="#f16913", dash="2 4"
        ),
        LegendEntry(key="建成", label_zh="建成", label_en="Built", color="#252525", dash=""),
    ),
    keywords=(
        "铁路专用线",
        "公转铁",
        "铁路",
    ),
    demo=demo_features,
    demo_order=40,
    size_field="length_km",
)
