"""村 Villages: 美丽宜居村 creation, rural sewage treatment (≥35% by 2025), clean heating and
household toilet retrofits."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from geo.schema import Field, RowCheck
from layers.base import (
    NO_DATA,
    LayerType,
    LegendEntry,
    demo_field,
    id_field,
    location_fields,
    name_field,
    note_field,
    year_field,
)


def classify(properties: Mapping[str, Any]) -> str:
    if properties.get("beautiful_village_year") is not None:
        return "美丽宜居村"
    done = [properties.get(k) for k in ("sewage_treated", "clean_heating", "toilet_retrofit")]
    if all(d is None for d in done):
        return NO_DATA  # a ledger that says nothing of the retrofits
    if all(done):
        return "三项改造完成"
    return "部分完成" if any(done) else "未改造"


# Each retrofit flag and the year it was done in.
_FLAG_YEARS = (
    ("sewage_treated", "sewage_year"),
    ("clean_heating", "clean_heating_year"),
    ("toilet_retrofit", "toilet_retrofit_year"),
)


def as_of(properties: Mapping[str, Any], year: int) -> dict[str, Any]:
    """The village at the end of `year`: each flag counts from its year (as
    plans/indicators.py counts it), so a flag set later is False. 美丽宜居村 has no flag but
    its year, which `classify` reads: a later one becomes None. A true flag without a year
    cannot be placed in time and is left as it is."""
    state = dict(properties)
    for flag, flag_year in _FLAG_YEARS:
        since = state.get(flag_year)
        if state.get(flag) and since is not None and since > year:
            state[flag] = False
    beautiful = state.get("beautiful_village_year")
    if beautiful is not None and beautiful > year:
        state["beautiful_village_year"] = None
    return state


def _year_with_flag(flag: str, flag_zh: str, year: str) -> tuple[RowCheck, RowCheck]:
    """A year belongs to a true flag: a year with 否 contradicts it (refused), a year without
    the flag says it was done (read as 是, with a warning). A true flag without its year is
    the import's business (dated from --as-of-year, else 年份未知)."""
    return (
        RowCheck(
            field=year,
            message=f"{flag_zh}为否却填了年份 a year is given but {flag} is 否",
            ok=lambda p: not (p.get(flag) is False and p.get(year) is not None),
        ),
        RowCheck(
            field=flag,
            message=f"填了年份须同时填{flag_zh} give {flag} with its year",
            ok=lambda p: not (p.get(flag) is None and p.get(year) is not None),
            repair=lambda p: {flag: True},
            repaired=f"只填了年份，{flag_zh}记为是 only the year is given: {flag} read as 是",
        ),
    )


if TYPE_CHECKING:
    from layers.demo import DemoContext

# -- demo data ------------------------------------------------------------------------------
# Share of a city's villages per county, roughly by rural area (urban 站前/西市 have none).
_DEMO_SHARE = {
    "210804": 0.12,
    "210811": 0.10,
    "210881": 0.45,
    "210882": 0.33,
    "220402": 0.09,
    "220403": 0.05,
    "220421": 0.46,
    "220422": 0.40,
}
# Real-sounding township names per county; which village lies in which is invented.
_DEMO_TOWNSHIPS = {
    "210804": ("熊岳镇", "芦屯镇", "红旗镇"),
    "210811": ("柳树镇", "边城镇", "路南镇"),
    "210881": (
        "九寨镇",
        "万福镇",
        "卧龙泉镇",
        "青石岭镇",
        "暖泉镇",
        "高屯镇",
        "沙岗镇",
        "团甸镇",
        "双台镇",
        "杨运镇",
        "徐屯镇",
        "什字街镇",
        "矿洞沟镇",
        "陈屯镇",
        "梁屯镇",
        "二台乡",
        "小石棚乡",
    ),
    "210882": (
        "水源镇",
        "沟沿镇",
        "石佛镇",
        "高坎镇",
        "旗口镇",
        "虎庄镇",
        "官屯镇",
        "博洛铺镇",
        "永安镇",
        "汤池镇",
        "黄土岭镇",
        "周家镇",
        "建一镇",
    ),
    "220402": ("寿山镇", "工农乡"),
    "220403": ("灯塔镇",),
    "220421": (
        "东丰镇",
        "大阳镇",
        "横道河镇",
        "那丹伯镇",
        "猴石镇",
        "杨木林镇",
        "小四平镇",
        "黄河镇",
        "拉拉河镇",
        "沙河镇",
        "南屯基镇",
        "大兴镇",
        "二龙乡",
        "三合满族朝鲜族乡",
    ),
    "220422": (
        "白泉镇",
        "渭津镇",
        "安石镇",
        "辽河源镇",
        "泉太镇",
        "建安镇",
        "安恕镇",
        "平岗镇",
        "云顶镇",
        "凌云乡",
        "金州乡",
        "足民乡",
        "甲山乡",
    ),
}
# Village names: two-character stems + 村 (fictitious, e.g. 柳河村, 王家村).
_DEMO_STEM_1 = "王李张刘高杨马孙赵于双大小东西南北前后上下新老石柳杏梨榆松桦黄红青白太永长兴福"
_DEMO_STEM_2 = "家屯沟台河山岭泉堡甸庄营房岗峪洼坨井桥"
# 美丽宜居村 by creation year: 营口 aims at 100 in 2022 (000 （十八）) and gets 96.
_DEMO_BEAUTIFUL = {
    "210800": ((2022, 96), (2021, 5), (2023, 4)),
    "220400": ((2021, 12), (2022, 18), (2023, 10)),
}


