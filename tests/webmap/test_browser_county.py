"""Drill-down by county in headless Chromium, as a planner clicks it: dashboard → a county's
figures → one of the features behind them → the map, asked to focus on that feature."""

from urllib.parse import parse_qs, urlsplit

import pytest
from support import recorded_page

pytestmark = pytest.mark.browser

BAYUQUAN = "210804"


def test_from_dashboard_to_a_county_to_a_feature_on_the_map(browser, live_server) -> None:
    page, record = recorded_page(browser)
    page.goto(live_server + "/dashboard?city=yingkou&year=2025")
    card = page.locator('article.lutu-card[data-indicator="rural_sewage_rate"]')
    card.get_by_role("link", name="鲅鱼圈区").click()
    page.wait_for_url(lambda url: "/indicators/rural_sewage_rate?" in url and BAYUQUAN in url)
    assert page.locator("h1").inner_text().startswith("鲅鱼圈区：")
    assert page.locator("tr.is-current td").first.inner_text() == "鲅鱼圈区"
    page.wait_for_function("() => window.lutu && lutu.pending === 0", timeout=30_000)
    # the map fetched only the county's features, as many as the list names
    listed = page.locator(".lutu-feature-list a").count()
    assert page.evaluate("lutu.drawn.villages.total") == listed > 0
    feature = page.locator(".lutu-feature-list a").first
    assert feature.is_visible()  # the list is open on a county page
    name, fid = feature.inner_text(), feature.get_attribute("data-feature")
    assert name and name != fid
    feature.click()
    page.wait_for_url(lambda url: "/map?" in url and "focus=" in url)
    query = parse_qs(urlsplit(page.url).query)
    assert query["city"] == ["yingkou"]
    assert query["focus"] == [f"villages/{fid}"]
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_county_dashboard_heading_and_way_back(browser, live_server) -> None:
    page, record = recorded_page(browser)
    page.goto(live_server + "/dashboard?city=yingkou&year=2025")
    page.locator(".lutu-report-bar").get_by_role("link", name="鲅鱼圈区").click()
    page.wait_for_url(lambda url: "/dashboard?" in url and BAYUQUAN in url)
    assert page.locator("h1").inner_text().startswith("鲅鱼圈区 · 营口市")
    page.locator("a.lutu-back").click()
    page.wait_for_url(lambda url: url.endswith("/dashboard?year=2025&city=yingkou"))
    assert page.locator("h1").inner_text().startswith("规划目标进展")
    assert record["external"] == [] and record["errors"] == []
    page.close()
