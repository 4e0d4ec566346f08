"""A report page's map, drawn with matplotlib in the local CGCS2000 Gauss-Krüger projection.

The map is made at a stated round scale (1:N on paper), framed on the page's focus; around it
the vector context (other counties dimmed and named, land, sea), the facilities (shape by
layer, colour by status) keyed by code labels placed so that none collide, a lon/lat
graticule, a metric scale bar, a north arrow turned to true north and an inset locator.
Everything is measured in millimetres on paper; the figure is exactly the size it is printed.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("agg")  # no display on a server; must precede pyplot-free figure use

import numpy as np  # noqa: E402
import shapely  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrow, PathPatch, Rectangle  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402
from pyproj import Transformer  # noqa: E402
from shapely.geometry import LineString, box  # noqa: E402
from shapely.geometry.base import BaseGeometry  # noqa: E402

from geo.store import Feature  # noqa: E402
from reports.content import Page, Report  # noqa: E402
from reports.fonts import check_glyphs, find_font, use_in_matplotlib  # noqa: E402
from reports.tiles import background  # noqa: E402

MM = 1 / 25.4  # inches per millimetre
HALO_GID = "lutu-halo"
ROUND_SCALES = (
    10_000,
    25_000,
    50_000,
    100_000,
    150_000,
    200_000,
    250_000,
    300_000,
    400_000,
    500_000,
    600_000,
    750_000,
    800_000,
    1_000_000,
    1_250_000,
    1_500_000,
    2_000_000,
    2_500_000,
    3_000_000,
    4_000_000,
    5_000_000,
    10_000_000,
)
SEA = "#d5e5f2"
OTHER_LAND = "#efede6"
OTHER_COUNTY = "#e4e1d8"
FOCUS_FILL = "#ffffff"
HALO = "#d6604d"
INK = "#222222"
GREY = "#6b6b6b"
LABEL_PT = 6.5
MARGIN_MM = (8.0, 5.5, 1.0, 1.0)  # left, bottom, right, top: room for graticule labels


@dataclass
class MapFrame:
    """Where the map sits: projection, scale and the projected extent of the paper frame."""

    epsg: int
    scale: int
    x0: float
    y0: float
    x1: float
    y1: float
    width_mm: float
    height_mm: float
    to_map: Transformer
    to_lonlat: Transformer

    def mm(self, x: np.ndarray | float, y: np.ndarray | float) -> tuple:
        """Projected metres -> millimetres on paper from the frame's lower left corner."""
        return (np.asarray(x) - self.x0) * 1000 / self.scale, (
            np.asarray(y) - self.y0
        ) * 1000 / self.scale

    def project(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda xy: np.column_stack(self.to_map.transform(*xy.T)))

    @property
    def box(self) -> BaseGeometry:
        return box(self.x0, self.y0, self.x1, self.y1)

    def lonlat_box(self) -> BaseGeometry:
        """The frame in lon/lat (densified: the frame's edges curve there)."""
        edge = shapely.segmentize(self.box, (self.x1 - self.x0) / 40)
        return shapely.transform(edge, lambda xy: np.column_stack(self.to_lonlat.transform(*xy.T)))


def choose_frame(focus: BaseGeometry, epsg: int, width_mm: float, height_mm: float) -> MapFrame:
    """The smallest round scale at which the focus (plus a margin) fits the frame."""
    to_map = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    to_lonlat = Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)
    projected = shapely.transform(focus, lambda xy: np.column_stack(to_map.transform(*xy.T)))
    minx, miny, maxx, maxy = projected.bounds
    need = max((maxx - minx) * 1.08 / (width_mm / 1000), (maxy - miny) * 1.08 / (height_mm / 1000))
    scale = next((s for s in ROUND_SCALES if s >= need), ROUND_SCALES[-1])
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w = width_mm / 1000 * scale / 2
    half_h = height_mm / 1000 * scale / 2
    return MapFrame(
        epsg,
        scale,
        cx - half_w,
        cy - half_h,
        cx + half_w,
        cy + half_h,
        width_mm,
        height_mm,
        to_map,
        to_lonlat,
    )


# ================================================================================== paths


