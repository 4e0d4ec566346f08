"""Plan indicators: progress against the mapped targets, computed from the layers by spatial
rules, per city and per county, at any year 2020–2025.

Every indicator is a record, not a function: data/indicators/<id>.toml (schema and loader in
`plans.records`, evaluated by `plans.engine`), made into an `Indicator` each — the shipped
ones and those an administrator added, per store (`indicators_of(store)`, the catalogue):
the measures it answers to and the EXACT plan text it cites (checked against the store's
catalog tables at evaluation time: a citation not found raises `CitationError`), the layer it
counts, unit, target (None: 无量化目标 — the plan gives no number, so none is invented),
direction and deadline. `evaluate(store, year)` returns one `IndicatorResult` per indicator
with an `AreaResult` per city and county (and province for a provincial target): value,
target, gap, deadline, status, the features behind the number, features under 无数据, and
the trend.

Numbers come from the map, never from a stored flag that can disagree with it: membership of
built-up areas, heating coverage and counties is computed spatially (`geo.analysis.within`),
distances in metres in the local Gauss-Krüger zone (`geo.analysis.nearest`: EPSG:4550 for
营口, EPSG:4551 for 辽源), spur lines reaching parks with `geo.analysis.reaches`, lengths with
`geo.analysis.length_m`. A feature's county is the county polygon of the `districts` layer
holding its point (a point feature) or its centroid (a line or polygon, as the demo data
does; when the centroid lies in no county, a point on the polygon / the line's midpoint); its
`county_adcode` attribute is not used.

STATUS RULE (one rule for every indicator, `judge`; the reason is written into each result):

1. 无数据 — nothing to count in the area (no feature of the indicator's population with known
   data), or the data does not cover the whole area of the target (a provincial target while
   the store holds only some of the province's cities).
2. 无量化目标 — the plan sets no number for this area (the value still shows progress).
3. 已达标 — the value meets the target (≥ target when higher is better, ≤ when lower).
4. 滞后 — not met and the deadline year has been reached (values are end-of-year states).
5. Before the baseline year (a target whose path starts later) → 进度正常.
6. Otherwise the value is compared with the linear path from the baseline (the area's own
   value at the baseline year, 2020 unless stated) to the target at the deadline:
   expected(year) = baseline + (target − baseline) × (year − baseline_year) /
   (deadline − baseline_year). The shortfall behind that path, as a share of the whole
   baseline-to-target distance, decides: shortfall ≤ 0 (on or ahead of the path) → 进度正常;
   0 < shortfall ≤ 10 % (`RISK_TOLERANCE`) → 有风险; more → 滞后. A baseline already at the
   target (distance 0) that is no longer met → 滞后.

Targets per area: a city target applies to the city in `Indicator.target_areas`; its counties
answer to the same target when it is a rate, a share or "none left" (`county_target`), never
to a share of a city total (100 villages); a provincial target (1000 villages in 辽宁) is
judged for the province only, with each city's and county's contribution in `details`.
A result area whose plans set no target is 无量化目标 even where another city has one.

TIME (values are states at the end of the year asked for; each status year is the year the
current status began — the assumptions, each the `year_rule` of its layer's module, which a
record takes unless its own `[as_of]` says otherwise):
- boilers: before `status_year` a boiler was 运行 (the brief's rule), so one 已淘汰 in 2023
  still runs in 2022, one 超低排放改造完成 in 2023 runs without ultra-low emission in 2022;
- villages: a flag (污水治理, 清洁取暖, 改厕, 美丽宜居村) counts from its year;
- parks: a circular retrofit counts as done from `circular_retrofit_year` (实施中 before);
- spur lines: 建成 from `status_year` (在建 before); a 在建 line was 规划 before; a 规划 line
  exists (as a plan) only from its status year;
- wastewater plants: a 运行 plant runs from its status year, a 停运 one ran until it;
  network rectification 已完成 counts from its year (实施中 before);
- built-up areas, heating coverage, waste-heat sources and district outlines are taken as
  drawn today for every year (their year fields are not used).

Features that cannot be judged are never dropped: a missing status year, an unknown status or a
missing attribute puts the feature under 无数据 in its area's `no_data` list; a geometry outside
every county (or none at all) puts it in the result's `outside` list (区外).

Year-independent work (reading the layers, spatial memberships, distances, reach, lengths) and
each year's per-county sums are cached per store object (`_store_data`, an LRU of 4): a store
is immutable while open. Point layers are read through `FeatureStore.positions` (the R-tree's
bounding-box centres: float32, so a point may move by up to ~0.5 m).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from typing import Any, Literal

import numpy as np
import shapely

from geo.analysis import PointLocator, length_m, nearest_xy, reach_pairs, within
from geo.errors import LayerNotFound
from geo.store.base import Feature, FeatureStore, LayerInfo
from plans.records import Record, RecordError, load_records, parse_record

__all__ = [
    "AT_RISK",
    "BEHIND",
    "CitationError",
    "SHIPPED_INDICATORS",
    "Catalogue",
    "catalogue_of",
    "citation_texts",
    "columns_read",
    "evaluate_record",
    "indicators_of",
    "MET",
    "NO_DATA",
    "NO_TARGET",
    "ON_TRACK",
    "OUTSIDE",
    "RISK_TOLERANCE",
    "STATUSES",
    "STATUS_RULE_ZH",
    "AreaResult",
    "Indicator",
    "IndicatorResult",
    "TrendPoint",
    "Unassigned",
    "check_citations",
    "clear_cache",
    "visible",
    "visible_indicators",
    "evaluate",
    "get_indicator",
    "judge",
    "STATUS_COLOURS",
    "STATUS_DASHES",
    "STATUS_INK",
    "warm",
]

FIRST_YEAR = 2020
LAST_YEAR = 2025
YINGKOU = "210800"

MET = "已达标"
ON_TRACK = "进度正常"
AT_RISK = "有风险"
BEHIND = "滞后"
NO_DATA = "无数据"
NO_TARGET = "无量化目标"
STATUSES = (MET, ON_TRACK, AT_RISK, BEHIND, NO_DATA, NO_TARGET)
# One colour per status, the same on the dashboard, the maps and the printed reports, and
# used by no layer's legend (tests/layers/test_colours.py keeps them apart).
STATUS_COLOURS = {
    MET: "#1b7837",
    ON_TRACK: "#a6dba0",
    AT_RISK: "#fee08b",
    BEHIND: "#d73027",
    NO_DATA: "#bdbdbd",
    NO_TARGET: "#d4b9da",
}
# The text colour of a status badge: WCAG AA (4.5:1) on its status colour.
STATUS_INK = {
    MET: "#ffffff",
    ON_TRACK: "#1a1a1a",
    AT_RISK: "#1a1a1a",
    BEHIND: "#ffffff",
    NO_DATA: "#1a1a1a",
    NO_TARGET: "#1a1a1a",
}
# A district's outline pattern per status (Leaflet dashArray, None: solid), so a choropleth
# reads without telling colours apart.
STATUS_DASHES: dict[str, str | None] = {
    MET: None,
    ON_TRACK: "8 4",
    AT_RISK: "3 3",
    BEHIND: "10 3 2 3",
    NO_DATA: "1 4",
    NO_TARGET: "14 5",
}
OUTSIDE = "区外"
RISK_TOLERANCE = 0.10

STATUS_RULE_ZH = (
    "无数据：该地区没有可统计的要素，或数据未覆盖目标所指的整个地区；"
    "无量化目标：规划未给出该地区的数值目标（仍显示进展）；"
    "已达标：当前值达到目标（越高越好时≥目标，越低越好时≤目标）；"
    "滞后：未达标且已到目标年份；"
    "其余按基线年（默认2020年）本地区数值到目标年目标值的线性路径判断："
    "不低于路径应达值→进度正常，落后路径不超过基线至目标距离的10%→有风险，落后更多→滞后。"
)
STATUS_RULE_EN = (
    "无数据 no data: nothing to count, or the data does not cover the target's whole area; "
    "无量化目标: the plan sets no number; 已达标 met: value meets the target; 滞后 behind: not "
    "met at or after the deadline; else against the linear path from the area's own baseline "
    "(2020 unless stated) to the target at the deadline: on or ahead → 进度正常, behind by at "
    "most 10 % of the baseline-to-target distance → 有风险, more → 滞后."
)

# Cities per province, to tell whether a store covers a provincial target's whole area.
PROVINCE_CITY_COUNTS = {"210000": 14, "220000": 9}


class CitationError(ValueError):
    """An indicator cites plan text that the store's catalog does not contain."""


