"""Indicators blueprint: the dashboard, one page per indicator, and the JSON at /indicators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import NotFound

from geo.errors import QueryError
from plans.indicators import (
    FIRST_YEAR,
    INDICATORS,
    LAST_YEAR,
    STATUS_COLOURS,
    IndicatorResult,
    evaluate,
    get_indicator,
    visible,
)
from webmap.catalog import catalog_view
from webmap.maps import build_map, render_parts
from webmap.measures import measure_url, wants_json
from webmap.regions import REGIONS, counties_of, region_view
from webmap.store import get_store, visible_layer, visible_layers

bp = Blueprint("indicators", __name__, template_folder="templates")

CITIES = {"yingkou": "210800", "liaoyuan": "220400"}


def year_arg() -> int:
    raw = request.args.get("year", str(LAST_YEAR))
    try:
        year = int(raw)
    except ValueError:
        raise QueryError(
            f"年份须是 {FIRST_YEAR}–{LAST_YEAR} 的整数 year must be a whole number "
            f"{FIRST_YEAR}–{LAST_YEAR}"
        ) from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise QueryError(
            f"年份须在 {FIRST_YEAR}–{LAST_YEAR} 之间 year must be between {FIRST_YEAR} and "
            f"{LAST_YEAR}"
        )
    return year


def city_arg() -> str:
    key = request.args.get("city", "yingkou")
    if key not in CITIES:
        raise QueryError(f"没有城市「{key}」 unknown city {key!r}; use one of {', '.join(CITIES)}")
    return key


def indicator_or_404(indicator_id: str) -> Any:
    """An indicator this request may see; 404 when unknown or computed from restricted data."""
    try:
        indicator = get_indicator(indicator_id)
    except KeyError:
        indicator = None
    if indicator is None or not visible(get_store(), indicator):
        raise NotFound(f"no indicator {indicator_id!r}")
    return indicator


def results(year: int, indicator_ids: list[str] | None = None) -> list[IndicatorResult]:
    return evaluate(get_store(), year, indicator_ids)


def sparkline(points: list[Any], colour: str) -> Markup:
    """A small inline SVG of the trend (values are numbers: nothing from data is markup)."""
    values = [(p.year, p.value) for p in points if p.value is not None]
    if len(values) < 2:
        return Markup("")
    lo = min(v for _, v in values)
    hi = max(v for _, v in values)
    span = (hi - lo) or 1.0
    first, last = values[0][0], values[-1][0]
    coords = " ".join(
        f"{4 + 112 * (y - first) / max(last - first, 1):.1f},{26 - 22 * (v - lo) / span:.1f}"
        for y, v in values
    )
    return Markup(
        '<svg class="lutu-spark" viewBox="0 0 120 30" width="120" height="30" role="img" '
        'aria-label="趋势 trend"><polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'
        "</svg>"
    ).format(colour, coords)


@bp.get("/indicators")
def index_json() -> Response:
    """All indicators for a year, every area (filter with city=, county=, indicator=); the
    feature ids behind each number only with features=1 (at province scale they are many)."""
    year = year_arg()
    with_features = request.args.get("features") in ("1", "true")
    wanted = request.args.get("indicator")
    if wanted:
        indicator_or_404(wanted)
    found = results(year, [wanted] if wanted else None)
    area_filter = request.args.get("county") or request.args.get("city")
    if area_filter in CITIES:
        area_filter = CITIES[area_filter]
    out = []
    for r in found:
        data = r.to_json(features=with_features)
        if area_filter:
            data["areas"] = [
                a
                for a in data["areas"]
                if a["adcode"] == area_filter or a.get("parent_adcode") == area_filter
            ]
        out.append(data)
    return jsonify({"year": year, "indicators": out})


@bp.get("/dashboard")
def dashboard() -> Response | str:
    year = year_arg()
    city = city_arg()
    adcode = CITIES[city]
    found = results(year)
    if wants_json():
        return index_json()
    cards = []
    for r in found:
        try:
            area = r.area(adcode)
        except KeyError:
            continue  # the indicator does not concern this city (e.g. a 营口-only target)
        counties = [a for a in r.areas if a.parent_adcode == adcode]
        province = next((a for a in r.areas if a.level == "province"), None)
        # A target set by another city's plan still shows this city's progress, but says so.
        foreign = r.indicator.target is not None and not (
            {adcode, adcode[:2] + "0000"} & set(r.indicator.target_areas)
        )
        cards.append(
            {
                "result": r,
                "area": area,
                "counties": counties,
                "province": province,
                "foreign": foreign,
                "spark": sparkline(area.trend, STATUS_COLOURS.get(area.status, "#666")),
            }
        )
    cards.sort(key=lambda c: (c["area"].target is None, c["foreign"]))  # own targets first
    return render_template(
        "dashboard.html",
        cards=cards,
        year=year,
        city=city,
        cities=CITIES,
        regions=REGIONS,
        years=range(FIRST_YEAR, LAST_YEAR + 1),
        colours=STATUS_COLOURS,
        measure_url=measure_url,
        catalog=catalog_view(get_store()),
        counties=counties_of(get_store(), adcode),
    )


@bp.get("/indicators/<indicator_id>")
def indicator_page(indicator_id: str) -> Response | str:
    ind = indicator_or_404(indicator_id)
    year = year_arg()
    city = city_arg()
    adcode = CITIES[city]
    (result,) = results(year, [indicator_id])
    if wants_json():
        return jsonify(result.to_json())
    store = get_store()
    try:
        area = result.area(adcode)
    except KeyError:
        area = None
    counties = [a for a in result.areas if a.parent_adcode == adcode]
    fills = {
        a.adcode: {"fillColor": STATUS_COLOURS.get(a.status, "#bdbdbd"), "fillOpacity": 0.55}
        for a in counties
    }
    layers = [visible_layer("districts"), visible_layer(ind.layer)]
    fmap = build_map(
        region_view(store, city),
        layers,
        url_for=url_for,
        has_demo=True,
        config=current_app.config,
        fills=fills,
        data_args={"indicator": indicator_id, "year": year},
        fill_legend=STATUS_COLOURS,
    )
    return render_template(
        "indicator.html",
        result=result,
        ind=ind,
        area=area,
        counties=counties,
        year=year,
        city=city,
        cities=CITIES,
        years=range(FIRST_YEAR, LAST_YEAR + 1),
        colours=STATUS_COLOURS,
        map=render_parts(fmap),
        measure_url=measure_url,
        catalog=catalog_view(store),
        layers={lt.id: lt for lt in visible_layers()},
    )


def feature_filter(indicator_id: str, year: int, region_key: str) -> dict[str, list[str]]:
    """The features behind an indicator in a region, as a store filter (for the map data)."""
    (result,) = results(year, [indicator_id])
    adcodes = {CITIES[region_key]} if region_key in CITIES else set(CITIES.values())
    ids: list[str] = []
    for area in result.areas:
        if area.adcode in adcodes:
            ids.extend(area.feature_ids)
    return {"id": ids}


def indicators_of(measure_id: str, year: int = LAST_YEAR) -> list[dict[str, Any]]:
    """The indicators answering to a measure, with their city results (for measure pages)."""
    store = get_store()
    ids = [ind.id for ind in INDICATORS if measure_id in ind.measures and visible(store, ind)]
    out = []
    for r in results(year, ids) if ids else []:
        cities = [a for a in r.areas if a.level in ("city", "province")]
        out.append({"result": r, "areas": cities, "year": year})
    return out
