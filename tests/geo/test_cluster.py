import numpy as np
import pytest

from geo.cluster import grid_clusters, mercator_pixels


def test_mercator_pixels_match_leaflet() -> None:
    px, py = mercator_pixels(np.array([0.0, 180.0]), np.array([0.0, 0.0]), 0)
    assert px.tolist() == [128.0, 256.0]
    assert py.tolist() == pytest.approx([128.0, 128.0])


def test_clusters_keep_every_point() -> None:
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(121, 126, 50_000), rng.uniform(40, 43, 50_000)
    clusters = grid_clusters(lon, lat, zoom=7, cell_px=80)
    assert sum(c.count for c in clusters) == 50_000
    for c in clusters:
        minx, miny, maxx, maxy = c.bounds
        assert minx <= c.lon <= maxx and miny <= c.lat <= maxy


def test_more_zoom_more_clusters() -> None:
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(122, 123, 5000), rng.uniform(40, 41, 5000)
    assert len(grid_clusters(lon, lat, 6)) < len(grid_clusters(lon, lat, 10))
    assert grid_clusters(np.array([]), np.array([]), 5) == []
