"""Where a ledger's rows are: their coordinates found and brought to WGS84 lon/lat.

A row's geometry comes, in this order, from the file's own geometries (GIS formats), a WKT
column, longitude/latitude columns (经度/纬度, lng/lat, lon/lat, longitude/latitude, units in
brackets ignored) or X/Y columns (X/Y, 东坐标/北坐标, easting/northing, 横坐标/纵坐标).

The CRS the user declares wins over the file's; without either it is inferred from the values:
lon/lat within China's range is CGCS2000 (EPSG:4490, equal to WGS84 at map precision), an
8-digit easting names its Gauss-Krüger zone, and 6/7-digit metres stop the import, since
only the person who made the file knows their zone. GCJ-02 (高德) and BD-09 (百度) look like
lon/lat, so they are never guessed, only declared; they are converted with `geo.crs`.

Chinese surveyors call the northing X and the easting Y: X/Y columns are read the way their
values say (a 4.4e6 X next to a 41.5e6 Y is a northing) and the notes tell which way was taken.
Named longitude/latitude columns are never swapped silently: a row whose latitude sits in the
longitude column is an error. Every per-row problem (missing or non-numeric value, swapped
lat/lon, outside China or the given area, empty or invalid geometry, wrong geometry type,
unreadable WKT) is a `LedgerError` naming the file, the row as the file numbers it and the
column; nothing is repaired without being asked. What is read with a small liberty (a height
dropped, a one-part multi geometry taken as its part, a ring closed, degrees-minutes-seconds
turned decimal, a position just outside the indicative outline) is kept, with a warning on
its row in `Located.warnings`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.errors import ShapelyError
from shapely.geometry.base import BaseGeometry

from geo import crs as gcrs
from geo.analysis import gk_zone_epsg, to_local
from geo.errors import LedgerError

if TYPE_CHECKING:
    from geo.ledger.read import Table

__all__ = [
    "AREA_TOLERANCE_M",
    "COORD_SYSTEMS",
    "distance_text",
    "Located",
    "is_coordinate_column",
    "locate",
    "parse_crs",
    "rings_closed_warning",
]

# ------------------------------------------------------------------------------- CRSs

COORD_SYSTEMS: dict[str, str] = {
    "EPSG:4490": gcrs.CGCS2000,
    "CGCS2000": gcrs.CGCS2000,
    "EPSG:4326": gcrs.WGS84,
    "WGS84": gcrs.WGS84,
    **{f"EPSG:{n}": f"EPSG:{n}" for n in range(4513, 4555)},  # 3° Gauss-Krüger
    **{f"EPSG:{n}": f"EPSG:{n}" for n in range(4491, 4513)},  # 6° Gauss-Krüger
    "GCJ-02": gcrs.GCJ02,
    "gcj02": gcrs.GCJ02,
    "高德": gcrs.GCJ02,
    "amap": gcrs.GCJ02,
    "腾讯": gcrs.GCJ02,
    "火星坐标": gcrs.GCJ02,
    "BD-09": gcrs.BD09,
    "bd09": gcrs.BD09,
    "百度": gcrs.BD09,
    "baidu": gcrs.BD09,
}

ACCEPTED = (
    "EPSG:4490 (CGCS2000), EPSG:4326 (WGS84), EPSG:4513–4533 (CGCS2000 3° Gauss-Krüger zones "
    "25–45, zone prefix on the easting), EPSG:4534–4554 (the same zones without the prefix), "
    "EPSG:4491–4512 (6° zones), GCJ-02 (高德, amap), BD-09 (百度, baidu)"
)


def _crs_key(text: str) -> str:
    return re.sub(r"[\s\-_:]", "", unicodedata.normalize("NFKC", text)).casefold()


_CRS_KEYS = {_crs_key(k): v for k, v in COORD_SYSTEMS.items()}


def parse_crs(text: str) -> str:
    """The canonical name of a CRS a user declares ("epsg 4529", "4529", "gcj02", "百度",
    pyproj's own name of an accepted code ...), or a LedgerError listing what is accepted."""
    key = _crs_key(str(text))
    if key in _CRS_KEYS:
        return _CRS_KEYS[key]
    if key.isdigit() and f"EPSG:{key}" in COORD_SYSTEMS:
        return f"EPSG:{key}"
    code = _epsg_of(str(text))
    if code is not None and code in COORD_SYSTEMS:
        return code
    raise LedgerError(
        f"不认识的坐标系 unknown coordinate system {text!r}; accepted: {ACCEPTED}", field="crs"
    )


@lru_cache(maxsize=64)
def _epsg_of(text: str) -> str | None:
    try:
        code = CRS.from_user_input(text).to_epsg()
    except CRSError:
        return None
    return None if code is None else f"EPSG:{code}"


def _file_crs(text: str, path: str) -> str:
    """The file's CRS in the form `geo.crs` and pyproj take."""
    try:
        return parse_crs(text)
    except LedgerError:
        pass
    try:
        CRS.from_user_input(text)
    except CRSError:
        raise LedgerError(
            f"文件的坐标系无法识别，请声明坐标系 the file's CRS {text[:80]!r} is not one pyproj "
            "knows: "
            f"declare the CRS ({ACCEPTED})",
            path=path,
            field="crs",
        ) from None
    return _epsg_of(text) or text


@lru_cache(maxsize=64)
def _is_geographic(src: str) -> bool:
    if src in (gcrs.CGCS2000, gcrs.WGS84, gcrs.CRS84, gcrs.GCJ02, gcrs.BD09):
        return True
    return bool(CRS.from_user_input(src).is_geographic)


# ---------------------------------------------------------------------------- result


@dataclass
class Located:
    """Where each row of a table is, in WGS84 lon/lat, and why a row could not be placed."""

    geometries: list[BaseGeometry | None]  # one per row; None where the row has an error
    errors: dict[int, LedgerError]  # by row index (0-based into table.rows)
    source_crs: str  # what the coordinates were read as
    columns: tuple[str, ...]  # where they came from: (lon/easting, lat/northing), (WKT,), ()
    notes: list[str] = field(default_factory=list)
    warnings: dict[int, list[LedgerError]] = field(default_factory=dict)  # accepted, with a word


# China's range for lon/lat, and for Gauss-Krüger northings (m); as in geo.crs.
LON_CHINA = (73.0, 136.0)
LAT_CHINA = (3.0, 54.0)
NORTHING_CHINA = gcrs.GK_NORTHING_CHINA
# How far outside the `area` a coordinate may lie: our outlines are indicative (示意), so a
# real position near the border can fall a few km outside them.
AREA_TOLERANCE_M = 3000.0

GEOMETRY_TYPES = ("Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
_MULTI = ("MultiPolygon", "MultiLineString")
_SINGLE = {"Polygon": "MultiPolygon", "LineString": "MultiLineString", "Point": "MultiPoint"}
_TYPE_IDS = {
    "Point": 0,
    "LineString": 1,
    "Polygon": 3,
    "MultiPoint": 4,
    "MultiLineString": 5,
    "MultiPolygon": 6,
}

# ------------------------------------------------------------------------ column names

WKT_NAMES = ("WKT", "geometry", "几何", "坐标WKT")
LON_NAMES = ("经度", "lon", "lng", "longitude")
LAT_NAMES = ("纬度", "lat", "latitude")
XY_NAMES = ("X", "Y", "东坐标", "北坐标", "easting", "northing", "横坐标", "纵坐标")

_LON = {"经度", "东经", "经", "lon", "lng", "long", "longitude"}
_LAT = {"纬度", "北纬", "纬", "lat", "latitude"}
_EAST = {"东", "东向", "横", "e", "east", "easting"}
_NORTH = {"北", "北向", "纵", "n", "north", "northing"}
_WKT = {"geometry", "geom", "thegeom", "几何", "几何图形", "空间坐标"}
_UNIT = re.compile(r"[(\[【][^)\]】]*[)\]】]")
_CRS_HINT = re.compile(r"gcj|bd09|bd-09|高德|百度|火星", re.IGNORECASE)


def _norm(name: str) -> str:
    """A column name without case, brackets (units), separators, "坐标" and CRS tags."""
    s = unicodedata.normalize("NFKC", str(name)).casefold()
    s = _UNIT.sub("", s)
    s = re.sub(r"[\s_\-./:·,]", "", s).replace("坐标", "").replace("°", "")
    for tag in ("wgs84", "cgcs2000", "gcj02", "bd09", "2000"):
        if len(s) > len(tag):
            s = s.replace(tag, "")
    return s


def _find(columns: Sequence[str], names: set[str]) -> str | None:
    return next((c for c in columns if _norm(c) in names), None)


def _find_suffix(columns: Sequence[str], word: str) -> str | None:
    """The one column ending in `word` ("中心点经度"), if exactly one does."""
    hits = [c for c in columns if _norm(c).endswith(word)]
    return hits[0] if len(hits) == 1 else None


@dataclass(frozen=True)
class _Source:
    kind: str  # "file", "wkt", "lonlat", "en" (named easting/northing), "xy"
    columns: tuple[str, ...]


def _sources(table: Table) -> list[_Source]:
    cols = list(table.columns)
    found: list[_Source] = []
    if table.geometries is not None and any(g is not None for g in table.geometries):
        found.append(_Source("file", ()))
    wkt = next((c for c in cols if "wkt" in _norm(c)), None) or _find(cols, _WKT)
    if wkt is not None:
        found.append(_Source("wkt", (wkt,)))
    lon = _find(cols, _LON) or _find_suffix(cols, "经度")
    lat = _find(cols, _LAT) or _find_suffix(cols, "纬度")
    if lon and lat:
        found.append(_Source("lonlat", (lon, lat)))
    east, north = _find(cols, _EAST), _find(cols, _NORTH)
    if east and north:
        found.append(_Source("en", (east, north)))
    x, y = _find(cols, {"x"}), _find(cols, {"y"})
    if x and y:
        found.append(_Source("xy", (x, y)))
    return found


def is_coordinate_column(name: str) -> bool:
    """Whether a header cell names a coordinate (经度, X, WKT, ...): to find a header row."""
    key = _norm(name)
    return (
        key in _LON | _LAT | _EAST | _NORTH | _WKT | {"x", "y"}
        or "wkt" in key
        or key.endswith(("经度", "纬度"))
    )


def rings_closed_warning(rings: int) -> str:
    """The warning for polygon rings whose last point was not their first, and were closed."""
    if rings == 1:
        return "多边形环未闭合，已闭合 polygon ring not closed: closed"
    return f"{rings} 个多边形环未闭合，已闭合 {rings} polygon rings not closed: closed"


def _looked_for() -> str:
    return (
        f"WKT 列、经度/纬度列或 X/Y 列 a WKT column ({', '.join(WKT_NAMES)}), longitude/latitude "
        "columns "
        f"({'/'.join(LON_NAMES)} and {'/'.join(LAT_NAMES)}) or X/Y columns ({', '.join(XY_NAMES)})"
    )


# ------------------------------------------------------------------------------ values

_MISSING = {"", "-", "--", "—", "/", "nan", "null", "none", "n/a", "na", "无", "<na>"}
# 4,456,789.5 (two groups or more): thousands; one comma (40,667) could be a decimal comma.
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3}){2,}(\.\d*)?|[+-]?\d{1,3}( \d{3})+(\.\d*)?")
_DMS = re.compile(
    r"(\d+(?:\.\d+)?)[°度]\s*(?:(\d+(?:\.\d+)?)\s*(?:'|′|分)\s*)?"
    r"(?:(\d+(?:\.\d+)?)\s*(?:\"|″|′′|''|秒)\s*)?"
)
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+")  # 40,6: a decimal comma, or two numbers?
_WRITTEN_DEGREES = re.compile(r"[°度′'″\"分秒]")
_HEMISPHERE = re.compile(r"^(东经|西经|北纬|南纬|[NSEW])?\s*(.*?)\s*([NSEW])?$", re.IGNORECASE)


