"""Reports through the web (downloads, pages that offer them, errors) and the `report` CLI
(output folder, atomic writes, progress). What is inside a PDF is tested in tests/reports/."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import quote

import pytest
from pypdf import PdfReader

from geo import files as geo_files
from webmap import files as web_files
from webmap import reports as web_reports

pytestmark = pytest.mark.both_stores

COUNTY = "210881"  # 营口 盖州市
MEASURE = "001/三/八"  # 推动煤炭清洁高效利用


@pytest.fixture
def report_app(make_app, tmp_path: Path):
    return make_app(REPORT_DIR=str(tmp_path), REPORT_MAP_REVIEW_NUMBER="GS(2024)0001号")


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


# -- downloads -------------------------------------------------------------------------------
def test_county_report_downloads_as_a_named_pdf(client) -> None:
    response = client.get(f"/reports/county/{COUNTY}.pdf?year=2024")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert quote("绿图_县区报告_盖州市_210881_2024.pdf") in disposition
    assert "2024" in pdf_text(response.data)
    # A repeat from the browser's copy is answered before anything is rendered.
    again = client.get(
        f"/reports/county/{COUNTY}.pdf?year=2024",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304 and again.data == b""


def test_measure_map_as_png_and_atlas_map_as_svg(client) -> None:
    png = client.get(f"/reports/measure/{MEASURE}.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
    svg = client.get("/reports/atlas/liaoyuan.svg?year=2021")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data[:2000]
    assert quote("绿图_图集_辽源市_liaoyuan_2021.svg") in svg.headers["Content-Disposition"]


def test_report_settings_reach_the_pdf(report_app) -> None:
    data = report_app.test_client().get(f"/reports/measure/{MEASURE}.pdf").data
    text = pdf_text(data)
    assert "审图号：GS(2024)0001号" in text
    assert "EPSG:4550" in text


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/reports/county/999999.pdf", 404, "999999"),
        ("/reports/county/210800.pdf", 404, "210800"),  # a city is not a county
        ("/reports/measure/009/一/一.pdf", 404, "009/一/一"),
        ("/reports/atlas/shenyang.pdf", 404, "shenyang"),
        ("/reports/poster/210881.pdf", 404, "poster"),
        (f"/reports/county/{COUNTY}.docx", 400, "docx"),
        (f"/reports/county/{COUNTY}.pdf?year=2019", 400, "2020"),
        (f"/reports/county/{COUNTY}.pdf?year=2026", 400, "2025"),
        (f"/reports/county/{COUNTY}.pdf?year=abc", 400, "year"),
    ],
)
def test_bad_report_requests_say_what_is_wrong(client, url: str, status: int, words: str) -> None:
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["status"] == status
    assert words in error["message"]
    html = client.get(url)  # a person gets the error page
    assert html.status_code == status and html.mimetype == "text/html"


# -- pages that offer reports ----------------------------------------------------------------
def test_reports_page_lists_atlases_and_every_county(client, store) -> None:
    html = client.get("/reports?year=2022").get_data(as_text=True)
    counties = [
        f.properties
        for f in store.query("districts", limit=None, with_geometry=False).features
        if f.properties["level"] == "county"
    ]
    assert counties
    for county in counties:
        assert f"/reports/county/{county['adcode']}.pdf?year=2022" in html
        assert county["name_zh"] in html
    assert 'action="/reports/atlas/yingkou.pdf"' in html
    assert 'action="/reports/atlas/liaoyuan.pdf"' in html
    assert "<option selected>2022</option>" in html


def test_measure_page_offers_its_report(client) -> None:
    html = client.get(f"/measures/{MEASURE}").get_data(as_text=True)
    assert f'action="/reports/measure/{quote(MEASURE)}.pdf"' in html
    assert "措施报告 PDF" in html


def test_dashboard_offers_the_atlas_and_county_reports_for_its_year(client) -> None:
    html = client.get("/dashboard?city=liaoyuan&year=2023").get_data(as_text=True)
    assert 'action="/reports/atlas/liaoyuan.pdf"' in html
    assert "<option selected>2023</option>" in html
    assert "/reports/county/220402.pdf?year=2023" in html  # 龙山区


def test_county_popup_links_to_its_report(client) -> None:
    html = client.get(f"/map/popup/districts/{COUNTY}").get_data(as_text=True)
    assert f'href="/reports/county/{COUNTY}.pdf"' in html
    city_popup = client.get("/map/popup/districts/210800").get_data(as_text=True)
    assert "/reports/" not in city_popup


# -- CLI -------------------------------------------------------------------------------------
def test_cli_writes_a_county_report(report_app, tmp_path: Path) -> None:
    result = report_app.test_cli_runner().invoke(
        args=["report", "county", COUNTY, "--year", "2023", "--out", "gaizhou.pdf"]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "gaizhou.pdf"
    assert out.read_bytes().startswith(b"%PDF")
    assert str(out) in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["gaizhou.pdf"]  # no temporary left


def test_cli_atlas_shows_progress_and_names_its_file(report_app, tmp_path: Path) -> None:
    result = report_app.test_cli_runner().invoke(args=["report", "atlas", "liaoyuan"])
    assert result.exit_code == 0, result.output
    assert "辽源市" in result.output and "幅图" in result.output  # the progress bar's label
    out = tmp_path / "绿图_图集_辽源市_liaoyuan_2025.pdf"
    assert len(PdfReader(out).pages) >= 5


def test_cli_measure_map_as_png(report_app, tmp_path: Path) -> None:
    result = report_app.test_cli_runner().invoke(
        args=["report", "measure", MEASURE, "--out", "coal.png"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "coal.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["county", COUNTY, "--out", "../escape.pdf"], "outside the report folder"),
        (["county", COUNTY, "--out", "/tmp/escape.pdf"], "outside the report folder"),
        (["county", COUNTY, "--out", "missing/x.pdf"], "does not exist"),
        (["county", COUNTY, "--out", "x.docx"], "format"),
        (["county", COUNTY, "--out", "x.png", "--format", "pdf"], ".pdf"),
        (["county", "999999"], "999999"),
        (["measure", "001/九十九"], "001/九十九"),
        (["atlas", "beijing"], "beijing"),
        (["county", COUNTY, "--year", "2026"], "2026"),
        (["poster", COUNTY], "poster"),
    ],
)
def test_cli_bad_input_is_a_clear_error_and_writes_nothing(
    report_app, tmp_path: Path, args: list[str], words: str
) -> None:
    before = set(tmp_path.parent.iterdir())
    result = report_app.test_cli_runner().invoke(args=["report", *args])
    assert result.exit_code != 0
    assert words in result.output
    assert list(tmp_path.iterdir()) == []
    assert set(tmp_path.parent.iterdir()) == before


def test_a_failed_render_leaves_the_old_file_and_no_part_file(
    report_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "gaizhou.pdf"
    out.write_bytes(b"%PDF-old")

    def broken(report, fmt, progress=None) -> bytes:
        raise web_reports.ReportError("the renderer broke halfway")

    monkeypatch.setattr(web_reports, "render", broken)
    result = report_app.test_cli_runner().invoke(
        args=["report", "county", COUNTY, "--out", "gaizhou.pdf"]
    )
    assert result.exit_code != 0 and "broke halfway" in result.output
    assert out.read_bytes() == b"%PDF-old"
    assert [p.name for p in tmp_path.iterdir()] == ["gaizhou.pdf"]


def test_atomic_write_cleans_up_when_writing_fails(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "r.pdf"
    target.write_bytes(b"old")

    def full_disk(*_args) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(geo_files.os, "fsync", full_disk)
    with pytest.raises(OSError):
        web_files.write_atomically(target, b"new" * 1000)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]


# -- in the browser --------------------------------------------------------------------------
@pytest.mark.browser
def test_dashboard_download_button_gives_the_pdf(browser, live_server, tmp_path: Path) -> None:
    page = browser.new_page(accept_downloads=True)
    page.goto(live_server + "/dashboard?city=liaoyuan&year=2022")
    form = page.locator('form[data-report="atlas/liaoyuan"]')
    assert form.locator("select[name=year]").input_value() == "2022"
    with page.expect_download(timeout=60_000) as info:
        form.locator("button", has_text="PDF").click()
    download = info.value
    assert download.suggested_filename == "绿图_图集_辽源市_liaoyuan_2022.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert "辽源市" in pdf_text(path.read_bytes())
    # The map alone, for another year picked in the same form.
    form.locator("select[name=year]").select_option("2021")
    with page.expect_download(timeout=60_000) as info:
        form.locator("button", has_text="PNG").click()
    assert info.value.suggested_filename == "绿图_图集_辽源市_liaoyuan_2021.png"
    page.close()


# -- basemap -----------------------------------------------------------------------------------
def test_reports_draw_no_tiles_unless_a_basemap_is_configured(app) -> None:
    assert web_reports.settings_from(app.config).tile_url is None  # offline by default


def test_the_first_configured_basemap_is_the_report_background() -> None:
    settings = web_reports.settings_from(
        {"BASEMAPS": "tianditu,osm", "TIANDITU_KEY": "k3y", "REPORT_TILE_TIMEOUT_S": 1}
    )
    assert settings.tile_url is not None
    assert settings.tile_url.startswith("https://t0.tianditu.gov.cn/vec_w/")
    assert "tk=k3y" in settings.tile_url and "{s}" not in settings.tile_url
    assert "天地图" in settings.tile_attribution and settings.tile_timeout_s == 1.0
    custom = web_reports.settings_from(
        {"BASEMAPS": "custom", "BASEMAP_URL": "http://tiles.intranet/{z}/{x}/{y}.png"}
    )
    assert custom.tile_url == "http://tiles.intranet/{z}/{x}/{y}.png"
