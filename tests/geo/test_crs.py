"""Tests for geo.crs: pyproj CRS handling and the GCJ-02 <-> WGS84 conversion."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
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


# ------------------------------------------------------------------------------- BD-09

XPI = math.pi * 3000.0 / 180.0


def _reference_bd_forward(lon: float, lat: float) -> tuple[float, float]:
    """Scalar, pure-``math`` transcription of Baidu's published GCJ-02 -> BD-09 step."""
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * XPI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * XPI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _reference_bd_approx_inverse(lon: float, lat: float) -> tuple[float, float]:
    """The one-step BD-09 -> GCJ-02 inverse published with it (approximate)."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * XPI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * XPI)
    return z * math.cos(theta), z * math.sin(theta)


# (116.404, 39.915) is 天安门 in BD-09 (the centre of Baidu's own map API examples). The
# values are those published by the coordtransform library (wandergis/coordtransform,
# test/app.js; reused by hutool's CoordinateUtilTest): its gcj02tobd09 is the exact forward
# step, its bd09togcj02 the one-step approximate inverse.
TIANANMEN_BD = (116.404, 39.915)
TIANANMEN_AS_GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
TIANANMEN_APPROX_GCJ = (116.39762729119315, 39.90865673957631)


def test_bd09_forward_matches_published() -> None:
    got = crs.gcj02_to_bd09(*TIANANMEN_BD)
    assert isinstance(got[0], float)
    assert got == pytest.approx(TIANANMEN_AS_GCJ_TO_BD, abs=1e-12)
    assert got == pytest.approx(_reference_bd_forward(*TIANANMEN_BD), abs=1e-12)


def test_bd09_inverse_refines_published_approximation() -> None:
    approx = _reference_bd_approx_inverse(*TIANANMEN_BD)
    assert approx == pytest.approx(TIANANMEN_APPROX_GCJ, abs=1e-12)
    got = crs.bd09_to_gcj02(*TIANANMEN_BD)
    # The published inverse is off by a few 1e-7° here; ours lands back exactly.
    assert got == pytest.approx(TIANANMEN_APPROX_GCJ, abs=1e-6)
    assert _reference_bd_forward(*got) == pytest.approx(TIANANMEN_BD, abs=1e-10)
    off = _reference_bd_forward(*approx)
    assert max(abs(off[0] - TIANANMEN_BD[0]), abs(off[1] - TIANANMEN_BD[1])) > 1e-7


# WGS84, GCJ-02 and BD-09 positions of city centres from gcoord's test fixture
# (hujiulong/gcoord, test/fixtures/china-cities.json; GCJ-02 and BD-09 as AMap's and Baidu's
# services give them), rounded there to 1e-7°. The fixture's WGS84 column was itself derived
# from GCJ-02 with the one-step approximate inverse, so it differs from the exact inverse by
# about 5e-6° (0.6 m): WGS84 is checked to 1e-5°, GCJ-02 <-> BD-09 to the rounding.
CITY_TRIPLES = {
    "辽阳": ((123.2312099, 41.2651725), (123.2369518, 41.2672464), (123.2433178, 41.2736074)),
    "沈阳": ((123.4253306, 41.8032629), (123.4314787, 41.8057023), (123.438095, 41.8114013)),
    "邢台": ((114.498916, 37.0700925), (114.5048503, 37.0705911), (114.5113116, 37.0766797)),
    "郑州": ((113.6192856, 34.7478004), (113.6253334, 34.7466173), (113.6317519, 34.7528605)),
    "那曲": ((92.0499619, 31.4784436), (92.0512438, 31.4762063), (92.0576832, 31.4824421)),
}


@pytest.mark.parametrize("city", sorted(CITY_TRIPLES))
def test_bd09_known_city_positions(city: str) -> None:
    wgs, gcj, bd = CITY_TRIPLES[city]
    assert crs.gcj02_to_bd09(*gcj) == pytest.approx(bd, abs=1.5e-7)
    assert crs.bd09_to_gcj02(*bd) == pytest.approx(gcj, abs=1.5e-7)
    assert crs.bd09_to_wgs84(*bd) == pytest.approx(wgs, abs=1e-5)
    assert crs.wgs84_to_bd09(*wgs) == pytest.approx(bd, abs=1e-5)
    # Both directions agree with each other far more closely than with the fixture.
    assert crs.wgs84_to_bd09(*crs.bd09_to_wgs84(*bd)) == pytest.approx(bd, abs=1e-9)


def test_bd09_matches_gcoord_unit_values() -> None:
    # gcoord's test/unit/crs/BD09.spec.ts, checked there to 5 decimals.
    assert crs.bd09_to_gcj02(123.0, 45.0) == pytest.approx((122.99363304, 44.9936543), abs=1e-5)
    assert crs.bd09_to_wgs84(123.0, 45.0) == pytest.approx((122.9876221, 44.9917154), abs=1e-5)


def test_bd09_round_trip_grid_china() -> None:
    lon, lat = np.meshgrid(np.linspace(73.0, 136.0, 127), np.linspace(3.0, 54.0, 103))
    blon, blat = crs.wgs84_to_bd09(lon, lat)
    assert blon.shape == lon.shape
    _, _, dist = GEOD.inv(lon.ravel(), lat.ravel(), blon.ravel(), blat.ravel())
    assert dist.min() > 100.0 and dist.max() < 2000.0
    wlon, wlat = crs.bd09_to_wgs84(blon, blat)
    assert np.abs(wlon - lon).max() < 1e-7
    assert np.abs(wlat - lat).max() < 1e-7
    glon, glat = wgs84_to_gcj02(lon, lat)
    back_lon, back_lat = crs.bd09_to_gcj02(*crs.gcj02_to_bd09(glon, glat))
    assert np.abs(back_lon - glon).max() < 1e-9
    assert np.abs(back_lat - glat).max() < 1e-9


def test_bd09_offset_near_yingkou() -> None:
    lon, lat = 122.235, 40.667
    blon, blat = crs.wgs84_to_bd09(lon, lat)
    _, _, dist = GEOD.inv(lon, lat, blon, blat)
    assert 700.0 < dist < 2000.0
    assert crs.bd09_to_wgs84(blon, blat) == pytest.approx((lon, lat), abs=1e-9)


def test_bd09_geometry_round_trip_and_to_wgs84() -> None:
    line = LineString([(122.2, 40.6), (122.3, 40.65), (122.25, 40.7)])
    bd = crs.wgs84_geometry_to_bd09(line)
    assert bd.geom_type == "LineString"
    assert not np.allclose(np.asarray(bd.coords), np.asarray(line.coords), atol=1e-3)
    for back in (crs.bd09_geometry_to_wgs84(bd), crs.to_wgs84(crs.BD09, bd)):
        np.testing.assert_allclose(
            np.asarray(back.coords), np.asarray(line.coords), rtol=0, atol=1e-9
        )
    gcj = wgs84_geometry_to_gcj02(line)
    back = crs.to_wgs84(crs.GCJ02, gcj)
    np.testing.assert_allclose(np.asarray(back.coords), np.asarray(line.coords), rtol=0, atol=1e-9)
    assert crs.to_wgs84(crs.CGCS2000, line) is line


def test_to_wgs84_gauss_kruger_array() -> None:
    pts = np.array([Point(123.0, 40.0), Point(122.2, 40.6)], dtype=object)
    gk = transform(crs.WGS84, crs.GK_ZONE41, pts)
    back = crs.to_wgs84(crs.GK_ZONE41, gk)
    np.testing.assert_allclose(
        shapely.get_coordinates(back), [[123.0, 40.0], [122.2, 40.6]], rtol=0, atol=1e-9
    )


# ------------------------------------------------------------------- Gauss-Krüger zones


@pytest.mark.parametrize(
    ("easting", "northing", "expected"),
    [
        (41_523_456.7, 4_500_000.0, "EPSG:4529"),  # 3° zone 41 (营口)
        (42_450_000.0, 4_750_000.0, "EPSG:4530"),  # 3° zone 42 (辽源)
        (25_500_000.0, 4_000_000.0, "EPSG:4513"),  # first 3° zone
        (45_400_000.0, 5_000_000.0, "EPSG:4533"),  # last 3° zone
        (21_523_456.7, 4_500_000.0, "EPSG:4499"),  # 6° zone 21 (CM 123°E)
        (13_300_000.0, 4_000_000.0, "EPSG:4491"),  # 6° zone 13
        (523_456.7, 4_500_000.0, None),  # no prefix: the zone must be declared
        (4_523_456.7, 4_500_000.0, None),  # 7 digits: no zone either
        (41_523_456.7, 1_000_000.0, None),  # northing south of China
        (41_523_456.7, 7_000_000.0, None),  # northing north of China
        (46_500_000.0, 4_500_000.0, None),  # no zone 46
        (24_500_000.0, 4_500_000.0, None),  # between the 6° and the 3° zone numbers
        (41_950_000.0, 4_500_000.0, None),  # 450 km from the meridian: not in the zone
        (float("nan"), 4_500_000.0, None),
    ],
)
def test_gauss_kruger_crs(easting: float, northing: float, expected: str | None) -> None:
    assert crs.gauss_kruger_crs(easting, northing) == expected


def test_gauss_kruger_descriptions_match_pyproj() -> None:
    for number in range(4491, 4555):
        info = crs.gauss_kruger(f"EPSG:{number}")
        assert info is not None
        params = {
            p["name"]: p["value"]
            for p in CRS.from_epsg(number).to_json_dict()["conversion"]["parameters"]
        }
        assert params["Longitude of natural origin"] == info.central_meridian
        assert params["False easting"] == info.false_easting
        assert ("3-degree" in CRS.from_epsg(number).name) == (info.width == 3)
        assert crs.gauss_kruger(info.prefixed_code).prefixed  # type: ignore[union-attr]
        assert not crs.gauss_kruger(info.plain_code).prefixed  # type: ignore[union-attr]
    assert crs.gauss_kruger("EPSG:4529") == crs.GaussKruger("EPSG:4529", 3, 41, 123, True)
    assert crs.gauss_kruger("EPSG:4550").prefixed_code == "EPSG:4529"  # type: ignore[union-attr]
    for other in ("EPSG:4490", "EPSG:4555", "EPSG:4490x", "GCJ-02", "OGC:CRS84"):
        assert crs.gauss_kruger(other) is None


def test_detected_zone_transforms_to_the_right_place() -> None:
    # A point in 营口 projected into zone 41 with the prefix is detected as zone 41 and comes
    # back to where it was.
    x, y = transform_xy(crs.WGS84, crs.GK_ZONE41, [122.235], [40.667])
    code = crs.gauss_kruger_crs(x[0], y[0])
    assert code == crs.GK_ZONE41
    lon, lat = transform_xy(code, crs.WGS84, x, y)
    assert (lon[0], lat[0]) == pytest.approx((122.235, 40.667), abs=1e-9)