def _polygon_path(geom: BaseGeometry) -> MplPath | None:
    """A matplotlib path for (multi)polygons with holes."""
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            c[0] = MplPath.MOVETO
            c[-1] = MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _lines(geom: BaseGeometry) -> Iterable[np.ndarray]:
    if geom.is_empty:
        return
    if geom.geom_type in ("LineString", "LinearRing"):
        yield np.asarray(geom.coords)[:, :2]
    elif hasattr(geom, "geoms"):
        for g in geom.geoms:
            yield from _lines(g)
    elif geom.geom_type == "Polygon":
        yield from _lines(geom.boundary)


# ============================================================================== drawing


@dataclass
class _Label:
    text: str
    x: float  # anchor, mm
    y: float
    radius: float  # the symbol's radius, mm (labels keep clear of it)
    size: float = LABEL_PT
    bold: bool = True
    colour: str = INK


def _text_box(text: str, size_pt: float) -> tuple[float, float]:
    """Width and height in mm of a one-line label (CJK 1 em; Latin up to 0.7 em, the width
    of a bold W or M, so an estimate never falls short of the drawn text)."""
    em = size_pt * 25.4 / 72
    width = sum(1.0 if ord(ch) > 0x2E80 else 0.7 for ch in text) * em
    return width, em * 1.15


def _overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(
    labels: Sequence[_Label],
    obstacles: list[tuple[float, float, float, float]],
    width_mm: float,
    height_mm: float,
) -> list[tuple[_Label, float, float, str, str]]:
    """Greedy placement: each label tries eight spots around its symbol, then eight further
    out (drawn with a leader line), and takes the first that overlaps no symbol, no placed
    label and no map furniture; otherwise it is left off (the table still lists the feature
    and says so). Returns (label, x, y, ha, va) in mm."""
    placed: list[tuple[_Label, float, float, str, str]] = []
    taken = list(obstacles)
    for lab in labels:
        w, h = _text_box(lab.text, lab.size)
        gap = lab.radius + 0.5
        near = (  # (dx, dy, ha, va) preferred order: right, left, above, below, diagonals
            (1, 0, "left", "center"),
            (-1, 0, "right", "center"),
            (0, 1, "center", "bottom"),
            (0, -1, "center", "top"),
            (0.8, 0.8, "left", "bottom"),
            (-0.8, 0.8, "right", "bottom"),
            (0.8, -0.8, "left", "top"),
            (-0.8, -0.8, "right", "top"),
        )
        spots = [(dx * gap, dy * gap, ha, va) for dx, dy, ha, va in near]
        spots += [(dx * (gap + 3.5), dy * (gap + 3.5), ha, va) for dx, dy, ha, va in near]
        for dx, dy, ha, va in spots:
            x, y = lab.x + dx, lab.y + dy
            left = {"left": x, "right": x - w, "center": x - w / 2}[ha]
            bottom = {"bottom": y, "top": y - h, "center": y - h / 2}[va]
            rect = (left, bottom, left + w, bottom + h)
            if rect[0] < 0.5 or rect[1] < 0.5 or rect[2] > width_mm - 0.5:
                continue
            if rect[3] > height_mm - 0.5:
                continue
            if any(_overlaps(rect, other) for other in taken):
                continue
            taken.append(rect)
            placed.append((lab, x, y, ha, va))
            break
    return placed


