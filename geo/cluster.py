"""Grid aggregation of many points for a map view (what keeps 100,000 villages responsive).

Points are binned in Web-Mercator pixel space at the view's zoom, so a cluster covers the same
screen area at every zoom; each cluster reports its count, mean position and extent, which is
what a click needs to zoom in until single features appear.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TILE_SIZE = 256
MAX_LATITUDE = 85.0511287798


@dataclass(frozen=True)
class Cluster:
    lon: float
    lat: float
    count: int
    bounds: tuple[float, float, float, float]  # minx, miny, maxx, maxy


def mercator_pixels(lon: np.ndarray, lat: np.ndarray, zoom: float) -> tuple[np.ndarray, np.ndarray]:
    """Global Web-Mercator pixel coordinates (as Leaflet's map.project) at `zoom`."""
    scale = TILE_SIZE * 2.0**zoom
    lat = np.clip(lat, -MAX_LATITUDE, MAX_LATITUDE)
    px = (np.asarray(lon) + 180.0) / 360.0 * scale
    sin = np.sin(np.radians(lat))
    py = (0.5 - np.log((1 + sin) / (1 - sin)) / (4 * np.pi)) * scale
    return px, py


def grid_clusters(
    lon: np.ndarray, lat: np.ndarray, zoom: float, cell_px: float = 80.0
) -> list[Cluster]:
    """Bin points into square cells of `cell_px` screen pixels at `zoom`."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    if lon.size == 0:
        return []
    px, py = mercator_pixels(lon, lat, zoom)
    cells = np.floor(px / cell_px).astype(np.int64) * 1_000_003 + np.floor(py / cell_px).astype(
        np.int64
    )
    keys, inverse, counts = np.unique(cells, return_inverse=True, return_counts=True)
    n = len(keys)
    sum_lon = np.bincount(inverse, weights=lon, minlength=n)
    sum_lat = np.bincount(inverse, weights=lat, minlength=n)
    minx = np.full(n, np.inf)
    miny = np.full(n, np.inf)
    maxx = np.full(n, -np.inf)
    maxy = np.full(n, -np.inf)
    np.minimum.at(minx, inverse, lon)
    np.minimum.at(miny, inverse, lat)
    np.maximum.at(maxx, inverse, lon)
    np.maximum.at(maxy, inverse, lat)
    return [
        Cluster(
            lon=float(sum_lon[i] / counts[i]),
            lat=float(sum_lat[i] / counts[i]),
            count=int(counts[i]),
            bounds=(float(minx[i]), float(miny[i]), float(maxx[i]), float(maxy[i])),
        )
        for i in range(n)
    ]
