"""The map in headless Chromium with every non-loopback request blocked."""

import pytest
from support import BROWSER_FEATURE_LIMIT, XSS, XSS_BOILER_ID, open_map, recorded_page

from layers import all_layers

pytestmark = pytest.mark.browser


def test_map_draws_every_layer_offline(browser, live_server, tmp_path) -> None:
    page, record = open_map(browser, live_server + "/")
    drawn = page.evaluate("lutu.drawn")
    for layer in all_layers():
        assert drawn[layer.id]["total"] > 0, layer.id
        assert drawn[layer.id]["features"] + drawn[layer.id].get("clusters", 0) > 0, layer.id
    assert page.locator(".lutu-notice").inner_text().count("示例数据") == 1
    assert page.locator(".lutu-label-city").count() >= 2
    page.screenshot(path=str(tmp_path / "map.png"))
    assert record["external"] == []
    assert record["errors"] == []
    page.close()


def test_popup_opens_on_click_and_shows_escaped_text(browser, live_server) -> None:
    page, record = open_map(browser, live_server + "/map?city=yingkou")
    # zoom onto the hostile feature so it is drawn on its own, then click it like a person
    page.evaluate(
        """id => {
        const m = Object.values(window).find(v => v instanceof L.Map);
        m.setView([40.6671, 122.2352], 17);
    }""",
        XSS_BOILER_ID,
    )
    page.wait_for_function(
        "id => lutu.pending === 0 && lutu.drawn.coal_boilers.zoom === 17 && "
        "lutu.layers.coal_boilers.screenPoint(id)",
        arg=XSS_BOILER_ID,
        timeout=15_000,
    )
    point = page.evaluate("id => lutu.layers.coal_boilers.screenPoint(id)", XSS_BOILER_ID)
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = page.locator(".leaflet-popup-content .lutu-popup")
    popup.wait_for(timeout=10_000)
    text = popup.inner_text()
    assert XSS in text  # shown as text …
    assert page.locator(".leaflet-popup-content img").count() == 0  # … never as markup
    assert "示例数据" in text and "燃煤锅炉" in text and "001/三/八" in text
    assert record["dialogs"] == []
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_clusters_zoom_in_to_single_villages(browser, live_server) -> None:
    """Every village is reachable: clicking clusters zooms in until single points show."""
    page, record = open_map(browser, live_server + "/")
    drawn = page.evaluate("lutu.drawn.villages")
    assert drawn["mode"] == "clusters" and drawn["total"] > BROWSER_FEATURE_LIMIT
    for _ in range(8):
        if page.evaluate("lutu.drawn.villages.mode") == "features":
            break
        zoom = page.evaluate("lutu.drawn.villages.zoom")
        page.locator(".lutu-cluster-villages").first.click()
        page.wait_for_function(
            "z => lutu.pending === 0 && lutu.drawn.villages.zoom > z", arg=zoom, timeout=10_000
        )
    drawn = page.evaluate("lutu.drawn.villages")
    assert drawn["mode"] == "features" and drawn["features"] > 0 and drawn["omitted"] == 0
    assert record["errors"] == [] and record["external"] == []
    page.close()


