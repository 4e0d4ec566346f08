"""What each report page says: its title, the features on its map and in its table (as of the
year asked for), the indicator bars, the measure text. Pure data from the store, the layer
registry, the plan catalog and the indicators; drawing and layout live elsewhere."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from geo.analysis import gk_zone_epsg
from geo.crs import transform
from geo.regions import read_regions
from geo.store import Feature, FeatureStore
from layers import all_layers
from layers.base import LayerType
from plans.catalog import catalog_view
from plans.indicators import (
    FIRST_YEAR,
    LAST_YEAR,
    NO_TARGET,
    STATUS_COLOURS,
    STATUS_INK,
    AreaResult,
    Indicator,
    IndicatorResult,
    evaluate,
)
from reports.errors import ReportError, ReportNotFound
from reports.fonts import find_font

KINDS = ("measure", "county", "atlas")
FORMATS = ("pdf", "png", "svg")
# The region a plan document is about -> the adcode of the area (city or province).


@dataclass(frozen=True)
class Settings:
    """What a deployment sets for its reports (app config REPORT_*)."""

    attribution: str = ""  # e.g. the agency that makes the map
    map_review_number: str = ""  # 审图号, when the boundaries are an approved standard map
    font: str | None = None  # a font file instead of the system Noto Sans CJK SC
    tile_url: str | None = None  # an XYZ basemap, opt-in; vector context otherwise
    tile_attribution: str = ""
    tile_timeout_s: float = 2.0
    today: date | None = None  # the print date (tests fix it)


@dataclass
class MapItem:
    """One feature on a page: on the map (keyed by `code`) and in the facility table."""

    code: str
    layer: LayerType
    feature: Feature  # properties as of the report's year
    legend_key: str

    @property
    def name(self) -> str:
        props = self.feature.properties
        return str(props.get(self.layer.title_field) or self.feature.id)

    @property
    def is_demo(self) -> bool:
        return bool(self.feature.properties.get("is_demo"))

    @property
    def status_label(self) -> str:
        entry = self.layer.legend[self.layer.legend_keys.index(self.legend_key)]
        return entry.label_zh

    @property
    def colour(self) -> str:
        entry = self.layer.legend[self.layer.legend_keys.index(self.legend_key)]
        return entry.fill_color or entry.color

    @property
    def dash(self) -> str | None:
        """The class's outline pattern, as on the web map (None: solid)."""
        entry = self.layer.patterned_legend[self.layer.legend_keys.index(self.legend_key)]
        return entry.dash or None


@dataclass
class Bar:
    """An indicator against its target: `done` is the share of the way from baseline to target
    (None without a target), `expected` where the linear path says it should be by now."""

    name: str
    text: str
    status: str
    done: float | None
    expected: float | None

    @property
    def colour(self) -> str:
        return STATUS_COLOURS.get(self.status, "#bdbdbd")

    @property
    def ink(self) -> str:
        """The status badge's text colour (4.5:1 on `colour`)."""
        return STATUS_INK.get(self.status, "#1a1a1a")


@dataclass
class BarGroup:
    title: str
    bars: list[Bar]


@dataclass
class CountyTable:
    """A city overview's table: one row per indicator, one column per county."""

    counties: list[str]
    rows: list[tuple[str, list[tuple[str, str]]]]  # indicator name, [(text, status)] per county


@dataclass
class Page:
    """One section of a report: a map, its legend and table, and what is said beside it.
    The table may flow onto further printed pages."""

    kind: str  # county | city | measure
    title: str
    subtitle: str
    epsg: int
    focus: BaseGeometry  # lon/lat: what the map frames and highlights
    focus_adcode: str
    locator_adcode: str  # the area the inset shows (the city, or the province)
    items: list[MapItem]
    context: list[MapItem]  # areas drawn under the facilities, not in the table
    bar_groups: list[BarGroup] = field(default_factory=list)
    county_table: CountyTable | None = None
    text: str = ""
    targets: list[str] = field(default_factory=list)
    label_items: bool = True  # a city overview has too many to label

    @property
    def table_items(self) -> list[MapItem]:
        return self.items if self.label_items else []