class MapDrawer:
    """Draws one page's map; `draw()` returns the matplotlib Figure."""

    def __init__(
        self,
        report: Report,
        page: Page,
        width_mm: float,
        height_mm: float,
        text_as_text: bool = True,
    ) -> None:
        self.report = report
        self.text_as_text = text_as_text
        self.page = page
        left, bottom, right, top = MARGIN_MM
        self.fig_w, self.fig_h = width_mm, height_mm
        self.map_w = width_mm - left - right
        self.map_h = height_mm - bottom - top
        self.frame = choose_frame(page.focus, page.epsg, self.map_w, self.map_h)
        self.obstacles: list[tuple[float, float, float, float]] = []
        self.labels: list[_Label] = []
        self.labelled: set[str] = set()
        self.furniture: list[tuple[float, float, float, float]] = []
        self.name_boxes: list[tuple[float, float, float, float]] = []
        self.font = find_font(report.settings.font)
        self.family = use_in_matplotlib(self.font)
        self.texts: list[str] = []

    # -- set-up ----------------------------------------------------------------------------
    def draw(self) -> Figure:
        fig = Figure(figsize=(self.fig_w * MM, self.fig_h * MM))
        fig.patch.set_facecolor("white")
        left, bottom, _right, _top = MARGIN_MM
        # The axes are in paper millimetres: data drawn there is projected and rescaled.
        ax = fig.add_axes(
            (
                left / self.fig_w,
                bottom / self.fig_h,
                self.map_w / self.fig_w,
                self.map_h / self.fig_h,
            )
        )
        ax.set_xlim(0, self.map_w)
        ax.set_ylim(0, self.map_h)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_facecolor(SEA)
        for spine in ax.spines.values():
            spine.set_linewidth(0.8)
            spine.set_color(INK)
            spine.set_zorder(20)
        self.ax = ax
        self.fig = fig
        names = self._context()
        self._furniture()  # first: facilities' labels and district names keep clear of it
        self.furniture = list(self.obstacles)
        self._items()
        self._district_names(*names)
        self._labels()
        self._graticule()
        check_glyphs(self.font, self.texts, where=f"map of {self.page.title}")
        return fig

    def _to_mm(self, geom: BaseGeometry) -> BaseGeometry:
        f = self.frame
        return shapely.transform(
            geom,
            lambda xy: np.column_stack(
                [(xy[:, 0] - f.x0) * 1000 / f.scale, (xy[:, 1] - f.y0) * 1000 / f.scale]
            ),
        )

    def _paper(self, lonlat_geom: BaseGeometry) -> BaseGeometry:
        """A lon/lat geometry on paper (mm), clipped a little outside the frame."""
        geom = self._to_mm(self.frame.project(lonlat_geom))
        pad = 5
        geom = shapely.clip_by_rect(geom, -pad, -pad, self.map_w + pad, self.map_h + pad)
        # Detail finer than 0.1 mm on paper cannot be seen; dropping it keeps the PDF small.
        return shapely.simplify(geom, 0.1) if geom.geom_type != "Point" else geom

    def _halo(self, width: float) -> dict:
        """A white halo around a label. For the PDF the SVG keeps text as text (small, and
        searchable), and `svg_bytes` adds the halo as a stroked copy; path effects would turn
        every label into outlines."""
        if self.text_as_text:
            return {"gid": f"{HALO_GID}-{width}"}
        return {"path_effects": [patheffects.withStroke(linewidth=width, foreground="white")]}

    def _text(self, x: float, y: float, s: str, **kw) -> None:
        self.texts.append(s)
        kw.setdefault("fontfamily", self.family)
        self.ax.text(x, y, s, **kw)

    # -- context ---------------------------------------------------------------------------
    def _context(self) -> tuple[list[tuple[Feature, BaseGeometry]], set[str]]:
        page = self.page
        frame_ll = self.frame.lonlat_box().buffer(0.05)
        visible = [d for d in self.report.districts if d.geometry.intersects(frame_ll)]
        levels = {
            lv: [d for d in visible if d.properties["level"] == lv]
            for lv in ("province", "city", "county")
        }
        land = [self._paper(d.geometry) for d in levels["province"]]
        self.has_tiles = self._tile_background()
        if not self.has_tiles:
            for geom in land:
                self._fill(geom, OTHER_LAND, edge="none", z=1)
        self.has_sea = not self.has_tiles and (
            shapely.union_all(land).area < self.map_w * self.map_h * 0.995 if land else True
        )
        focus_codes = self._focus_county_codes()
        names: list[tuple[Feature, BaseGeometry]] = []
        # The page's own counties last: indicative boundaries overlap a little, and a
        # neighbour must never be painted over the area the page is about.
        levels["county"].sort(key=lambda c: c.properties["adcode"] in focus_codes)
        for county in levels["county"]:
            geom = self._paper(county.geometry)
            inside = county.properties["adcode"] in focus_codes
            if self.has_tiles:  # over a basemap: the page's area clear, neighbours veiled
                fill, alpha = ("none", 1.0) if inside else ("#ffffff", 0.5)
            else:
                fill, alpha = (FOCUS_FILL if inside else OTHER_COUNTY), 1.0
            self._fill(geom, fill, edge="#a8a49a", lw=0.4, alpha=alpha, z=2)
            names.append((county, geom))
        for city in levels["city"]:
            self._outline(self._paper(city.geometry), "#8a867c", lw=0.7, dash=(4, 1.5), z=3)
        for prov in levels["province"]:
            self._outline(self._paper(prov.geometry), "#7a766c", lw=0.9, dash=(6, 1.5, 1, 1.5), z=3)
        focus = self._paper(page.focus)
        self._outline(focus, HALO, lw=5.0, alpha=0.35, z=4)
        self._outline(focus, "#5b1a12", lw=1.0, z=4)
        for item in page.context:
            entry = item.layer.legend[item.layer.legend_keys.index(item.legend_key)]
            geom = self._paper(item.feature.geometry)
            self._fill(
                geom, entry.fill_color or entry.color, edge=entry.color, lw=0.5, alpha=0.22, z=5
            )
        return names, focus_codes

    def _tile_background(self) -> bool:
        """The configured basemap under everything, if its server answers in time."""
        settings = self.report.settings
        if not settings.tile_url:
            return False
        f = self.frame
        image = background(
            settings.tile_url,
            f.epsg,
            (f.x0, f.y0, f.x1, f.y1),
            (self.map_w, self.map_h),
            f.scale,
            timeout=settings.tile_timeout_s,
        )
        if image is None:
            return False
        self.ax.imshow(
            image, extent=(0, self.map_w, 0, self.map_h), zorder=0.5, interpolation="bilinear"
        )
        return True

    def _focus_county_codes(self) -> set[str]:
        page = self.page
        if page.kind == "county":
            return {page.focus_adcode}
        focus = page.focus.buffer(-0.001)
        return {
            d.properties["adcode"]
            for d in self.report.districts
            if d.properties["level"] == "county"
            and focus.contains(d.geometry.representative_point())
        }

    def _district_names(
        self, names: list[tuple[Feature, BaseGeometry]], focus_codes: set[str]
    ) -> None:
        """Neighbours named in grey inside their visible part; on city pages every county."""
        for county, geom in names:
            inside = county.properties["adcode"] in focus_codes
            if self.page.kind == "county" and inside:
                continue  # the title names it
            visible = shapely.clip_by_rect(geom, 2, 2, self.map_w - 2, self.map_h - 2)
            if visible.is_empty or visible.area < 80:
                continue
            spot = (
                shapely.maximum_inscribed_circle(visible)
                if hasattr(shapely, "maximum_inscribed_circle")
                else None
            )
            point = (
                shapely.get_point(spot, 0) if spot is not None else visible.representative_point()
            )
            size = 8.5 if inside else 8
            w, h = _text_box(county.properties["name_zh"], size)
            # Beside the centre where symbols are in the way; the page's own counties are
            # named even if every spot is taken (on a halo), neighbours only where one is free.
            spots = [(0.0, 0.0), (0, 1.6 * h), (0, -1.6 * h), (w, 0), (-w, 0)]
            spots += [(0.7 * w, 1.6 * h), (-0.7 * w, 1.6 * h), (0.7 * w, -1.6 * h)]
            spots += [(-0.7 * w, -1.6 * h), (0, 3.2 * h), (0, -3.2 * h)]
            rects = [
                (
                    point.x + dx - w / 2,
                    point.y + dy - h / 2,
                    point.x + dx + w / 2,
                    point.y + dy + h / 2,
                )
                for dx, dy in spots
            ]
            rects = [r for r in rects if visible.contains(box(*r).centroid)]
            free = [r for r in rects if not any(_overlaps(r, o) for o in self.obstacles)]
            if free:
                rect = free[0]
            elif (
                inside
                and rects
                and not any(_overlaps(rects[0], o) for o in self.furniture + self.name_boxes)
            ):
                rect = rects[0]
            else:
                continue
            self.name_boxes.append(rect)
            point = box(*rect).centroid
            self.obstacles.append(rect)
            self._text(
                point.x,
                point.y,
                county.properties["name_zh"],
                ha="center",
                va="center",
                fontsize=size,
                color="#3b3b3b" if inside else GREY,
                zorder=8,
                **self._halo(2.0),
            )

    def _fill(self, geom, colour, edge="none", lw=0.0, alpha=1.0, z=1) -> None:
        path = _polygon_path(geom)
        if path is None:
            return
        self.ax.add_patch(
            PathPatch(path, facecolor=colour, edgecolor=edge, linewidth=lw, alpha=alpha, zorder=z)
        )

    def _outline(self, geom, colour, lw=1.0, alpha=1.0, dash=None, z=3) -> None:
        for xy in _lines(geom.boundary if geom.geom_type.endswith("Polygon") else geom):
            (line,) = self.ax.plot(
                xy[:, 0],
                xy[:, 1],
                color=colour,
                lw=lw,
                alpha=alpha,
                zorder=z,
                solid_joinstyle="round",
            )
            if dash:
                line.set_dashes(dash)

    # -- facilities ------------------------------------------------------------------------
    def _items(self) -> None:
        ax = self.ax
        for item in self.page.items:
            geom = self._paper(item.feature.geometry)
            if geom.is_empty:
                continue
            layer = item.layer
            colour = item.colour
            if layer.geometry_type.endswith("Polygon"):
                self._fill(geom, colour, edge=_darker(colour), lw=0.6, alpha=0.75, z=6)
                anchor, radius = geom.representative_point(), 1.0
            elif "LineString" in layer.geometry_type:
                for xy in _lines(geom):
                    ax.plot(
                        xy[:, 0], xy[:, 1], color="white", lw=3.2, zorder=6, solid_capstyle="round"
                    )
                    (line,) = ax.plot(
                        xy[:, 0], xy[:, 1], color=colour, lw=1.9, zorder=7, solid_capstyle="round"
                    )
                    if item.dash:  # the web map's pattern (px at 4 px width) -> points
                        line.set_dashes([float(v) * 0.45 for v in item.dash.split()])
                anchor = geom.interpolate(0.5, normalized=True)
                radius = 0.8
            else:
                radius = layer.point_radius * 0.17  # the web map's px radius -> mm on paper
                ax.plot(
                    geom.x,
                    geom.y,
                    marker=layer.report_marker,
                    markersize=radius * 2 * 72 / 25.4,  # points
                    markerfacecolor=colour,
                    markeredgecolor="#333333",
                    markeredgewidth=0.5,
                    zorder=9,
                    linestyle="none",
                )
                anchor = geom
                self.obstacles.append(
                    (geom.x - radius, geom.y - radius, geom.x + radius, geom.y + radius)
                )
            if (
                self.page.label_items
                and 0 <= anchor.x <= self.map_w
                and 0 <= anchor.y <= self.map_h
            ):
                self.labels.append(_Label(item.code, anchor.x, anchor.y, radius))

    def _labels(self) -> None:
        placed = place_labels(self.labels, self.obstacles, self.map_w, self.map_h)
        self.labelled = {lab.text for lab, *_ in placed}
        for lab, x, y, ha, va in placed:
            if math.hypot(x - lab.x, y - lab.y) > lab.radius + 1.5:  # a far label: lead to it
                self.ax.plot(
                    [lab.x, x], [lab.y, y], color=GREY, lw=0.35, zorder=11, solid_capstyle="butt"
                )
            self._text(
                x,
                y,
                lab.text,
                ha=ha,
                va=va,
                fontsize=lab.size,
                fontweight="bold" if lab.bold else "normal",
                color=lab.colour,
                zorder=12,
                **self._halo(1.6),
            )

    # -- graticule -------------------------------------------------------------------------
    def _graticule(self) -> None:
        lonlat = self.frame.lonlat_box()
        minlon, minlat, maxlon, maxlat = lonlat.bounds
        step = next((s for s in (0.05, 0.1, 0.25, 0.5, 1, 2, 5) if (maxlon - minlon) / s <= 5), 5)
        bottom = LineString([(0, 0), (self.map_w, 0)])
        left = LineString([(0, 0), (0, self.map_h)])
        for lon in np.arange(math.floor(minlon / step) * step, maxlon + step, step):
            line = self._paper(LineString([(lon, minlat - 1), (lon, maxlat + 1)]).segmentize(0.02))
            self._grid_line(line)
            hit = line.intersection(bottom)
            if not hit.is_empty and 3 < hit.centroid.x < self.map_w - 3:
                self._grid_label(hit.centroid.x, -0.8, _dms(lon, "E"), ha="center", va="top")
        lat_step = step
        for lat in np.arange(math.floor(minlat / lat_step) * lat_step, maxlat + lat_step, lat_step):
            line = self._paper(LineString([(minlon - 1, lat), (maxlon + 1, lat)]).segmentize(0.02))
            self._grid_line(line)
            hit = line.intersection(left)
            if not hit.is_empty and 3 < hit.centroid.y < self.map_h - 3:
                self._grid_label(
                    -0.8, hit.centroid.y, _dms(lat, "N"), ha="right", va="center", rotation=90
                )

    def _grid_line(self, line: BaseGeometry) -> None:
        for xy in _lines(line):
            self.ax.plot(xy[:, 0], xy[:, 1], color="#7f8fa6", lw=0.35, alpha=0.8, zorder=10)

    def _grid_label(self, x: float, y: float, s: str, **kw) -> None:
        self._text(x, y, s, fontsize=5.8, color=GREY, clip_on=False, **kw)

    # -- furniture -------------------------------------------------------------------------
    def _furniture(self) -> None:
        self._north_arrow()
        self._scale_bar()
        self._inset()
        if self.report.is_demo:
            self._demo_stamp()

    def _north_arrow(self) -> None:
        """An arrow to true north: grid north turned by the meridian convergence at the centre."""
        f = self.frame
        cx, cy = (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2
        lon, lat = f.to_lonlat.transform(cx, cy)
        nx, ny = f.to_map.transform(lon, lat + 0.05)
        angle = math.atan2(nx - cx, ny - cy)  # clockwise from grid north
        self.convergence_deg = math.degrees(angle)
        x, y, length = self.map_w - 7, self.map_h - 13, 8.0
        dx, dy = length * math.sin(angle), length * math.cos(angle)
        self.ax.add_patch(
            FancyArrow(
                x - dx / 2,
                y - dy / 2,
                dx,
                dy,
                width=0.6,
                head_width=3.2,
                head_length=3.6,
                length_includes_head=True,
                color=INK,
                zorder=15,
            )
        )
        self._text(
            x + dx / 2 * 1.05,
            y + dy / 2 + 1.0,
            "北",
            ha="center",
            va="bottom",
            fontsize=9,
            fontweight="bold",
            color=INK,
            zorder=15,
        )
        self.obstacles.append((x - 4, y - 5, x + 4, y + 9))

    def _scale_bar(self) -> None:
        scale = self.frame.scale
        km_per_mm = scale / 1_000_000
        target = self.map_w * 0.2 * km_per_mm
        nice = 10 ** math.floor(math.log10(target))
        length_km = max(m * nice for m in (1, 2, 2.5, 5) if m * nice <= target)
        bar_mm = length_km / km_per_mm
        x, y = 4.0, 4.0
        self.ax.add_patch(
            Rectangle(
                (x - 2, y - 2.5),
                bar_mm + 16,
                11.5,
                facecolor="white",
                alpha=0.85,
                edgecolor="none",
                zorder=14,
            )
        )
        for i in range(4):
            self.ax.add_patch(
                Rectangle(
                    (x + i * bar_mm / 4, y + 1.5),
                    bar_mm / 4,
                    1.0,
                    facecolor=INK if i % 2 == 0 else "white",
                    edgecolor=INK,
                    linewidth=0.4,
                    zorder=15,
                )
            )
        for frac in (0, 0.5, 1):
            self._text(
                x + frac * bar_mm,
                y + 0.9,
                _km(length_km * frac),
                ha="center",
                va="top",
                fontsize=5.5,
                color=INK,
                zorder=15,
            )
        self._text(
            x + bar_mm + 1.5,
            y + 2,
            "千米",
            ha="left",
            va="center",
            fontsize=5.5,
            color=INK,
            zorder=15,
        )
        self._text(
            x,
            y + 4.0,
            f"比例尺 1:{scale:,}",
            ha="left",
            va="bottom",
            fontsize=6.5,
            color=INK,
            zorder=15,
        )
        self.obstacles.append((x - 2, y - 2.5, x + bar_mm + 14, y + 9))

    def _inset(self) -> None:
        """A small locator: the page's area within its city (or the city within its province)."""
        page = self.page
        area = next(
            (d for d in self.report.districts if d.properties["adcode"] == page.locator_adcode),
            None,
        )
        if area is None:
            return
        w, h = 34.0, 27.0
        x0, y0 = 1.5, self.map_h - h - 1.5
        inset = self.fig.add_axes(
            (
                (MARGIN_MM[0] + x0) / self.fig_w,
                (MARGIN_MM[1] + y0) / self.fig_h,
                w / self.fig_w,
                h / self.fig_h,
            )
        )
        inset.set_xticks([])
        inset.set_yticks([])
        inset.set_facecolor("white")
        for spine in inset.spines.values():
            spine.set_linewidth(0.6)
            spine.set_color(INK)
        to_map = self.frame.project
        area_p = to_map(area.geometry)
        minx, miny, maxx, maxy = area_p.bounds
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        half = max((maxx - minx) / w, (maxy - miny) / (h - 4)) * 1.1 / 2
        inset.set_xlim(cx - half * w, cx + half * w)
        inset.set_ylim(cy - half * h - half * 2, cy + half * h - half * 2)
        inset.set_aspect("equal")
        children = [
            d for d in self.report.districts if d.properties["parent_adcode"] == page.locator_adcode
        ]
        for d in [area, *children]:
            path = _polygon_path(to_map(d.geometry))
            if path is not None:
                inset.add_patch(
                    PathPatch(path, facecolor="#f1efe9", edgecolor="#9a968c", linewidth=0.3)
                )
        focus = _polygon_path(to_map(page.focus))
        if focus is not None:
            inset.add_patch(
                PathPatch(focus, facecolor="#d6604d", edgecolor="#5b1a12", linewidth=0.4)
            )
        inset.add_patch(
            Rectangle(
                (self.frame.x0, self.frame.y0),
                self.frame.x1 - self.frame.x0,
                self.frame.y1 - self.frame.y0,
                fill=False,
                edgecolor=INK,
                linewidth=0.5,
                linestyle=(0, (2, 1)),
            )
        )
        label = f"位置示意（{area.properties['name_zh']}）"
        self.texts.append(label)
        inset.text(
            0.03,
            0.97,
            label,
            transform=inset.transAxes,
            ha="left",
            va="top",
            fontsize=5.5,
            fontfamily=self.family,
            color=INK,
        )
        self.obstacles.append((0, y0 - 1.5, x0 + w + 1.5, self.map_h))

    def _demo_stamp(self) -> None:
        text = "示例数据 · 虚构设施 DEMO DATA"
        w, _h = _text_box(text, 6.5)
        x, y = self.map_w - 2.5, 2.5
        self._text(
            x,
            y,
            text,
            ha="right",
            va="bottom",
            fontsize=6.5,
            color="#b2182b",
            fontweight="bold",
            zorder=16,
            bbox={
                "boxstyle": "square,pad=0.35",
                "facecolor": "white",
                "edgecolor": "#b2182b",
                "linewidth": 0.6,
                "alpha": 0.9,
            },
        )
        self.obstacles.append((x - w - 2, y - 1.5, x + 1.5, y + 5))


def _darker(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"#{int(r * 0.6):02x}{int(g * 0.6):02x}{int(b * 0.6):02x}"


def _dms(value: float, hemi: str) -> str:
    degrees = int(math.floor(value + 1e-9))
    minutes = round((value - degrees) * 60)
    if minutes == 60:
        degrees, minutes = degrees + 1, 0
    return f"{degrees}°{minutes:02d}′{hemi}"


def _km(km: float) -> str:
    return f"{km:g}"


# ============================================================================== outputs


def svg_bytes(fig: Figure, text_as_text: bool = True) -> bytes:
    """The map as SVG. With `text_as_text` (the PDF's map) labels stay <text> in the report
    font, each with a stroked white copy under it as its halo; otherwise glyph outlines, so
    the file shows the same anywhere without the font."""
    buf = io.BytesIO()
    fonttype = "none" if text_as_text else "path"
    with matplotlib.rc_context({"svg.fonttype": fonttype, "svg.hashsalt": "lutu"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue().decode("utf-8")
    if text_as_text:
        svg = _HALO_TEXT.sub(_with_halo, svg)
    return svg.encode("utf-8")


_HALO_TEXT = re.compile(
    rf'(<g id="{HALO_GID}-([\d.]+)">\s*)<text style="([^"]*)"([^>]*)>(.*?)</text>', re.S
)


def _with_halo(m: re.Match) -> str:
    start, width, style, attrs, body = m.groups()
    halo = (
        f"{style}; stroke: #ffffff; stroke-width: {width}px; stroke-linejoin: round; fill: #ffffff"
    )
    under = f'<text style="{halo}"{attrs}>{body}</text>'
    return f'{start}{under}<text style="{style}"{attrs}>{body}</text>'


def png_bytes(fig: Figure, dpi: int = 200) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
