"""Indicators blueprint: the dashboard, one page per indicator, and the JSON at /indicators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import NotFound

from geo.errors import QueryError
from layers.colours import INK_LIGHT, darken_for
from plans.indicators import (
    FIRST_YEAR,
    LAST_YEAR,
    STATUS_COLOURS,
    STATUS_DASHES,
    STATUS_INK,
    AreaResult,
    IndicatorResult,
    evaluate,
    get_indicator,
    indicators_of,
    visible,
)
from webmap.catalog import catalog_view
from webmap.mapdata import extent
from webmap.maps import build_map, render_parts
from webmap.measures import measure_url, wants_json
from webmap.regions import cities_of, counties_of, region_view, regions_of
from webmap.search import focus_arg
from webmap.store import get_store, visible_layer, visible_layers

bp = Blueprint("indicators", __name__, template_folder="templates")

NO_DATA_STATUS = "无数据"
FEATURE_LIST_LIMIT = 1000  # names on one page; the JSON has every id
CHOROPLETH_OPACITY = 0.4  # county labels (#4a3b57) keep 4.5:1 on every status fill


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
    cities = cities_of(get_store())
    if key not in cities:
        raise QueryError(f"未知城市「{key}」 unknown city {key!r}; use one of {', '.join(cities)}")
    return key


def county_arg(city: str) -> dict[str, Any] | None:
    """The county a page is narrowed to (`county=<adcode>`), None for the whole city; 400 for
    an adcode that is none of the city's counties (unknown, or another city's)."""
    code = request.args.get("county")
    if not code:
        return None
    store = get_store()
    counties = counties_of(store, cities_of(store)[city])
    for county in counties:
        if county["adcode"] == code:
            return county
    region = regions_of(store)[city]
    raise QueryError(
        f"未知县区 {code!r}：不是{region.name_zh}的县（市、区），可选 "
        f"{'、'.join(k['adcode'] + k['name_zh'] for k in counties)}；unknown county {code!r}: "
        f"not a county of {region.name_en}"
    )


def feature_list(layer_id: str, ids: list[str], city: str) -> list[dict[str, str]]:
    """The features behind a number, by name (id beside it), each with its link to the map
    page focused on it."""
    layer = visible_layer(layer_id)
    ids = ids[:FEATURE_LIST_LIMIT]
    rows = (
        get_store()
        .query(
            layer_id,
            filters={"id": ids},
            limit=None,
            properties=[layer.title_field],
            with_geometry=False,
        )
        .features
    )
    names = {f.id: f.properties.get(layer.title_field) for f in rows}
    return [
        {
            "id": fid,
            "name": str(names.get(fid) or fid),
            "url": url_for("pages.map_page", city=city, focus=f"{layer_id}/{fid}"),
        }
        for fid in ids
    ]


def status_style(status: str) -> dict[str, Any]:
    """A district's choropleth style: status colour and outline pattern (the pattern tells
    the statuses apart without their colours). Light fill: the county labels stay ≥ 4.5:1."""
    style = {
        "fillColor": STATUS_COLOURS.get(status, STATUS_COLOURS[NO_DATA_STATUS]),
        "fillOpacity": CHOROPLETH_OPACITY,
        "color": "#444444",
        "weight": 2,
    }
    dash = STATUS_DASHES.get(status)
    if dash:
        style["dashArray"] = dash
    return style


def area_tooltip(area: AreaResult, unit: str) -> str:
    """Plain text for hovering a district: name, value and unit, status."""
    value = "—" if area.value is None else f"{round(area.value, 2):g}"
    return f"{area.name_zh} {value} {unit} · {area.status}"


def indicator_or_404(indicator_id: str) -> Any:
    """An indicator this request may see; 404 when unknown or computed from restricted data."""
    try:
        indicator = get_indicator(get_store(), indicator_id)
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
    area_filter = None
    if request.args.get("city"):
        area_filter = cities_of(get_store())[city_arg()]
    if request.args.get("county"):
        if request.args.get("city"):
            area_filter = county_arg(city_arg())["adcode"]  # 400 for another city's county
        else:
            area_filter = _any_county(request.args["county"])
    found = results(year, [wanted] if wanted else None)
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


def _any_county(code: str) -> str:
    """A county adcode of either city (the JSON's county filter); 400 otherwise."""
    store = get_store()
    if any(code == k["adcode"] for c in cities_of(store).values() for k in counties_of(store, c)):
        return code
    raise QueryError(f"未知县区 {code!r}；unknown county {code!r}")


@bp.get("/dashboard")
def dashboard() -> Response | str:
    year = year_arg()
    city = city_arg()
    adcode = cities_of(get_store())[city]
    county = county_arg(city)
    found = results(year)
    if wants_json():
        return index_json()
    cards = []
    for r in found:
        try:
            area = r.area(county["adcode"] if county else adcode)
            r.area(adcode)
        except KeyError:
            continue  # the indicator does not concern this city (e.g. a 营口-only target)
        counties = [] if county else [a for a in r.areas if a.parent_adcode == adcode]
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
                "spark": sparkline(
                    area.trend, darken_for(INK_LIGHT, STATUS_COLOURS.get(area.status, "#666"))
                ),
            }
        )
    cards.sort(key=lambda c: (c["area"].target is None, c["foreign"]))  # own targets first
    return render_template(
        "dashboard.html",
        cards=cards,
        year=year,
        city=city,
        cities=cities_of(get_store()),
        regions=regions_of(get_store()),
        years=range(FIRST_YEAR, LAST_YEAR + 1),
        colours=STATUS_COLOURS,
        measure_url=measure_url,
        catalog=catalog_view(get_store()),
        counties=counties_of(get_store(), adcode),
        county=county,
        inks=STATUS_INK,
    )