def test_measure_page_offline_with_its_map(browser, live_server) -> None:
    page, record = recorded_page(browser, height=900)
    page.goto(live_server + "/measures/001/三/八")
    page.wait_for_function("window.lutu && lutu.pending === 0 && 'coal_boilers' in lutu.drawn")
    assert set(page.evaluate("Object.keys(lutu.drawn)")) == {
        "districts",
        "coal_boilers",
        "built_up_areas",
        "heating_coverage",
    }
    assert page.locator("mark.lutu-target").count() >= 1
    page.goto(live_server + "/measures?q=燃煤锅炉")
    assert page.locator("table.lutu-table tbody tr").count() >= 3
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_dashboard_card_drills_down_to_its_features(browser, live_server) -> None:
    page, record = recorded_page(browser, height=900)
    page.goto(live_server + "/dashboard?city=yingkou&year=2025")
    card = page.locator("article.lutu-card").first
    layer_count = int(
        card.locator("p", has_text="个要素").inner_text().split("·")[1].split("个")[0]
    )
    card.locator("h2 a").click()
    page.wait_for_function("window.lutu && lutu.pending === 0 && 'coal_boilers' in lutu.drawn")
    drawn = page.evaluate("lutu.drawn.coal_boilers")
    assert drawn["total"] == layer_count
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_a_dropped_data_request_is_asked_again(browser, live_server) -> None:
    """A busy server or a flaky intranet drops a request: the layer asks again by itself."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    dropped = []

    def route(r):
        if not r.request.url.startswith("http://127.0.0.1"):
            r.abort()
        elif "/map/data/coal_boilers" in r.request.url and not dropped:
            dropped.append(r.request.url)
            r.abort("connectionreset")
        else:
            r.continue_()

    page.route("**/*", route)
    page.goto(live_server + "/map?city=yingkou")
    page.wait_for_function(
        "() => window.lutu && lutu.pending === 0 && 'coal_boilers' in lutu.drawn",
        timeout=30_000,
    )
    assert len(dropped) == 1
    assert page.evaluate("lutu.drawn.coal_boilers.total") > 0
    assert page.evaluate("lutu.errors.length") == 1  # the drop was seen, once
    page.close()


def test_an_area_under_the_points_canvas_opens_its_popup(browser, live_server) -> None:
    """The points share one canvas above the areas: a click inside a park, where no point is,
    reaches the park, and the popup of a multi-part area fills in (not stuck loading)."""
    page, record = open_map(browser, live_server + "/map?city=yingkou")
    page.evaluate(
        """() => {
        const m = Object.values(window).find(v => v instanceof L.Map);
        m.fitBounds(lutu.layers.parks._byId['yk-park-0001'].getBounds());
    }"""
    )
    page.wait_for_function(
        "() => lutu.pending === 0 && lutu.drawn.parks.zoom >= 12", timeout=15_000
    )
    page.wait_for_timeout(500)  # the fit's animation
    centre = page.evaluate(
        """() => {
        const m = Object.values(window).find(v => v instanceof L.Map);
        const c = lutu.layers.parks._byId['yk-park-0001'].getBounds().getCenter();
        const p = m.latLngToContainerPoint(c);
        return {x: p.x, y: p.y};
    }"""
    )
    box = page.locator(".folium-map").bounding_box()
    under = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).parentElement.className",
        [box["x"] + centre["x"], box["y"] + centre["y"]],
    )
    assert "lutu-points" in under  # the canvas is on top where the person clicks
    page.mouse.click(box["x"] + centre["x"], box["y"] + centre["y"])
    popup = page.locator(".leaflet-popup-content .lutu-popup")
    popup.wait_for(timeout=10_000)
    assert "园区" in popup.inner_text()
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_a_popup_at_each_map_edge_stays_open(browser, live_server) -> None:
    """A feature 12 px from an edge: its popup's autopan moves the map, the layers reload for
    the new view, and the popup is still open 3 s later (it used to vanish within a second)."""
    page, record = open_map(browser, live_server + "/map?city=yingkou")
    box = page.locator(".folium-map").bounding_box()
    feature = "yk-boiler-0012"
    for edge in ("top", "bottom", "left", "right"):
        page.evaluate(
            """([edge, id]) => {
            const m = Object.values(window).find(v => v instanceof L.Map);
            m.closePopup();
            const size = m.getSize();
            const p = lutu.layers.coal_boilers.screenPoint(id);
            const x = size.x / 2, y = size.y / 3;  // clear of the corners' controls
            const want = {top: [x, 12], bottom: [x, size.y - 12],
                          left: [12, y], right: [size.x - 12, y]}[edge];
            m.panBy([p.x - want[0], p.y - want[1]], {animate: false});
        }""",
            [edge, feature],
        )
        page.wait_for_function(
            "id => lutu.pending === 0 && lutu.layers.coal_boilers._byId[id]", arg=feature
        )
        point = page.evaluate(f"lutu.layers.coal_boilers.screenPoint('{feature}')")
        page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
        page.locator(".leaflet-popup-content .lutu-popup").wait_for(timeout=10_000)
        page.wait_for_timeout(3000)
        popup = page.locator(".leaflet-popup-content")
        assert popup.count() == 1, edge
        assert feature in popup.inner_text(), edge
        inside = page.evaluate(
            """() => { const r = document.querySelector('.leaflet-popup').getBoundingClientRect();
            const m = document.querySelector('.folium-map').getBoundingClientRect();
            return r.top >= m.top - 1 && r.left >= m.left - 1 && r.right <= m.right + 1; }"""
        )
        assert inside, edge  # autopan brought the whole popup into view
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_a_line_on_a_measure_map_opens_its_fields(browser, live_server) -> None:
    """On a measure's map a rail spur is clicked on the line itself; its popup loads (it stayed
    at 加载中 when the autopan's reload replaced the line)."""
    page, record = recorded_page(browser)
    page.goto(live_server + "/measures/001/三/四")
    page.wait_for_function("() => window.lutu && lutu.drawn.rail_spurs && lutu.pending === 0")
    page.locator(".folium-map").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    spur = page.evaluate("Object.keys(lutu.layers.rail_spurs._byId)[0]")
    # The map opened fitted to the measure's own features: all in view, and closer than the city.
    fitted = page.evaluate(
        """() => { const m = Object.values(window).find(v => v instanceof L.Map);
        const view = m.getBounds();
        return ['rail_spurs', 'parks'].every(k => Object.values(lutu.layers[k]._byId)
            .every(f => view.intersects(f.getBounds()))); }"""
    )
    assert fitted
    point = page.evaluate(
        """id => { const m = Object.values(window).find(v => v instanceof L.Map);
        const line = lutu.layers.rail_spurs._byId[id].getLayers()[0];
        let ll = line.getLatLngs(); if (Array.isArray(ll[0])) ll = ll[0];
        const p = m.latLngToContainerPoint(ll[Math.floor(ll.length / 2)]);
        return {x: p.x, y: p.y}; }""",
        spur,
    )
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = page.locator(".leaflet-popup-content .lutu-popup")
    popup.wait_for(timeout=10_000)
    page.wait_for_timeout(2000)
    text = page.locator(".leaflet-popup-content").inner_text()
    assert spur in text and "线路长度" in text and "加载中" not in text
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_a_failed_popup_says_so_and_retries(browser, live_server) -> None:
    """A popup request that fails shows why and a 重试 button; the retry loads it."""
    page, record = open_map(browser, live_server + "/map?city=yingkou")
    failures = {"left": 1}

    def flaky(route) -> None:
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(status=503, body="busy")
        else:
            route.continue_()

    page.route("**/map/popup/coal_boilers/**", flaky)
    box = page.locator(".folium-map").bounding_box()
    point = page.evaluate("lutu.layers.coal_boilers.screenPoint('yk-boiler-0012')")
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    retry = page.get_by_role("button", name="重试 Retry")
    retry.wait_for(timeout=10_000)
    assert "无法加载" in page.locator(".leaflet-popup-content").inner_text()
    retry.click()
    page.locator(".leaflet-popup-content .lutu-popup").wait_for(timeout=10_000)
    assert "yk-boiler-0012" in page.locator(".leaflet-popup-content").inner_text()
    assert record["external"] == []
    page.close()


