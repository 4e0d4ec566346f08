"""Coordinate reference systems and datum conversions for Lütu.

Every transformation takes the source AND target CRS explicitly; nothing here guesses a
CRS from the data. Coordinates are always handled in (x, y) = (lon, lat) order.

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
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

__all__ = [
    "CGCS2000",
    "CRS84",
    "GK_CM123",
    "GK_CM126",
    "GK_ZONE41",
    "GK_ZONE42",
    "WEB_MERCATOR",
    "WGS84",
    "gcj02_geometry_to_wgs84",
    "gcj02_to_wgs84",
    "get_transformer",
    "in_china_bbox",
    "transform",
    "transform_xy",
    "wgs84_geometry_to_gcj02",
    "wgs84_to_gcj02",
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
