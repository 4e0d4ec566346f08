"""Coordinate reference systems and datum conversions for Lütu.

Every transformation takes the source AND target CRS explicitly; nothing here guesses a
CRS from the data, except `gauss_kruger_crs`, which reads the zone an easting's prefix names.
Coordinates are always handled in (x, y) = (lon, lat) order.

Datums used in practice in China:

* **WGS84** (EPSG:4326) — GPS, GeoJSON (RFC 7946), Leaflet/Folium.
* **CGCS2000** (EPSG:4490) — the official Chinese datum. Its ellipsoid differs from WGS84's
  by < 0.1 mm; the realisations differ by centimetres at epoch 2000, plus a few cm per year
  of plate motion since: well under a metre, far below web-map precision. So no shift is
  applied between EPSG:4490 and EPSG:4326 (pyproj uses a "ballpark" null transformation).
* **GCJ-02** — the legally mandated obfuscation used by AMap (高德), Tencent and other
  licensed Chinese web maps: WGS84 plus a nonlinear offset of roughly 100–700 m. It is
  not a real datum, so pyproj cannot express it; it is implemented here with the widely
  published forward formula and an iterative inverse.
* **BD-09** — Baidu's (百度) further obfuscation of GCJ-02. Baidu's forward step GCJ-02 ->
  BD-09, as widely published, is (with x_pi = π·3000/180) ``z = √(x² + y²) +
  2e-5·sin(y·x_pi)``, ``θ = atan2(y, x) + 3e-6·cos(x·x_pi)``, ``bd = (z·cos θ + 0.0065,
  z·sin θ + 0.006)``: a shift of about 0.0065° east and 0.006° north with a tiny rotation and
  scaling, 760–1 010 m over China. The inverse published with it (take off the shift, then
  the rotation and scaling) is approximate, off by up to 1.8e-6° (0.21 m) over China. Here it
  only starts the same fixed-point iteration as for GCJ-02, which stops below 1e-9°. Measured
  on a 0.1° grid over China (73–136°E, 3–54°N): GCJ-02 -> BD-09 -> GCJ-02 comes back within
  1.2e-12°, WGS84 -> BD-09 -> WGS84 (BD-09 -> GCJ-02 -> WGS84) within 1.4e-11°, the GCJ-02
  inverse's share. Against positions AMap's and Baidu's own services give for city centres
  (the gcoord library's fixture, rounded to 1e-7°) the BD-09 step agrees to that rounding;
  tests/geo/test_crs.py checks both. Unlike GCJ-02, the BD-09 step has no China bbox.

Gauss-Krüger (CGCS2000): the 3-degree zones 25–45 (central meridians 75–135°E) are
EPSG:4513–4533 with the zone number prefixed to the easting (41 523 456.7 m: zone 41,
23 456.7 m east of the central meridian, whose easting is 500 000 m) and EPSG:4534–4554
without it; the 6-degree zones 13–23 are EPSG:4491–4501 (prefixed) and EPSG:4502–4512 (not).
An 8-digit easting names its zone, a 6-digit one does not: `gauss_kruger_crs` detects only
the former.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

__all__ = [
    "BD09",
    "CGCS2000",
    "CRS84",
    "GCJ02",
    "GK_CM123",
    "GK_NORTHING_CHINA",
    "GK_CM126",
    "GK_ZONE41",
    "GK_ZONE42",
    "WEB_MERCATOR",
    "WGS84",
    "GaussKruger",
    "bd09_geometry_to_wgs84",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "crs_label",
    "gauss_kruger",
    "gauss_kruger_crs",
    "gcj02_geometry_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "get_transformer",
    "in_china_bbox",
    "to_wgs84",
    "transform",
    "transform_xy",
    "wgs84_geometry_to_bd09",
    "wgs84_geometry_to_gcj02",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
    "xy_to_wgs84",
]

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"
CRS84 = "OGC:CRS84"  # WGS84 with explicit lon/lat axis order (as in GeoJSON)
WEB_MERCATOR = "EPSG:3857"
# CGCS2000 3-degree Gauss-Krüger, "CM" variants: false easting 500 000 m, no zone prefix.
GK_CM123 = "EPSG:4550"  # central meridian 123°E (营口, 121.5–124.5°E)
GK_CM126 = "EPSG:4551"  # central meridian 126°E (辽源, 124.5–127.5°E)
# Same projections with the zone number prefixed to the easting (false easting 41 500 000 m
# and 42 500 000 m), as printed on many Chinese survey drawings.
GK_ZONE41 = "EPSG:4529"  # zone 41, CM 123°E
GK_ZONE42 = "EPSG:4530"  # zone 42, CM 126°E
# Not CRSs pyproj knows: names for the obfuscated coordinates of Chinese web maps.
GCJ02 = "GCJ-02"  # AMap (高德), Tencent (腾讯)
BD09 = "BD-09"  # Baidu (百度)

G = TypeVar("G", bound=BaseGeometry)


# --------------------------------------------------------------------------- pyproj CRSs


@lru_cache(maxsize=64)
def get_transformer(src: str, dst: str) -> Transformer:
    """Return a cached pyproj Transformer from ``src`` to ``dst`` in lon/lat (x, y) order."""
    return Transformer.from_crs(src, dst, always_xy=True)


def transform_xy(
    src: str, dst: str, x: ArrayLike, y: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Transform coordinate arrays ``x``, ``y`` from CRS ``src`` to CRS ``dst``."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    ox, oy = get_transformer(src, dst).transform(xs, ys)
    return np.asarray(ox, dtype=np.float64), np.asarray(oy, dtype=np.float64)


def transform(src: str, dst: str, geom: G) -> G:
    """Transform a shapely geometry from CRS ``src`` to CRS ``dst`` (vectorised)."""
    transformer = get_transformer(src, dst)

    def _apply(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        ox, oy = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([ox, oy])

    return shapely.transform(geom, _apply)


# ------------------------------------------------------------------------------- GCJ-02

# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323

# Rough bounding box of China used by the published formula; outside it GCJ-02 == WGS84.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)

_TOL_DEG = 1e-9
_MAX_ITER = 30


def in_china_bbox(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where (lon, lat) lies in the rough China bbox in which GCJ-02 applies."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    return (
        (lon >= _CHINA_LON[0])
        & (lon <= _CHINA_LON[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )


def _gcj_offset(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 (lon, lat), without the bbox test."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0

    radlat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def _as_output(
    like_lon: ArrayLike, lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return Python floats for scalar input, arrays otherwise."""
    if np.ndim(like_lon) == 0:
        return float(lon), float(lat)
    return lon, lat