# ============================================================================ definitions


@dataclass(frozen=True)
class Indicator:
    """One indicator, declared: what it counts, the plan text it answers to, its target.

    `measures[i]` is cited with the exact text `target_text[i]`, which must occur in that
    measure's `plan_targets.text` or `plan_measures.text`. `target` None means 无量化目标.
    `target_areas` are the adcodes whose plans set the target (a city, or a province for a
    provincial target); counties get the city's target when `county_target` is True (rates,
    shares and "none left" targets), else none (a city total cannot be split).
    """

    id: str
    name_zh: str
    name_en: str
    measures: tuple[str, ...]
    target_text: tuple[str, ...]
    layers: tuple[str, ...]  # first: the layer whose features are counted
    unit: str
    kind: Literal["count", "sum", "share"]  # share: 100 × Σnumerator / Σdenominator, in %
    target: float | None
    direction: Literal["higher", "lower"]
    deadline: int | None
    target_areas: tuple[str, ...]
    definition_zh: str  # what is counted
    features_zh: str  # what the feature list holds
    target_basis_zh: str  # why this target and deadline, or why none
    compute: Callable[[_StoreData, int, Mapping[str, Any]], _Frame] = field(
        repr=False, compare=False
    )
    county_target: bool = True
    baseline_year: int = FIRST_YEAR
    province_level: bool = False  # evaluate the province of `target_areas` too
    params: tuple[str, ...] = ()  # the evaluate() keyword parameters the number depends on

    def __post_init__(self) -> None:
        if len(self.measures) != len(self.target_text) or not self.measures:
            raise ValueError(f"{self.id}: one cited text per measure")
        if self.target is not None and self.deadline is None:
            raise ValueError(f"{self.id}: a target needs a deadline")

    @property
    def layer(self) -> str:
        return self.layers[0]

    @property
    def status_rule_zh(self) -> str:
        """The status rule with this indicator's numbers filled in."""
        if self.target is None:
            return (
                f"{NO_TARGET}：{self.target_basis_zh}。"
                f"有可统计要素时状态为{NO_TARGET}，否则{NO_DATA}。"
            )
        better = "越高越好" if self.direction == "higher" else "越低越好"
        return (
            f"目标{_fmt(self.target)}{self.unit}（{self.deadline}年，{better}）；"
            f"以{self.baseline_year}年本地区数值为基线，按线性路径至{self.deadline}年目标值判断。"
            + STATUS_RULE_ZH
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "measures": list(self.measures),
            "target_text": list(self.target_text),
            "layer": self.layer,
            "layers": list(self.layers),
            "unit": self.unit,
            "kind": self.kind,
            "target": self.target,
            "direction": self.direction,
            "deadline": self.deadline,
            "baseline_year": self.baseline_year,
            "target_areas": list(self.target_areas),
            "county_target": self.county_target,
            "params": list(self.params),
            "definition_zh": self.definition_zh,
            "features_zh": self.features_zh,
            "target_basis_zh": self.target_basis_zh,
            "status_rule_zh": self.status_rule_zh,
        }


# ================================================================================ results


@dataclass
class Unassigned:
    """A feature counted under 无数据 or 区外 instead of in the number, and why."""

    layer: str
    id: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "id": self.id, "reason": self.reason}


@dataclass
class TrendPoint:
    year: int
    value: float | None


@dataclass
class AreaResult:
    """One indicator in one area at one year."""

    adcode: str
    name_zh: str
    level: str  # province / city / county
    parent_adcode: str | None
    value: float | None
    target: float | None
    gap: float | None  # still to go to the target (0 when met), in `unit`
    deadline: int | None
    status: str  # one of STATUSES
    status_reason: str
    expected: float | None  # the value on the linear path at this year
    baseline: float | None  # the value at the baseline year
    feature_layer: str
    feature_ids: list[str]  # the features behind the number (see Indicator.features_zh)
    feature_values: dict[str, list[Any]]  # columns aligned with feature_ids
    details: dict[str, Any]  # further sums: capacity, numerator, denominator, ...
    no_data: list[Unassigned]
    trend: list[TrendPoint]

    def to_json(self, features: bool = True) -> dict[str, Any]:
        """Plain JSON types; `features=False` leaves out the feature ids and values (a
        province-scale rate lists hundreds of thousands of villages) but keeps the count."""
        return {
            "adcode": self.adcode,
            "name_zh": self.name_zh,
            "level": self.level,
            "parent_adcode": self.parent_adcode,
            "value": self.value,
            "target": self.target,
            "gap": self.gap,
            "deadline": self.deadline,
            "status": self.status,
            "status_reason": self.status_reason,
            "expected": self.expected,
            "baseline": self.baseline,
            "feature_layer": self.feature_layer,
            "feature_count": len(self.feature_ids),
            "feature_ids": self.feature_ids if features else None,
            "feature_values": self.feature_values if features else None,
            "details": self.details,
            "no_data": [u.to_json() for u in self.no_data],
            "trend": [{"year": p.year, "value": p.value} for p in self.trend],
        }


