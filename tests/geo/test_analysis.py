"""Tests for geo.analysis with small hand-checkable geometries.

Metric fixtures are built in EPSG:4550 (CGCS2000 3-degree GK, CM 123°E) metres and
transformed to lon/lat, so the expected metres are known exactly; geodesic distances come
independently from pyproj.Geod.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from geo import crs
from geo.analysis import (
    area_m2,
    gk_zone_epsg,
    intersecting,
    intersects_any,
    length_m,
    nearest,
    nearest_xy,
    reach_pairs,
    reaches,
    to_local,
    within,
    within_distance,
    within_xy,
)

ZONE = "EPSG:4550"  # CM 123°E
GEOD = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid to well under a millimetre here
X0, Y0 = 500_000.0, 4_430_000.0  # a spot on CM 123°E near 40°N, in EPSG:4550 metres


def lonlat(geom: BaseGeometry) -> BaseGeometry:
    """A geometry drawn in EPSG:4550 metres, in lon/lat."""
    return crs.transform(ZONE, crs.WGS84, geom)


# --------------------------------------------------------------------------- gk_zone_epsg


def _central_meridian(epsg: int) -> float:
    """Central meridian of a projected CRS, read from pyproj's own definition."""
    op = CRS.from_epsg(epsg).coordinate_operation
    assert op is not None
    params = {p.name: p.value for p in op.params}
    assert params["False easting"] == 500_000  # the variant without zone prefix
    return params["Longitude of natural origin"]


@pytest.mark.parametrize(
    ("lon", "epsg"),
    [(122.2, "EPSG:4550"), (125.1, "EPSG:4551"), (75.0, "EPSG:4534"), (135.0, "EPSG:4554")],
)
def test_gk_zone_epsg_known(lon: float, epsg: str) -> None:
    assert gk_zone_epsg(lon) == epsg


def test_gk_zone_epsg_matches_pyproj_for_all_zones() -> None:
    assert "CM 123E" in CRS.from_epsg(4550).name  # 营口
    assert "CM 126E" in CRS.from_epsg(4551).name  # 辽源
    assert (gk_zone_epsg(123.0), gk_zone_epsg(126.0)) == (crs.GK_CM123, crs.GK_CM126)
    for epsg in range(4534, 4555):
        cm = _central_meridian(epsg)
        assert "CGCS2000 / 3-degree Gauss-Kruger CM" in CRS.from_epsg(epsg).name
        assert cm == 75 + 3 * (epsg - 4534)
        for lon in (cm - 1.49, cm, cm + 1.49):
            assert gk_zone_epsg(lon) == f"EPSG:{epsg}"


def test_gk_zone_epsg_edges() -> None:
    assert gk_zone_epsg(121.5) == "EPSG:4550"  # half-way between CM 120 and 123 goes east
    assert gk_zone_epsg(73.5) == "EPSG:4534"
    for lon in (73.4, 136.5, float("nan")):
        with pytest.raises(ValueError):
            gk_zone_epsg(lon)


# ------------------------------------------------------------------------------ to_local


def test_to_local_on_central_meridian() -> None:
    (p,) = to_local([Point(123.0, 40.0)], ZONE)
    assert p.x == pytest.approx(500_000.0, abs=1e-6)
    # On the central meridian (scale 1) northing = geodesic arc from the equator.
    assert p.y == pytest.approx(GEOD.inv(123.0, 0.0, 123.0, 40.0)[2], abs=0.01)


def test_to_local_rejects_projected_input_and_degree_crs() -> None:
    with pytest.raises(ValueError, match="lon/lat"):
        to_local([Point(X0, Y0)], ZONE)
    with pytest.raises(ValueError, match="metres"):
        to_local([Point(123.0, 40.0)], crs.WGS84)


# -------------------------------------------------------------------------------- metres


def test_distance_on_central_meridian_matches_geodesic() -> None:
    a, b = Point(123.0, 40.0), Point(123.0, 40.009)
    expected = GEOD.inv(123.0, 40.0, 123.0, 40.009)[2]
    assert expected == pytest.approx(999.4, abs=0.5)
    index, dist = nearest([a], [b], ZONE)
    assert index.tolist() == [0]
    assert dist[0] == pytest.approx(expected, rel=1e-3)
    assert length_m([LineString([a, b])], ZONE)[0] == pytest.approx(expected, rel=1e-3)
    [(i, j, d)] = within_distance([a], [b], ZONE, 1000.0)
    assert (i, j) == (0, 0) and d == pytest.approx(expected, rel=1e-3)
    assert within_distance([a], [b], ZONE, 990.0) == []


