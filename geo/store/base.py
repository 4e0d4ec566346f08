"""The one small storage interface every 绿图 store implements.

Modelled on pygeoapi's providers: `query()` answers bbox / property filters / paging with the
number matched, `get()` returns one feature or raises `FeatureNotFound`. A PostGIS store can
stand beside the GeoPackage one by implementing the same methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

import numpy as np
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo.errors import LayerNotFound, QueryError

if TYPE_CHECKING:
    from geo.store.search import SearchHit

BBox = tuple[float, float, float, float]  # minx, miny, maxx, maxy in the store's lon/lat


@dataclass(frozen=True)
class Range:
    """A filter value matching low <= value <= high; None leaves that end open, and a value
    that is null never matches (so Range() means "has a value")."""

    low: int | float | None = None
    high: int | float | None = None


FilterValue = str | int | float | bool | Range | Sequence[str | int | float | bool]


def check_bbox(bbox: BBox) -> BBox:
    """The bbox as four floats; raises QueryError when it is not a valid one."""
    if len(bbox) != 4:
        raise QueryError("bbox needs four numbers: minx, miny, maxx, maxy")
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if not all(np.isfinite([minx, miny, maxx, maxy])):
        raise QueryError("bbox values must be finite numbers")
    if minx > maxx or miny > maxy:
        raise QueryError("bbox minimum is greater than its maximum")
    return minx, miny, maxx, maxy


def freeze_filters(filters: Mapping[str, FilterValue] | None) -> tuple:
    """A hashable form of a filter mapping, for caching."""
    items = []
    for name, value in sorted((filters or {}).items()):
        if isinstance(value, list | tuple | set):
            value = tuple(sorted(value, key=str))
        items.append((name, value))
    return tuple(items)


@dataclass
class Feature:
    """One feature as every store returns it: its public id, properties and geometry."""

    id: str
    properties: dict[str, Any]
    geometry: BaseGeometry | None = None

    def to_geojson(self) -> dict[str, Any]:
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": mapping(self.geometry) if self.geometry is not None else None,
            "properties": self.properties,
        }


@dataclass
class QueryResult:
    """A page of features and how many features matched the whole query."""

    features: list[Feature]
    number_matched: int


@dataclass
class Positions:
    """Representative positions (points, or bbox centres) of the features matching a query:
    what clustering and density views need, without decoding every geometry."""

    fids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.fids)

    def within(self, bbox: BBox) -> Positions:
        """The positions inside `bbox` (edges included), with their extra columns."""
        minx, miny, maxx, maxy = bbox
        inside = (self.x >= minx) & (self.x <= maxx) & (self.y >= miny) & (self.y <= maxy)
        return Positions(
            self.fids[inside],
            self.x[inside],
            self.y[inside],
            {k: v[inside] for k, v in self.extra.items()},
        )


@dataclass
class AttributeTable:
    """A table without geometry kept in the store beside the layers (e.g. plan measures):
    queried with the same `query()`/`get()`, never with a bbox."""

    name: str
    fields: dict[str, str]  # name -> "str" | "int" | "float" | "bool"; must include "id"
    rows: list[dict[str, Any]]
    description: str = ""


@dataclass(frozen=True)
class Restrictions:
    """What a view of the data leaves out for its reader: whole layers, and fields of layers
    (layer id -> field names). The plans' non-public annexes are restricted this way."""

    layers: frozenset[str] = frozenset()
    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.layers) or any(self.fields.values())

    def hides(self, layer: str, field_name: str | None = None) -> bool:
        """Whether the layer (or, given a field, that field of it) is left out."""
        if layer in self.layers:
            return True
        return field_name is not None and field_name in self.fields.get(layer, ())

    def hidden_fields(self, layer: str) -> frozenset[str]:
        return self.fields.get(layer, frozenset())

    def __or__(self, other: Restrictions) -> Restrictions:
        names = {*self.fields, *other.fields}
        return Restrictions(
            self.layers | other.layers,
            {n: self.hidden_fields(n) | other.hidden_fields(n) for n in names},
        )


@dataclass(frozen=True)
class LayerInfo:
    """What a store knows about one of its layers (geometry_type None: an attribute table)."""

    id: str
    geometry_type: str | None
    fields: dict[str, str]  # name -> "str" | "int" | "float" | "bool"
    count: int
    bbox: BBox | None


class FeatureStore(ABC):
    """Read access to layers of features (lon/lat, CGCS2000 ≈ WGS84)."""

    @abstractmethod
    def layers(self) -> dict[str, LayerInfo]:
        """Every layer the store holds, by id."""

    def layer(self, layer_id: str) -> LayerInfo:
        """One layer's description; raises LayerNotFound."""
        try:
            return self.layers()[layer_id]
        except KeyError:
            raise LayerNotFound(layer_id) from None

    @abstractmethod
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
        """Features of `layer` intersecting `bbox` whose properties equal `filters` (a list
        value means any of, a `Range` between), sorted by `sortby` ((field, ascending) pairs,
        then insertion order), paged by `limit` (None: all) and `offset`; `properties` picks
        the returned properties (None: all)."""

    @abstractmethod
    def get(self, layer: str, feature_id: str) -> Feature:
        """One feature by its public id; raises FeatureNotFound."""

    @abstractmethod
    def positions(
        self,
        layer: str,
        *,
        bbox: BBox | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        extra: Sequence[str] = (),
    ) -> Positions:
        """Representative positions of the matching features, plus the `extra` columns."""

    def columns(self, layer: str, names: Sequence[str]) -> Positions:
        """Every feature with a geometry, as `positions(layer, extra=names)` (same features,
        order and positions), with typed columns: int, float and bool fields as float64 (NaN:
        null; a bool is 1.0 or 0.0), str fields as object arrays (None: null). What a
        vectorised computation over a whole layer reads; a store may answer it from a
        columnar copy."""
        types = self.layer(layer).fields
        pos = self.positions(layer, extra=names)
        return Positions(
            pos.fids,
            pos.x,
            pos.y,
            {
                name: pos.extra[name]
                if types.get(name) == "str"
                else np.asarray(pos.extra[name], dtype=np.float64).reshape(-1)
                for name in names
            },
        )

    @abstractmethod
    def search(
        self,
        text: str,
        *,
        region: Sequence[str] | None = None,
        layers: Sequence[str] | None = None,
        limit: int = 20,
        skip_fields: Mapping[str, Iterable[str]] | None = None,
    ) -> list[SearchHit]:
        """Up to `limit` features whose name, id, enterprise or operator (`geo.store.search.
        SEARCH_FIELDS`) contains `text`, best first (exact, prefix, substring; counties first
        within each), each feature once. `region`: city adcodes the features must belong to
        (None: anywhere); `layers`: the layers searched (None: every layer with geometry);
        `skip_fields`: layer -> fields not searched (what a reader may not see)."""

    def restrictions(self) -> Restrictions:
        """What this view leaves out (see `geo.store.restricted`); a plain store, nothing."""
        return Restrictions()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources; stores without any need not override it."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