@dataclass
class IndicatorResult:
    """One indicator evaluated at one year: its areas (province, cities, counties)."""

    indicator: Indicator
    year: int
    areas: list[AreaResult]
    outside: list[Unassigned]  # 区外: features in no county (or without geometry)
    params: dict[str, Any]
    status_rule: str

    @property
    def id(self) -> str:
        return self.indicator.id

    def area(self, adcode: str) -> AreaResult:
        for a in self.areas:
            if a.adcode == adcode:
                return a
        raise KeyError(f"{self.indicator.id}: no area {adcode}")

    def to_json(self, features: bool = True) -> dict[str, Any]:
        """Plain JSON types (see AreaResult.to_json for `features`)."""
        return {
            "id": self.indicator.id,
            "year": self.year,
            "indicator": self.indicator.to_json(),
            "params": self.params,
            "status_rule": self.status_rule,
            "areas": [a.to_json(features) for a in self.areas],
            "outside": [u.to_json() for u in self.outside],
        }


# ============================================================================ status rule


def judge(
    value: float | None,
    target: float | None,
    direction: str,
    deadline: int | None,
    year: int,
    baseline: float | None,
    baseline_year: int = FIRST_YEAR,
    unit: str = "",
) -> tuple[str, float | None, str]:
    """The status (see the module docstring), the value expected on the path, and why."""
    if value is None:
        return NO_DATA, None, "没有可统计的要素"
    if target is None or deadline is None:
        return NO_TARGET, None, f"规划未给出数值目标；{year}年底值{_fmt(value)}{unit}"
    higher = direction == "higher"
    now = f"{year}年底值{_fmt(value)}{unit}，目标{_fmt(target)}{unit}（{deadline}年）"
    if (value >= target) if higher else (value <= target):
        return MET, target, f"{now}：已达到目标"
    if year >= deadline:
        return BEHIND, target, f"{now}：已到目标年份仍未达标"
    if year < baseline_year:
        return ON_TRACK, None, f"{now}：目标路径从{baseline_year}年开始"
    if baseline is None:
        return AT_RISK, None, f"{now}：{baseline_year}年无基线值，无法按路径判断，未达标"
    share = min(max((year - baseline_year) / (deadline - baseline_year), 0.0), 1.0)
    expected = baseline + (target - baseline) * share
    distance = abs(target - baseline)
    path = (
        f"按{baseline_year}年基线{_fmt(baseline)}{unit}至目标的线性路径，"
        f"{year}年应达{_fmt(expected)}{unit}"
    )
    if distance == 0:
        return BEHIND, expected, f"{now}；{path}：基线已达标但现已退步"
    shortfall = round(((expected - value) if higher else (value - expected)) / distance, 9)
    if shortfall <= 0:
        return ON_TRACK, expected, f"{now}；{path}：不低于路径"
    pct = f"{shortfall * 100:.1f}%"
    if shortfall <= RISK_TOLERANCE:
        return AT_RISK, expected, f"{now}；{path}：落后路径{pct}（≤10%）"
    return BEHIND, expected, f"{now}；{path}：落后路径{pct}（>10%）"


def _gap(value: float | None, target: float | None, direction: str) -> float | None:
    if value is None or target is None:
        return None
    gap = (target - value) if direction == "higher" else (value - target)
    return _round(max(gap, 0.0))


def _fmt(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".") if not float(x).is_integer() else f"{int(x):,}"


def _round(x: float | None, digits: int = 6) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return round(float(x), digits)


# ========================================================== per-store data (year-independent)


@dataclass
class _Areas:
    """Counties (for membership), their cities and provinces, from the districts layer."""

    county_codes: list[str]
    county_names: list[str]
    county_city: np.ndarray  # index into city_codes per county, -1 when the city is unknown
    county_geoms: np.ndarray
    city_codes: list[str]
    city_names: list[str]
    city_province: list[str | None]
    province_names: dict[str, str]