@dataclass
class Report:
    kind: str
    key: str
    year: int
    title: str
    subject: str  # the place or measure the report is about, for its file name
    pages: list[Page]
    districts: list[Feature]
    settings: Settings

    @property
    def is_demo(self) -> bool:
        return any(item.is_demo for page in self.pages for item in page.items + page.context)

    @property
    def printed(self) -> date:
        return self.settings.today or date.today()

    def filename(self, fmt: str) -> str:
        """A name that says what the file is: 绿图_县区报告_盖州市_210881_2025.pdf."""
        kind_zh = {"measure": "措施报告", "county": "县区报告", "atlas": "图集"}[self.kind]
        key = re.sub(r"[^\w\-]+", "-", self.key).strip("-")
        name = re.sub(r"[^\w\-]+", "", self.subject)[:24]
        return f"绿图_{kind_zh}_{name}_{key}_{self.year}.{fmt}"


# ==================================================================================== build


def build(
    store: FeatureStore,
    kind: str,
    key: str,
    year: int = LAST_YEAR,
    settings: Settings | None = None,
) -> Report:
    """The content of a report: `kind` is measure (key: 001/三/八), county (key: an adcode
    such as 210881) or atlas (key: yingkou / liaoyuan / a city adcode)."""
    if kind not in KINDS:
        raise ReportNotFound(f"unknown report kind {kind!r}; use one of {', '.join(KINDS)}")
    if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ReportError(f"year must be between {FIRST_YEAR} and {LAST_YEAR}, not {year!r}")
    settings = settings or Settings()
    find_font(settings.font)  # no CJK font: say so now, before any work
    ctx = _Context(store, year)
    makers: dict[str, Callable[[_Context, str], tuple[str, str, list[Page]]]] = {
        "measure": _measure_pages,
        "county": _county_pages,
        "atlas": _atlas_pages,
    }
    title, subject, pages = makers[kind](ctx, key)
    return Report(kind, key, year, title, subject, pages, ctx.districts, settings)


class _Context:
    """The store read once for a report: districts, evaluated indicators, features by layer."""

    def __init__(self, store: FeatureStore, year: int) -> None:
        self.store = store
        self.year = year
        self.districts = store.query("districts", limit=None).features
        self.by_code = {d.properties["adcode"]: d for d in self.districts}
        self._results: list[IndicatorResult] | None = None
        self._features: dict[str, list[Feature]] = {}

    @property
    def results(self) -> list[IndicatorResult]:
        if self._results is None:
            self._results = evaluate(self.store, self.year)
        return self._results

    def district(self, adcode: str, level: str | None = None) -> Feature:
        found = self.by_code.get(adcode)
        if found is None or (level and found.properties["level"] != level):
            what = {"county": "county", "city": "city"}.get(level or "", "district")
            raise ReportNotFound(f"no {what} with adcode {adcode!r} in the store")
        return found

    def counties_of(self, city_adcode: str) -> list[Feature]:
        return [
            d
            for d in self.districts
            if d.properties["level"] == "county" and d.properties["parent_adcode"] == city_adcode
        ]

    def layer_features(self, layer: LayerType) -> list[Feature]:
        """Every feature of a layer as of the report's year (those not yet existing left out)."""
        if layer.id not in self._features:
            out = []
            if layer.id in self.store.layers():
                for f in self.store.query(layer.id, limit=None, sortby=[("id", True)]).features:
                    props = layer.properties_as_of(f.properties, self.year)
                    if props is not None:
                        out.append(Feature(f.id, props, f.geometry))
            self._features[layer.id] = out
        return self._features[layer.id]

    def items(
        self, layers: Sequence[LayerType], where: Callable[[Feature], bool]
    ) -> tuple[list[MapItem], list[MapItem]]:
        """(facilities, context areas) of the given layers that satisfy `where`, coded B01…"""
        items: list[MapItem] = []
        context: list[MapItem] = []
        for layer in layers:
            chosen = [f for f in self.layer_features(layer) if where(f)]
            width = max(2, len(str(len(chosen))))
            for n, f in enumerate(chosen, start=1):
                code = f"{layer.report_code}{n:0{width}d}"
                item = MapItem(code, layer, f, layer.legend_key(f.properties))
                (context if layer.map_group == "base" else items).append(item)
        return items, context


def _mapped_layers(ctx: _Context) -> list[LayerType]:
    """The layers drawn on report maps: those the store's view holds (a restricted layer is
    absent from the public view), the districts aside."""
    stored = ctx.store.layers()
    return [layer for layer in all_layers() if layer.id != "districts" and layer.id in stored]


def _in_counties(codes: set[str]) -> Callable[[Feature], bool]:
    return lambda f: f.properties.get("county_adcode") in codes


