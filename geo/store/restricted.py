"""A view of a store without its restricted layers and fields: what anonymous readers get.

Restricted data is absent, not hidden: a restricted layer is not among `layers()` and every
read of it raises `LayerNotFound`, exactly as for a layer that does not exist; a restricted
field is not in the layer's `fields`, not in any feature's properties, and filtering, sorting
or asking for it raises the store's own "no field" `QueryError`. Attribute tables that refer
to layers by id (a `layer_id` column, or a comma-separated `layers` column, as the plan
catalog's link tables do) lose the rows and ids of restricted layers too, so not even a
restricted layer's name is left behind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from geo.errors import LayerNotFound, QueryError
from geo.store.base import (
    BBox,
    Feature,
    FeatureStore,
    FilterValue,
    LayerInfo,
    Positions,
    QueryResult,
    Restrictions,
)
from geo.store.memory import MemoryStore
from geo.store.search import SearchHit, name_field

# Columns of attribute tables that name layers: one id, or ids joined with commas.
LAYER_ID_FIELD = "layer_id"
LAYER_LIST_FIELD = "layers"


class RestrictedStore(FeatureStore):
    """`inner` without the layers and fields in `restrictions`."""

    def __init__(self, inner: FeatureStore, restrictions: Restrictions) -> None:
        self.inner = inner
        self._restrictions = restrictions
        self._tables: MemoryStore | None = None  # referring tables, filtered once
        self._layers: dict[str, LayerInfo] | None = None
        self._lock = threading.Lock()

    def restrictions(self) -> Restrictions:
        return self._restrictions | self.inner.restrictions()

    # -- what is visible -------------------------------------------------------------------
    def layers(self) -> dict[str, LayerInfo]:
        if self._layers is None:  # the inner store is immutable while open: made once
            tables = self._referring_tables().layers()
            self._layers = {
                layer_id: tables.get(layer_id) or self._visible_info(info)
                for layer_id, info in self.inner.layers().items()
                if not self._restrictions.hides(layer_id)
            }
        return dict(self._layers)

    def layer(self, layer_id: str) -> LayerInfo:
        if self._restrictions.hides(layer_id):
            raise LayerNotFound(layer_id)
        info = self.inner.layer(layer_id)
        if self._refers_to_layers(info):
            return self._referring_tables().layer(layer_id)
        return self._visible_info(info)

    def _visible_info(self, info: LayerInfo) -> LayerInfo:
        hidden = self._restrictions.hidden_fields(info.id)
        if not hidden:
            return info
        return replace(info, fields={n: t for n, t in info.fields.items() if n not in hidden})

    def _check(self, layer: str, names: Sequence[str]) -> LayerInfo:
        info = self.layer(layer)
        for name in names:
            if name not in info.fields:
                raise QueryError(f"layer '{layer}' has no field '{name}'")
        return info

    def _strip(self, layer: str, feature: Feature) -> Feature:
        hidden = self._restrictions.hidden_fields(layer)
        if not hidden or not hidden & feature.properties.keys():
            return feature
        kept = {k: v for k, v in feature.properties.items() if k not in hidden}
        return Feature(feature.id, kept, feature.geometry)

    def _refers_to_layers(self, info: LayerInfo) -> bool:
        return info.geometry_type is None and bool(
            {LAYER_ID_FIELD, LAYER_LIST_FIELD} & info.fields.keys()
        )

    def _referring_tables(self) -> MemoryStore:
        """The attribute tables that name layers, without the restricted ones (read whole:
        they are catalog tables of a few hundred rows)."""
        with self._lock:
            if self._tables is None:
                contents = {}
                for layer_id, info in self.inner.layers().items():
                    if self._restrictions.hides(layer_id) or not self._refers_to_layers(info):
                        continue
                    info = self._visible_info(info)
                    rows = self.inner.query(layer_id, limit=None, with_geometry=False).features
                    kept = [f for f in map(self._without_hidden_ids, rows) if f is not None]
                    contents[layer_id] = (replace(info, count=len(kept)), kept)
                self._tables = MemoryStore(contents)
            return self._tables

    def _without_hidden_ids(self, row: Feature) -> Feature | None:
        props = dict(row.properties)
        if self._restrictions.hides(str(props.get(LAYER_ID_FIELD))):
            return None
        if props.get(LAYER_LIST_FIELD):
            ids = str(props[LAYER_LIST_FIELD]).split(",")
            props[LAYER_LIST_FIELD] = ",".join(i for i in ids if not self._restrictions.hides(i))
        return Feature(row.id, props, None)

    # -- reads -----------------------------------------------------------------------------
    def query(
        self,
        layer: str,
        *,
        bbox: BBox | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        limit: int | None = 10,
        offset: int = 0,
        sortby: Sequence[tuple[str, bool]] = (),
        properties: Sequence[str] | None = None,
        with_geometry: bool = True,
    ) -> QueryResult:
        info = self._check(
            layer, [*(filters or {}), *(name for name, _ in sortby), *(properties or ())]
        )
        source: FeatureStore = self.inner
        if self._refers_to_layers(info):
            source = self._referring_tables()
        if properties is None and self._restrictions.hidden_fields(layer):
            properties = [n for n in info.fields if n != "id"]
        result = source.query(
            layer,
            bbox=bbox,
            filters=filters,
            limit=limit,
            offset=offset,
            sortby=sortby,
            properties=properties,
            with_geometry=with_geometry,
        )
        return QueryResult([self._strip(layer, f) for f in result.features], result.number_matched)

    def get(self, layer: str, feature_id: str) -> Feature:
        info = self.layer(layer)
        if self._refers_to_layers(info):
            return self._referring_tables().get(layer, feature_id)
        return self._strip(layer, self.inner.get(layer, feature_id))

    def positions(
        self,
        layer: str,
        *,
        bbox: BBox | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        extra: Sequence[str] = (),
    ) -> Positions:
        self._check(layer, [*(filters or {}), *extra])
        return self.inner.positions(layer, bbox=bbox, filters=filters, extra=extra)

    def columns(self, layer: str, names: Sequence[str]) -> Positions:
        self._check(layer, names)
        return self.inner.columns(layer, names)

    def search(
        self,
        text: str,
        *,
        region: Sequence[str] | None = None,
        layers: Sequence[str] | None = None,
        limit: int = 20,
        skip_fields: Mapping[str, Iterable[str]] | None = None,
    ) -> list[SearchHit]:
        """The inner store's search over the visible layers only, never matching in a hidden
        field, and without the name where the name field is hidden."""
        visible = self.layers()
        wanted = [k for k in (visible if layers is None else layers) if k in visible]
        if not wanted:
            return []
        skip = {
            k: {*self._restrictions.hidden_fields(k), *(skip_fields or {}).get(k, ())}
            for k in wanted
        }
        hits = self.inner.search(text, region=region, layers=wanted, limit=limit, skip_fields=skip)
        out = []
        for hit in hits:
            title = name_field(self.inner.layer(hit.layer).fields)
            if title is not None and self._restrictions.hides(hit.layer, title):
                hit = replace(hit, name=None)
            out.append(hit)
        return out


def restricted_view(store: FeatureStore, restrictions: Restrictions) -> FeatureStore:
    """`store` without `restrictions`; the store itself when nothing is restricted."""
    return RestrictedStore(store, restrictions) if restrictions else store
