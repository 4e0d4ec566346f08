"""What the map's view-loaded layers fetch: single features when few are in view, grid
clusters when many are. Plain functions over a store, testable without HTTP."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from geo.cluster import grid_clusters
from geo.store import BBox, FeatureStore
from layers.base import LayerType
from webmap.regions import RegionView


def view_data(
    store: FeatureStore,
    layer: LayerType,
    *,
    bbox: BBox,
    zoom: float,
    max_zoom: float,
    filters: dict[str, Any] | None,
    feature_limit: int,
    cell_px: float,
) -> dict[str, Any]:
    """Features or clusters of `layer` in `bbox` at `zoom`.

    Nothing is dropped silently: clusters carry their counts, and in the rare case that more
    than `feature_limit` features sit in view at the highest zoom, the answer says how many
    were left out.
    """
    positions = store.positions(layer.id, bbox=bbox, filters=filters)
    total = len(positions)
    answer: dict[str, Any] = {"layer": layer.id, "total": total, "zoom": zoom}
    if total > feature_limit and zoom < max_zoom:
        clusters = grid_clusters(positions.x, positions.y, zoom, cell_px)
        answer["mode"] = "clusters"
        answer["clusters"] = [
            {
                "x": round(c.lon, 6),
                "y": round(c.lat, 6),
                "n": c.count,
                "b": [round(v, 6) for v in c.bounds],
            }
            for c in clusters
        ]
        return answer
    result = store.query(layer.id, bbox=bbox, filters=filters, limit=feature_limit)
    features = []
    for feature in result.features:
        geom = feature.geometry
        if layer.geometry_type == "Point":
            g: Any = [round(geom.x, 6), round(geom.y, 6)]
        else:
            g = mapping(shapely.transform(geom, lambda xy: np.round(xy, 6)))
        features.append(
            {
                "id": feature.id,
                "k": layer.legend_index(feature.properties),
                "g": g,
                # the name, for labels and the keyboard's feature list (absent where hidden)
                "n": feature.properties.get(layer.title_field),
            }
        )
    answer["mode"] = "features"
    answer["features"] = features
    answer["omitted"] = result.number_matched - len(features)
    return answer


def extent(
    store: FeatureStore,
    layers: list[LayerType],
    view: RegionView,
    extra: dict[str, Any] | None = None,
) -> BBox | None:
    """The bounds of the features of `layers` in the region `view` (narrowed by `extra`; None:
    there are none), so a map of a measure or an indicator opens on its own features rather
    than the whole region."""
    bounds: list[tuple[float, float, float, float]] = []
    bbox = view.bounds
    for layer in layers:
        where = view.filters_for(layer, extra)
        if layer.geometry_type == "Point":
            at = store.positions(layer.id, bbox=bbox, filters=where)
            if len(at):
                bounds.append((at.x.min(), at.y.min(), at.x.max(), at.y.max()))
        else:  # lines and areas are few: their own outlines, not their centres
            for feature in store.query(layer.id, bbox=bbox, filters=where, limit=None).features:
                bounds.append(feature.geometry.bounds)
    if not bounds:
        return None
    box = np.array(bounds, dtype=float)
    return (box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max())
