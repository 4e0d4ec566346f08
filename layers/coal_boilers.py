"""燃煤锅炉 Coal-fired boilers: ≤35 t/h to be eliminated in built-up areas by 2025, ≥65 t/h to
reach ultra-low emission, boilers inside heating coverage to be phased out or replaced."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from geo.schema import Field, RowCheck
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

STATUSES = ("运行", "超低排放改造完成", "已淘汰", "已替代")
REPLACEMENTS = ("余热", "电", "气", "热电联产")

if TYPE_CHECKING:
    from layers.demo import DemoContext


def as_of(properties: Mapping[str, Any], year: int) -> dict[str, Any]:
    """The boiler at the end of `year`: before its status year it was 运行 (the rule
    plans/indicators.py counts by), without a replacement. A missing year leaves it as is."""
    state = dict(properties)
    since = state.get("status_year")
    if since is not None and since > year:
        state["status"] = "运行"
        state["replacement"] = None
    return state


# -- demo data ------------------------------------------------------------------------------
# Capacity classes of the measures: ≤35 t/h (eliminate in built-up areas), 35–65, ≥65 t/h
# (ultra-low emission), with the rated capacities boilers really come in.
_DEMO_CAPACITIES = {
    "small": (2.0, 4.0, 6.0, 10.0, 15.0, 20.0, 25.0, 35.0),
    "mid": (40.0, 45.0, 58.0),
    "large": (65.0, 75.0, 90.0, 130.0, 220.0),
}
# The first boilers of each city, fixed so that every measure has something to find:
# (where, capacity class, status, replacement). "built" = inside a built-up area, "heating" =
# inside heating coverage, "near" = within 8 km of a waste-heat source, "any" = elsewhere.
_DEMO_ROLES = (
    *[("built", "small", "运行", None)] * 4,  # 2025 target not yet met
    *[("heating", "small", "运行", None)] * 2,  # inside heating coverage, still burning coal
    ("heating", "mid", "运行", None),
    ("near", "small", "运行", None),  # waste heat available nearby
    ("near", "mid", "运行", None),
    *[("any", "large", "运行", None)] * 3,  # ≥65 t/h without ultra-low emission
    ("near", "large", "运行", None),
    *[("any", "large", "超低排放改造完成", None)] * 2,
    ("near", "large", "超低排放改造完成", None),
    ("any", "mid", "超低排放改造完成", None),
    ("near", "small", "已替代", "余热"),
    ("near", "mid", "已替代", "余热"),
    ("built", "small", "已替代", "电"),
    ("built", "small", "已替代", "气"),
    ("heating", "mid", "已替代", "热电联产"),
    ("any", "large", "已替代", "热电联产"),
    *[("built", "small", "已淘汰", None)] * 3,
    ("any", "mid", "已淘汰", None),
)
# For the other boilers: where they are, their status and their use, by capacity class.
_DEMO_PLACES = ("built", "heating", "near", "any")
_DEMO_PLACE_P = {
    "small": (0.35, 0.15, 0.1, 0.4),
    "mid": (0.15, 0.1, 0.2, 0.55),
    "large": (0.0, 0.05, 0.35, 0.6),
}
_DEMO_STATUS_P = {
    "small": (0.35, 0.05, 0.35, 0.25),
    "mid": (0.4, 0.25, 0.15, 0.2),
    "large": (0.35, 0.45, 0.05, 0.15),
}
_DEMO_USES = ("工业生产", "集中供暖", "工业及供暖", "其他")
_DEMO_USE_P = {
    "small": (0.35, 0.4, 0.15, 0.1),
    "mid": (0.4, 0.35, 0.25, 0.0),
    "large": (0.45, 0.3, 0.25, 0.0),
}
_DEMO_PLACE_NAMES = {
    "210802": "营口",
    "210803": "营口",
    "210804": "鲅鱼圈",
    "210811": "营口",
    "210881": "盖州",
    "210882": "大石桥",
    "220402": "辽源市",
    "220403": "辽源市",
    "220421": "东丰县",
    "220422": "东辽县",
}
_DEMO_INDUSTRIES = {
    "210800": (
        "化工",
        "镁制品",
        "耐火材料",
        "石化",
        "食品",
        "造纸",
        "纺织",
        "机械制造",
        "建材",
        "冶金",
    ),
    "220400": ("纺织袜业", "冶金", "化工", "食品", "制药", "建材", "机械", "酿酒", "煤业"),
}
_DEMO_OTHER_USERS = ("医院", "学校", "宾馆", "洗浴中心", "养殖场")


def _demo_classes(ctx: "DemoContext", fixed: list[str], n: int) -> list[str]:
    """Capacity classes for the boilers after the fixed roles, topping up towards thirds."""
    names = list(_DEMO_CAPACITIES)
    target = [n // 3 + (1 if i < n % 3 else 0) for i in range(3)]
    need = [max(t - fixed.count(c), 0) for t, c in zip(target, names, strict=True)]
    extra = n - len(fixed) - sum(need)
    i = 0
    while extra != 0:  # rounding: take from / give to the classes in turn
        step = 1 if extra > 0 else -1
        if need[i % 3] + step >= 0:
            need[i % 3] += step
            extra -= step
        i += 1
    rest = [c for c, k in zip(names, need, strict=True) for _ in range(k)]
    return [rest[i] for i in ctx.rng.permutation(len(rest))]


def demo_features(ctx: "DemoContext") -> list[dict[str, Any]]:
    """Boilers in every capacity class, status and replacement; small ones still running in
    built-up areas and heating coverage, big ones without ultra-low emission, some near
    waste heat. Operators are fictitious (某/示例)."""
    rng = ctx.rng
    out: list[dict[str, Any]] = []
    for city in ctx.cities:
        n = ctx.count("coal_boilers", city.adcode)
        roles = list(_DEMO_ROLES[:n])
        cls = [r[1] for r in roles] + _demo_classes(ctx, [r[1] for r in roles], n)
        place = [r[0] for r in roles]
        status = [r[2] for r in roles]
        repl: list[str | None] = [r[3] for r in roles]
        for c in cls[len(roles) :]:  # cheap per boiler; the expensive parts are vectorised
            place.append(_DEMO_PLACES[rng.choice(4, p=_DEMO_PLACE_P[c])])
            status.append(STATUSES[rng.choice(4, p=_DEMO_STATUS_P[c])])
            if status[-1] != "已替代":
                repl.append(None)
            elif place[-1] == "near":
                repl.append(REPLACEMENTS[rng.choice(4, p=(0.7, 0.1, 0.1, 0.1))])
            else:
                repl.append(REPLACEMENTS[1 + rng.choice(3)])
        # where: sample every kind of place at once
        land = ctx.land(city.adcode)
        built = ctx.union_of("built_up_areas", city.adcode)
        sources = ctx.shapes_of("waste_heat_sources", city.adcode)
        areas = {
            "built": built,
            "heating": ctx.union_of("heating_coverage", city.adcode).intersection(land),
            "near": land.intersection(
                shapely.union_all([ctx.disc(p.x, p.y, 8.0) for p in sources])
            ),
            "any": ctx.buffer_km(built, 12.0).intersection(land).difference(built),
        }
        lon = np.empty(n)
        lat = np.empty(n)
        place_arr = np.array(place)
        for kind, area in areas.items():
            idx = np.flatnonzero(place_arr == kind)
            lon[idx], lat[idx] = ctx.random_points_in(area, idx.size)
        county = ctx.county_of(lon, lat)
        # what: capacities, uses, years, operators
        cap = [_DEMO_CAPACITIES[c][rng.integers(len(_DEMO_CAPACITIES[c]))] for c in cls]
        use = [_DEMO_USES[rng.choice(4, p=_DEMO_USE_P[c])] for c in cls]
        year = rng.integers(2016, 2026, n)
        year = np.where(np.array(status) == "超低排放改造完成", rng.integers(2017, 2024, n), year)
        built_year = rng.integers(1988, 2015, n)
        industry = _DEMO_INDUSTRIES[city.adcode]
        ind = rng.integers(len(industry), size=n)
        other = rng.integers(len(_DEMO_OTHER_USERS), size=n)
        unit_no = rng.integers(1, 5, n)
        ids = ctx.ids(city.adcode, "boiler", n)
        for i in range(n):
            where = _DEMO_PLACE_NAMES[county[i]]
            if use[i] == "集中供暖":
                enterprise = f"{where}某热力有限公司"
            elif use[i] == "其他":
                enterprise = f"{where}某{_DEMO_OTHER_USERS[other[i]]}"
            else:
                enterprise = f"{where}某{industry[ind[i]]}有限公司"
            out.append(
                ctx.feature(
                    "coal_boilers",
                    ids[i],
                    ctx.point(lon[i], lat[i]),
                    {
                        "name": f"{enterprise}{unit_no[i]}号燃煤锅炉",
                        "city_adcode": city.adcode,
                        "county_adcode": county[i],
                        "enterprise": enterprise,
                        "capacity_t_per_h": cap[i],
                        "use": use[i],
                        "status": status[i],
                        "replacement": repl[i],
                        "status_year": int(year[i]),
                        "commissioned_year": int(built_year[i]),
                    },
                )
            )
    return out


LAYER = LayerType(
    id="coal_boilers",
    name_zh="燃煤锅炉",
    name_en="Coal-fired boilers",
    geometry_type="Point",
    fields=(
        id_field(),
        name_field("锅炉名称", "Boiler"),
        *location_fields(),
        Field(
            name="enterprise", type="str", label_zh="使用单位", label_en="Operator", required=True
        ),
        Field(
            name="capacity_t_per_h",
            type="float",
            label_zh="额定蒸发量",
            label_en="Rated capacity",
            unit="蒸吨/小时",
            required=True,
            minimum=0.1,
            maximum=2000,
        ),
        Field(
            name="use",
            type="str",
            label_zh="用途",
            label_en="Use",
            required=True,
            allowed=("工业生产", "集中供暖", "工业及供暖", "其他"),
        ),
        Field(
            name="status",
            type="str",
            label_zh="状态",
            label_en="Status",
            required=True,
            allowed=STATUSES,
        ),
        Field(
            name="replacement",
            type="str",
            label_zh="替代方式",
            label_en="Replaced by",
            allowed=REPLACEMENTS,
            description="How an 已替代 boiler's heat is supplied now",
        ),
        year_field("status_year", "状态变更年份", "Year of last status change", required=True),
        year_field("commissioned_year", "投运年份", "Year commissioned"),
        note_field(),
        demo_field(),
    ),
    row_checks=(
        RowCheck(
            field="replacement",
            message="required when status is 已替代 (余热/电/气/热电联产), empty otherwise",
            ok=lambda p: (p.get("status") == "已替代") == (p.get("replacement") is not None),
        ),
    ),
    temporal_field="status_year",
    as_of=as_of,
    status_field="status",
    legend=(
        LegendEntry(key="运行", label_zh="运行", label_en="Operating", color="#d7301f"),
        LegendEntry(
            key="超低排放改造完成",
            label_zh="超低排放改造完成",
            label_en="Ultra-low emission retrofit done",
            color="#fdae61",
        ),
        LegendEntry(key="已淘汰", label_zh="已淘汰", label_en="Eliminated", color="#1a9850"),
        LegendEntry(key="已替代", label_zh="已替代", label_en="Replaced", color="#4575b4"),
    ),
    keywords=(
        "燃煤锅炉",
        "锅炉",
        "蒸吨",
        "散煤",
    ),
    demo=demo_features,
    demo_order=20,
    point_radius=6.5,
    code_prefix="B",  # 锅炉 boiler
    report_marker="s",
    size_field="capacity_t_per_h",
)
