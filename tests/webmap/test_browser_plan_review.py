"""The plan review page in headless Chromium: a plan uploaded through the form, a measure
clicked highlights its text, and a piece of the text selected fills the measure's "mark target"
form with its quote and raw offset, which the server saves."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import TEST_PASSWORD, app_config, browser_login, recorded_page, served

from app import create_app
from webmap.auth import UserStore

pytestmark = pytest.mark.browser

C1 = Path(__file__).parent.parent / "plans" / "corpus" / "c1.txt"
SELECT = """q => {
  const panel = document.getElementById('lutu-review-text');
  const walker = document.createTreeWalker(panel, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const at = n.data.indexOf(q);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(n, at);
    range.setEnd(n, at + q.length);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    panel.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
    return true;
  }
  return false;
}"""


@pytest.fixture(scope="module")
def review_server(
    store_path: Path, source_dirs: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("plan-review-browser")
    store = folder / "lutu.gpkg"
    shutil.copy(store_path, store)
    app = create_app(app_config(store, source_dirs, folder))
    UserStore(app.config["USERS_PATH"]).add("editor1", TEST_PASSWORD, "editor")
    with served(app) as url:
        yield url


def test_select_text_to_mark_a_target(browser, review_server: str, tmp_path: Path) -> None:
    page, record = recorded_page(browser)
    browser_login(page, review_server, "editor1")

    plan = tmp_path / "青川省实施意见.txt"
    plan.write_bytes(C1.read_bytes())
    page.goto(f"{review_server}/admin/plans")
    page.set_input_files("input[name=file]", str(plan))
    page.select_option("select[name=region]", "210800")
    page.click("form[enctype] button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/admin/plans/005"))

    page.click('a.lutu-goto[data-measure="005/二/三"]')
    active = page.locator(".lutu-seg.is-active")
    assert "".join(active.all_inner_texts()).startswith("（三）推进交通绿色低碳转型。到2025年，")
    assert "柴油货车" in "".join(active.all_inner_texts())

    assert page.evaluate(SELECT, "15分钟生活圈")
    form = page.locator('form.lutu-mark-form[data-measure="005/二/二"]')
    assert form.locator("input[name=quote]").input_value() == "15分钟生活圈"
    start = C1.read_text(encoding="utf-8").index("15分钟生活圈")
    assert form.locator("input[name=start]").input_value() == str(start)
    form.locator("input[name=value]").fill("15")
    form.locator("input[name=unit]").fill("分钟")
    form.locator("select[name=bound]").select_option("≤")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已保存 saved" in page.locator("body").inner_text()
    assert page.locator("mark.lutu-target", has_text="15分钟生活圈").count() == 1
    assert record["external"] == [] and record["errors"] == []
    page.close()
