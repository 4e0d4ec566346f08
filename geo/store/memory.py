"""Stores in memory, for collections that are computed rather than stored (the indicators), and
one store made of several, so the API can serve both through the same interface."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import shapely

from geo.errors import FeatureNotFound, LayerNotFound, QueryError
from geo.store.base import (
    BBox,
    Feature,
    FeatureStore,
    FilterValue,
    LayerInfo,
    Positions,
    QueryResult,
    Range,
    Restrictions,
    check_bbox,
)
from geo.store.search import (
    DISTRICTS_LAYER,
    MAX_QUERY_CHARS,
    TIERS,
    SearchHit,
    TextIndex,
    county_of,
    name_field,
    search_key,
)


def _matches(value: Any, wanted: FilterValue) -> bool:
    if isinstance(wanted, Range):
        return (
            value is not None
            and (wanted.low is None or value >= wanted.low)
            and (wanted.high is None or value <= wanted.high)
        )
    if isinstance(wanted, list | tuple | set):
        return value in wanted
    return value == wanted


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (value is not None, value)  # nulls first, as SQLite orders them


Contents = Mapping[str, tuple[LayerInfo, list[Feature]]]


def _text_fields(info: LayerInfo) -> list[str]:
    return [name for name, kind in info.fields.items() if kind == "str"]


class MemoryStore(FeatureStore):
    """Features held in lists, one per layer; the same semantics as the GeoPackage store.

    Give `layers` directly, or a `loader` that makes them on first use (once, whichever thread
    asks first): computed collections then cost nothing until someone reads them."""

    def __init__(
        self, layers: Contents | None = None, *, loader: Callable[[], Contents] | None = None
    ) -> None:
        self._data = dict(layers) if layers is not None else None
        self._loader = loader
        self._lock = threading.Lock()
        self._text_index: TextIndex | None = None

    @property
    def data(self) -> dict[str, tuple[LayerInfo, list[Feature]]]:
        if self._data is None:
            with self._lock:
                if self._data is None:
                    self._data = dict(self._loader() if self._loader else {})
        return self._data

    def layers(self) -> dict[str, LayerInfo]:
        return {layer_id: info for layer_id, (info, _) in self.data.items()}

    def _layer(self, layer: str) -> tuple[LayerInfo, list[Feature]]:
        try:
            return self.data[layer]
        except KeyError:
            raise LayerNotFound(layer) from None

    def _select(
        self, layer: str, bbox: BBox | None, filters: Mapping[str, FilterValue] | None
    ) -> list[Feature]:
        info, features = self._layer(layer)
        for name in filters or {}:
            if name not in info.fields:
                raise QueryError(f"layer '{layer}' has no field '{name}'")
        chosen = [
            f
            for f in features
            if all(_matches(f.properties.get(k), v) for k, v in (filters or {}).items())
        ]
        if bbox is not None:
            if info.geometry_type is None:
                raise QueryError(f"'{layer}' is a table without geometry: no bbox")
            box = shapely.box(*check_bbox(bbox))
            chosen = [f for f in chosen if f.geometry is not None and f.geometry.intersects(box)]
        return chosen

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
        info, _ = self._layer(layer)
        if (limit is not None and limit < 0) or offset < 0:
            raise QueryError("limit and offset must not be negative")
        chosen = self._select(layer, bbox, filters)
        for name, ascending in reversed(sortby):  # stable sorts, last key first
            if name not in info.fields:
                raise QueryError(f"layer '{layer}' has no field '{name}'")
            chosen = sorted(
                chosen, key=lambda f: _sort_key(f.properties.get(name)), reverse=not ascending
            )
        page = chosen[offset : None if limit is None else offset + limit]
        names = list(info.fields) if properties is None else ["id", *properties]
        return QueryResult(
            [
                Feature(
                    f.id,
                    {k: f.properties.get(k) for k in dict.fromkeys(names)},
                    f.geometry if with_geometry else None,
                )
                for f in page
            ],
            len(chosen),
        )

    def get(self, layer: str, feature_id: str) -> Feature:
        _, features = self._layer(layer)
        for f in features:
            if f.id == feature_id:
                return f
        raise FeatureNotFound(layer, feature_id)

    def positions(
        self,
        layer: str,
        *,
        bbox: BBox | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        extra: Sequence[str] = (),
    ) -> Positions:
        if self._layer(layer)[0].geometry_type is None:
            raise QueryError(f"'{layer}' is a table without geometry")
        chosen = [f for f in self._select(layer, bbox, filters) if f.geometry is not None]
        bounds = np.array([f.geometry.bounds for f in chosen]).reshape(-1, 4)
        return Positions(
            np.arange(len(chosen), dtype=np.int64),
            (bounds[:, 0] + bounds[:, 2]) / 2,
            (bounds[:, 1] + bounds[:, 3]) / 2,
            {k: np.array([f.properties.get(k) for f in chosen], dtype=object) for k in extra},
        )

    def search(
        self,
        text: str,
        *,
        region: Sequence[str] | None = None,
        layers: Sequence[str] | None = None,
        limit: int = 20,
        skip_fields: Mapping[str, Iterable[str]] | None = None,
    ) -> list[SearchHit]:
        query = search_key(text)[:MAX_QUERY_CHARS]
        if not query or limit <= 0:
            return []
        spatial = [k for k, (info, _) in self.data.items() if info.geometry_type is not None]
        wanted = spatial if layers is None else [k for k in layers if k in spatial]
        with self._lock:
            if self._text_index is None:
                self._text_index = TextIndex(
                    {
                        k: (_text_fields(self.data[k][0]), [f.properties for f in self.data[k][1]])
                        for k in spatial
                    }
                )
        found = self._text_index.find(
            query, layers=wanted, cities=region, skip_fields=skip_fields or {}, limit=limit
        )
        names = self._county_names()
        hits = []
        for layer, row, field_name, value, tier in found:
            info, features = self.data[layer]
            feature = features[row]
            title = name_field(info.fields)
            hits.append(
                SearchHit.of(
                    feature.geometry,
                    names,
                    layer=layer,
                    id=feature.id,
                    name=feature.properties.get(title) if title else None,
                    county_adcode=county_of(feature.properties),
                    field=field_name,
                    text=value,
                    match=tier,
                )
            )
        return hits

    def _county_names(self) -> dict[str, str]:
        if DISTRICTS_LAYER not in self.data:
            return {}
        return {
            f.properties.get("adcode"): f.properties.get("name_zh")
            for f in self.data[DISTRICTS_LAYER][1]
        }


class CombinedStore(FeatureStore):
    """Several stores seen as one: each layer is answered by the first store holding it, and
    a store later in the list is not consulted for a layer an earlier one has."""

    def __init__(self, *stores: FeatureStore) -> None:
        self._stores = stores

    def _owner(self, layer: str) -> FeatureStore:
        for store in self._stores:
            if layer in store.layers():
                return store
        raise LayerNotFound(layer)

    def layer(self, layer_id: str) -> LayerInfo:
        return self._owner(layer_id).layer(layer_id)

    def layers(self) -> dict[str, LayerInfo]:
        out: dict[str, LayerInfo] = {}
        for store in reversed(self._stores):
            out.update(store.layers())
        return out

    def query(self, layer: str, **kwargs: Any) -> QueryResult:
        return self._owner(layer).query(layer, **kwargs)

    def get(self, layer: str, feature_id: str) -> Feature:
        return self._owner(layer).get(layer, feature_id)

    def positions(self, layer: str, **kwargs: Any) -> Positions:
        return self._owner(layer).positions(layer, **kwargs)

    def columns(self, layer: str, names: Sequence[str]) -> Positions:
        return self._owner(layer).columns(layer, names)

    def search(
        self,
        text: str,
        *,
        region: Sequence[str] | None = None,
        layers: Sequence[str] | None = None,
        limit: int = 20,
        skip_fields: Mapping[str, Iterable[str]] | None = None,
    ) -> list[SearchHit]:
        """Each store searched for the layers it answers, the hits merged in tier order."""
        wanted = set(self.layers() if layers is None else layers)
        hits: list[SearchHit] = []
        for store in self._stores:
            own = [k for k, info in store.layers().items() if info.geometry_type is not None]
            own = [k for k in own if k in wanted and self._owner(k) is store]
            if own:
                hits += store.search(
                    text, region=region, layers=own, limit=limit, skip_fields=skip_fields
                )
        hits.sort(key=lambda h: (TIERS.index(h.match), h.layer != DISTRICTS_LAYER))
        return hits[:limit]

    def restrictions(self) -> Restrictions:
        out = Restrictions()
        for store in self._stores:
            out = out | store.restrictions()
        return out