def _demo_pick(
    ctx: "DemoContext", county_idx: np.ndarray, bias: np.ndarray, rates: np.ndarray
) -> np.ndarray:
    """A flag per village: in county c the share `rates[c]` gets it, preferring villages with
    a positive `bias` (美丽宜居村 are more often retrofitted)."""
    flag = np.zeros(county_idx.size, dtype=bool)
    for c in np.unique(county_idx):
        idx = np.flatnonzero(county_idx == c)
        k = int(round(rates[c] * idx.size))
        key = ctx.rng.random(idx.size) - bias[idx]
        flag[idx[np.argsort(key, kind="stable")[:k]]] = True
    return flag


def demo_features(ctx: "DemoContext") -> list[dict[str, Any]]:
    """Villages over each city's rural land: 96 营口 美丽宜居村 of 2022 (target 100), rural
    sewage treated in 25–40% per county (target 35%), clean heating and toilet retrofits.
    Vectorised, so a million villages take seconds."""
    rng = ctx.rng
    out: list[dict[str, Any]] = []
    for city in ctx.cities:
        n = ctx.count("villages", city.adcode)
        counties = [c for c in ctx.counties(city.adcode) if c in _DEMO_SHARE]
        share = np.array([_DEMO_SHARE[c] for c in counties])
        exact = n * share / share.sum()
        per = np.floor(exact).astype(int)
        per[np.argsort(-(exact - per), kind="stable")[: n - per.sum()]] += 1
        built = ctx.union_of("built_up_areas", city.adcode)
        lons, lats, cidx, towns = [], [], [], []
        for i, (county, k) in enumerate(zip(counties, per, strict=True)):
            rural = ctx.land(county).difference(built)
            x, y = ctx.random_points_in(rural, int(k))
            names = _DEMO_TOWNSHIPS[county]
            sx, sy = ctx.random_points_in(rural, len(names))  # township seats
            coslat = np.cos(np.radians(sy.mean()))
            t = np.zeros(x.size, dtype=int)
            best = np.full(x.size, np.inf)
            for j in range(len(names)):
                d = ((x - sx[j]) * coslat) ** 2 + (y - sy[j]) ** 2
                t = np.where(d < best, j, t)
                best = np.minimum(best, d)
            order = np.lexsort((x, t))  # by township, then west to east
            lons.append(x[order])
            lats.append(y[order])
            cidx.append(np.full(x.size, i))
            towns.append(t[order])
        lon, lat = np.concatenate(lons), np.concatenate(lats)
        county_idx, town_idx = np.concatenate(cidx), np.concatenate(towns)
        county = ctx.county_of(lon, lat)
        # attributes
        households = np.clip(rng.lognormal(np.log(320), 0.5, n), 80, 900).astype(int)
        beautiful = np.zeros(n, dtype=int)
        pool = rng.permutation(n)
        used = 0
        for year, k in _DEMO_BEAUTIFUL[city.adcode]:
            k = min(k, n - used)
            beautiful[pool[used : used + k]] = year
            used += k
        bias = np.where(beautiful > 0, 0.4, 0.0)
        m = len(counties)  # sewage: spread over 26–40% per county, around the 35% target
        sewage = _demo_pick(ctx, county_idx, bias, rng.permutation(np.linspace(0.26, 0.40, m)))
        heating = _demo_pick(ctx, county_idx, bias, rng.uniform(0.45, 0.75, m))
        toilet = _demo_pick(ctx, county_idx, bias, rng.uniform(0.55, 0.85, m))
        years = rng.integers(2019, 2026, (3, n))
        s1 = rng.integers(len(_DEMO_STEM_1), size=n)
        s2 = rng.integers(len(_DEMO_STEM_2), size=n)
        ids = ctx.ids(city.adcode, "village", n)
        lon_l, lat_l = lon.tolist(), lat.tolist()
        for i in range(n):
            c = counties[county_idx[i]]
            out.append(
                ctx.feature(
                    "villages",
                    ids[i],
                    ctx.point(lon_l[i], lat_l[i]),
                    {
                        "name": f"{_DEMO_STEM_1[s1[i]]}{_DEMO_STEM_2[s2[i]]}村",
                        "city_adcode": city.adcode,
                        "county_adcode": county[i],
                        "township": _DEMO_TOWNSHIPS[c][town_idx[i]],
                        "households": int(households[i]),
                        "beautiful_village_year": int(beautiful[i]) if beautiful[i] else None,
                        "sewage_treated": bool(sewage[i]),
                        "sewage_year": int(years[0, i]) if sewage[i] else None,
                        "clean_heating": bool(heating[i]),
                        "clean_heating_year": int(years[1, i]) if heating[i] else None,
                        "toilet_retrofit": bool(toilet[i]),
                        "toilet_retrofit_year": int(years[2, i]) if toilet[i] else None,
                    },
                )
            )
    return out


