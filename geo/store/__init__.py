"""Feature storage behind one small interface (see base.py); GeoPackage is the default."""

from geo.store.base import (
    AttributeTable,
    BBox,
    Feature,
    FeatureStore,
    LayerInfo,
    Positions,
    QueryResult,
    Range,
)
from geo.store.gpkg import GeoPackageStore, build_geopackage, ensure_geopackage

__all__ = [
    "AttributeTable",
    "BBox",
    "Feature",
    "FeatureStore",
    "GeoPackageStore",
    "LayerInfo",
    "Positions",
    "QueryResult",
    "Range",
    "build_geopackage",
    "ensure_geopackage",
]