def test_on_a_phone_every_control_is_reachable(browser, live_server) -> None:
    """390×844: the header fits (its sections behind ☰ 菜单), nothing covers the zoom buttons,
    the legend starts folded, and a popup is a sheet along the bottom, fully on screen."""
    page, record = recorded_page(browser, width=390, height=844)
    page.goto(live_server + "/map?city=yingkou")
    page.wait_for_function("() => window.lutu && lutu.drawn.coal_boilers && lutu.pending === 0")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("document.querySelector('.lutu-header').scrollWidth") <= 390

    def on_top(selector: str) -> bool:
        """The element is what a finger on its centre touches."""
        return page.evaluate(
            """sel => { const e = document.querySelector(sel); const r = e.getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            return x > 0 && x < innerWidth && y > 0 && y < innerHeight
                && e.contains(document.elementFromPoint(x, y)); }""",
            selector,
        )

    for control in (
        ".leaflet-control-zoom-in",
        ".leaflet-control-zoom-out",
        ".leaflet-control-layers-toggle",
        ".lutu-legend summary",
    ):
        assert on_top(control), control
    assert page.evaluate("document.querySelector('.lutu-legend').open") is False
    page.get_by_text("☰ 菜单").click()
    for name in ("地图", "指标", "规划措施", "报告", "营口市", "辽源市", "辽宁省", "登录"):
        link = page.locator(".lutu-menu-body a", has_text=name).first
        assert link.is_visible(), name
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
    page.locator(".lutu-regions a[href$='city=liaoyuan']").click()
    page.wait_for_url("**city=liaoyuan**")
    page.wait_for_function("() => window.lutu && lutu.drawn.coal_boilers && lutu.pending === 0")
    page.wait_for_timeout(500)
    feature = page.evaluate("Object.keys(lutu.layers.coal_boilers._byId)[0]")
    point = page.evaluate(f"lutu.layers.coal_boilers.screenPoint('{feature}')")
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.locator(".leaflet-popup-content .lutu-popup").wait_for(timeout=10_000)
    page.wait_for_timeout(1000)
    sheet = page.locator(".leaflet-popup.lutu-sheet").bounding_box()
    assert sheet["x"] >= 0 and sheet["width"] <= 390 and sheet["y"] + sheet["height"] <= 845
    assert "id: ly-boiler-" in page.locator(".leaflet-popup-content").inner_text()  # the top one
    assert on_top(".leaflet-control-zoom-in")
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_the_dashboard_fits_a_phone(browser, live_server) -> None:
    page, record = recorded_page(browser, width=390, height=844)
    page.goto(live_server + "/dashboard?city=yingkou")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator(".lutu-card").first.is_visible()
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_the_keyboard_reaches_features_and_opens_their_popups(browser, live_server) -> None:
    """Tab to 要素列表, Enter, Tab to a feature, Enter: its popup opens and takes the focus."""
    page, record = open_map(browser, live_server + "/map?city=yingkou")
    page.locator(".lutu-list-button").focus()
    page.keyboard.press("Enter")
    panel = page.locator(".lutu-list-panel")
    assert panel.is_visible()
    assert "燃煤锅炉" in panel.inner_text()
    first = panel.locator("li button").first
    name = first.inner_text()
    for _ in range(40):  # a person tabs until a feature has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.lutu-list-panel li') !== null"):
            break
    focused = page.evaluate("document.activeElement.firstChild.textContent")  # the name
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content .lutu-popup")
    popup.wait_for(timeout=10_000)
    assert focused and focused in popup.inner_text()
    assert page.evaluate("document.activeElement.closest('.leaflet-popup') !== null")
    assert name
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_parks_are_named_on_the_map_when_zoomed_in(browser, live_server) -> None:
    page, record = open_map(browser, live_server + "/map?city=yingkou")
    assert page.locator(".lutu-label-feature").count() == 0  # city view: no room for names
    page.evaluate(
        """() => Object.values(window).find(v => v instanceof L.Map)
        .fitBounds(lutu.layers.parks._byId['yk-park-0001'].getBounds())"""
    )
    page.wait_for_function("() => lutu.pending === 0 && lutu.drawn.parks.zoom >= 12")
    labels = page.locator(".lutu-label-feature")
    labels.first.wait_for(timeout=10_000)
    assert any("园" in t or "区" in t for t in labels.all_inner_texts())
    assert record["external"] == [] and record["errors"] == []
    page.close()
