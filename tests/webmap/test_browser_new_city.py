"""A new city and a new plan from nothing to a dashboard card, in headless Chromium, as an
administrator does it with no code change (issue #15): add 鞍山 (210300) by its adcode, import
its coal-boiler ledger, upload its plan, correct one target the parser got wrong, publish,
confirm a suggested link, build an indicator with the form (its live preview per county),
then see the indicator on the dashboard, in the API's indicators collection and in a county
report of the new city. The example files are data/examples/anshan/."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from support import ROOT, TEST_PASSWORD, app_config, browser_login, recorded_page, served

from app import create_app
from webmap.auth import UserStore

pytestmark = pytest.mark.browser

EXAMPLE = ROOT / "data" / "examples" / "anshan"
PLAN = EXAMPLE / "鞍山市燃煤锅炉整治和清洁取暖实施方案.txt"
LEDGER = EXAMPLE / "燃煤锅炉台账.csv"
NOT_A_TARGET = "对35蒸吨/小时及以下燃煤锅炉逐台建立台账"  # a task, which the parser takes as one


@pytest.fixture(scope="module")
def server(
    store_path: Path, source_dirs: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An app with its own store and instance files (everything here writes)."""
    folder = tmp_path_factory.mktemp("new-city")
    store = folder / "lutu.gpkg"
    shutil.copy(store_path, store)
    app = create_app(app_config(store, source_dirs, folder))
    app.instance_path = str(folder / "instance")
    UserStore(app.config["USERS_PATH"]).add("admin1", TEST_PASSWORD, "admin")
    with served(app) as url:
        yield url


