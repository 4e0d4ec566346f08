"""Tests for geo.crs: pyproj CRS handling and the GCJ-02 <-> WGS84 conversion."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import CRS, Geod
from shapely.geometry import LineString, Point, Polygon

from geo import crs
from geo.crs import (
    gcj02_geometry_to_wgs84,
    gcj02_to_wgs84,
    transform,
    transform_xy,
    wgs84_geometry_to_gcj02,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


def _reference_forward(lon: float, lat: float) -> tuple[float, float]:
    """Scalar, pure-``math`` transcription of the published GCJ-02 formula (independent of
    the numpy implementation under test)."""
    a, ee, pi = 6378245.0, 0.00669342162296594323, math.pi
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * pi) + 320.0 * math.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1.0 - ee * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    return (
        lon + dlon * 180.0 / (a / sq * math.cos(rad) * pi),
        lat + dlat * 180.0 / ((a * (1.0 - ee)) / (magic * sq) * pi),
    )


# (WGS84 lon, lat) -> (GCJ-02 lon, lat); values checked against _reference_forward, and
# (123, 45) also against the published test value of the gcoord JS library
# (123.00607541, 45.00197815).
FORWARD_CASES = [
    ((123.0, 45.0), (123.00607541914162, 45.00197815751666)),
    ((122.235, 40.667), (122.24017213267007, 40.668565717904215)),  # 营口 downtown
    ((125.14, 42.89), (125.1464036846754, 42.89252580884283)),  # 辽源 downtown
    ((116.397128, 39.916527), (116.40337249402477, 39.91793074924595)),  # Beijing
]


@pytest.mark.parametrize(("wgs", "gcj"), FORWARD_CASES)
def test_forward_known_values(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    got = wgs84_to_gcj02(*wgs)
    assert isinstance(got[0], float) and isinstance(got[1], float)
    assert got == pytest.approx(gcj, abs=1e-6)
    assert got == pytest.approx(_reference_forward(*wgs), abs=1e-12)


@pytest.mark.parametrize(("wgs", "gcj"), FORWARD_CASES)
def test_inverse_known_values(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    assert gcj02_to_wgs84(*gcj) == pytest.approx(wgs, abs=1e-7)


def test_inverse_matches_published_value() -> None:
    # gcoord's published GCJ02->WGS84 value for (123, 45), given to 5 decimals there.
    assert gcj02_to_wgs84(123.0, 45.0) == pytest.approx((122.99395597, 44.99804071), abs=1e-6)


def test_offset_magnitude_near_yingkou() -> None:
    lon, lat = 122.23, 40.67
    glon, glat = wgs84_to_gcj02(lon, lat)
    _, _, dist = GEOD.inv(lon, lat, glon, glat)
    assert 100.0 < dist < 1000.0


def test_round_trip_grid_liaoning_jilin() -> None:
    lon, lat = np.meshgrid(np.linspace(118.0, 132.0, 71), np.linspace(38.0, 47.0, 46))
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon.shape == lon.shape
    # The obfuscation must actually move the points, by 100-1000 m.
    _, _, dist = GEOD.inv(lon.ravel(), lat.ravel(), glon.ravel(), glat.ravel())
    assert dist.min() > 100.0 and dist.max() < 1000.0
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert np.abs(wlon - lon).max() < 1e-7
    assert np.abs(wlat - lat).max() < 1e-7


@pytest.mark.parametrize("p", [(183.0, 45.0), (2.35, 48.85), (-74.0, 40.7), (140.0, 36.0)])
def test_outside_china_unchanged(p: tuple[float, float]) -> None:
    assert wgs84_to_gcj02(*p) == p
    assert gcj02_to_wgs84(*p) == p


def test_mixed_array_inside_and_outside() -> None:
    lon = np.array([2.35, 122.235])
    lat = np.array([48.85, 40.667])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert (glon[0], glat[0]) == (2.35, 48.85)
    assert (glon[1], glat[1]) != (122.235, 40.667)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    np.testing.assert_allclose(wlon, lon, atol=1e-9)
    np.testing.assert_allclose(wlat, lat, atol=1e-9)


def test_geometry_round_trip() -> None:
    poly = Polygon([(122.2, 40.6), (122.3, 40.6), (122.3, 40.7), (122.2, 40.7)])
    gcj = wgs84_geometry_to_gcj02(poly)
    assert gcj.geom_type == "Polygon"
    back = gcj02_geometry_to_wgs84(gcj)
    np.testing.assert_allclose(
        np.asarray(back.exterior.coords), np.asarray(poly.exterior.coords), atol=1e-9
    )


def test_gk_codes_match_pyproj() -> None:
    assert "CM 123E" in CRS(crs.GK_CM123).name
    assert "CM 126E" in CRS(crs.GK_CM126).name
    assert "zone 41" in CRS(crs.GK_ZONE41).name
    assert "zone 42" in CRS(crs.GK_ZONE42).name
    for code in (crs.GK_CM123, crs.GK_CM126, crs.GK_ZONE41, crs.GK_ZONE42):
        assert "CGCS2000" in CRS(code).name
    assert "2000" in CRS(crs.CGCS2000).name


def test_transform_gauss_kruger_cm123() -> None:
    # On the central meridian the easting equals the false easting: EPSG:4550 (CM variant)
    # has 500 000 m, EPSG:4529 (zone 41) has the zone prefix, 41 500 000 m.
    x, y = transform_xy(crs.WGS84, crs.GK_CM123, np.array([123.0]), np.array([40.0]))
    assert x[0] == pytest.approx(500000.0, abs=0.01)
    assert 4.42e6 < y[0] < 4.44e6
    p = transform(crs.WGS84, crs.GK_ZONE41, Point(123.0, 40.0))
    assert p.x == pytest.approx(41500000.0, abs=0.01)
    assert p.y == pytest.approx(y[0], abs=0.01)
    back = transform(crs.GK_CM123, crs.WGS84, Point(x[0], y[0]))
    assert (back.x, back.y) == pytest.approx((123.0, 40.0), abs=1e-9)


def test_transform_gauss_kruger_cm126_round_trip() -> None:
    line = LineString([(125.1, 42.85), (125.2, 42.95)])
    gk = transform(crs.WGS84, crs.GK_CM126, line)
    assert all(300000 < x < 500000 for x, _ in gk.coords)  # west of CM 126E
    # Length in the GK plane ~ geodesic length (scale factor ~1 near the CM).
    assert gk.length == pytest.approx(GEOD.geometry_length(line), rel=2e-4)
    back = transform(crs.GK_CM126, crs.WGS84, gk)
    np.testing.assert_allclose(np.asarray(back.coords), np.asarray(line.coords), atol=1e-9)


def test_transform_web_mercator() -> None:
    x, y = transform_xy(crs.WGS84, crs.WEB_MERCATOR, [0.0, 180.0], [0.0, 0.0])
    assert x == pytest.approx([0.0, 20037508.34], abs=0.01)
    assert y == pytest.approx([0.0, 0.0], abs=0.01)


def test_cgcs2000_is_not_shifted() -> None:
    x, y = transform_xy(crs.WGS84, crs.CGCS2000, [122.23], [40.67])
    assert (x[0], y[0]) == pytest.approx((122.23, 40.67), abs=1e-12)
    x, y = transform_xy(crs.CRS84, crs.WGS84, [122.23], [40.67])  # always_xy: lon/lat kept
    assert (x[0], y[0]) == pytest.approx((122.23, 40.67), abs=1e-12)


def test_transformer_is_cached() -> None:
    assert crs.get_transformer(crs.WGS84, crs.GK_CM123) is crs.get_transformer(
        crs.WGS84, crs.GK_CM123
    )