def test_square_kilometre_area_and_perimeter() -> None:
    square = lonlat(box(X0, Y0, X0 + 1000.0, Y0 + 1000.0))
    assert 122.9 < square.centroid.x < 123.1  # really in lon/lat
    assert area_m2([square], ZONE)[0] == pytest.approx(1_000_000.0, abs=1.0)
    assert length_m([square], ZONE)[0] == pytest.approx(4000.0, abs=1e-3)
    assert area_m2([LineString([(123, 40), (123.01, 40)]), None], ZONE)[0] == 0.0


# ------------------------------------------------------------------------------ topology

POLYS = [box(122.0, 40.0, 123.0, 41.0), box(122.5, 40.5, 124.0, 41.5)]


@pytest.mark.parametrize("grid", [1, 4, 64, 256])
def test_within_xy_is_within_for_coordinates(grid: int) -> None:
    rng = np.random.default_rng(3)
    star = Polygon([(123.2, 40.1), (123.9, 40.2), (123.4, 40.45), (123.95, 40.9), (123.1, 40.6)])
    hole = box(121.8, 41.0, 122.4, 41.6).difference(box(122.0, 41.2, 122.2, 41.4))
    polys = [*POLYS, star, hole, None]
    vertices = shapely.get_coordinates([p for p in polys if p is not None])
    x = np.concatenate([rng.uniform(121.5, 124.5, 20_000), vertices[:, 0], [122.5, 123.0, 122.1]])
    y = np.concatenate([rng.uniform(39.5, 42.0, 20_000), vertices[:, 1], [40.7, 40.5, 41.3]])
    x[:5] = np.nan
    want = within(shapely.points(x, y), polys)
    assert within_xy(x, y, polys, grid=grid).tolist() == want.tolist()
    assert within_xy(x[:0], y[:0], polys).shape == (0,)
    assert within_xy(x, y, []).tolist() == [-1] * len(x)


def test_within_inside_outside_boundary_and_first_index() -> None:
    points = [
        Point(122.2, 40.2),  # inside 0 only
        Point(125.0, 40.0),  # outside both
        Point(122.0, 40.5),  # on the west edge of 0
        Point(122.0, 40.0),  # on a corner of 0
        Point(122.7, 40.7),  # inside both: first by index
        Point(123.5, 41.2),  # inside 1 only
        Point(124.0, 41.0),  # on the east edge of 1
        None,
    ]
    assert within(points, POLYS).tolist() == [0, -1, 0, 0, 0, 1, 1, -1]
    assert within(points, POLYS[::-1]).tolist() == [1, -1, 1, 1, 0, 0, 0, -1]


def test_intersects_any_and_intersecting() -> None:
    geoms = [
        LineString([(121.0, 40.2), (123.5, 40.8)]),  # crosses both
        LineString([(124.0, 41.5), (125.0, 42.0)]),  # touches a corner of 1
        LineString([(125.0, 40.0), (126.0, 40.0)]),  # misses
        Point(122.2, 40.2),
        None,
    ]
    assert intersects_any(geoms, POLYS).tolist() == [True, True, False, True, False]
    assert intersecting(geoms, POLYS) == [[0, 1], [1], [], [0], []]


# ------------------------------------------------------------------------------- nearest


def test_nearest_targets_of_every_kind_and_max_distance() -> None:
    park = lonlat(box(X0, Y0, X0 + 500.0, Y0 + 500.0))
    line = lonlat(LineString([(X0 + 2000.0, Y0), (X0 + 2000.0, Y0 + 500.0)]))
    well = lonlat(Point(X0 - 1000.0, Y0))
    points = [
        lonlat(Point(X0 + 100.0, Y0 + 100.0)),  # inside the park: 0 m
        lonlat(Point(X0 + 1800.0, Y0 + 250.0)),  # 200 m west of the line
        lonlat(Point(X0 - 1000.0, Y0 + 300.0)),  # 300 m north of the well
    ]
    index, dist = nearest(points, [park, line, well], ZONE)
    assert index.tolist() == [0, 1, 2]
    np.testing.assert_allclose(dist, [0.0, 200.0, 300.0], atol=0.01)

    index, dist = nearest(points, [park, line, well], ZONE, max_distance_m=250.0)
    assert index.tolist() == [0, 1, -1]
    assert dist[2] == np.inf

    # Inside two overlapping polygons: a tie at 0 m goes to the first; max 0 keeps it.
    index, dist = nearest(points[:1], [line, park, park], ZONE, max_distance_m=0.0)
    assert (index.tolist(), dist.tolist()) == ([1], [0.0])


