"""The map's search box in headless Chromium, used as a person would: type part of a name into
搜索, pick a result with the mouse or the keyboard, and see the feature's popup open."""

from __future__ import annotations

import re

import pytest
from support import open_map, recorded_page

pytestmark = pytest.mark.browser

VILLAGE = "石山村"  # yk-village-0001 in 鲅鱼圈区, one of the shipped demo villages


def popup_title(page) -> str:
    title = page.locator(".leaflet-popup-content .lutu-popup-title")
    title.wait_for(timeout=20_000)
    return title.inner_text()


def test_typing_part_of_a_name_and_clicking_the_result_opens_its_popup(
    browser, live_server
) -> None:
    page, record = open_map(browser, live_server + "/map?city=yingkou")
    assert page.evaluate("lutu.drawn.villages.mode") == "clusters"  # the village is not drawn
    box = page.get_by_role("combobox", name="搜索")
    assert box.get_attribute("type") == "search"
    assert box.get_attribute("placeholder") == "搜索地名、设施、编号 Search"
    box.press_sequentially("石山", delay=60)
    result = page.get_by_role("option", name=re.compile(VILLAGE))
    result.first.wait_for(timeout=10_000)
    assert "村" in result.first.inner_text() and "鲅鱼圈区" in result.first.inner_text()
    result.first.click()
    assert VILLAGE in popup_title(page)
    assert page.evaluate("lutu.drawn.villages.mode") == "features"
    assert page.evaluate("!!lutu.layers.villages._byId['yk-village-0001'].isPopupOpen()")
    assert record["external"] == [] and record["errors"] == [] and record["dialogs"] == []
    page.close()


def test_arrow_keys_and_enter_choose_a_result(browser, live_server) -> None:
    page, record = open_map(browser, live_server + "/map?city=yingkou")
    box = page.get_by_role("combobox", name="搜索")
    box.press_sequentially("石山", delay=60)
    page.get_by_role("option").first.wait_for(timeout=10_000)
    box.press("ArrowDown")
    assert page.get_by_role("option", selected=True).inner_text().startswith(VILLAGE)
    box.press("Enter")
    assert VILLAGE in popup_title(page)
    # A county by part of its name, Enter at once: the first result, its outline's popup.
    page.keyboard.press("Escape")
    box.fill("")
    box.press_sequentially("盖州", delay=60)
    box.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.leaflet-popup-content .lutu-popup-title') && "
        "document.querySelector('.leaflet-popup-content').innerText.includes('盖州市')",
        timeout=20_000,
    )
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_a_focus_link_opens_the_map_on_the_feature(browser, live_server) -> None:
    page, record = recorded_page(browser)
    page.goto(live_server + "/map?city=yingkou&focus=villages/yk-village-0001")
    assert VILLAGE in popup_title(page)
    page.goto(live_server + "/map?focus=villages/nope")
    status = page.locator(".lutu-search-status")
    status.wait_for(timeout=10_000)
    assert "未找到" in status.inner_text()
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_the_search_fits_a_phone(browser, live_server) -> None:
    page, record = recorded_page(browser)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + "/map?city=yingkou")
    page.wait_for_function("window.lutu && lutu.pending === 0 && 'villages' in lutu.drawn")
    toggle = page.get_by_role("button", name="打开搜索")
    assert toggle.is_visible() and not page.get_by_role("combobox", name="搜索").is_visible()
    button = toggle.bounding_box()
    assert button["x"] >= 0 and button["x"] + button["width"] <= 390
    toggle.click()
    box = page.get_by_role("combobox", name="搜索")
    assert box.is_visible()
    panel = page.locator(".lutu-search").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 390
    box.press_sequentially("石山", delay=60)
    page.get_by_role("option").first.click(timeout=10_000)
    assert VILLAGE in popup_title(page)
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_a_layer_turned_off_is_turned_on_and_other_maps_open_a_popup_of_their_own(
    browser, live_server
) -> None:
    page, record = open_map(browser, live_server + "/map?city=yingkou")
    page.evaluate("lutu.map.removeLayer(lutu.layers.villages)")  # as if unticked
    box = page.get_by_role("combobox", name="搜索")
    box.press_sequentially("石山", delay=60)
    page.get_by_role("option").first.click(timeout=10_000)
    assert VILLAGE in popup_title(page)
    assert page.evaluate("lutu.map.hasLayer(lutu.layers.villages)")
    # A measure map without the villages layer: the village's popup opens all the same.
    page.goto(live_server + "/measures/001/三/八?focus=villages/yk-village-0001")
    assert VILLAGE in popup_title(page)
    assert "villages" not in page.evaluate("Object.keys(lutu.layers)")
    assert record["external"] == [] and record["errors"] == []
    page.close()