@bp.get("/indicators/<indicator_id>")
def indicator_page(indicator_id: str) -> Response | str:
    ind = indicator_or_404(indicator_id)
    year = year_arg()
    city = city_arg()
    adcode = cities_of(get_store())[city]
    county = county_arg(city)
    (result,) = results(year, [indicator_id])
    if wants_json():
        return jsonify(result.to_json())
    store = get_store()
    try:
        area = result.area(county["adcode"] if county else adcode)
    except KeyError:
        area = None
    counties = [a for a in result.areas if a.parent_adcode == adcode]
    fills = {a.adcode: status_style(a.status) for a in counties}
    view = region_view(store, city)
    bounds = None
    data_args: dict[str, Any] = {"indicator": indicator_id, "year": year}
    if county:  # zoomed to the county, and only its features fetched
        data_args["county"] = county["adcode"]
        bounds = next(
            f.geometry.bounds for f in view.districts if f.properties["adcode"] == county["adcode"]
        )
    layers = [visible_layer("districts"), visible_layer(ind.layer)]
    if bounds is None and area and area.feature_ids:  # the features behind the city's number
        bounds = extent(store, layers[1:], view, {"id": list(area.feature_ids)})
    fmap = build_map(
        view,
        layers,
        url_for=url_for,
        has_demo=True,
        config=current_app.config,
        fills=fills,
        tooltips={a.adcode: area_tooltip(a, ind.unit) for a in counties},
        data_args=data_args,
        fill_legend={status: status_style(status) for status in STATUS_COLOURS},
        bounds=bounds,
        focus=focus_arg(),
    )
    features = feature_list(ind.layer, area.feature_ids, city) if area else []
    return render_template(
        "indicator.html",
        result=result,
        ind=ind,
        area=area,
        counties=counties,
        year=year,
        city=city,
        cities=cities_of(get_store()),
        years=range(FIRST_YEAR, LAST_YEAR + 1),
        colours=STATUS_COLOURS,
        map=render_parts(fmap),
        measure_url=measure_url,
        catalog=catalog_view(store),
        layers={lt.id: lt for lt in visible_layers()},
        county=county,
        features=features,
        inks=STATUS_INK,
    )


def feature_filter(
    indicator_id: str, year: int, region_key: str, county: str | None = None
) -> dict[str, list[str]]:
    """The features behind an indicator in a region (or one county of it), as a store filter
    (for the map data)."""
    (result,) = results(year, [indicator_id])
    cities = cities_of(get_store())
    adcodes = {cities[region_key]} if region_key in cities else set(cities.values())
    if county:
        adcodes = {county}
    ids: list[str] = []
    for area in result.areas:
        if area.adcode in adcodes:
            ids.extend(area.feature_ids)
    return {"id": ids}


def indicators_for_measure(measure_id: str, year: int = LAST_YEAR) -> list[dict[str, Any]]:
    """The indicators answering to a measure, with their city results (for measure pages)."""
    store = get_store()
    ids = [
        ind.id for ind in indicators_of(store) if measure_id in ind.measures and visible(store, ind)
    ]
    out = []
    for r in results(year, ids) if ids else []:
        cities = [a for a in r.areas if a.level in ("city", "province")]
        out.append({"result": r, "areas": cities, "year": year})
    return out
