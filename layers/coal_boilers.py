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
# A status that says the boiler changed needs the year it changed in; 运行 does not.
CHANGED_STATUSES = ("超低排放改造完成", "已淘汰", "已替代")
UNSTATED = "未说明"  # an 已替代 boiler whose ledger does not say what replaced it
REPLACEMENTS = ("余热", "电", "气", "热电联产", UNSTATED)
USES = ("生产", "供暖", "生产兼供暖", "洗浴", "其他")

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
_DEMO_USES = ("生产", "供暖", "生产兼供暖", "其他")
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
            if use[i] == "供暖":
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
        name_field("锅炉名称", "Boiler", aliases=("锅炉", "锅炉编号名称", "boiler")),
        *location_fields(),
        Field(
            name="enterprise",
            type="str",
            label_zh="使用单位",
            label_en="Operator",
            aliases=(
                "单位",
                "所属企业",
                "单位名称",
                "企业名称",
                "企业",
                "使用单位名称",
                "operator",
                "enterprise",
                "company",
                "owner",
            ),
        ),
        Field(
            name="capacity_t_per_h",
            type="float",
            label_zh="额定蒸发量",
            label_en="Rated capacity",
            unit="蒸吨/小时",
            required=True,  # what the measures select by: ≤35, 35–65, ≥65 t/h
            minimum=0.1,
            maximum=2000,
            aliases=(
                "额定容量",
                "容量",
                "蒸发量",
                "锅炉容量",
                "额定出力",
                "规模",
                "capacity",
                "capacity_t_h",
            ),
            unit_aliases=("t/h", "蒸吨", "蒸吨/时", "吨/小时", "吨/时", "吨"),
        ),
        Field(
            name="use",
            type="str",
            label_zh="用途",
            label_en="Use",
            allowed=USES,
            aliases=("锅炉用途", "使用用途", "use", "purpose"),
            synonyms=(
                ("工业生产", "生产"),
                ("工业", "生产"),
                ("生产用", "生产"),
                ("工业用", "生产"),
                ("集中供暖", "供暖"),
                ("采暖", "供暖"),
                ("供热", "供暖"),
                ("取暖", "供暖"),
                ("工业及供暖", "生产兼供暖"),
                ("生产及供暖", "生产兼供暖"),
                ("生产、供暖", "生产兼供暖"),
                ("生产/供暖", "生产兼供暖"),
                ("生产和供暖", "生产兼供暖"),
                ("洗浴用", "洗浴"),
                ("浴池", "洗浴"),
                ("production", "生产"),
                ("industrial", "生产"),
                ("heating", "供暖"),
                ("space heating", "供暖"),
                ("production and heating", "生产兼供暖"),
                ("bathing", "洗浴"),
                ("other", "其他"),
            ),
        ),
        Field(
            name="status",
            type="str",
            label_zh="状态",
            label_en="Status",
            required=True,  # the measure's progress: eliminated, replaced, retrofitted or not
            allowed=STATUSES,
            aliases=("现状", "运行状态", "锅炉状态", "目前状态", "status", "state"),
            synonyms=(
                ("在用", "运行"),
                ("在运", "运行"),
                ("运营中", "运行"),
                ("运行中", "运行"),
                ("正常运行", "运行"),
                ("使用中", "运行"),
                ("超低排放", "超低排放改造完成"),
                ("已超低排放改造", "超低排放改造完成"),
                ("超低排放已完成", "超低排放改造完成"),
                ("已完成超低排放改造", "超低排放改造完成"),
                ("淘汰", "已淘汰"),
                ("已拆除", "已淘汰"),
                ("拆除", "已淘汰"),
                ("已关停", "已淘汰"),
                ("替代", "已替代"),
                ("已改造替代", "已替代"),
                ("operating", "运行"),
                ("in operation", "运行"),
                ("running", "运行"),
                ("ultra-low emission", "超低排放改造完成"),
                ("ultra-low emissions", "超低排放改造完成"),
                ("phased out", "已淘汰"),
                ("eliminated", "已淘汰"),
                ("demolished", "已淘汰"),
                ("replaced", "已替代"),
            ),
            ambiguous=(
                ("关停", "关停可能是暂停也可能是淘汰：写「已淘汰」或「运行」"),
                ("停用", "停用可能是暂停也可能是淘汰：写「已淘汰」或「运行」"),
                ("改造", "改造是超低排放改造还是替代？写「超低排放改造完成」或「已替代」"),
                ("已改造", "改造是超低排放改造还是替代？写「超低排放改造完成」或「已替代」"),
                ("shut down", "a shutdown may be a pause or the end: write 已淘汰 or 运行"),
                (
                    "retrofitted",
                    "ultra-low emission retrofit or replaced? 超低排放改造完成 or 已替代",
                ),
            ),
        ),
        Field(
            name="replacement",
            type="str",
            label_zh="替代方式",
            label_en="Replaced by",
            allowed=REPLACEMENTS,
            description="How an 已替代 boiler's heat is supplied now",
            aliases=("替代措施", "改造方式", "替代能源", "replaced_by", "replacement"),
            synonyms=(
                ("工业余热", "余热"),
                ("余热供暖", "余热"),
                ("电能", "电"),
                ("电锅炉", "电"),
                ("煤改电", "电"),
                ("天然气", "气"),
                ("燃气", "气"),
                ("煤改气", "气"),
                ("燃气锅炉", "气"),
                ("集中供热", "热电联产"),
                ("热电", "热电联产"),
                ("waste heat", "余热"),
                ("electric", "电"),
                ("electricity", "电"),
                ("gas", "气"),
                ("natural gas", "气"),
                ("CHP", "热电联产"),
                ("cogeneration", "热电联产"),
            ),
        ),
        year_field(
            "status_year",
            "状态变更年份",
            "Year of last status change",
            aliases=(
                *("变更年份", "淘汰年份", "改造年份", "替代年份", "完成年份", "淘汰/改造年份"),
                *("改造/淘汰年份", "淘汰或改造年份", "status_year", "year of change"),
            ),
        ),
        year_field(
            "commissioned_year",
            "投运年份",
            "Year commissioned",
            aliases=("投产年份", "投入使用年份", "建成年份", "commissioned"),
        ),
        note_field(),
        demo_field(),
    ),
    row_checks=(
        RowCheck(
            field="status_year",
            message="状态为超低排放改造完成、已淘汰或已替代时须填状态变更年份 give the year "
            "of the status change when the status is 超低排放改造完成, 已淘汰 or 已替代",
            ok=lambda p: (
                p.get("status") not in CHANGED_STATUSES or p.get("status_year") is not None
            ),
            because="status",
        ),
        RowCheck(
            field="replacement",
            message="已替代须填替代方式 required when status is 已替代 (余热/电/气/热电联产)",
            ok=lambda p: p.get("status") != "已替代" or p.get("replacement") is not None,
            because="status",
            repair=lambda p: {"replacement": UNSTATED},
            repaired=f"已替代但未填替代方式，记为「{UNSTATED}」 replaced without a method: "
            f"recorded as {UNSTATED}",
        ),
        RowCheck(
            field="replacement",
            message="只有已替代的锅炉才填替代方式 a replacement is only for 已替代 boilers",
            ok=lambda p: p.get("status") == "已替代" or p.get("replacement") is None,
        ),
    ),
    temporal_field="status_year",
    as_of=as_of,
    # status_year: the year the current status began; a boiler was 运行 before it
    year_rule={
        "rule": "status_since",
        "field": "status",
        "year_field": "status_year",
        "states": ["运行", "超低排放改造完成", "已淘汰", "已替代"],
        "before": "运行",
    },
    status_field="status",
    legend=(
        LegendEntry(key="运行", label_zh="运行", label_en="Operating", color="#67001f"),
        LegendEntry(
            key="超低排放改造完成",
            label_zh="超低排放改造完成",
            label_en="Ultra-low emission retrofit done",
            color="#f46d43",
        ),
        LegendEntry(key="已淘汰", label_zh="已淘汰", label_en="Eliminated", color="#66bd63"),
        LegendEntry(key="已替代", label_zh="已替代", label_en="Replaced", color="#313695"),
    ),
    version=2,  # 用途 as ledgers write it (生产/供暖/生产兼供暖/洗浴/其他); 替代方式 未说明
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
