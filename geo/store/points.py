"""Points held in memory for bbox paging: what the GeoPackage and PostGIS stores answer a
point layer's bbox query from, without a count in SQL."""

from __future__ import annotations

import numpy as np

from geo.store.base import BBox


class PointIndex:
    """A point layer's coordinates in memory, sorted by x: a bbox is a binary search on x and
    a numpy mask over that slab, exact, and the number matched comes for free. Read once per
    store and data version; for a million points about 32 MB."""

    def __init__(self, fids: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        order = np.argsort(x, kind="stable")
        self.fids, self.x, self.y = fids[order], x[order], y[order]
        self.sorted_fids = np.sort(fids)

    def within(self, bbox: BBox) -> np.ndarray:
        """The fids of the points inside `bbox` (edges included), in no particular order."""
        minx, miny, maxx, maxy = bbox
        lo = np.searchsorted(self.x, minx, side="left")
        hi = np.searchsorted(self.x, maxx, side="right")
        y = self.y[lo:hi]
        return self.fids[lo:hi][(y >= miny) & (y <= maxy)]


def first_fids(fids: np.ndarray, offset: int, limit: int) -> np.ndarray:
    """fids[offset:offset + limit] of the sorted fids, without sorting them all."""
    end = min(len(fids), offset + limit)
    if offset >= end:
        return fids[:0]
    if end < len(fids):
        fids = np.partition(fids, end - 1)[:end]
    return np.sort(fids)[offset:end]
