"""Drill-down by county: dashboard, indicator pages and the reports page link every county to
its view, which shows that county's numbers and the features behind them, by name."""

import html as htmllib
import json
import re

import pytest

from plans.indicators import SHIPPED_INDICATORS, evaluate

pytestmark = pytest.mark.both_stores

YINGKOU = "210800"
BAYUQUAN = "210804"  # 鲅鱼圈区, a county of 营口
LIAOYUAN_COUNTY = "220402"  # 龙山区, a county of 辽源


def results(client, year: int = 2025):
    from webmap.store import get_store

    with client.application.app_context():
        return evaluate(get_store(), year)


def page(client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, (url, answer.status_code)
    return answer.get_data(as_text=True)


def links(html: str, css_class: str) -> list[tuple[str, str]]:
    """(href, text) of the links with this class."""
    found = re.findall(rf'<a class="{css_class}" href="([^"]+)"[^>]*>([^<]+)</a>', html)
    return [(htmllib.unescape(h), t) for h, t in found]


def shown(value) -> str:
    return "—" if value is None else f"{round(value, 2):g}"


def test_dashboard_links_every_county_to_its_view(client) -> None:
    html = page(client, "/dashboard?city=yingkou&year=2025")
    counties = [a for r in results(client) for a in r.areas if a.parent_adcode == YINGKOU]
    names = {a.adcode: a.name_zh for a in counties}
    county_links = links(html, "lutu-county-link")
    views = {h for h, _ in county_links if h.startswith("/dashboard")}
    assert views == {f"/dashboard?year=2025&city=yingkou&county={c}" for c in names}
    # every county row of every card links to that indicator's county page
    card_links = [(h, t) for h, t in county_links if h.startswith("/indicators/")]
    assert len(card_links) == len(counties)
    for href, text in card_links:
        assert text == names[re.search(r"county=(\d+)", href).group(1)]


def test_county_dashboard_shows_the_county_numbers(client) -> None:
    html = page(client, f"/dashboard?city=yingkou&county={BAYUQUAN}&year=2025")
    assert f'<h1 data-county="{BAYUQUAN}">鲅鱼圈区 · 营口市' in html
    assert 'class="lutu-back" href="/dashboard?year=2025&amp;city=yingkou"' in html
    cards = re.findall(
        r'data-indicator="([^"]+)">.*?<p class="lutu-card-value">([^ <]+)', html, re.S
    )
    want = {
        r.id: r.area(BAYUQUAN)
        for r in results(client)
        if any(a.adcode == BAYUQUAN for a in r.areas)
    }
    assert {i for i, _ in cards} == set(want)
    for indicator_id, value in cards:
        assert value == shown(want[indicator_id].value), indicator_id
    # the card leads on to the county's features
    assert f"/indicators/{cards[0][0]}?year=2025&amp;city=yingkou&amp;county={BAYUQUAN}" in html


def feature_links(html: str) -> list[tuple[str, str, str]]:
    """(href, feature id, name) of the feature list."""
    return [
        (htmllib.unescape(h), i, n)
        for h, i, n in re.findall(
            r'<li><a href="([^"]+)" data-feature="([^"]+)">([^<]+)</a> <small class="lutu-id">',
            html,
        )
    ]


@pytest.mark.parametrize("indicator", [i.id for i in SHIPPED_INDICATORS])
def test_indicator_county_page_lists_only_the_county_features(client, indicator) -> None:
    ind = next(i for i in SHIPPED_INDICATORS if i.id == indicator)
    result = next(r for r in results(client) if r.id == indicator)
    try:
        county = result.area(BAYUQUAN)
    except KeyError:
        return  # an indicator for 辽源 only
    html = page(client, f"/indicators/{indicator}?city=yingkou&county={BAYUQUAN}&year=2025")
    assert f'<h1 data-county="{BAYUQUAN}">鲅鱼圈区：' in html
    assert f'<span class="lutu-status">{county.status}</span> 鲅鱼圈区 2025年：' in html
    listed = feature_links(html)
    assert [i for _, i, _ in listed] == county.feature_ids
    others = {
        fid
        for a in result.areas
        if a.parent_adcode == YINGKOU and a.adcode != BAYUQUAN
        for fid in a.feature_ids
    }
    assert not others & {i for _, i, _ in listed}
    for href, fid, name in listed:
        assert href == f"/map?city=yingkou&focus={ind.layer}/{fid}"
        assert name and name != fid  # a name, the id beside it
    # the map fetches only the county's features
    data = client.get(
        f"/map/data/{ind.layer}?bbox=118,38,132,47&zoom=18&region=yingkou"
        f"&indicator={indicator}&year=2025&county={BAYUQUAN}"
    ).get_json()
    assert sorted(f["id"] for f in data["features"]) == sorted(county.feature_ids)
    assert f"county={BAYUQUAN}" in re.search(r'"url": "([^"]+)"', html).group(1)


def fitted(html: str) -> list[float]:
    m = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", html)
    return [float(v) for v in m.groups()]


def test_indicator_county_map_is_fitted_to_the_county(client, store) -> None:
    url = "/indicators/rural_sewage_rate?city=yingkou&year=2025"
    city = fitted(page(client, url))
    county = fitted(page(client, url + f"&county={BAYUQUAN}"))
    geom = store.get(
        "districts",
        next(f.id for f in store.query("districts", filters={"adcode": [BAYUQUAN]}).features),
    ).geometry
    minx, miny, maxx, maxy = geom.bounds
    assert county == pytest.approx([miny, minx, maxy, maxx])
    assert city[0] < county[0] and city[2] > county[2]  # the city's view is wider


def test_county_choropleth_has_plain_text_tooltips(client) -> None:
    html = page(client, "/indicators/rural_sewage_rate?city=yingkou&year=2025")
    data = json.loads(
        re.search(r"L\.lutu\.districts\((\{.*?\}),\s*\{\"styles", html, re.S).group(1)
    )
    result = next(r for r in results(client) if r.id == "rural_sewage_rate")
    tips = {f["properties"]["adcode"]: f["properties"].get("tooltip") for f in data["features"]}
    for a in result.areas:
        if a.parent_adcode == YINGKOU:
            assert tips[a.adcode] == f"{a.name_zh} {shown(a.value)} % · {a.status}"
    assert "<" not in "".join(t for t in tips.values() if t)


def test_indicator_table_and_reports_page_link_counties(client) -> None:
    html = page(client, "/indicators/rural_sewage_rate?city=yingkou&year=2025")
    hrefs = [h for h, _ in links(html, "lutu-county-link")]
    assert f"/indicators/rural_sewage_rate?year=2025&city=yingkou&county={BAYUQUAN}" in hrefs
    reports = page(client, "/reports?year=2025")
    hrefs = [h for h, _ in links(reports, "lutu-county-link")]
    assert f"/dashboard?city=yingkou&county={BAYUQUAN}&year=2025" in hrefs
    assert f"/dashboard?city=liaoyuan&county={LIAOYUAN_COUNTY}&year=2025" in hrefs


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("/dashboard?city=yingkou&county=999999", "999999"),
        (f"/dashboard?city=yingkou&county={LIAOYUAN_COUNTY}", LIAOYUAN_COUNTY),
        (f"/indicators/rural_sewage_rate?city=yingkou&county={LIAOYUAN_COUNTY}", LIAOYUAN_COUNTY),
        ("/indicators/rural_sewage_rate?city=liaoyuan&county=nosuch", "nosuch"),
        ("/indicators?city=nosuch", "nosuch"),
        ("/indicators?county=999999", "999999"),
        (f"/indicators?city=yingkou&county={LIAOYUAN_COUNTY}", LIAOYUAN_COUNTY),
        ("/dashboard?city=nosuch", "nosuch"),
    ],
)
def test_a_bad_county_or_city_is_a_400_naming_it(client, url, named) -> None:
    answer = client.get(url)
    assert answer.status_code == 400
    text = htmllib.unescape(answer.get_data(as_text=True))
    assert f"'{named}'" in text and "未知" in text


def test_county_popup_links_the_county_view(client, store) -> None:
    county = store.query("districts", filters={"adcode": [BAYUQUAN]}).features[0]
    html = page(client, f"/map/popup/districts/{county.id}")
    assert f'href="/dashboard?city=yingkou&amp;county={BAYUQUAN}"' in html
    followed = page(client, f"/dashboard?city=yingkou&county={BAYUQUAN}")
    assert f'data-county="{BAYUQUAN}"' in followed
