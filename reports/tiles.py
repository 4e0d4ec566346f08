"""An opt-in tile background for report maps: XYZ (Web-Mercator) tiles fetched with a short
timeout and warped onto the page's Gauss-Krüger frame. Any failure returns None and the map
keeps its vector context: a report never waits on, nor fails for, a tile server."""

from __future__ import annotations

import io
import logging
import math
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pyproj import Transformer

log = logging.getLogger(__name__)

TILE_PX = 256
MAX_TILES = 48  # a page needs a dozen or two; more means the zoom is wrong
PX_PER_MM = 5.0  # about 130 dpi: a background, not the map's linework
EARTH_HALF = 20037508.342789244  # half the Web-Mercator world, metres


def _zoom_for(metres_per_px: float, lat: float) -> int:
    """The coarsest zoom whose tiles are at least as fine as the page's pixels."""
    world = 2 * EARTH_HALF * math.cos(math.radians(lat))
    z = math.ceil(math.log2(world / (TILE_PX * metres_per_px)))
    return min(max(z, 0), 18)


def _tile_url(template: str, z: int, x: int, y: int) -> str:
    return template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def _fetch(url: str, timeout: float) -> np.ndarray:
    from PIL import Image

    request = urllib.request.Request(url, headers={"User-Agent": "lutu-report"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data = response.read()
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA"))


def background(
    template: str,
    epsg: int,
    extent: tuple[float, float, float, float],
    size_mm: tuple[float, float],
    scale: int,
    timeout: float = 2.0,
) -> np.ndarray | None:
    """An RGBA image covering `extent` (x0, y0, x1, y1 in the page's EPSG) at PX_PER_MM, or
    None when the tile server does not answer in `timeout` seconds (per tile) or errs."""
    x0, y0, x1, y1 = extent
    width_px = max(1, round(size_mm[0] * PX_PER_MM))
    height_px = max(1, round(size_mm[1] * PX_PER_MM))
    to_lonlat = Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)
    to_mercator = Transformer.from_crs(f"EPSG:{epsg}", "EPSG:3857", always_xy=True)
    _lon, lat = to_lonlat.transform((x0 + x1) / 2, (y0 + y1) / 2)
    z = _zoom_for(scale / 1000 / PX_PER_MM, lat)
    # Every output pixel's centre, from the page's projection to Web-Mercator tile pixels.
    xs = x0 + (np.arange(width_px) + 0.5) * (x1 - x0) / width_px
    ys = y1 - (np.arange(height_px) + 0.5) * (y1 - y0) / height_px
    grid_x, grid_y = np.meshgrid(xs, ys)
    mx, my = to_mercator.transform(grid_x, grid_y)
    world_px = TILE_PX * 2**z
    px = (mx + EARTH_HALF) / (2 * EARTH_HALF) * world_px
    py = (EARTH_HALF - my) / (2 * EARTH_HALF) * world_px
    tx0, tx1 = int(px.min() // TILE_PX), int(px.max() // TILE_PX)
    ty0, ty1 = int(py.min() // TILE_PX), int(py.max() // TILE_PX)
    tiles = [(x, y) for y in range(ty0, ty1 + 1) for x in range(tx0, tx1 + 1)]
    if len(tiles) > MAX_TILES:
        log.warning(
            "report background: %d tiles at zoom %d is too many; vector only", len(tiles), z
        )
        return None
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            images = list(pool.map(lambda t: _fetch(_tile_url(template, z, *t), timeout), tiles))
    except Exception as exc:  # any network or image error: the vector map stands alone
        log.warning("report background from %s unavailable (%s); vector only", template, exc)
        return None
    mosaic = np.zeros(((ty1 - ty0 + 1) * TILE_PX, (tx1 - tx0 + 1) * TILE_PX, 4), np.uint8)
    for (x, y), image in zip(tiles, images, strict=True):
        if image.shape[:2] != (TILE_PX, TILE_PX):
            log.warning("report background: a tile is %s, not 256×256; vector only", image.shape)
            return None
        row, col = (y - ty0) * TILE_PX, (x - tx0) * TILE_PX
        mosaic[row : row + TILE_PX, col : col + TILE_PX] = image
    cols = np.clip((px - tx0 * TILE_PX).astype(int), 0, mosaic.shape[1] - 1)
    rows = np.clip((py - ty0 * TILE_PX).astype(int), 0, mosaic.shape[0] - 1)
    return mosaic[rows, cols]