def wgs84_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Obfuscate WGS84 lon/lat to GCJ-02 (AMap) with the standard published formula.

    Accepts floats or numpy arrays; points outside China's rough bbox are returned unchanged.
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    dlon, dlat = _gcj_offset(lon_a, lat_a)
    inside = in_china_bbox(lon_a, lat_a)
    out_lon = np.where(inside, lon_a + dlon, lon_a)
    out_lat = np.where(inside, lat_a + dlat, lat_a)
    return _as_output(lon, out_lon, out_lat)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Recover WGS84 lon/lat from GCJ-02 by fixed-point iteration of the forward formula.

    The one-step "subtract the offset" inverse common online is only good to a few metres;
    iterating ``w <- w - (forward(w) - g)`` converges to < 1e-9° (well under 1 mm) in a few
    steps because the offset varies slowly. Points outside China's bbox are unchanged.
    """
    g_lon = np.asarray(lon, dtype=np.float64)
    g_lat = np.asarray(lat, dtype=np.float64)
    g_lon, g_lat = np.broadcast_arrays(g_lon, g_lat)
    out_lon = g_lon.astype(np.float64, copy=True)
    out_lat = g_lat.astype(np.float64, copy=True)
    inside = in_china_bbox(g_lon, g_lat)
    t_lon, t_lat = g_lon[inside], g_lat[inside]  # targets (GCJ-02)
    w_lon, w_lat = t_lon.copy(), t_lat.copy()  # estimate (WGS84), start at the target
    for _ in range(_MAX_ITER):
        dlon, dlat = _gcj_offset(w_lon, w_lat)
        err_lon = w_lon + dlon - t_lon
        err_lat = w_lat + dlat - t_lat
        w_lon = w_lon - err_lon
        w_lat = w_lat - err_lat
        if err_lon.size == 0 or max(np.abs(err_lon).max(), np.abs(err_lat).max()) < _TOL_DEG:
            break
    out_lon[inside] = w_lon
    out_lat[inside] = w_lat
    return _as_output(lon, out_lon, out_lat)


def _coords_fn(
    fn: Callable[[ArrayLike, ArrayLike], tuple[ArrayLike, ArrayLike]],
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """Adapt a (lon, lat) -> (lon, lat) array function to ``shapely.transform``."""

    def _apply(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        ox, oy = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([ox, oy])

    return _apply


def gcj02_geometry_to_wgs84(geom: G) -> G:
    """Convert every coordinate of a GCJ-02 (AMap) geometry to WGS84."""
    return shapely.transform(geom, _coords_fn(gcj02_to_wgs84))


def wgs84_geometry_to_gcj02(geom: G) -> G:
    """Convert every coordinate of a WGS84 geometry to GCJ-02 (e.g. to overlay AMap tiles)."""
    return shapely.transform(geom, _coords_fn(wgs84_to_gcj02))


# -------------------------------------------------------------------------------- BD-09

_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006


def _bd_forward(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Baidu's published GCJ-02 -> BD-09 step, on arrays."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def gcj02_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 lon/lat to Baidu's BD-09 (Baidu's published formula; floats or arrays)."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    out_lon, out_lat = _bd_forward(lon_a, lat_a)
    return _as_output(lon, out_lon, out_lat)


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Recover GCJ-02 lon/lat from BD-09: the published approximate inverse (good to ~0.2 m),
    refined by fixed-point iteration of the forward formula to < 1e-9°."""
    b_lon = np.asarray(lon, dtype=np.float64)
    b_lat = np.asarray(lat, dtype=np.float64)
    b_lon, b_lat = np.broadcast_arrays(b_lon, b_lat)
    x = b_lon - _BD_DLON
    y = b_lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    g_lon, g_lat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_MAX_ITER):
        f_lon, f_lat = _bd_forward(g_lon, g_lat)
        err_lon = f_lon - b_lon
        err_lat = f_lat - b_lat
        g_lon = g_lon - err_lon
        g_lat = g_lat - err_lat
        if err_lon.size == 0 or max(np.abs(err_lon).max(), np.abs(err_lat).max()) < _TOL_DEG:
            break
    return _as_output(lon, np.asarray(g_lon), np.asarray(g_lat))