def _number(value: Any) -> tuple[float | None, str | None]:
    """A cell as a coordinate: (value, None), or (None, "missing" / "not a number" / "comma")."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return None, "missing"
    if isinstance(value, bool):
        return None, "not a number"
    if isinstance(value, Real | Decimal):
        v = float(value)
        return (None, "missing") if math.isnan(v) else (v, None)
    if not isinstance(value, str):
        return None, "not a number"
    text = unicodedata.normalize("NFKC", value).strip()
    if text.casefold() in _MISSING:
        return None, "missing"
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "").replace(" ", "")
    elif _COMMA_DECIMAL.fullmatch(text):
        return None, "comma"
    try:
        v = float(text)
    except ValueError:
        return _degrees(text)
    return (v, None) if math.isfinite(v) else (None, "not a number")


def _degrees(text: str) -> tuple[float | None, str | None]:
    """Degrees written the way people write them: 122.235°, E122.235, 122°14′06″, 北纬40.6."""
    m = _HEMISPHERE.match(text)
    if not m:
        return None, "not a number"
    before, body, after = m.group(1) or "", m.group(2), m.group(3) or ""
    if before and after:
        return None, "not a number"
    sign = -1.0 if (before + after).upper() in ("S", "W", "西经", "南纬") else 1.0
    body = body.rstrip("°度") if re.fullmatch(r"\d+(\.\d+)?[°度]?", body) else body
    try:
        return sign * float(body), None
    except ValueError:
        pass
    dms = _DMS.fullmatch(body)
    if not dms:
        return None, "not a number"
    minutes = float(dms.group(2) or 0.0)
    seconds = float(dms.group(3) or 0.0)
    if minutes >= 60 or seconds >= 60:
        return None, "not a number"
    return sign * (float(dms.group(1)) + minutes / 60.0 + seconds / 3600.0), None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fmt(v: float) -> str:
    return f"{v:.12g}"


_SRID = re.compile(r"^\s*SRID=(\d+)\s*;\s*", re.IGNORECASE)
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2}){9,}")  # hex WKB: a point is 21 bytes


# ------------------------------------------------------------------------ classifying


def _within(v: NDArray[np.float64], bounds: tuple[float, float]) -> NDArray[np.bool_]:
    return (v >= bounds[0]) & (v <= bounds[1])


def _eastlike(v: NDArray[np.float64]) -> NDArray[np.bool_]:
    """6-digit eastings (no zone prefix) or 8-digit ones (with it)."""
    return ((v >= 1e5) & (v < 1e6)) | ((v >= 1e7) & (v < 1e8))


def _northlike(v: NDArray[np.float64]) -> NDArray[np.bool_]:
    return _within(v, NORTHING_CHINA)


@dataclass
class _Looks:
    lonlat: NDArray[np.bool_]
    latlon: NDArray[np.bool_]
    en: NDArray[np.bool_]  # (easting, northing)
    ne: NDArray[np.bool_]  # (northing, easting)

    @classmethod
    def of(cls, a: NDArray[np.float64], b: NDArray[np.float64]) -> _Looks:
        return cls(
            lonlat=_within(a, LON_CHINA) & _within(b, LAT_CHINA),
            latlon=_within(a, LAT_CHINA) & _within(b, LON_CHINA),
            en=_eastlike(a) & _northlike(b),
            ne=_northlike(a) & _eastlike(b),
        )


def _suggest(area: BaseGeometry | None) -> str:
    """A declaration to suggest for unprefixed GK metres: the zone of `area` if known."""
    code = "EPSG:4550"
    if area is not None and not area.is_empty:
        try:
            code = gk_zone_epsg(area.centroid.x)
        except ValueError:
            pass
    info = gcrs.gauss_kruger(code)
    assert info is not None
    return (
        f"例如 e.g. {info.plain_code} (3° zone {info.zone}, CM {info.central_meridian}°E; "
        f"{info.prefixed_code} is the same zone with the prefix)"
    )


# ------------------------------------------------------------------------------ locate


def locate(
    table: Table,
    geometry_type: str,
    *,
    crs: str | None = None,
    area: BaseGeometry | None = None,
    area_name: str | None = None,
    repair: bool = False,
    area_tolerance_m: float | None = None,
) -> Located:
    """Find the coordinates of every row of `table` and bring them to WGS84 lon/lat.

    `geometry_type` is the layer's ("Point", "LineString", "MultiLineString", "Polygon",
    "MultiPolygon"): single geometries are promoted to multi, single-part multi ones demoted.
    `crs` is the user's declaration (see COORD_SYSTEMS); `area` (lon/lat, e.g. the city
    outline, named `area_name` in messages) is where every coordinate must lie, give or take
    `area_tolerance_m` (default AREA_TOLERANCE_M; inside it a row is kept with a warning).
    Problems of single rows land in `errors`; a file whose coordinates
    cannot be found or read at all raises LedgerError.
    """
    if geometry_type not in GEOMETRY_TYPES:
        raise ValueError(f"unknown geometry type {geometry_type!r}")
    return _Locator(table, geometry_type, crs, area, area_name, repair, area_tolerance_m).run()


@dataclass
class _Where:
    """How to name a coordinate in messages: by its two columns, or by one geometry field."""

    field: str
    pair: tuple[str, str] | None = None

    def at(self, x: float, y: float) -> str:
        if self.pair:
            return f"'{self.pair[0]}' = {_fmt(x)}, '{self.pair[1]}' = {_fmt(y)}"
        return f"({_fmt(x)}, {_fmt(y)})"

    def x_field(self) -> str:
        return self.pair[0] if self.pair else self.field

    def y_field(self) -> str:
        return self.pair[1] if self.pair else self.field


class _Locator:
    def __init__(
        self,
        table: Table,
        geometry_type: str,
        crs: str | None,
        area: BaseGeometry | None,
        area_name: str | None,
        repair: bool = False,
        area_tolerance_m: float | None = None,
    ) -> None:
        self.table = table
        self.repair = repair  # the person asked for invalid polygons to be made valid
        self.path = Path(table.path).name  # the name a person knows; never server folders
        self.n = len(table.rows)
        self.geometry_type = geometry_type
        self.area = area
        self.area_name = area_name or "the area"
        self.area_zh = area_name or ""  # 在营口市、辽源市范围外; 在范围外 without a name
        self.tolerance_m = AREA_TOLERANCE_M if area_tolerance_m is None else area_tolerance_m
        # What the reader already found wrong in single rows (a GeoJSON string coordinate).
        self.errors: dict[int, LedgerError] = dict(table.row_errors)
        self.warnings: dict[int, list[LedgerError]] = {}
        self.notes: list[str] = []
        declared = parse_crs(crs) if crs else None
        from_file = _file_crs(table.crs, self.path) if table.crs else None
        if declared and from_file and declared != from_file:
            self.notes.append(
                f"按声明的 {declared} 读取，不用文件自带的 {from_file} "
                f"the declared {declared} is used, not the file's {from_file}"
            )
        self.crs = declared or from_file
        self.given_crs = self.crs is not None

    def fail(self, index: int, message: str, column: str | None) -> None:
        if index not in self.errors:
            self.errors[index] = LedgerError(
                message, path=self.path, row=self.table.row_numbers[index], field=column
            )

    def warn(self, index: int, message: str, column: str | None) -> None:
        self.warnings.setdefault(index, []).append(
            LedgerError(message, path=self.path, row=self.table.row_numbers[index], field=column)
        )

    def run(self) -> Located:
        sources = _sources(self.table)
        source = next((s for s in sources if self._has_values(s)), None)
        if source is None:
            if sources:  # the columns are there but hold nothing
                source = sources[0]
            else:
                raise LedgerError(
                    f"没有坐标 no coordinates: looked for {_looked_for()}; the file has "
                    f"{', '.join(map(str, self.table.columns)) or 'no columns'}",
                    path=self.path,
                )
        if source.kind in ("file", "wkt"):
            geoms, where = self._read_geometries(source)
        else:
            geoms, where = self._read_pair(source)
        if not self.given_crs:
            hint = [c for c in source.columns if _CRS_HINT.search(str(c))]
            if hint:
                self.notes.append(
                    f"列名「{hint[0]}」提到网络地图坐标，但 GCJ-02、BD-09 "
                    "须声明才用：如是，请声明坐标系 "
                    f"column {hint[0]!r} mentions a web map's coordinates, but GCJ-02 and BD-09 "
                    "are only used when declared: declare the CRS if the values are such"
                )
        result = self._place(geoms, where)
        self._check_shapes(result, where)
        if self.area is not None:
            self._check_area(result, where)
        geometries: list[BaseGeometry | None] = [
            None if i in self.errors else result[i] for i in range(self.n)
        ]
        assert self.crs is not None
        columns = where.pair if where.pair else source.columns  # (lon/easting, lat/northing)
        errors = dict(sorted(self.errors.items()))
        warnings = {i: w for i, w in sorted(self.warnings.items()) if i not in errors}
        return Located(geometries, errors, self.crs, columns, self.notes, warnings)

    def _has_values(self, source: _Source) -> bool:
        if source.kind == "file":
            return True
        return any(
            any(_number(row.get(c))[1] != "missing" for c in source.columns)
            if source.kind != "wkt"
            else _present(row.get(source.columns[0]))
            for row in self.table.rows
        )

    # -------------------------------------------------------------------- geometries

    def _read_geometries(self, source: _Source) -> tuple[NDArray[np.object_], _Where]:
        geoms = np.full(self.n, None, dtype=object)
        if source.kind == "file":
            where = _Where("geometry")
            assert self.table.geometries is not None
            for i, g in enumerate(self.table.geometries):
                if g is None:
                    self.fail(i, "要素没有几何 the feature has no geometry", where.field)
                else:
                    geoms[i] = g
        else:
            where = _Where(source.columns[0])
            self._parse_wkt(geoms, where.field)
        live = np.flatnonzero(shapely.is_geometry(geoms))
        with_z = live[shapely.has_z(geoms[live])] if live.size else live
        if with_z.size:
            self.notes.append(
                f"{with_z.size} 行的高程 (Z) 已去掉 heights (Z) are dropped from {with_z.size} "
                "row(s)"
            )
            geoms[with_z] = shapely.force_2d(geoms[with_z])
            for i in with_z:
                self.warn(
                    int(i), "带高程 Z，只保留平面坐标 has heights (Z): kept in 2D", where.field
                )
        self._check_types(geoms, where)
        return geoms, where

    def _parse_wkt(self, geoms: NDArray[np.object_], column: str) -> None:
        texts: dict[int, str] = {}
        srids: Counter[str] = Counter()
        for i, row in enumerate(self.table.rows):
            value = row.get(column)
            if isinstance(value, BaseGeometry):
                geoms[i] = value
            elif isinstance(value, bytes | bytearray):
                try:
                    geoms[i] = shapely.from_wkb(bytes(value))
                except (ShapelyError, ValueError) as exc:
                    self.fail(i, f"无法读取 WKB 几何 cannot read the WKB geometry: {exc}", column)
            elif not _present(value):
                self.fail(i, f"没有几何：「{column}」为空 no geometry: '{column}' is empty", column)
            else:
                text = str(value)
                m = _SRID.match(text)
                if m:
                    srids[f"EPSG:{m.group(1)}"] += 1
                    text = text[m.end() :]
                texts[i] = text.strip()
        wkb = {i: t for i, t in texts.items() if _HEX.fullmatch(t)}
        wkt = {i: t for i, t in texts.items() if i not in wkb}
        for kind, parts, parse in (
            ("WKT", wkt, shapely.from_wkt),
            ("WKB", wkb, shapely.from_wkb),
        ):
            if not parts:
                continue
            index = np.fromiter(parts, dtype=np.intp, count=len(parts))
            parsed = parse(np.array(list(parts.values()), dtype=object), on_invalid="ignore")
            for i, g in zip(index, parsed, strict=True):
                if g is not None:
                    geoms[i] = g
                    continue
                try:
                    parse(parts[i])
                    message = "不是几何 not a geometry"
                except (ShapelyError, ValueError) as exc:
                    message = str(exc)
                closed = self._closed_rings(parts[i]) if "closed linestring" in message else None
                if closed is not None:
                    geoms[i] = closed
                    self.warn(int(i), rings_closed_warning(_unclosed_rings(parts[i])), column)
                    continue
                self.fail(
                    int(i),
                    f"无法读取 {kind} cannot read the {kind} {_show(parts[i])}: {message}",
                    column,
                )
        if srids and self.crs is None:
            code, _ = srids.most_common(1)[0]
            try:
                self.crs = _file_crs(code, self.path)
            except LedgerError:
                return
            self.notes.append(
                f"坐标系 {self.crs} 取自 WKT 的 SRID CRS {self.crs} taken from the WKT's SRID"
            )

    @staticmethod
    def _closed_rings(text: str) -> BaseGeometry | None:
        """The WKT's polygons with their open rings closed (GEOS's fix), or None."""
        try:
            fixed = shapely.from_wkt(text, on_invalid="fix")
        except (ShapelyError, ValueError):
            return None
        ok = fixed is not None and not fixed.is_empty
        return fixed if ok and fixed.geom_type in ("Polygon", "MultiPolygon") else None

    def _check_types(self, geoms: NDArray[np.object_], where: _Where) -> None:
        """Empty geometries and wrong types are errors; single <-> one-part multi converted."""
        wanted = self.geometry_type
        live = np.flatnonzero(shapely.is_geometry(geoms))
        for i in live[shapely.is_empty(geoms[live])]:
            self.fail(int(i), "几何为空 empty geometry", where.field)
            geoms[i] = None
        live = np.flatnonzero(shapely.is_geometry(geoms))
        kinds = shapely.get_type_id(geoms[live])
        want = _TYPE_IDS[wanted]
        if wanted in _MULTI:  # promote
            single = live[kinds == _TYPE_IDS[wanted.removeprefix("Multi")]]
            if single.size:
                make = (
                    shapely.multipolygons if wanted == "MultiPolygon" else shapely.multilinestrings
                )
                geoms[single] = make(geoms[single], indices=np.arange(single.size))
        else:  # demote one-part multi geometries
            multi = live[kinds == _TYPE_IDS[_SINGLE[wanted]]]
            parts = shapely.get_num_geometries(geoms[multi])
            for i, n in zip(multi[parts > 1], parts[parts > 1], strict=True):
                self.fail(
                    int(i),
                    f"{geoms[i].geom_type} 有 {n} 个部分，本图层每行只收一个 {wanted} "
                    f"has {n} parts; the layer takes one {wanted} per row",
                    where.field,
                )
                geoms[i] = None
            one = multi[parts == 1]
            if one.size:
                for i in one:
                    self.warn(
                        int(i),
                        f"只含一个部分的 {geoms[i].geom_type}，按 {wanted} 读 "
                        f"one-part {geoms[i].geom_type} read as its {wanted}",
                        where.field,
                    )
                geoms[one] = shapely.get_geometry(geoms[one], 0)
        live = np.flatnonzero(shapely.is_geometry(geoms))
        for i in live[shapely.get_type_id(geoms[live]) != want]:
            self.fail(
                int(i),
                f"应为 {wanted}，实为 {geoms[i].geom_type} expected a {wanted}, got a "
                f"{geoms[i].geom_type}",
                where.field,
            )
            geoms[i] = None

    # -------------------------------------------------------------------- pair columns

    def _read_pair(self, source: _Source) -> tuple[NDArray[np.object_], _Where]:
        a_col, b_col = source.columns
        if self.geometry_type != "Point":
            raise LedgerError(
                f"本图层需要 {self.geometry_type} 几何，但「{a_col}」「{b_col}」只给出点：请用 WKT "
                "列或 GIS 文件 "
                f"the layer needs {self.geometry_type} geometries, but columns '{a_col}' and "
                f"'{b_col}' give points: put the geometries in a WKT column or import a GIS file",
                path=self.path,
            )
        a = np.full(self.n, np.nan)
        b = np.full(self.n, np.nan)
        for i, row in enumerate(self.table.rows):
            for column, out in ((a_col, a), (b_col, b)):
                value = row.get(column)
                v, why = _number(value)
                if v is None:
                    if why == "missing":
                        message = f"缺少坐标「{column}」 missing coordinate in column '{column}'"
                    elif why == "comma":
                        message = (
                            f"坐标含逗号，不知是小数点还是分隔 the coordinate in column '{column}' "
                            f"has a comma: {_show(value)} — write a decimal point "
                            f"({str(value).replace(',', '.').replace('，', '.')})"
                        )
                    else:
                        message = (
                            f"坐标不是数字 the coordinate in column '{column}' is not a number: "
                            f"{_show(value)}"
                        )
                    self.fail(i, message, column)
                    continue
                out[i] = v
                if isinstance(value, str) and _WRITTEN_DEGREES.search(value):
                    self.warn(
                        i,
                        f"度分秒 {value.strip()} 按十进制度 {v:.6f} 读 "
                        f"degrees-minutes-seconds read as {v:.6f}°",
                        column,
                    )
        ok = np.isfinite(a) & np.isfinite(b)
        if self.crs is None:
            self._infer(a[ok], b[ok], _Where(f"{a_col}/{b_col}", (a_col, b_col)))
        if source.kind == "xy" and self._swap_xy(a[ok], b[ok], a_col, b_col):
            a, b = b, a
            a_col, b_col = b_col, a_col
        geoms = np.full(self.n, None, dtype=object)
        geoms[ok] = shapely.points(a[ok], b[ok])
        return geoms, _Where(f"{a_col}/{b_col}", (a_col, b_col))

    def _swap_xy(self, x: NDArray[np.float64], y: NDArray[np.float64], xc: str, yc: str) -> bool:
        """Whether X/Y columns hold (lat, lon) or (northing, easting); notes the reading."""
        looks = _Looks.of(x, y)
        assert self.crs is not None
        if _is_geographic(self.crs):
            if looks.latlon.sum() > looks.lonlat.sum():
                self.notes.append(
                    f"「{xc}」是纬度、「{yc}」是经度：已对调读取 "
                    f"'{xc}' holds latitudes and '{yc}' longitudes: read the other way round"
                )
                return True
            return False
        if looks.ne.sum() > looks.en.sum():
            self.notes.append(
                f"「{xc}」按北坐标、「{yc}」按东坐标读（测量习惯） "
                f"'{xc}' is read as northing and '{yc}' as easting (Chinese survey convention)"
            )
            return True
        if looks.en.any():
            self.notes.append(
                f"「{xc}」按东坐标、「{yc}」按北坐标读 '{xc}' is read as easting and '{yc}' as "
                "northing"
            )
        return False

    def _infer(self, a: NDArray[np.float64], b: NDArray[np.float64], where: _Where) -> None:
        """Set self.crs from the values (first coordinates of the rows), noting why."""
        looks = _Looks.of(a, b)
        geo = int((looks.lonlat | looks.latlon).sum())
        metric = looks.en | looks.ne
        if geo >= int(metric.sum()):
            self.crs = gcrs.CGCS2000
            if geo:
                self.notes.append(
                    "未声明坐标系：按 CGCS2000 经纬度 (EPSG:4490) 读取，地图精度下与 WGS84 相同 "
                    "no CRS declared: the values are lon/lat in China, read as CGCS2000 "
                    "(EPSG:4490), equal to WGS84 at map precision"
                )
            else:
                self.notes.append(
                    "未声明坐标系，也无法识别：按 CGCS2000 经纬度读取 "
                    "no CRS declared and none recognised: read as CGCS2000 lon/lat"
                )
            return
        east = np.where(looks.en, a, b)[metric]
        zones: Counter[str] = Counter()
        prefix = np.floor(east / 1e6)
        for number in np.unique(prefix[(east >= 1e7) & (east < 1e8)]):
            code = gcrs.gauss_kruger_crs(number * 1e6 + 500_000.0, NORTHING_CHINA[0])
            info = gcrs.gauss_kruger(code) if code else None
            if info is not None:
                zones[code] = int((info.plausible_easting(east) & (prefix == number)).sum())
        detected = sum(zones.values())
        if detected == 0 or int(metric.sum()) - detected > detected:
            columns = (
                f"'{where.pair[0]}' and '{where.pair[1]}'" if where.pair else f"'{where.field}'"
            )
            raise LedgerError(
                f"{columns} 像是没有带号的高斯-克吕格米制坐标：请声明坐标系 "
                f"columns {columns}: coordinates look like Gauss-Krüger metres without a zone: "
                f"declare the CRS, {_suggest(self.area)}",
                path=self.path,
                field=where.field,
            )
        code, _ = zones.most_common(1)[0]
        info = gcrs.gauss_kruger(code)
        assert info is not None
        self.crs = code
        self.notes.append(
            f"由东坐标带号识别为第 {info.zone} 带 {code} "
            f"zone {info.zone} detected from the easting prefix: {code} "
            f"(CGCS2000 {info.width}° Gauss-Krüger, CM {info.central_meridian}°E)"
        )

    # ------------------------------------------------------------- to WGS84 lon/lat

    def _place(self, geoms: NDArray[np.object_], where: _Where) -> NDArray[np.object_]:
        """Check every coordinate in the source CRS, convert, check it lies in China."""
        live = np.flatnonzero(shapely.is_geometry(geoms))
        coords, idx = shapely.get_coordinates(geoms[live], return_index=True)
        rows = live[idx]
        if self.crs is None:
            first = np.unique(idx, return_index=True)[1]
            self._infer(coords[first, 0], coords[first, 1], where)
        src = self.crs
        assert src is not None
        x, y = coords[:, 0].copy(), coords[:, 1].copy()
        checks: list[tuple[NDArray[np.bool_], Callable[[int], tuple[str, str]]]] = []
        info = gcrs.gauss_kruger(src)
        convert_from = src
        if _is_geographic(src):
            looks = _Looks.of(x, y)
            swapped = looks.latlon | ((np.abs(y) > 90) & (np.abs(x) <= 90))
            checks.append(
                (
                    swapped,
                    lambda j: (
                        "经纬度似乎填反了 latitude and longitude look swapped: "
                        f"{where.at(x[j], y[j])}",
                        where.field,
                    ),
                )
            )
            checks.append(
                (
                    ~_within(x, (-180, 180)) | ~_within(y, (-90, 90)),
                    self._not_lonlat(x, y, where, src),
                )
            )
        elif info is not None:
            looks = _Looks.of(x, y)
            checks.append(
                (
                    looks.ne & ~looks.en,
                    lambda j: (
                        "东、北坐标似乎填反了 easting and northing look swapped: "
                        f"{where.at(x[j], y[j])}",
                        where.field,
                    ),
                )
            )
            plain = gcrs.gauss_kruger(info.plain_code)
            prefixed = gcrs.gauss_kruger(info.prefixed_code)
            assert plain is not None and prefixed is not None
            is_plain = plain.plausible_easting(x)
            is_prefixed = prefixed.plausible_easting(x)
            checks.append((~(is_plain | is_prefixed), self._bad_easting(x, where, info)))
            checks.append(
                (
                    ~_northlike(y),
                    lambda j: (
                        f"北坐标 {_fmt(y[j])} 不在中国范围内 northing {_fmt(y[j])} is outside "
                        "China "
                        f"({NORTHING_CHINA[0]:,.0f}–{NORTHING_CHINA[1]:,.0f} m)",
                        where.y_field(),
                    ),
                )
            )
            other = is_plain if info.prefixed else is_prefixed & ~is_plain
            if other.any():
                n_rows = np.unique(rows[other]).size
                self.notes.append(
                    f"{n_rows} 行东坐标{'不带' if info.prefixed else '带'}带号，仍按第 "
                    f"{info.zone} 带读 "
                    f"{n_rows} row(s) have eastings {'without' if info.prefixed else 'with'} the "
                    f"zone prefix: read in zone {info.zone} all the same"
                )
            x = np.where(is_prefixed & ~is_plain, x - prefixed.zone * 1e6, x)
            convert_from = info.plain_code
        bad = self._first_failures(rows, checks)
        keep = ~np.isin(rows, bad)
        lon = np.full(x.shape, np.nan)
        lat = np.full(y.shape, np.nan)
        lon[keep], lat[keep] = gcrs.xy_to_wgs84(convert_from, x[keep], y[keep])
        if src == gcrs.GCJ02:
            self.notes.append(
                "GCJ-02（高德/腾讯）已换算为 WGS84（迭代反算，误差 < 1e-7°） "
                "GCJ-02 converted to WGS84 (iterative inverse, < 1e-7°)"
            )
        elif src == gcrs.BD09:
            self.notes.append(
                "BD-09（百度）经 GCJ-02 换算为 WGS84（迭代，误差 < 1e-7°） "
                "BD-09 converted to WGS84 via GCJ-02 (iterative, < 1e-7°)"
            )
        in_china = _within(lon, LON_CHINA) & _within(lat, LAT_CHINA)
        self._first_failures(
            rows,
            [
                (
                    keep & ~in_china,
                    lambda j: (
                        f"按 {src} 读在中国范围外 {where.at(coords[j, 0], coords[j, 1])} lies "
                        "outside China when read as "
                        f"{src} (at lon {lon[j]:.5f}, lat {lat[j]:.5f})",
                        where.field,
                    ),
                )
            ],
        )
        result = np.full(self.n, None, dtype=object)
        good = np.array([i not in self.errors for i in range(self.n)], dtype=bool)
        good_live = good[live]
        if good_live.any():
            take = good[rows]
            # set_coordinates fills the (copied) array in place, in coordinate order.
            placed = shapely.set_coordinates(
                geoms[live[good_live]], np.column_stack([lon[take], lat[take]])
            )
            result[live[good_live]] = placed
        return result

    def _not_lonlat(
        self, x: NDArray[np.float64], y: NDArray[np.float64], where: _Where, src: str
    ) -> Callable[[int], tuple[str, str]]:
        def message(j: int) -> tuple[str, str]:
            text = f"不是经纬度 not a longitude/latitude ({src}): {where.at(x[j], y[j])}"
            if _eastlike(np.array([x[j], y[j]])).any() and (abs(x[j]) > 1e5 or abs(y[j]) > 1e5):
                text += (
                    "；像是高斯-克吕格米制坐标，请声明坐标系 it looks like Gauss-Krüger metres: "
                    "declare the CRS, "
                    f"{_suggest(self.area)}"
                )
            column = where.x_field() if not -180 <= x[j] <= 180 else where.y_field()
            return text, column

        return message

    def _bad_easting(
        self, x: NDArray[np.float64], where: _Where, info: gcrs.GaussKruger
    ) -> Callable[[int], tuple[str, str]]:
        def message(j: int) -> tuple[str, str]:
            zone = int(x[j] // 1e6) if 1e7 <= x[j] < 1e8 else None
            if zone is not None and zone != info.zone:
                text = (
                    f"东坐标 {_fmt(x[j])} 带第 {zone} 带的带号，但按第 {info.zone} 带读 "
                    f"easting {_fmt(x[j])} carries the prefix of zone {zone}, but the "
                    f"coordinates are read in zone {info.zone} ({self.crs})"
                )
            else:
                half = 250_000 if info.width == 3 else 400_000
                text = (
                    f"东坐标 {_fmt(x[j])} 不在第 {info.zone} 带内 "
                    f"easting {_fmt(x[j])} does not lie in zone {info.zone} ({self.crs}: "
                    f"{500_000 - half:,}–{500_000 + half:,} m, or the same after the prefix "
                    f"{info.zone})"
                )
            return text, where.x_field()

        return message

    def _first_failures(
        self,
        rows: NDArray[np.intp],
        checks: Sequence[tuple[NDArray[np.bool_], Callable[[int], tuple[str, str]]]],
    ) -> NDArray[np.intp]:
        """Record, per row, the first failing check at its first failing coordinate."""
        failed: list[int] = []
        for mask, message in checks:
            hit = np.flatnonzero(mask)
            if not hit.size:
                continue
            hit_rows, first = np.unique(rows[hit], return_index=True)
            for row, j in zip(hit_rows, hit[first], strict=True):
                if int(row) not in self.errors:
                    text, column = message(int(j))
                    self.fail(int(row), text, column)
            failed.extend(int(r) for r in hit_rows)
        return np.array(sorted(set(failed)), dtype=np.intp)

    # --------------------------------------------------------------- after conversion

    def _check_shapes(self, result: NDArray[np.object_], where: _Where) -> None:
        """Invalid geometries are errors that say where and offer repair; none is repaired."""
        live = np.flatnonzero(shapely.is_geometry(result))
        if not live.size:
            return
        invalid = live[~shapely.is_valid(result[live])]
        for i in invalid:
            reason = shapely.is_valid_reason(result[i])
            m = re.match(r"(.*?)\[\s*(\S+)\s+(\S+)\s*\]", reason)
            if m:
                what, at = m.group(1), f" at ({float(m.group(2)):.6f}, {float(m.group(3)):.6f})"
            else:
                what, at = reason, ""
            if "self-intersection" in what.lower():
                what = "自相交 self-intersection"
            else:
                what = f"{result[i].geom_type} 无效 invalid {result[i].geom_type}: {what}"
            fixed = self._repaired(result[i]) if self.repair else None
            if fixed is not None:
                row = self.table.row_numbers[int(i)]
                self.notes.append(
                    f"第 {row} 行 row {row}: {what}{at} 已按要求用 make_valid 修复 repaired with "
                    "make_valid, as asked"
                )
                result[i] = fixed
                continue
            offer = (
                "无法修复 could not be repaired"
                if self.repair
                else "可选用 make_valid 修复 repair with make_valid is offered"
            )
            self.fail(int(i), f"{what}{at}; {offer}", where.field)
            result[i] = None

    def _repaired(self, geometry: BaseGeometry) -> BaseGeometry | None:
        """make_valid's polygons, as the layer's type; None when nothing areal is left."""
        parts = []
        for part in shapely.get_parts(shapely.make_valid(geometry)):
            if part.geom_type in ("Polygon", "MultiPolygon"):
                parts.extend(shapely.get_parts(part))
        if not parts:
            return None
        if self.geometry_type == "MultiPolygon":
            return shapely.MultiPolygon(parts)
        return parts[0] if len(parts) == 1 else None

    def _check_area(self, result: NDArray[np.object_], where: _Where) -> None:
        area = self.area
        assert area is not None
        live = np.flatnonzero(shapely.is_geometry(result))
        if not live.size:
            return
        shapely.prepare(area)
        outside = live[~shapely.covers(area, result[live])]
        if not outside.size:
            return
        try:
            epsg = gk_zone_epsg(area.centroid.x)
        except ValueError:
            epsg = gcrs.GK_CM123
        local_area = to_local([area], epsg)[0]
        coords, idx = shapely.get_coordinates(result[outside], return_index=True)
        local = to_local(shapely.points(coords), epsg)
        dist = shapely.distance(local_area, local)
        # Per geometry, its coordinate farthest from the area: sort by (geometry, -distance).
        order = np.lexsort((-dist, idx))
        first = order[np.r_[True, idx[order][1:] != idx[order][:-1]]]
        for j in first:
            i = outside[idx[j]]
            away = distance_text(float(dist[j]))
            if dist[j] <= self.tolerance_m:
                self.warn(
                    int(i),
                    f"在{self.area_zh}示意边界外 {away}（容差 "
                    f"{self.tolerance_m / 1000:g} km 内，已接受） outside {self.area_name}'s "
                    f"indicative outline by {away}, within the tolerance",
                    where.field,
                )
                continue
            self.fail(
                int(i),
                f"在{self.area_zh}范围外 {away} outside {self.area_name} by {away} "
                f"(at lon {coords[j, 0]:.5f}, lat {coords[j, 1]:.5f})",
                where.field,
            )
            result[i] = None


def distance_text(metres: float) -> str:
    """850 m, 1.2 km: a distance as a person reads it (not 0.0 km for a polygon's corner)."""
    return f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.1f} km"


def _unclosed_rings(text: str) -> int:
    """How many rings of a WKT polygon text do not end where they start."""
    count = 0
    for ring in re.findall(r"\(([^()]*)\)", text):
        points = [p.split() for p in ring.split(",") if p.strip()]
        count += bool(points) and points[0] != points[-1]
    return max(count, 1)


def _present(value: Any) -> bool:
    """Whether a cell holds anything (None, NaN, blanks and "—" and the like do not)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and value.strip().casefold() in _MISSING)