def test_nearest_xy_is_nearest_for_coordinates() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.uniform(122.9, 123.1, 2000), rng.uniform(39.9, 40.1, 2000)
    targets = [Point(123.0, 40.0), LineString([(122.95, 40.05), (123.05, 40.06)]), None]
    for limit in (None, 0.0, 800.0):
        want = nearest(shapely.points(x, y), targets, ZONE, max_distance_m=limit)
        got = nearest_xy(x, y, targets, ZONE, max_distance_m=limit)
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
    with pytest.raises(ValueError, match="lon/lat"):
        nearest_xy(np.array([500_000.0]), np.array([4_430_000.0]), targets, ZONE)
    index, dist = nearest_xy(x[:0], y[:0], targets, ZONE)
    assert index.shape == dist.shape == (0,)


# ------------------------------------------------------------------------------- reaches


def test_reaches_with_tolerance() -> None:
    park = lonlat(box(X0, Y0, X0 + 1000.0, Y0 + 1000.0))
    ends_30m_short = lonlat(LineString([(X0 - 3000.0, Y0 + 500.0), (X0 - 30.0, Y0 + 500.0)]))
    assert reaches([ends_30m_short], [park], ZONE, tolerance_m=50.0).tolist() == [True]
    assert reaches([ends_30m_short], [park], ZONE, tolerance_m=10.0).tolist() == [False]

    passes_30m_by = lonlat(LineString([(X0 - 30.0, Y0 - 3000.0), (X0 - 30.0, Y0 + 3000.0)]))
    enters = lonlat(LineString([(X0 - 3000.0, Y0 + 200.0), (X0 + 200.0, Y0 + 200.0)]))
    multi = MultiLineString([passes_30m_by, ends_30m_short])
    assert reaches([passes_30m_by], [park], ZONE).tolist() == [False]
    assert reaches([enters], [park], ZONE, tolerance_m=0.0).tolist() == [True]
    assert reaches([multi], [park], ZONE).tolist() == [True]

    far_park = lonlat(box(X0 + 5000.0, Y0, X0 + 6000.0, Y0 + 1000.0))
    assert reaches([passes_30m_by, enters], [far_park, park], ZONE).tolist() == [False, True]


def test_reach_pairs_answer_every_selection_of_lines() -> None:
    park = lonlat(box(X0, Y0, X0 + 1000.0, Y0 + 1000.0))
    far_park = lonlat(box(X0 + 5000.0, Y0, X0 + 6000.0, Y0 + 1000.0))
    ends_30m_short = lonlat(LineString([(X0 - 3000.0, Y0 + 500.0), (X0 - 30.0, Y0 + 500.0)]))
    passes_30m_by = lonlat(LineString([(X0 - 30.0, Y0 - 3000.0), (X0 - 30.0, Y0 + 3000.0)]))
    both = lonlat(LineString([(X0 + 500.0, Y0 + 500.0), (X0 + 5500.0, Y0 + 500.0)]))
    lines = np.array([ends_30m_short, passes_30m_by, both, None], dtype=object)
    polygons = [park, far_park]
    pairs = reach_pairs(lines, polygons, ZONE)
    assert pairs.tolist() == [[0, 2, 2], [0, 0, 1]]
    for mask in ([1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1], [1, 1, 1, 1]):
        mask = np.array(mask, dtype=bool)
        hit = np.zeros(2, dtype=bool)
        hit[pairs[1][mask[pairs[0]]]] = True
        assert hit.tolist() == reaches(lines[mask], polygons, ZONE).tolist()
    assert reach_pairs([], polygons, ZONE).shape == (2, 0)


# ---------------------------------------------------------------------------- empty input


def test_empty_inputs_return_empty() -> None:
    empty: list[BaseGeometry] = []
    pts = [Point(123.0, 40.0)]
    assert within(empty, POLYS).shape == (0,)
    assert within(pts, empty).tolist() == [-1]
    assert intersects_any(empty, POLYS).shape == (0,)
    assert intersecting(empty, POLYS) == []
    assert to_local(empty, ZONE).shape == (0,)
    assert length_m(empty, ZONE).shape == (0,) and area_m2(empty, ZONE).shape == (0,)
    index, dist = nearest(empty, pts, ZONE)
    assert index.shape == dist.shape == (0,) and index.dtype.kind == "i"
    index, dist = nearest(pts, empty, ZONE, max_distance_m=10.0)
    assert (index.tolist(), dist.tolist()) == ([-1], [np.inf])
    assert within_distance(empty, pts, ZONE, 10.0) == within_distance(pts, empty, ZONE, 1) == []
    assert reaches(empty, POLYS, ZONE).tolist() == [False, False]
    assert reaches(empty, empty, ZONE).shape == (0,)
    assert shapely.is_empty(to_local([Polygon()], ZONE)).tolist() == [True]