def wgs84_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS84 lon/lat to BD-09 (via GCJ-02, which applies only inside China's bbox)."""
    g_lon, g_lat = wgs84_to_gcj02(np.asarray(lon, dtype=np.float64), lat)
    out_lon, out_lat = _bd_forward(np.asarray(g_lon), np.asarray(g_lat))
    return _as_output(lon, out_lon, out_lat)


def bd09_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Recover WGS84 lon/lat from BD-09: both iterative inverses, BD-09 -> GCJ-02 -> WGS84."""
    g_lon, g_lat = bd09_to_gcj02(np.asarray(lon, dtype=np.float64), lat)
    out_lon, out_lat = gcj02_to_wgs84(g_lon, g_lat)
    return _as_output(lon, np.asarray(out_lon), np.asarray(out_lat))


def bd09_geometry_to_wgs84(geom: G) -> G:
    """Convert every coordinate of a BD-09 (Baidu) geometry to WGS84."""
    return shapely.transform(geom, _coords_fn(bd09_to_wgs84))


def wgs84_geometry_to_bd09(geom: G) -> G:
    """Convert every coordinate of a WGS84 geometry to BD-09 (e.g. to overlay Baidu tiles)."""
    return shapely.transform(geom, _coords_fn(wgs84_to_bd09))


_GEOGRAPHIC = {WGS84, CGCS2000, CRS84}


def xy_to_wgs84(
    src: str, x: ArrayLike, y: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bring coordinate arrays in ``src`` to WGS84 lon/lat.

    ``src`` is a pyproj CRS, or ``GCJ02``/``BD09``; CGCS2000 is taken as WGS84 (no shift).
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if src in _GEOGRAPHIC:
        return xs, ys
    if src == GCJ02:
        lon, lat = gcj02_to_wgs84(xs, ys)
    elif src == BD09:
        lon, lat = bd09_to_wgs84(xs, ys)
    else:
        return transform_xy(src, WGS84, xs, ys)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def to_wgs84(src: str, geom: G) -> G:
    """Bring a geometry (or an array of them) in ``src`` to WGS84 lon/lat, as `xy_to_wgs84`."""
    if src in _GEOGRAPHIC:
        return geom
    return shapely.transform(geom, _coords_fn(lambda x, y: xy_to_wgs84(src, x, y)))


# --------------------------------------------------------------------- Gauss-Krüger zones

# Plausible northings in China (Hainan ~2.0e6 m to the Heilongjiang ~5.9e6 m).
GK_NORTHING_CHINA = (1.9e6, 6.0e6)
# How far from its central meridian an easting may plausibly lie, in metres: half a zone
# (1.5° or 3° at 18°N, where degrees are widest in China) and some overlap.
_GK_HALF_WIDTH = {3: 250_000.0, 6: 400_000.0}


@dataclass(frozen=True)
class GaussKruger:
    """A CGCS2000 Gauss-Krüger CRS: zone width (3 or 6°), zone number, central meridian, and
    whether its eastings carry the zone number as a prefix."""

    code: str
    width: int
    zone: int
    central_meridian: int
    prefixed: bool

    @property
    def false_easting(self) -> float:
        return self.zone * 1e6 + 500_000.0 if self.prefixed else 500_000.0

    @property
    def prefixed_code(self) -> str:
        """The same projection with the zone prefix on the eastings."""
        base, first = (4513, 25) if self.width == 3 else (4491, 13)
        return f"EPSG:{base + self.zone - first}"

    @property
    def plain_code(self) -> str:
        """The same projection without the zone prefix ("CM" variant)."""
        base, first = (4534, 25) if self.width == 3 else (4502, 13)
        return f"EPSG:{base + self.zone - first}"

    def plausible_easting(self, easting: ArrayLike) -> NDArray[np.bool_]:
        """True where ``easting`` can be an easting in this zone (prefix included if any)."""
        offset = np.asarray(easting, dtype=np.float64) - self.false_easting
        return np.abs(offset) <= _GK_HALF_WIDTH[self.width]


def gauss_kruger(code: str) -> GaussKruger | None:
    """Describe a CGCS2000 Gauss-Krüger code (EPSG:4491–4554), or None for any other CRS."""
    prefix, _, number = code.upper().partition(":")
    if prefix != "EPSG" or not number.isdigit():
        return None
    n = int(number)
    for base, first, width, prefixed in (
        (4513, 25, 3, True),
        (4534, 25, 3, False),
        (4491, 13, 6, True),
        (4502, 13, 6, False),
    ):
        count = 21 if width == 3 else 11
        if base <= n < base + count:
            zone = first + n - base
            cm = zone * 3 if width == 3 else zone * 6 - 3
            return GaussKruger(f"EPSG:{n}", width, zone, cm, prefixed)
    return None


def gauss_kruger_crs(easting: float, northing: float) -> str | None:
    """The CGCS2000 Gauss-Krüger CRS an easting with a zone prefix belongs to, or None.

    Detects 3° zones 25–45 (EPSG:4513–4533) and 6° zones 13–23 (EPSG:4491–4501) from an
    8-digit easting such as 41 523 456.7 (-> EPSG:4529); the northing must be plausible for
    China (1.9e6–6.0e6 m). A 6- or 7-digit easting carries no zone, so it gives None: the
    zone must then be declared.
    """
    try:
        e, n = float(easting), float(northing)
    except (TypeError, ValueError):
        return None
    if not (np.isfinite(e) and np.isfinite(n)):
        return None
    if not (10_000_000 <= e < 100_000_000 and GK_NORTHING_CHINA[0] <= n <= GK_NORTHING_CHINA[1]):
        return None
    zone = int(e // 1_000_000)
    if 25 <= zone <= 45:
        info = GaussKruger(f"EPSG:{4513 + zone - 25}", 3, zone, zone * 3, True)
    elif 13 <= zone <= 23:
        info = GaussKruger(f"EPSG:{4491 + zone - 13}", 6, zone, zone * 6 - 3, True)
    else:
        return None
    return info.code if bool(info.plausible_easting(e)) else None


_NAMED_CRS = {
    CGCS2000: "CGCS2000 经纬度 (EPSG:4490)",
    WGS84: "WGS84 经纬度 (EPSG:4326)",
    CRS84: "WGS84 经纬度 (OGC:CRS84)",
    GCJ02: "GCJ-02 高德/腾讯",
    BD09: "BD-09 百度",
    WEB_MERCATOR: "Web 墨卡托 Web Mercator (EPSG:3857)",
}


def crs_label(code: str) -> str:
    """A CRS as a planner knows it: "CGCS2000 经纬度 (EPSG:4490)", "GCJ-02 高德/腾讯",
    "CGCS2000 3°带 高斯-克吕格 第41带 (EPSG:4529)" (with whether the easting carries the zone
    prefix); any other code as it is."""
    if code in _NAMED_CRS:
        return _NAMED_CRS[code]
    info = gauss_kruger(code)
    if info is None:
        return code
    prefix = "东坐标带带号" if info.prefixed else "无带号"
    return (
        f"CGCS2000 {info.width}°带 高斯-克吕格 第{info.zone}带，中央经线 "
        f"{info.central_meridian}°E，{prefix} ({info.code})"
    )