def epsg_for(geom: BaseGeometry) -> int:
    """The CGCS2000 3-degree Gauss-Krüger zone (no zone prefix) around a lon/lat geometry:
    营口 → 4550 (CM 123°E), 辽源 → 4551 (CM 126°E)."""
    return int(gk_zone_epsg(geom.centroid.x).removeprefix("EPSG:"))


# -------------------------------------------------------------------------- county pages


def _county_page(ctx: _Context, county: Feature) -> Page:
    code = county.properties["adcode"]
    city = ctx.district(county.properties["parent_adcode"])
    items, context = ctx.items(_mapped_layers(ctx), _in_counties({code}))
    groups = [BarGroup("指标进展 Indicators", _bars_for_area(ctx, code))]
    return Page(
        kind="county",
        title=f"{city.properties['name_zh']} {county.properties['name_zh']}",
        subtitle=f"绿色低碳规划措施实施进展图 · 数据截至 {ctx.year} 年末",
        epsg=epsg_for(county.geometry),
        focus=county.geometry,
        focus_adcode=code,
        locator_adcode=city.properties["adcode"],
        items=items,
        context=context,
        bar_groups=groups,
    )


def _county_pages(ctx: _Context, key: str) -> tuple[str, str, list[Page]]:
    county = ctx.district(key, "county")
    page = _county_page(ctx, county)
    return page.title, county.properties["name_zh"], [page]


def _city(ctx: _Context, key: str) -> Feature:
    # a city by its key (the store's regions table) or its adcode
    keys = {r.key: r.adcode for r in read_regions(ctx.store) if r.level == "city"}
    return ctx.district(keys.get(key, key), "city")


def _atlas_pages(ctx: _Context, key: str) -> tuple[str, str, list[Page]]:
    city = _city(ctx, key)
    code = city.properties["adcode"]
    counties = sorted(ctx.counties_of(code), key=lambda c: c.properties["adcode"])
    items, context = ctx.items(_mapped_layers(ctx), _in_counties({code} | _codes(counties)))
    overview = Page(
        kind="city",
        title=f"{city.properties['name_zh']} 全市概览",
        subtitle=f"绿色低碳规划措施实施进展图集 · 数据截至 {ctx.year} 年末",
        epsg=epsg_for(city.geometry),
        focus=city.geometry,
        focus_adcode=code,
        locator_adcode=city.properties["parent_adcode"],
        items=items,
        context=context,
        bar_groups=[BarGroup("全市指标进展 City indicators", _bars_for_area(ctx, code))],
        county_table=_county_table(ctx, counties),
        label_items=False,
    )
    pages = [overview] + [_county_page(ctx, c) for c in counties]
    name = city.properties["name_zh"]
    return f"{name} 绿色低碳规划措施实施进展图集", name, pages


def _codes(features: Sequence[Feature]) -> set[str]:
    return {f.properties["adcode"] for f in features}


# ------------------------------------------------------------------------- measure page


def _measure_pages(ctx: _Context, key: str) -> tuple[str, str, list[Page]]:
    catalog = catalog_view(ctx.store)
    measure = catalog.measures.get(key)
    if measure is None:
        raise ReportNotFound(f"no plan measure {key!r} (ids look like 001/三/八)")
    document = catalog.documents.get(measure["document"], {})
    # The plan's area as the catalog derives it from the store's districts (as popups do).
    area_code = document.get("adcode") or ""
    area = ctx.by_code.get(area_code)
    if area is None:
        raise ReportNotFound(f"measure {key}: its plan's area {area_code!r} is not in the store")
    if area.properties["level"] == "province":
        cities = [
            d
            for d in ctx.districts
            if d.properties["level"] == "city" and d.properties["parent_adcode"] == area_code
        ]
    else:
        cities = [area]
    counties = [c for city in cities for c in ctx.counties_of(city.properties["adcode"])]
    linked = {link["layer_id"] for link in catalog.links_of(key)}
    layers = [layer for layer in _mapped_layers(ctx) if layer.id in linked]
    items, context = ctx.items(layers, _in_counties(_codes(cities) | _codes(counties)))
    if not cities:
        raise ReportNotFound(f"measure {key}: the store has no city of {area_code} to map")
    focus = unary_union([c.geometry for c in cities])
    # A provincial plan is mapped over the province's cities the store holds: say which.
    coverage = ""
    if area.properties["level"] == "province":
        names = "、".join(c.properties["name_zh"] for c in cities)
        coverage = f" · 图示范围：{names}（本平台收录的{area.properties['name_zh']}城市）"
    targets = [t["text"] for t in catalog.targets.get(key, [])]
    heading = measure["heading"] or key
    title = f"{key} {heading}"
    page = Page(
        kind="measure",
        title=title,
        subtitle=(
            f"{document.get('title') or measure['document']}"
            f"{'（' + document['number'] + '）' if document.get('number') else ''}"
            f" · 数据截至 {ctx.year} 年末{coverage}"
        ),
        epsg=epsg_for(focus),
        focus=focus,
        focus_adcode=area_code,
        # The inset shows the province: the city in it, or the province's cities.
        locator_adcode=area_code
        if area.properties["level"] == "province"
        else area.properties["parent_adcode"],
        items=items,
        context=context,
        bar_groups=_measure_bars(ctx, key, counties),
        text=measure["text"] or "",
        targets=targets,
    )
    return title, heading, [page]


