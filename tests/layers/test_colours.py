"""Readable and distinct symbology: every badge, label and legend entry at WCAG AA (4.5:1),
and no two meanings sharing a colour on one map (ΔE76 ≥ 12), told apart by pattern too."""

import itertools
import re
from pathlib import Path

import pytest

from layers import all_layers
from layers.base import NO_DATA
from layers.colours import AA_TEXT, INK_LIGHT, blend, contrast, delta_e, ink_on
from plans.indicators import STATUS_COLOURS, STATUS_DASHES, STATUS_INK, STATUSES
from reports.content import Bar
from webmap.indicators import CHOROPLETH_OPACITY, status_style
from webmap.maps import CLUSTER_OPACITY, cluster_colour, legend_html

ROOT = Path(__file__).resolve().parents[2]
PAGE_CSS = (ROOT / "webmap/static/lutu.css").read_text()
REPORT_CSS = (ROOT / "reports/templates/report.css").read_text()
# Distinct classes: CIE76 ΔE 2.3 is just noticeable; map symbols need far more.
MIN_DELTA_E = 12
LEGEND_BACKGROUND = blend("#ffffff", "#000000", 0.94)  # the legend box over the darkest map


def css_rule(css: str, selector: str) -> dict[str, str]:
    """The declarations of the first rule whose selector list is exactly `selector`, with
    the stylesheet's custom properties (var(--x)) filled in."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    variables = dict(re.findall(r"(--[\w-]+):\s*([^;]+);", css))
    for m in re.finditer(r"([^{}]+)\{([^}]*)\}", css):
        if selector in [s.strip() for s in m.group(1).split(",")]:
            return {
                k.strip(): re.sub(r"var\((--[\w-]+)\)", lambda v: variables[v.group(1)], v_).strip()
                for k, v_ in (d.split(":", 1) for d in m.group(2).split(";") if ":" in d)
            }
    raise AssertionError(f"no CSS rule {selector}")


def test_ratio_matches_wcag_examples() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert ink_on("#fee08b") == "#1a1a1a" and ink_on("#1b7837") == INK_LIGHT


@pytest.mark.parametrize("status", STATUSES)
def test_status_badge_text_reads_on_its_colour(status: str) -> None:
    """Dashboard, indicator pages (--status/--status-ink) and PDF badges (Bar.ink)."""
    assert contrast(STATUS_INK[status], STATUS_COLOURS[status]) >= AA_TEXT
    bar = Bar(name="x", text="1", status=status, done=None, expected=None)
    assert contrast(bar.ink, bar.colour) >= AA_TEXT


def test_rendered_dashboard_badges_read(client) -> None:
    html = client.get("/dashboard?city=yingkou&year=2025").get_data(as_text=True)
    pairs = re.findall(r"--status: (#[0-9a-f]{6}); --status-ink: (#[0-9a-f]{6})", html)
    assert len(pairs) > 5
    for fill, ink in pairs:
        assert contrast(ink, fill) >= AA_TEXT, (fill, ink)


@pytest.mark.parametrize(
    ("css", "selector"),
    [
        (PAGE_CSS, ".lutu-demo-badge"),
        (PAGE_CSS, ".lutu-download button"),
        (PAGE_CSS, ".lutu-commit button"),
        (PAGE_CSS, ".lutu-danger"),
        (PAGE_CSS, ".lutu-header"),
        (REPORT_CSS, ".demo"),
        (REPORT_CSS, "table.grid th"),
    ],
)
def test_badges_and_buttons_read(css: str, selector: str) -> None:
    rule = css_rule(css, selector)
    assert contrast(rule["color"], rule["background"]) >= AA_TEXT, rule


def test_report_status_badge_default_ink_is_dark() -> None:
    assert css_rule(REPORT_CSS, ".status")["color"] == "#1a1a1a"
    assert "color: {{ bar.ink }}" in (ROOT / "reports/templates/report.html").read_text()


@pytest.mark.parametrize("status", STATUSES)
def test_county_labels_read_on_every_choropleth_fill(status: str) -> None:
    county_ink = css_rule(PAGE_CSS, ".leaflet-tooltip.lutu-label")["color"]
    city_ink = css_rule(PAGE_CSS, ".lutu-label-city")["color"]
    fill = blend(status_style(status)["fillColor"], "#ffffff", CHOROPLETH_OPACITY)
    assert contrast(county_ink, fill) >= AA_TEXT
    assert contrast(city_ink, fill) >= AA_TEXT


def test_legend_entries_read() -> None:
    """Legend text: ink and the muted English, on the legend box over any map."""
    assert contrast("#222222", LEGEND_BACKGROUND) >= AA_TEXT
    muted = re.search(r"--lutu-muted: (#[0-9a-f]{3,6})", PAGE_CSS).group(1)
    assert contrast(muted, LEGEND_BACKGROUND) >= AA_TEXT


@pytest.mark.parametrize("layer", all_layers(), ids=lambda layer: layer.id)
def test_cluster_counts_read(layer) -> None:
    assert contrast(INK_LIGHT, blend(cluster_colour(layer), "#ffffff", CLUSTER_OPACITY)) >= AA_TEXT


def map_classes() -> list[tuple[str, str, str]]:
    """Every class drawn on /map and the indicator maps: (layer, key, symbol colour). The
    districts are the base (their outlines are told apart by width), left out."""
    classes = []
    for layer in all_layers():
        if layer.id == "districts":
            continue
        for entry, style in zip(layer.legend, layer.legend_styles(), strict=True):
            colour = style["fillColor"] if layer.geometry_type == "Point" else style["color"]
            classes.append((layer.id, entry.key, colour))
    classes += [("indicator status", status, colour) for status, colour in STATUS_COLOURS.items()]
    return classes


def test_no_two_meanings_share_a_colour_on_a_map() -> None:
    clashes = [
        (a, b, round(delta_e(a[2], b[2]), 1))
        for a, b in itertools.combinations(map_classes(), 2)
        if not (a[1] == NO_DATA and b[1] == NO_DATA)  # 无数据 means the same everywhere
        and delta_e(a[2], b[2]) < MIN_DELTA_E
    ]
    assert clashes == []


@pytest.mark.parametrize("layer", all_layers(), ids=lambda layer: layer.id)
def test_status_classes_differ_by_pattern_too(layer) -> None:
    styles = layer.legend_styles()
    if layer.map_group == "base" or len(styles) < 2:
        return
    patterns = [s.get("dashArray") for s in styles]
    assert len(set(patterns)) == len(patterns), patterns
    html = str(legend_html([layer]))
    for p in patterns:
        assert f'stroke-dasharray="{p or "none"}"' in html


def test_choropleth_statuses_differ_by_pattern() -> None:
    patterns = [STATUS_DASHES[s] for s in STATUSES]
    assert len(set(patterns)) == len(patterns)
    assert [status_style(s).get("dashArray") for s in STATUSES] == patterns


def test_printed_map_labels_read() -> None:
    """Report maps draw labels on a white halo: codes in INK, district names darker grey."""
    from reports import cartography

    for ink in (cartography.INK, cartography.GREY, "#3b3b3b"):
        assert contrast(ink, "#ffffff") >= AA_TEXT
    assert cartography._Label("B01", 0, 0, 1).colour == cartography.INK


@pytest.mark.parametrize("status", STATUSES)
def test_sparkline_reads_on_the_card(status: str) -> None:
    from layers.colours import darken_for

    assert contrast(darken_for(INK_LIGHT, STATUS_COLOURS[status]), "#ffffff") >= AA_TEXT


def test_printed_legend_draws_the_line_patterns() -> None:
    from layers import get_layer
    from reports.document import swatch

    spurs = get_layer("rail_spurs")
    css = [
        str(swatch(spurs, e.color, dash=e.dash or "")).split('"')[1] for e in spurs.patterned_legend
    ]
    assert len(set(css)) == len(css), css
