"""Access in headless Chromium: a restricted layer is not on an anonymous reader's map and is
on a logged-in reader's; an editor's large upload shows its progress, then the preview, then
the commit's result."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import (
    TEST_PASSWORD,
    app_config,
    boiler_ledger_bytes,
    browser_login,
    ledger_boiler,
    recorded_page,
    served,
)

from app import create_app
from webmap import ledger_pages
from webmap.auth import UserStore

pytestmark = pytest.mark.browser

RESTRICTED_LAYER = "coal_boilers"
RESTRICTED_NAME = "燃煤锅炉"  # the layer's name in the layer control and legend


@pytest.fixture(scope="module")
def access_server(
    store_path: Path, source_dirs: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An app with coal boilers restricted and every upload worked on by a job; its own copy
    of the store, since the upload test commits."""
    folder = tmp_path_factory.mktemp("access")
    store = folder / "lutu.gpkg"
    shutil.copy(store_path, store)
    app = create_app(
        app_config(
            store,
            source_dirs,
            folder,
            RESTRICTED_LAYERS=[RESTRICTED_LAYER],
            LEDGER_BACKGROUND_BYTES=0,
        )
    )
    app.instance_path = str(folder / "instance")  # uploads go here, not into the repo
    users = UserStore(app.config["USERS_PATH"])
    users.add("viewer1", TEST_PASSWORD, "viewer")
    users.add("editor1", TEST_PASSWORD, "editor")
    with served(app) as url:
        yield url


def wait_for_layers(page) -> dict:
    page.wait_for_function(
        "() => window.lutu && lutu.pending === 0 && Object.keys(lutu.drawn).length > 0",
        timeout=30_000,
    )
    return page.evaluate("lutu.drawn")


def log_in(page, base: str, name: str) -> None:
    browser_login(page, base, name)


def test_the_restricted_layer_is_only_on_a_logged_in_map(browser, access_server) -> None:
    page, record = recorded_page(browser)
    page.goto(access_server + "/")
    drawn = wait_for_layers(page)
    assert RESTRICTED_LAYER not in drawn and "villages" in drawn
    controls = page.locator(".leaflet-control-layers").text_content()  # collapsed: not inner
    assert "Villages" in controls  # the control lists the layers ...
    assert RESTRICTED_NAME not in controls and RESTRICTED_NAME not in page.content()  # ... not it
    assert not any(f"/{RESTRICTED_LAYER}" in url for url in record["requests"])

    log_in(page, access_server, "viewer1")
    drawn = wait_for_layers(page)
    page.wait_for_function(f"() => '{RESTRICTED_LAYER}' in lutu.drawn", timeout=30_000)
    assert RESTRICTED_NAME in page.locator(".leaflet-control-layers").text_content()
    assert record["external"] == [] and record["errors"] == []
    page.close()


def test_an_upload_shows_its_progress_then_the_preview_and_commits(
    browser, access_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The job is held at the start of its check stage until the page has shown it, so the
    # progress page is seen whatever the machine's speed.
    gate = threading.Event()
    real_preview = ledger_pages.preview

    def held_preview(*args, progress=None, **kwargs):
        def report(stage: str, done: int, total: int | None) -> None:
            if progress is not None:
                progress(stage, done, total)
            if stage == "check" and done == 0:
                gate.wait(60)

        return real_preview(*args, progress=report, **kwargs)

    monkeypatch.setattr(ledger_pages, "preview", held_preview)
    rows = [ledger_boiler(f"P-{n}", lon=122.2352 + n * 1e-4) for n in range(1, 41)]
    ledger = tmp_path / "大台账.csv"
    ledger.write_bytes(boiler_ledger_bytes(rows))

    page, record = recorded_page(browser)
    log_in(page, access_server, "editor1")
    page.goto(access_server + "/ledger")
    page.select_option("select[name=layer]", RESTRICTED_LAYER)
    page.set_input_files("input[name=file]", str(ledger))
    page.click("form.lutu-upload button[type=submit]")
    page.wait_for_url("**/ledger/jobs/*")
    page.wait_for_function(
        "() => document.getElementById('lutu-job-stage-en').textContent === 'check'",
        timeout=30_000,
    )
    bar = page.locator("#lutu-job-bar")
    assert bar.count() == 1
    assert "校验与匹配" in page.locator(".lutu-job-now").inner_text()
    gate.set()
    page.wait_for_url("**/ledger/preview/*", timeout=60_000)
    assert "新增 40" in page.locator(".lutu-summary").inner_text()
    assert page.locator("table.lutu-plan tbody tr").count() == 40

    page.click("form.lutu-commit button[type=submit]")
    page.wait_for_function(
        "() => document.body.innerText.includes('已写入')", timeout=60_000, polling=500
    )
    assert any("/ledger/jobs/" in url for url in record["requests"][-20:])
    page.goto(access_server + "/audit?layer=coal_boilers")
    assert page.locator("table.lutu-table tbody tr").count() == 40
    assert record["external"] == [] and record["errors"] == []
    page.close()