def _measure_bars(ctx: _Context, measure_id: str, counties: list[Feature]) -> list[BarGroup]:
    groups = []
    codes = [c.properties["adcode"] for c in counties]
    for result in ctx.results:
        if measure_id not in result.indicator.measures:
            continue
        bars = []
        for area in result.areas:
            if area.adcode in codes or (area.level != "county" and _covers(area, codes)):
                bars.append(bar_of(result.indicator, area, label=area.name_zh))
        if bars:
            groups.append(BarGroup(f"{result.indicator.name_zh}（{result.indicator.unit}）", bars))
    return groups


def _covers(area: AreaResult, county_codes: list[str]) -> bool:
    """A city whose counties are on the page (its total is shown above them)."""
    return area.level == "city" and any(c[:4] == area.adcode[:4] for c in county_codes)


# ------------------------------------------------------------------------------- bars


def _bars_for_area(ctx: _Context, adcode: str) -> list[Bar]:
    bars = []
    for result in ctx.results:
        try:
            area = result.area(adcode)
        except KeyError:
            continue
        if area.value is None:
            continue  # nothing here to count (a county without such facilities)
        bars.append(bar_of(result.indicator, area))
    bars.sort(key=lambda b: b.done is None)  # targets first
    return bars


def fmt_number(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if abs(x - round(x)) < 1e-9:
        return f"{round(x):,}"
    return f"{x:,.1f}"


def bar_of(indicator: Indicator, area: AreaResult, label: str | None = None) -> Bar:
    """The bar of one indicator in one area: progress from the area's baseline to its target."""
    unit = indicator.unit
    value = "—" if area.value is None else f"{fmt_number(area.value)} {unit}"
    if area.target is None:
        return Bar(label or indicator.name_zh, value, area.status, None, None)
    done = _progress(area.value, area.baseline, area.target, indicator.direction)
    expected = _progress(area.expected, area.baseline, area.target, indicator.direction)
    word = "≤" if indicator.direction == "lower" else "≥"
    deadline = f"，{area.deadline}年" if area.deadline else ""
    text = f"{value}（{word}{fmt_number(area.target)}{deadline}）"
    status = area.status if area.status else NO_TARGET
    return Bar(label or indicator.name_zh, text, status, done, expected)


def _progress(
    value: float | None, baseline: float | None, target: float, direction: str
) -> float | None:
    if value is None:
        return None
    if direction == "higher":
        start = 0.0 if baseline is None or baseline >= target else baseline
        span = target - start
        share = 1.0 if span <= 0 else (value - start) / span
    else:
        start = baseline if baseline is not None and baseline > target else None
        if start is None:
            share = 1.0 if value <= target else 0.0
        else:
            share = (start - value) / (start - target)
    return min(max(share, 0.0), 1.0)


def _county_table(ctx: _Context, counties: list[Feature]) -> CountyTable:
    codes = [c.properties["adcode"] for c in counties]
    rows = []
    for result in ctx.results:
        cells = []
        for code in codes:
            try:
                area = result.area(code)
            except KeyError:
                cells.append(("—", ""))
                continue
            cells.append((fmt_number(area.value), area.status))
        if any(text != "—" for text, _ in cells):
            rows.append((f"{result.indicator.name_zh}（{result.indicator.unit}）", cells))
    return CountyTable([c.properties["name_zh"] for c in counties], rows)


def measure_ids(store: FeatureStore) -> list[str]:
    """Every measure id in the catalog, in document order."""
    return list(catalog_view(store).measures)


def project(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    """A lon/lat geometry in the page's Gauss-Krüger projection (metres)."""
    return transform("EPSG:4326", f"EPSG:{epsg}", geom)