@dataclass
class _Layer:
    """One layer read once: ids, raw columns, a representative point, the county index."""

    name: str
    ids: np.ndarray  # object
    cols: dict[str, np.ndarray]  # object arrays of raw values
    x: np.ndarray
    y: np.ndarray
    geoms: np.ndarray | None  # exact geometries of non-point layers, None for points
    county: np.ndarray  # index into _Areas.county_codes, -1: outside every county
    no_geometry: list[str]  # ids of features without a geometry (listed as 区外)

    def __len__(self) -> int:
        return len(self.ids)

    def num(self, name: str) -> np.ndarray:
        """A numeric column as float, NaN for missing (None); converted once and kept."""
        key = "#" + name
        if key not in self.cols:
            raw = self.cols[name]
            self.cols[key] = np.asarray(raw, dtype=float) if len(raw) else np.empty(0)
        return self.cols[key]

    def flag(self, name: str) -> np.ndarray:
        """A boolean column as float: 1, 0 or NaN (missing)."""
        return self.num(name)

    def slots(self, n_counties: int) -> np.ndarray:
        """Each feature's county index for `np.bincount`, `n_counties` for outside (kept)."""
        key = ("#slots", n_counties)
        if key not in self.cols:
            self.cols[key] = np.where(self.county >= 0, self.county, n_counties)
        return self.cols[key]

    def runs(self, n_counties: int) -> tuple[np.ndarray | None, np.ndarray]:
        """The features ordered by county slot (stable: by index within one; outside last),
        None when the layer is stored in that order already (as the demo data is), and where
        each slot's run starts and ends in that order (`n_counties + 2` bounds); kept."""
        key = ("#runs", n_counties)
        if key not in self.cols:
            slots = self.slots(n_counties)
            order = None if (np.diff(slots) >= 0).all() else np.argsort(slots, kind="stable")
            ordered = slots if order is None else slots[order]
            self.cols[key] = (order, np.searchsorted(ordered, np.arange(n_counties + 2)))
        return self.cols[key]

    def county_counts(self, mask: np.ndarray, n_counties: int) -> np.ndarray:
        """`np.bincount(self.slots(n), weights=mask)` for a boolean mask (the same float
        counts, exact in any order), as a count of each county's run of features."""
        order, bounds = self.runs(n_counties)
        runs = mask if order is None else mask[order]
        return np.array(
            [np.count_nonzero(runs[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
            dtype=np.float64,
        )

    def by_county(self, mask: np.ndarray, n_counties: int) -> np.ndarray:
        """The indices of the features in `mask` that lie in a county, ordered by county and
        within one by index."""
        order, bounds = self.runs(n_counties)
        inside = bounds[n_counties]  # the features outside every county come last
        if order is None:
            return np.flatnonzero(mask[:inside])
        order = order[:inside]
        return order[mask[order]]


class _StoreData:
    """What indicators need from one store, computed on first use and kept."""

    def __init__(self, store: FeatureStore) -> None:
        self.store = store
        self._memo: dict[Any, Any] = {}
        self._lock = threading.RLock()
        self.columns_read = columns_read(store)  # the columns each layer is read with

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._memo:
                self._memo[key] = make()
            return self._memo[key]

    # -- areas and layers
    def areas(self) -> _Areas:
        return self.memo("areas", self._read_areas)

    def _read_areas(self) -> _Areas:
        rows = self._features("districts", ("adcode", "name_zh", "level", "parent_adcode"))
        cities = [(p, g) for p, g in rows if p["level"] == "city"]
        counties = [(p, g) for p, g in rows if p["level"] == "county" and g is not None]
        city_codes = [p["adcode"] for p, _ in cities]
        return _Areas(
            county_codes=[p["adcode"] for p, _ in counties],
            county_names=[p["name_zh"] for p, _ in counties],
            county_city=np.array(
                [
                    city_codes.index(p["parent_adcode"]) if p["parent_adcode"] in city_codes else -1
                    for p, _ in counties
                ],
                dtype=np.intp,
            ),
            county_geoms=np.array([g for _, g in counties], dtype=object),
            city_codes=city_codes,
            city_names=[p["name_zh"] for p, _ in cities],
            city_province=[p["parent_adcode"] for p, _ in cities],
            province_names={p["adcode"]: p["name_zh"] for p, _ in rows if p["level"] == "province"},
        )

    def _features(self, layer: str, columns: tuple[str, ...]) -> list[tuple[dict, Any]]:
        try:
            result = self.store.query(
                layer, limit=None, properties=["id", *columns], with_geometry=True
            )
        except LayerNotFound:
            return []
        return [(f.properties, f.geometry) for f in result.features]

    def layer(self, name: str, columns: tuple[str, ...]) -> _Layer:
        """A layer with `columns`, or with `columns_read[name]` for a layer named there (the
        same columns every time for one layer name, whether a function or a record reads it)."""
        columns = self.columns_read.get(name, columns)
        return self.memo(("layer", name), lambda: self._read_layer(name, columns))

    def _read_layer(self, name: str, columns: tuple[str, ...]) -> _Layer:
        info = self.store.layers().get(name)
        if info is None:
            empty = np.empty(0, dtype=object)
            return _Layer(
                name,
                empty,
                {c: empty for c in columns},
                np.empty(0),
                np.empty(0),
                None,
                np.empty(0, dtype=np.intp),
                [],
            )
        present = tuple(c for c in columns if c in info.fields)
        if info.geometry_type == "Point":
            # Positions come from the R-tree (float32 bounds, so ≤ ~0.5 m off), with typed
            # columns (`FeatureStore.columns`: a GeoPackage store answers from its columnar
            # copy, a million features in a fraction of a second).
            pos = self.store.columns(name, ("id", *present))
            ids = pos.extra["id"]
            x, y, geoms = pos.x, pos.y, None
            cols = {c: pos.extra[c] for c in present}
            no_geometry: list[str] = []
            if len(ids) < info.count:  # features without geometry are not in the R-tree
                every = self.store.query(
                    name, limit=None, properties=["id"], with_geometry=False
                ).features
                seen = set(ids.tolist())
                no_geometry = [f.id for f in every if f.id not in seen]
        else:
            rows = self._features(name, present)
            ids = np.array([p["id"] for p, _ in rows], dtype=object)
            cols = {c: np.array([p[c] for p, _ in rows], dtype=object) for c in present}
            no_geometry = [p["id"] for p, g in rows if g is None or g.is_empty]
            keep = np.array([g is not None and not g.is_empty for _, g in rows], dtype=bool)
            ids = ids[keep]
            cols = {c: v[keep] for c, v in cols.items()}
            geoms = np.array([g for _, g in rows], dtype=object)[keep]
            first, second = _representative_points(geoms)
            x, y = shapely.get_x(first), shapely.get_y(first)
        for c in columns:  # a field the store lacks reads as missing everywhere
            cols.setdefault(c, np.full(len(ids), None, dtype=object))
        areas = self.areas()
        county = np.full(len(ids), -1, dtype=np.intp)
        if len(ids) and len(areas.county_geoms):
            if geoms is None:
                locate = self.memo("county-locator", lambda: PointLocator(areas.county_geoms))
                county = locate.within(np.asarray(x), np.asarray(y))
            else:
                county = within(shapely.points(x, y), areas.county_geoms)
                if (county < 0).any():  # centroid outside every county: try the other point
                    miss = np.flatnonzero(county < 0)
                    county[miss] = within(second[miss], areas.county_geoms)
        return _Layer(name, ids, cols, x, y, geoms, county, no_geometry)

    # -- year-independent spatial relations
    def inside(self, name: str, columns: tuple[str, ...], polygon_layer: str) -> np.ndarray:
        """Whether each feature of point layer `name` lies in any polygon of `polygon_layer`
        (boundary included), as `geo.analysis.within` answers it (by its `PointLocator`,
        from the coordinates)."""

        def make() -> np.ndarray:
            layer = self.layer(name, columns)
            polygons = [g for _, g in self._features(polygon_layer, ()) if g is not None]
            if not len(layer) or not polygons:
                return np.zeros(len(layer), dtype=bool)
            located = PointLocator(np.array(polygons, dtype=object)).within(layer.x, layer.y)
            return located >= 0

        return self.memo(("inside", name, polygon_layer), make)

    def nearest_source(
        self, name: str, columns: tuple[str, ...], source_layer: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each feature of point layer `name`: the id of the nearest feature of
        `source_layer` and the distance in metres, in each feature's own Gauss-Krüger zone."""

        def make() -> tuple[np.ndarray, np.ndarray]:
            layer = self.layer(name, columns)
            sources = [(p["id"], g) for p, g in self._features(source_layer, ()) if g is not None]
            source_ids = np.array([i for i, _ in sources] + [None], dtype=object)
            index = np.full(len(layer), -1, dtype=np.intp)
            dist = np.full(len(layer), np.inf)
            if len(layer) and sources:
                geoms = np.array([g for _, g in sources], dtype=object)
                for epsg, sel in _zones(layer.x):
                    index[sel], dist[sel] = nearest_xy(layer.x[sel], layer.y[sel], geoms, epsg)
            return source_ids[index], dist

        return self.memo(("nearest", name, source_layer), make)

    def lengths_km(self, name: str, columns: tuple[str, ...]) -> np.ndarray:
        """Length of each line of `name` in km, in its own Gauss-Krüger zone."""

        def make() -> np.ndarray:
            layer = self.layer(name, columns)
            out = np.zeros(len(layer))
            for epsg, sel in _zones(layer.x):
                out[sel] = length_m(layer.geoms[sel], epsg) / 1000.0
            return out

        return self.memo(("length", name), make)

    def reached(self, polygons: _Layer, lines: _Layer, line_mask: np.ndarray) -> np.ndarray:
        """Whether any of the lines selected by `line_mask` reaches each polygon
        (`geo.analysis.reaches`, 50 m tolerance, in the polygons' Gauss-Krüger zones): the
        (line, polygon) pairs are found once per store, each selection is a mask over them."""

        def make() -> tuple[np.ndarray, np.ndarray]:
            found = [np.empty((2, 0), dtype=np.intp)]
            if len(polygons) and len(lines):
                for epsg, mask in _zones(polygons.x):
                    sel = np.flatnonzero(mask)
                    pairs = reach_pairs(lines.geoms, polygons.geoms[sel], epsg)
                    found.append(np.stack([pairs[0], sel[pairs[1]]]))
            pairs = np.concatenate(found, axis=1)
            return pairs[0], pairs[1]

        line_of, polygon_of = self.memo(("reach-pairs", polygons.name, lines.name), make)
        hit = np.zeros(len(polygons), dtype=bool)
        hit[polygon_of[line_mask[line_of]]] = True
        return hit

    def citations(self) -> dict[str, list[str]]:
        """Every text of the catalog by measure id: the measure's text and its targets'."""
        return self.memo("citations", self._read_citations)

    def _read_citations(self) -> dict[str, list[str]]:
        texts: dict[str, list[str]] = {}
        layers = self.store.layers()
        for table, key in (("plan_measures", "id"), ("plan_targets", "measure_id")):
            if table not in layers:
                continue
            rows = self.store.query(
                table, limit=None, properties=[key, "text"], with_geometry=False
            ).features
            for row in rows:
                texts.setdefault(row.properties[key], []).append(row.properties["text"] or "")
        return texts


@lru_cache(maxsize=4)  # the open store and its public view, and the next ones after a rebuild
def _store_data(store: FeatureStore) -> _StoreData:
    return _StoreData(store)


def clear_cache() -> None:
    """Forget every store's cached layers and relations."""
    _store_data.cache_clear()
    catalogue_of.cache_clear()


def warm(store: FeatureStore) -> None:
    """Evaluate everything once so that the store's year-independent work is cached (the
    first evaluation of a province-scale store reads a million villages: seconds, not ms);
    meant for a background thread at start-up."""
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        evaluate(store, year)


def _representative_points(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two candidate points per geometry for its county: the centroid (the demo data's own
    convention), then a point surely on the geometry (a point on the surface of a polygon,
    the midpoint of a line) for shapes whose centroid falls outside them."""
    second = shapely.point_on_surface(geoms)
    lines = np.isin(shapely.get_type_id(geoms), [1, 2, 5])  # (Multi)LineString, LinearRing
    if lines.any():
        second[lines] = shapely.line_interpolate_point(geoms[lines], 0.5, normalized=True)
    return shapely.centroid(geoms), second


def _zones(lon: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The CGCS2000 3-degree Gauss-Krüger zones of the longitudes, as ("EPSG:45xx", mask of
    the longitudes in it), in zone order (the same rule as geo.analysis.gk_zone_epsg: CM =
    3·round(lon/3), half-way going east; not finite: EPSG:4550)."""
    cm = 3 * np.floor(np.asarray(lon, dtype=float) / 3.0 + 0.5)
    code = np.where(np.isfinite(cm), 4534 + (cm - 75) // 3, 4550).astype(int)
    code = np.clip(code, 4534, 4554)
    return [(f"EPSG:{c}", code == c) for c in np.unique(code).tolist()]


def check_citations(store: FeatureStore, indicators: Iterable[Indicator] | None = None) -> None:
    """Raise CitationError unless every cited text occurs in its measure's text or targets."""
    texts = _store_data(store).citations()
    missing = []
    for ind in indicators_of(store) if indicators is None else indicators:
        for measure, text in zip(ind.measures, ind.target_text, strict=True):
            if not any(text in t for t in texts.get(measure, ())):
                missing.append(f"{ind.id}: {measure} «{text}»")
    if missing:
        raise CitationError(
            "cited plan text not found in the store's plan_measures / plan_targets "
            "(catalog missing or text changed): " + "; ".join(missing)
        )


# ============================================================== per-year frames (computing)


@dataclass
class _Frame:
    """One indicator's per-feature numbers at one year, before aggregation by area."""

    layer: _Layer
    universe: np.ndarray  # bool: in the population counted (known data)
    num: np.ndarray  # float, or bool for a count: contribution to the value (share numerator)
    listed: np.ndarray  # bool: features behind the number
    den: np.ndarray | None = None  # float or bool (a count): denominator of a share
    columns: dict[str, np.ndarray] = field(default_factory=dict)  # shown with listed features
    details: dict[str, np.ndarray] = field(default_factory=dict)  # summed per area (as num)
    no_data: list[tuple[np.ndarray, str]] = field(default_factory=list)  # (mask, reason)
    other_no_data: list[tuple[_Layer, np.ndarray, str]] = field(default_factory=list)
    # Makes (columns, details, no_data, other_no_data) when they are asked for (`complete`):
    # the trend's years need only the value.
    more: Callable[[], tuple[dict, dict, list, list]] | None = None

    def complete(self) -> _Frame:
        """The frame with its columns, details and 无数据 lists made."""
        if self.more is not None:
            self.columns, self.details, self.no_data, self.other_no_data = self.more()
            self.more = None
        return self


# ============================================================================= the catalogue
#
# The indicator set belongs to a store, not to this module: the shipped records
# (data/indicators/) and the records an administrator added, which the store build copies
# into the store's `indicator_records` table, so every app server reading the store sees
# the same set. Read once per store object (a store is immutable while open).

SHIPPED_RECORDS: dict[str, Record] = load_records()
RECORDS_TABLE = "indicator_records"
RECORDS_TABLE_FIELDS = {
    "id": "str",
    "toml": "str",  # the record, as written
    "source": "str",  # its file name
    "added_by": "str",
    "added_at": "str",  # ISO 8601, UTC
}
RECORDS_TABLE_DESCRIPTION = "管理员添加的指标记录 Indicator records an administrator added"


def _record_frame(rec: Record, data: _StoreData, year: int, params: Mapping[str, Any]) -> _Frame:
    from plans.engine import record_frame  # the engine builds on this module's data access

    return record_frame(data, rec, year, params)


@cache  # one Indicator per record: the same object in every store's set
def _from_record(rec: Record) -> Indicator:
    """An indicator declared by a record (data/indicators/<id>.toml), evaluated by the engine."""
    return Indicator(
        id=rec.id,
        name_zh=rec.name_zh,
        name_en=rec.name_en,
        measures=rec.measures,
        target_text=rec.target_text,
        layers=rec.layers,
        unit=rec.unit,
        kind=rec.aggregate,  # type: ignore[arg-type]  # checked by the loader
        target=rec.target,
        direction=rec.direction,  # type: ignore[arg-type]
        deadline=rec.deadline,
        target_areas=rec.target_areas,
        definition_zh=rec.definition_zh,
        features_zh=rec.features_zh,
        target_basis_zh=rec.target_basis_zh,
        compute=partial(_record_frame, rec),
        county_target=rec.county_target,
        baseline_year=rec.baseline_year,
        province_level=rec.province_level,
        params=rec.params,
    )


def _columns_read(
    records: Iterable[Record], base: Mapping[str, tuple[str, ...]] | None = None
) -> dict[str, tuple[str, ...]]:
    """The columns each layer is read with (`_StoreData.layer` reads a layer always with the
    same): every field a record reads, added to `base`."""
    out = dict(base or {})
    for rec in records:
        for name, fields in ((rec.layer, rec.fields()), (rec.layers[-1], rec.other_fields())):
            out[name] = tuple(dict.fromkeys(out.get(name, ()) + fields))
    return out


@dataclass(frozen=True)
class Catalogue:
    """The indicators of one store, in page order (each record's `order`, then its id)."""

    indicators: tuple[Indicator, ...]
    records: Mapping[str, Record]
    added: frozenset[str]  # the ids of added records
    columns_read: Mapping[str, tuple[str, ...]]
    refused: tuple[str, ...] = ()  # why a row of the store's table was not taken

    def get(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)


def make_catalogue(
    records: Iterable[Record], added: Iterable[str] = (), refused: Iterable[str] = ()
) -> Catalogue:
    ordered = sorted(records, key=lambda r: (r.order, r.id))
    return Catalogue(
        indicators=tuple(_from_record(rec) for rec in ordered),
        records={rec.id: rec for rec in ordered},
        added=frozenset(added),
        columns_read=_columns_read(ordered),
        refused=tuple(refused),
    )


SHIPPED = make_catalogue(SHIPPED_RECORDS.values())
SHIPPED_INDICATORS: tuple[Indicator, ...] = SHIPPED.indicators  # without any store's added ones


def added_rows(store: FeatureStore) -> list[dict[str, Any]]:
    """The rows of the store's table of added records ([] for a store without one)."""
    if RECORDS_TABLE not in store.layers():
        return []
    rows = store.query(RECORDS_TABLE, limit=None, with_geometry=False).features
    return [dict(f.properties) for f in rows]


@lru_cache(maxsize=8)  # the open store and its views, and the next ones after a rebuild
def catalogue_of(store: FeatureStore) -> Catalogue:
    """The store's indicators: the shipped records and the added ones of its table. A row
    that no longer reads (a layer or field since removed) is left out, with its reason in
    `refused`, never breaking the others."""
    rows = added_rows(store)
    if not rows:
        return SHIPPED
    records = dict(SHIPPED_RECORDS)
    added, refused = [], []
    for row in rows:
        try:
            rec = parse_record(row["toml"], row["source"], row["id"])
        except RecordError as exc:
            refused.append(str(exc))
            continue
        if rec.id in SHIPPED_RECORDS:
            refused.append(f"{row['source']}：键 id：与随附指标重名 / key id: a shipped indicator")
            continue
        records[rec.id] = rec
        added.append(rec.id)
    return make_catalogue(records.values(), added, refused)


def citation_texts(store: FeatureStore) -> dict[str, list[str]]:
    """Every text of the store's catalog by measure id: what a citation must be found in."""
    return _store_data(store).citations()


def indicators_of(store: FeatureStore) -> tuple[Indicator, ...]:
    """Every indicator of the store (shipped and added), in page order."""
    return catalogue_of(store).indicators


def get_indicator(store: FeatureStore, indicator_id: str) -> Indicator:
    """One indicator of the store by id; raises KeyError."""
    return catalogue_of(store).get(indicator_id)


def columns_read(store: FeatureStore) -> Mapping[str, tuple[str, ...]]:
    """The columns each layer is read with for the store's indicators."""
    return catalogue_of(store).columns_read


def visible(store: FeatureStore, indicator: Indicator) -> bool:
    """Whether the store's reader may see the indicator: not when it reads a layer or a
    column the store's view restricts (a number computed from restricted data would betray
    it). A layer merely missing from a store still gives 无数据, not absence."""
    restricted = store.restrictions()
    read = columns_read(store)
    return not any(
        restricted.hides(layer) or any(restricted.hides(layer, c) for c in read.get(layer, ()))
        for layer in indicator.layers
    )


def visible_indicators(store: FeatureStore) -> list[Indicator]:
    """The indicators the store's reader may see, in page order."""
    return [ind for ind in indicators_of(store) if visible(store, ind)]


class _DraftData(_StoreData):
    """The store's data for one draft record, made per preview and dropped with it: the
    layer reads, spatial relations and year states of the store's own data are shared (a
    layer is read anew only when the draft reads a column the store's indicators do not),
    the draft's own tests and sums are kept here, so previews never grow the store's data."""

    _SHARED = frozenset({"areas", "citations", "inside", "nearest", "length", "record-state"})

    def __init__(self, base: _StoreData, columns: Mapping[str, tuple[str, ...]]) -> None:
        super().__init__(base.store)
        self.base = base
        self.columns_read = dict(columns)

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        kind = key if isinstance(key, str) else key[0]
        same_layer = kind == "layer" and (
            self.columns_read.get(key[1]) == self.base.columns_read.get(key[1])
        )
        if kind in self._SHARED or same_layer:
            return self.base.memo(key, make)
        return super().memo(key, make)


def evaluate_record(
    store: FeatureStore, rec: Record, year: int, *, waste_heat_distance_m: float = 10_000.0
) -> IndicatorResult:
    """A record evaluated on the store without being one of its indicators (the builder's
    preview of a draft). Raises CitationError when its citations are not in the catalog."""
    if not FIRST_YEAR <= int(year) <= LAST_YEAR:
        raise ValueError(f"year must be {FIRST_YEAR}–{LAST_YEAR}, got {year!r}")
    ind = _from_record.__wrapped__(rec)  # a draft is not kept among the indicators
    check_citations(store, [ind])
    base = _store_data(store)
    data = _DraftData(base, _columns_read([rec], base.columns_read))
    params = {"waste_heat_distance_m": float(waste_heat_distance_m)}
    return _evaluate_one(data, ind, int(year), params)


# ============================================================================== evaluation


@dataclass
class _AreaSpec:
    adcode: str
    name_zh: str
    level: str
    parent: str | None
    counties: np.ndarray  # county indices making up the area


def _area_specs(areas: _Areas, ind: Indicator) -> list[_AreaSpec]:
    """The areas an indicator reports: the province (provincial targets) and its cities, or
    every city; then each city's counties."""
    cities = list(range(len(areas.city_codes)))
    specs: list[_AreaSpec] = []
    if ind.province_level:
        provinces = [a for a in ind.target_areas if a in areas.province_names]
        cities = [i for i in cities if areas.city_province[i] in provinces]
        for code in provinces:
            members = [i for i in cities if areas.city_province[i] == code]
            specs.append(
                _AreaSpec(
                    code,
                    areas.province_names[code],
                    "province",
                    None,
                    np.flatnonzero(np.isin(areas.county_city, members)),
                )
            )
    for i in cities:
        specs.append(
            _AreaSpec(
                areas.city_codes[i],
                areas.city_names[i],
                "city",
                areas.city_province[i],
                np.flatnonzero(areas.county_city == i),
            )
        )
    for i in cities:
        for c in np.flatnonzero(areas.county_city == i):
            specs.append(
                _AreaSpec(
                    areas.county_codes[c],
                    areas.county_names[c],
                    "county",
                    areas.city_codes[i],
                    np.array([c]),
                )
            )
    return specs


def _masked(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`np.where(mask, values, 0.0)` as weights to sum: `values & mask` for a count (bool), a
    product where every value is finite (the same sums, a few times faster), `where`
    otherwise (NaN · 0 is NaN)."""
    if values.dtype == bool:
        return values & mask
    if np.isfinite(values).all():
        return values * mask
    return np.where(mask, values, 0.0)


def _sums(frame: _Frame, n_counties: int, details: bool = True) -> dict[str, np.ndarray]:
    """Per-county sums of the frame's numbers (index n_counties: outside every county);
    the detail columns only when `details` (the trend needs the value alone)."""
    layer = frame.layer

    def total(weights: np.ndarray) -> np.ndarray:
        if weights.dtype == bool:
            return layer.county_counts(weights, n_counties)
        return np.bincount(layer.slots(n_counties), weights=weights, minlength=n_counties + 1)

    sums = {
        "num": total(_masked(frame.num, frame.universe)),
        "universe": total(frame.universe),
    }
    if frame.den is not None:
        sums["den"] = total(_masked(frame.den, frame.universe))
    for name, weights in frame.details.items() if details else ():  # never NaN
        sums["d:" + name] = total(weights)
    return sums


def _value(ind: Indicator, sums: dict[str, np.ndarray], counties: np.ndarray) -> float | None:
    if sums["universe"][counties].sum() == 0:
        return None
    num = float(sums["num"][counties].sum())
    if ind.kind == "share":
        den = float(sums["den"][counties].sum())
        return _round(100.0 * num / den) if den else None
    return _round(num)


def _target_for(ind: Indicator, spec: _AreaSpec) -> tuple[float | None, str]:
    """The target that applies in an area, and a note when none does."""
    if ind.target is None:
        return None, ""
    if spec.adcode in ind.target_areas:
        return ind.target, ""
    if spec.level == "county" and spec.parent in ind.target_areas:
        if ind.county_target:
            return ind.target, ""
        return None, "市级总量目标，未分解到县"
    if spec.level == "city" and spec.parent in ind.target_areas:
        return None, "省级目标，未分解到市"
    if ind.province_level and spec.level == "county":
        return None, "省级目标，未分解到县"
    return None, "本地区规划未设此目标"


def _to_list(values: np.ndarray) -> list[Any]:
    """JSON-ready values: NaN and infinity become None."""
    if values.dtype.kind == "f":
        finite = np.isfinite(values)
        if not finite.all():
            out = values.astype(object)
            out[~finite] = None
            return out.tolist()
    return values.tolist()


def _unassigned(frame: _Frame) -> tuple[dict[int, list[Unassigned]], list[Unassigned]]:
    """The frame's 无数据 features by county index, and its features outside every county
    (区外: 无数据 ones with their reason, then those counted or listed): each feature once,
    under the first reason given, in the frame's order. Masks, not a loop per feature."""
    layer = frame.layer
    outside: list[Unassigned] = []
    by_county: dict[int, list[Unassigned]] = {}
    taken: dict[str, np.ndarray] = {}  # layer name -> features already listed (ids unique)
    groups = [(layer, mask, reason) for mask, reason in frame.no_data]
    for owner, mask, reason in [*groups, *frame.other_no_data]:
        seen = taken.setdefault(owner.name, np.zeros(len(owner), dtype=bool))
        rows = np.flatnonzero(mask & ~seen)
        seen[rows] = True
        at = owner.county[rows]
        note = f"{OUTSIDE}：不在任何县（市、区）内；{reason}"
        outside += [Unassigned(owner.name, f, note) for f in owner.ids[rows[at < 0]].tolist()]
        rows, at = rows[at >= 0], at[at >= 0]
        order = np.argsort(at, kind="stable")
        rows, at = rows[order], at[order]
        if not len(rows):
            continue
        cuts = np.flatnonzero(np.diff(at)) + 1
        for part, c in zip(np.split(rows, cuts), at[np.r_[0, cuts]].tolist(), strict=True):
            by_county.setdefault(c, []).extend(
                Unassigned(owner.name, f, reason) for f in owner.ids[part].tolist()
            )
    unlisted = (frame.universe | frame.listed) & (layer.county < 0)
    if layer.name in taken:
        unlisted &= ~taken[layer.name]
    note = f"{OUTSIDE}：不在任何县（市、区）内"
    outside += [Unassigned(layer.name, f, note) for f in layer.ids[unlisted].tolist()]
    return by_county, outside


def evaluate(
    store: FeatureStore,
    year: int,
    indicator_ids: Iterable[str] | None = None,
    *,
    waste_heat_distance_m: float = 10_000.0,
) -> list[IndicatorResult]:
    """Every indicator of the store (or those named, in page order) at the end of `year`.

    `year` must be 2020–2025. Raises KeyError for an unknown indicator id and CitationError
    when the store's catalog lacks a cited text. Year-independent work is cached per store.
    """
    if not FIRST_YEAR <= int(year) <= LAST_YEAR:
        raise ValueError(f"year must be {FIRST_YEAR}–{LAST_YEAR}, got {year!r}")
    if not waste_heat_distance_m >= 0:
        raise ValueError(f"waste_heat_distance_m must be >= 0, got {waste_heat_distance_m!r}")
    year = int(year)
    chosen = visible_indicators(store)
    if indicator_ids is not None:
        wanted = set(indicator_ids)
        shown = {ind.id for ind in chosen}
        for i in wanted:
            get_indicator(store, i)  # KeyError for an unknown id ...
            if i not in shown:
                raise KeyError(i)  # ... and for one the store's view may not show
        chosen = [ind for ind in chosen if ind.id in wanted]
    check_citations(store, chosen)
    data = _store_data(store)
    params = {"waste_heat_distance_m": float(waste_heat_distance_m)}
    return [_evaluate_one(data, ind, year, params) for ind in chosen]


def _evaluate_one(
    data: _StoreData, ind: Indicator, year: int, params: Mapping[str, Any]
) -> IndicatorResult:
    areas = data.areas()
    n = len(areas.county_codes)
    frame = ind.compute(data, year, params).complete()
    trend_years = list(range(FIRST_YEAR, year + 1))
    used = {k: params[k] for k in ind.params}
    frozen = tuple(sorted(used.items()))

    def sums_at(y: int) -> dict[str, np.ndarray]:
        # Per-county sums depend only on the store, indicator, year and params: kept.
        return data.memo(
            ("sums", ind.id, y, frozen),
            lambda: _sums(frame if y == year else ind.compute(data, y, params), n, details=False),
        )

    sums_by_year = {y: sums_at(y) for y in {*trend_years, ind.baseline_year}}
    sums = _sums(frame, n)
    layer = frame.layer

    # Features behind the number and 无数据 features, grouped by county once.
    listed = layer.by_county(frame.listed, n)
    starts = np.searchsorted(layer.slots(n)[listed], np.arange(n + 1))
    by_county, outside = _unassigned(frame)
    for fid in layer.no_geometry:
        outside.append(Unassigned(layer.name, fid, f"{OUTSIDE}：缺少几何"))

    results = []
    for spec in _area_specs(areas, ind):
        counties = spec.counties
        value = _value(ind, sums, counties)
        target, note = _target_for(ind, spec)
        baseline = _value(ind, sums_by_year[ind.baseline_year], counties)
        status, expected, reason = judge(
            value, target, ind.direction, ind.deadline, year, baseline, ind.baseline_year, ind.unit
        )
        if spec.level == "province" and status != NO_DATA:
            covered = int(sum(1 for p in areas.city_province if p == spec.adcode))
            wanted = PROVINCE_CITY_COUNTS.get(spec.adcode)
            if wanted is not None and covered < wanted:
                status = NO_DATA
                reason = (
                    f"数据只覆盖{spec.name_zh}{wanted}个市中的{covered}个，无法判断全省进度；"
                    + reason
                )
        if note and status == NO_TARGET:
            reason = f"{note}；{year}年底值{_fmt(value)}{ind.unit}"
        no_data = [u for c in counties for u in by_county.get(int(c), [])]
        if no_data:
            reason += f"；另有{len(no_data)}个要素数据不全，未计入（见无数据清单）"
        if spec.level == "county":
            idx = listed[starts[counties[0]] : starts[counties[0] + 1]].astype(np.intp)
        else:  # the area's counties' features in layer order: a mask, not a sort
            in_area = np.zeros(n + 1, dtype=bool)
            in_area[counties] = True
            idx = np.flatnonzero(frame.listed & in_area[layer.slots(n)])
        details: dict[str, Any] = {}
        for key, arr in sums.items():
            if key.startswith("d:"):
                details[key[2:]] = _round(float(arr[counties].sum()))
        if ind.kind == "share":
            details["numerator"] = _round(float(sums["num"][counties].sum()))
            details["denominator"] = _round(float(sums["den"][counties].sum()))
        if ind.province_level and spec.level != "province" and ind.target and value is not None:
            details["contribution_pct"] = _round(100.0 * value / ind.target, 2)
        results.append(
            AreaResult(
                adcode=spec.adcode,
                name_zh=spec.name_zh,
                level=spec.level,
                parent_adcode=spec.parent,
                value=value,
                target=target,
                gap=_gap(value, target, ind.direction),
                deadline=ind.deadline if target is not None else None,
                status=status,
                status_reason=reason,
                expected=_round(expected),
                baseline=baseline if target is not None else None,
                feature_layer=layer.name,
                feature_ids=layer.ids[idx].tolist(),
                feature_values={k: _to_list(v[idx]) for k, v in frame.columns.items()},
                details=details,
                no_data=no_data,
                trend=[TrendPoint(y, _value(ind, sums_by_year[y], counties)) for y in trend_years],
            )
        )
    return IndicatorResult(
        indicator=ind,
        year=year,
        areas=results,
        outside=outside,
        params=used,
        status_rule=ind.status_rule_zh,
    )


# ======================================================================== as a collection

COLLECTION_ID = "indicators"
COLLECTION_FIELDS: dict[str, str] = {
    "id": "str",
    "indicator_id": "str",
    "indicator_name_zh": "str",
    "indicator_name_en": "str",
    "measures": "str",  # the plan measures the target comes from, comma-separated ids
    "unit": "str",
    "year": "int",
    "adcode": "str",
    "area_name_zh": "str",
    "level": "str",
    "parent_adcode": "str",
    "value": "float",
    "target": "float",
    "gap": "float",
    "deadline": "int",
    "status": "str",
    "expected": "float",
    "baseline": "float",
    "feature_layer": "str",
    "feature_count": "int",
    "is_demo": "bool",
}


def collection_features(store: FeatureStore) -> tuple[LayerInfo, list[Feature]]:
    """Every indicator in every area (province, city, county) and year as a feature with the
    area's outline, id `<indicator>/<adcode>/<year>`: what a program joins targets and places
    with. `is_demo` is true when the counted layer holds demonstration features."""
    outlines = {
        f.properties["adcode"]: f.geometry
        for f in store.query("districts", limit=None, properties=["adcode"]).features
    }
    demo_layers = {
        layer_id
        for layer_id, info in store.layers().items()
        if "is_demo" in info.fields
        and store.query(layer_id, filters={"is_demo": True}, limit=0).number_matched
    }
    features = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for result in evaluate(store, year):
            ind = result.indicator
            for area in result.areas:
                fid = f"{ind.id}/{area.adcode}/{year}"
                props = {
                    "id": fid,
                    "indicator_id": ind.id,
                    "indicator_name_zh": ind.name_zh,
                    "indicator_name_en": ind.name_en,
                    "measures": ",".join(ind.measures),
                    "unit": ind.unit,
                    "year": year,
                    "adcode": area.adcode,
                    "area_name_zh": area.name_zh,
                    "level": area.level,
                    "parent_adcode": area.parent_adcode,
                    "value": area.value,
                    "target": area.target,
                    "gap": area.gap,
                    "deadline": area.deadline,
                    "status": area.status,
                    "expected": area.expected,
                    "baseline": area.baseline,
                    "feature_layer": area.feature_layer,
                    "feature_count": len(area.feature_ids),
                    "is_demo": area.feature_layer in demo_layers,
                }
                features.append(Feature(fid, props, outlines.get(area.adcode)))
    bounds = [f.geometry.bounds for f in features if f.geometry is not None]
    bbox = (
        (
            min(b[0] for b in bounds),
            min(b[1] for b in bounds),
            max(b[2] for b in bounds),
            max(b[3] for b in bounds),
        )
        if bounds
        else None
    )
    info = LayerInfo(COLLECTION_ID, "MultiPolygon", dict(COLLECTION_FIELDS), len(features), bbox)
    return info, features