LAYER = LayerType(
    id="villages",
    name_zh="村",
    name_en="Villages",
    geometry_type="Point",
    fields=(
        id_field(),
        name_field("村名", "Village", aliases=("村庄名称", "行政村", "村", "村名称", "village")),
        *location_fields(),
        Field(
            name="township",
            type="str",
            label_zh="乡镇（街道）",
            label_en="Township",
            aliases=("乡镇", "所属乡镇", "乡镇街道", "镇", "township", "town"),
        ),
        Field(
            name="households",
            type="int",
            label_zh="户数",
            label_en="Households",
            unit="户",
            minimum=0,
            aliases=("总户数", "户籍户数", "农户数", "households"),
        ),
        year_field(
            "beautiful_village_year",
            "美丽宜居村创建年份",
            "Beautiful village since",
            aliases=("美丽宜居村", "美丽宜居村创建", "美丽乡村创建年份", "创建年份"),
        ),
        Field(
            name="sewage_treated",
            type="bool",
            label_zh="生活污水已治理",
            label_en="Rural sewage treated",
            aliases=("污水处理", "污水治理", "生活污水治理", "污水是否治理", "sewage"),
        ),
        year_field(
            "sewage_year",
            "污水治理年份",
            "Sewage treatment year",
            aliases=("污水处理年份", "污水治理完成年份"),
        ),
        Field(
            name="clean_heating",
            type="bool",
            label_zh="清洁取暖改造",
            label_en="Clean-heating retrofit",
            aliases=("清洁取暖", "清洁供暖", "清洁取暖改造完成", "heating"),
        ),
        year_field(
            "clean_heating_year",
            "清洁取暖改造年份",
            "Clean-heating year",
            aliases=("清洁取暖年份", "清洁供暖年份"),
        ),
        Field(
            name="toilet_retrofit",
            type="bool",
            label_zh="户厕改造",
            label_en="Household toilet retrofit",
            aliases=("改厕", "厕所改造", "户用卫生厕所改造", "toilet"),
        ),
        year_field(
            "toilet_retrofit_year",
            "户厕改造年份",
            "Toilet retrofit year",
            aliases=("改厕年份", "厕所改造年份"),
        ),
        note_field(),
        demo_field(),
    ),
    row_checks=(
        *_year_with_flag("sewage_treated", "生活污水已治理", "sewage_year"),
        *_year_with_flag("clean_heating", "清洁取暖改造", "clean_heating_year"),
        *_year_with_flag("toilet_retrofit", "户厕改造", "toilet_retrofit_year"),
    ),
    flag_years=_FLAG_YEARS,
    temporal_field="beautiful_village_year",
    as_of=as_of,
    classify=classify,
    symbol_fields=("beautiful_village_year", *(name for pair in _FLAG_YEARS for name in pair)),
    legend=(
        LegendEntry(
            key="美丽宜居村", label_zh="美丽宜居村", label_en="Beautiful village", color="#01665e"
        ),
        LegendEntry(
            key="三项改造完成",
            label_zh="污水、取暖、改厕均完成",
            label_en="Sewage, heating and toilets done",
            color="#5ab4ac",
        ),
        LegendEntry(
            key="部分完成", label_zh="部分改造完成", label_en="Partly retrofitted", color="#f6e8c3"
        ),
        LegendEntry(key="未改造", label_zh="未改造", label_en="Not retrofitted", color="#bf812d"),
        LegendEntry(
            key=NO_DATA, label_zh="改造情况无数据", label_en="Retrofits not given", color="#e0e0e0"
        ),
    ),
    keywords=(
        "美丽宜居村",
        "农村生活污水",
        "农村改厕",
        "户用卫生厕所",
        "清洁取暖",
        "村庄",
        "乡村",
    ),
    demo=demo_features,
    demo_order=60,
    point_radius=4.5,
    size_field="households",
)
