"""The indicator builder in headless Chromium: choosing a layer fills the fields, choosing a
plan target fills the target, and the live preview shows the value per county and the
features behind it, or the draft's error beside the field it names; nothing external."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import TEST_PASSWORD, app_config, browser_login, recorded_page, served

from app import create_app
from webmap.auth import UserStore

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def builder_server(
    store_path: Path, source_dirs: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("builder")
    store = folder / "lutu.gpkg"
    shutil.copy(store_path, store)
    app = create_app(app_config(store, source_dirs, folder))
    UserStore(app.config["USERS_PATH"]).add("admin1", TEST_PASSWORD, "admin")
    with served(app) as url:
        yield url


def test_the_preview_follows_the_form(browser, builder_server) -> None:
    page, record = recorded_page(browser)
    browser_login(page, builder_server, "admin1")
    page.goto(f"{builder_server}/admin/indicators/new")
    page.select_option("#lutu-builder-layer", "coal_boilers")
    assert "status_year" in page.text_content("#lutu-builder-year-rule")
    assert page.locator("#lutu-builder-states input[value=运行]").count() == 1
    page.check("#lutu-builder-states input[value=运行]")
    page.fill("input[name=id]", "boilers_outside")
    page.fill("input[name=name_zh]", "建成区外的锅炉<b>x</b>")
    page.fill("input[name=name_en]", "Boilers outside")
    page.fill("textarea[name=definition_zh]", "建成区外仍在运行的锅炉台数")
    page.fill("input[name=features_zh]", "锅炉")
    page.fill("input[name=unit]", "台")
    page.select_option("select[name=spatial_rule]", "outside")
    page.select_option("select[name=spatial_layer]", "built_up_areas")
    page.select_option("#lutu-builder-target", "001/三/八#1")
    assert page.input_value("input[name=target_value]") == "0"
    assert page.input_value("input[name=target_deadline]") == "2025"
    assert page.input_value("select[name=direction]") == "lower"
    page.select_option("select[name=areas]", "210800")
    page.wait_for_selector("#lutu-preview-areas tr[data-adcode='210881']", timeout=15_000)
    assert "盖州市" in page.text_content("#lutu-preview-areas")
    assert page.locator("#lutu-preview-features li a").count() > 0
    href = page.get_attribute("#lutu-preview-features li a", "href")
    assert href and "focus=coal_boilers" in href.replace("%2F", "/")

    row = page.locator("#lutu-builder-filters tr").first
    row.locator("select[name=filter_field]").select_option("capacity_t_per_h")
    assert "float" in row.locator(".lutu-builder-hint").text_content()
    row.locator("input[name=filter_value]").fill("abc")
    page.wait_for_selector("input[name=filter_value][aria-invalid=true]", timeout=15_000)
    assert "filter[0].value" in page.text_content("#lutu-preview-errors")
    row.locator("input[name=filter_value]").fill("35")
    page.wait_for_selector("#lutu-preview-areas tr[data-adcode='210800']", timeout=15_000)
    assert page.locator("[aria-invalid=true]").count() == 0
    assert not record["external"] and not record["errors"] and not record["dialogs"]
    page.close()