def test_a_new_city_and_plan_from_nothing_to_a_dashboard_card(browser, server) -> None:
    page, record = recorded_page(browser)
    browser_login(page, server, "admin1")

    # 1. The city, by its adcode.
    page.goto(f"{server}/admin/regions")
    page.fill("input[name=adcode]", "210300")
    page.fill("input[name=name_en]", "Anshan")
    page.click("form.lutu-filters button[type=submit]")
    page.wait_for_selector("[role=status]", timeout=60_000)
    assert "鞍山市" in page.locator("[role=status]").inner_text()
    assert page.locator("table.lutu-table", has_text="210300").is_visible()

    # 2. Its coal boilers, from the ledger the county office keeps.
    page.goto(f"{server}/ledger")
    page.select_option("form.lutu-upload select[name=layer]", "coal_boilers")
    page.set_input_files("form.lutu-upload input[name=file]", str(LEDGER))
    page.click("form.lutu-upload button[type=submit]")
    page.wait_for_selector(".lutu-summary")
    assert "新增 8" in page.locator(".lutu-summary").inner_text()
    page.click("form.lutu-commit button[type=submit]")
    page.wait_for_function("() => document.body.innerText.includes('已写入')", timeout=60_000)

    # 3. Its plan: uploaded as a draft for 鞍山, opened on the review page.
    page.goto(f"{server}/admin/plans")
    page.set_input_files("input[name=file]", str(PLAN))
    page.select_option("select[name=region]", "210300")
    page.click("form.lutu-filters button[type=submit]")
    page.wait_for_selector(".lutu-review", timeout=60_000)
    plan_url = page.url
    assert "草稿" in page.locator("body").inner_text()

    # 4. One target the parser got wrong: setting up a ledger is a task, not a target.
    chip = f'.lutu-review-target:has(.lutu-chip[title="{NOT_A_TARGET}"])'
    measure = page.locator("section.lutu-review-measure", has_text="分类推进淘汰")
    assert measure.locator(chip).count() == 1
    measure.locator(chip).get_by_role("button", name="取消目标").click()
    page.wait_for_load_state()
    measure = page.locator("section.lutu-review-measure", has_text="分类推进淘汰")
    assert measure.locator(chip).count() == 0
    assert NOT_A_TARGET in page.locator(".lutu-corrections").inner_text()

    # 5. Published: into the catalog.
    page.get_by_role("button", name="发布").click()
    page.wait_for_function("() => document.body.innerText.includes('已发布')", timeout=60_000)

    # 6. A link the keywords suggest, confirmed: the small-boiler task concerns coal_boilers.
    page.goto(plan_url.rstrip("/") + "/links")
    task = page.locator("section.lutu-link-measure", has_text="分类推进淘汰")
    suggestion = task.locator("form.lutu-filters", has=page.locator("input[value=coal_boilers]"))
    suggestion.locator("input[name=reason]").fill("逐台淘汰35蒸吨及以下燃煤锅炉")
    suggestion.get_by_role("button", name="确认").click()
    page.wait_for_load_state()
    task = page.locator("section.lutu-link-measure", has_text="分类推进淘汰")
    assert "admin1" in task.inner_text()  # confirmed, by whom

    # 7. An indicator, built with the form: 鞍山's small coal boilers still running, against
    # the plan's target (基本淘汰 → 0 by 2025), previewed per county as it is written.
    page.goto(f"{server}/admin/indicators/new")
    page.select_option("#lutu-builder-layer", "coal_boilers")
    page.fill("input[name=id]", "anshan_small_boilers")
    page.fill("input[name=name_zh]", "鞍山市仍在运行的35蒸吨/小时及以下燃煤锅炉")
    page.fill("input[name=name_en]", "Anshan coal boilers ≤35 t/h still running")
    page.fill("textarea[name=definition_zh]", "额定蒸发量≤35蒸吨/小时、年底仍在运行的燃煤锅炉台数")
    page.fill("input[name=features_zh]", "仍在运行的锅炉")
    page.fill("input[name=unit]", "台")
    for state in ("运行", "超低排放改造完成"):
        page.check(f"#lutu-builder-states input[value={state}]")
    row = page.locator("#lutu-builder-filters tr").first
    row.locator("select[name=filter_field]").select_option("capacity_t_per_h")
    row.locator("select[name=filter_op]").select_option("<=")
    row.locator("input[name=filter_value]").fill("35")
    target = page.locator("#lutu-builder-target option", has_text="基本淘汰35蒸吨")
    page.select_option("#lutu-builder-target", target.first.get_attribute("value"))
    assert page.input_value("input[name=target_value]") == "0"
    assert page.input_value("input[name=target_deadline]") == "2025"
    assert page.input_value("select[name=direction]") == "lower"
    page.select_option("select[name=areas]", "210300")
    # The preview: 4 boilers ≤35 t/h still running, one each in 铁东 铁西 千山 台安.
    city = page.locator("#lutu-preview-areas tr[data-adcode='210300']")
    city.wait_for(timeout=20_000)
    page.wait_for_function(
        "() => document.querySelector(\"#lutu-preview-areas tr[data-adcode='210300']\")"
        ".innerText.includes('4')",
        timeout=20_000,
    )
    assert "鞍山市" in city.inner_text()
    tiedong = page.locator("#lutu-preview-areas tr[data-adcode='210302']")
    assert "铁东区" in tiedong.inner_text() and "1" in tiedong.inner_text()
    listed = page.locator("#lutu-preview-features li").all_inner_texts()
    assert any("铁东供热站1号锅炉" in li for li in listed)
    assert not any("海城纺织厂锅炉" in li for li in listed)  # 75 t/h: not ≤35
    page.click("#lutu-builder button[type=submit]")
    page.wait_for_url("**/indicators/anshan_small_boilers**", timeout=60_000)

    # 8. On the dashboard of the new city: a card with the value and the plan's target.
    page.goto(f"{server}/dashboard?city=anshan")
    card = page.locator("article, .lutu-card", has_text="鞍山市仍在运行的35蒸吨").first
    assert card.is_visible()
    assert "4" in card.inner_text()
    # ... whose map shows the features behind the number.
    page.goto(f"{server}/indicators/anshan_small_boilers?city=anshan")
    page.wait_for_function(
        "() => window.lutu && lutu.pending === 0 && 'coal_boilers' in lutu.drawn", timeout=30_000
    )
    drawn = page.evaluate("Object.keys(lutu.layers.coal_boilers._byId)")
    assert "AS-001" in drawn and "AS-006" not in drawn

    # 9. In the API's indicators collection, for a program.
    api = page.request.get(
        f"{server}/ogc/collections/indicators/items",
        params={"f": "json", "indicator_id": "anshan_small_boilers", "limit": "1000"},
    )
    assert api.ok
    items = {f["id"]: f["properties"] for f in api.json()["features"]}
    assert items["anshan_small_boilers/210300/2025"]["value"] == 4
    assert items["anshan_small_boilers/210302/2025"]["value"] == 1

    # 10. In a county report of the new city (铁东区), as printed for a meeting.
    report = page.request.get(f"{server}/reports/county/210302.pdf?year=2025")
    assert report.ok and report.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(report.body())).pages)
    assert "铁东区" in text and "鞍山市仍在运行的35蒸吨" in text.replace("\n", "")

    assert record["external"] == [] and record["errors"] == []
    page.close()
