"""Importing real ledgers in headless Chromium, as an editor does it: the layer of a
GeoPackage chosen from the drop-down it is offered, the header row typed on the form, an
unknown column given its field from the drop-down, and a file with a rejected row written only
once the "accepted rows only" box is ticked."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ROOT, TEST_PASSWORD, app_config, browser_login, recorded_page, served

from app import create_app
from geo.ledger.edits import EditStore
from webmap.auth import UserStore

pytestmark = pytest.mark.browser

REALISTIC = ROOT / "tests" / "data" / "realistic"
BAD_ROWS = ROOT / "tests" / "data" / "bad" / "rows"


@pytest.fixture(scope="module")
def ledger_server(
    store_path: Path, source_dirs: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """An app with its own copy of the store (these tests commit); its URL and edits file."""
    folder = tmp_path_factory.mktemp("ledger-browser")
    store = folder / "lutu.gpkg"
    shutil.copy(store_path, store)
    app = create_app(app_config(store, source_dirs, folder))
    app.instance_path = str(folder / "instance")  # uploads go here, not into the repo
    UserStore(app.config["USERS_PATH"]).add("editor1", TEST_PASSWORD, "editor")
    with served(app) as url:
        yield url, Path(app.config["EDITS_PATH"])


@pytest.fixture
def editor_page(browser, ledger_server):
    base, _ = ledger_server
    page, record = recorded_page(browser)
    browser_login(page, base, "editor1")
    yield page, base
    assert record["external"] == [] and record["errors"] == []
    page.close()


def upload(page, base: str, layer: str, path: Path, **fields: str) -> None:
    page.goto(base + "/ledger")
    page.select_option("form.lutu-upload select[name=layer]", layer)
    if "crs" in fields:
        page.select_option("form.lutu-upload select[name=crs]", fields.pop("crs"))
    for name, value in fields.items():
        page.fill(f"form.lutu-upload input[name={name}]", value)
    page.set_input_files("form.lutu-upload input[name=file]", str(path))
    page.click("form.lutu-upload button[type=submit]")
    page.wait_for_load_state()


def summary(page) -> str:
    return page.locator(".lutu-summary").inner_text()


def commit(page) -> str:
    page.click("form.lutu-commit button[type=submit]")
    page.wait_for_function("() => document.body.innerText.includes('已写入')", timeout=60_000)
    return page.locator("body").inner_text()


def test_the_layer_of_a_geopackage_is_chosen_from_a_drop_down(editor_page) -> None:
    page, base = editor_page
    upload(page, base, "parks", REALISTIC / "营口市园区及专用线.gpkg")
    assert "请选择要导入的图层" in page.locator(".lutu-error").inner_text()
    choice = page.locator("form.lutu-choice select[name=source_layer]")
    assert choice.locator("option").all_inner_texts()[1:] == ["园区", "铁路专用线"]  # not styles
    choice.select_option("园区")
    page.click("form.lutu-choice button[type=submit]")
    page.wait_for_selector(".lutu-summary")
    assert "新增 3" in summary(page) and "拒绝 0" in summary(page)
    assert page.locator("table.lutu-plan tbody tr").count() == 3
    assert "新增 3" in commit(page)


def test_the_header_row_is_typed_on_the_form(editor_page) -> None:
    page, base = editor_page
    ledger = REALISTIC / "锅炉_高斯克吕格.xlsx"
    upload(page, base, "coal_boilers", ledger, crs="EPSG:4529", header_row="3")
    page.wait_for_selector(".lutu-summary")
    assert "表头第 3 行" in summary(page) and "新增 3" in summary(page)
    rows = page.locator("table.lutu-plan tbody tr")
    assert rows.first.locator("td").nth(2).inner_text() == "GK-1"  # the file's 编号
    assert "新增 3" in commit(page)


def test_an_unknown_column_is_given_its_field_from_a_drop_down(editor_page, tmp_path) -> None:
    page, base = editor_page
    ledger = tmp_path / "锅炉台账.csv"
    ledger.write_text(
        "锅炉名称,锅炉吨位,状态,经度,纬度\n站前区某宾馆锅炉,6,运行,122.2412,40.6701\n",
        encoding="utf-8",
    )
    upload(page, base, "coal_boilers", ledger)
    page.wait_for_selector(".lutu-summary")
    assert "拒绝 1" in summary(page)  # no capacity: rejected, and the form says why
    unknown = page.locator("label.lutu-unknown-column", has_text="锅炉吨位")
    assert unknown.is_visible()  # the form opens itself when a column is unknown
    unknown.locator("select").select_option("capacity_t_per_h")
    page.click("form.lutu-reread-form button[type=submit]")
    page.wait_for_selector(".lutu-summary")
    assert "新增 1" in summary(page) and "拒绝 0" in summary(page)
    assert "新增 1" in commit(page)


def test_rejected_rows_are_left_out_only_when_the_box_is_ticked(editor_page, ledger_server) -> None:
    page, base = editor_page
    _, edits = ledger_server
    before = len(EditStore(edits).audit())
    upload(page, base, "coal_boilers", BAD_ROWS / "boilers_value_not_allowed.csv")
    page.wait_for_selector(".lutu-summary")
    assert "新增 1" in summary(page) and "拒绝 1" in summary(page)
    assert "关停" in page.locator("table.lutu-plan").inner_text()
    box = page.get_by_label("只导入可接受的 1 行，略过被拒绝的 1 行")
    assert box.is_visible() and not box.is_checked()
    page.click("form.lutu-commit button[type=submit]")  # not ticked: the form is not sent
    assert "/ledger/preview" in page.url and "已写入" not in page.locator("body").inner_text()
    assert len(EditStore(edits).audit()) == before
    box.check()
    assert "新增 1" in commit(page)
    entry = EditStore(edits).audit()[0]
    assert entry.details["accepted_only"] is True and entry.details["rows_left_out"] == [3]
