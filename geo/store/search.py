"""Finding features by what people call them: name, id, enterprise or operator, county.

Shared by every store: which fields are searched, how a query and a value are compared
(`search_key`), the order of hits (exact, then prefix, then substring; districts first within
each), and a plain-Python index (`TextIndex`) for stores held in memory. The GeoPackage store
answers the same way from its FTS5 trigram index (see gpkg.py).

Order within a tier: prefix hits by the matched text, then store order; substring and exact
hits in store order. Store order is layer (districts first, then by id), searched
field (`SEARCH_FIELDS` order), the text's first feature, then the features holding it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from geo.store.base import BBox

DISTRICTS_LAYER = "districts"  # counties are hits too, and come first on ties
# The fields a feature is found by, where its layer has them: its name(s), its id, and who
# runs it. Restricted fields are never searched for a reader who may not see them.
SEARCH_FIELDS = (
    "name",
    "name_zh",
    "name_en",
    "id",
    "enterprise",
    "operator",
    "owner",
    "managing_body",
)
NAME_FIELDS = ("name", "name_zh")  # what a hit is called: the first of these the layer has
TIERS = ("exact", "prefix", "substring")
MAX_QUERY_CHARS = 100


def search_key(text: str | None) -> str:
    """The form values and queries are compared in: NFKC (full-width digits and letters as
    ASCII), lower case, inner runs of white space as one space, trimmed."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text)).lower()
    return " ".join(folded.split())


@dataclass(frozen=True)
class SearchHit:
    """One feature found: where it is and why it was found."""

    layer: str
    id: str
    name: str | None  # None when the reader may not see the layer's name field
    county: str | None  # the county it lies in (for a county: its city), by name
    county_adcode: str | None
    field: str  # the field that matched
    text: str  # that field's value
    match: str  # "exact" | "prefix" | "substring"
    lon: float  # a point on the feature (a point's own position, a polygon's inside point)
    lat: float
    bbox: BBox

    @classmethod
    def of(
        cls,
        geometry: BaseGeometry | None,
        county_names: Mapping[str, str],
        *,
        layer: str,
        id: str,
        name: str | None,
        county_adcode: str | None,
        field: str,
        text: str,
        match: str,
    ) -> SearchHit:
        """The hit for a feature found by a store: its place and its county's name added."""
        lon, lat, bbox = place(geometry)
        return cls(
            layer=layer,
            id=id,
            name=name,
            county=county_names.get(county_adcode) if county_adcode else None,
            county_adcode=county_adcode,
            field=field,
            text=text,
            match=match,
            lon=lon,
            lat=lat,
            bbox=bbox,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "id": self.id,
            "name": self.name,
            "county": self.county,
            "county_adcode": self.county_adcode,
            "field": self.field,
            "text": self.text,
            "match": self.match,
            "lon": self.lon,
            "lat": self.lat,
            "bbox": list(self.bbox),
        }


def searched_fields(fields: Iterable[str], skip: Iterable[str] = ()) -> list[str]:
    """The searched fields among a layer's `fields`, in `SEARCH_FIELDS` order."""
    present, skipped = set(fields), set(skip)
    return [name for name in SEARCH_FIELDS if name in present and name not in skipped]


def name_field(fields: Iterable[str]) -> str | None:
    present = set(fields)
    return next((name for name in NAME_FIELDS if name in present), None)


def layer_order(layer_ids: Iterable[str]) -> list[str]:
    """Districts first, then by id (the order every store lists and indexes layers in)."""
    return sorted(set(layer_ids), key=lambda layer_id: (layer_id != DISTRICTS_LAYER, layer_id))


def city_of(properties: Mapping[str, Any]) -> str | None:
    """The city a feature belongs to, for the region filter: its `city_adcode`; for a county
    its parent city, for a city or province itself."""
    if properties.get("city_adcode") is not None:
        return properties["city_adcode"]
    if properties.get("level") == "county":
        return properties.get("parent_adcode")
    return properties.get("adcode")


def county_of(properties: Mapping[str, Any]) -> str | None:
    """The adcode of the place shown beside a hit: a feature's county, a county's city."""
    if properties.get("county_adcode") is not None:
        return properties["county_adcode"]
    return properties.get("parent_adcode")


def place(geometry: BaseGeometry | None) -> tuple[float, float, BBox]:
    """A point on the geometry (inside a polygon, on a line) and its bbox, rounded to ~0.1 m."""
    if geometry is None or geometry.is_empty:
        return 0.0, 0.0, (0.0, 0.0, 0.0, 0.0)
    point = geometry if geometry.geom_type == "Point" else shapely.point_on_surface(geometry)
    bounds = tuple(round(v, 6) for v in geometry.bounds)
    return round(point.x, 6), round(point.y, 6), bounds  # type: ignore[return-value]


def tier_of(key: str, query: str) -> str | None:
    """How `key` matches `query` (both `search_key`ed), or None."""
    if key == query:
        return "exact"
    if key.startswith(query):
        return "prefix"
    if query in key:
        return "substring"
    return None


@dataclass
class _Text:
    layer: str
    field: str
    key: str
    value: str
    rows: list[int]  # positions of the features holding it, in feature order


class TextIndex:
    """The searched texts of features held in memory, in store order: what MemoryStore
    searches (a few thousand features; the GeoPackage store has its own index)."""

    def __init__(
        self, layers: Mapping[str, tuple[Iterable[str], Sequence[Mapping[str, Any]]]]
    ) -> None:
        """`layers`: layer id -> (its field names, its features' properties in order)."""
        self.texts: list[_Text] = []
        self.properties = {layer_id: list(rows) for layer_id, (_, rows) in layers.items()}
        for layer_id in layer_order(layers):
            rows = self.properties[layer_id]
            for name in searched_fields(layers[layer_id][0]):
                seen: dict[str, _Text] = {}
                for i, props in enumerate(rows):
                    key = search_key(props.get(name))
                    if not key:
                        continue
                    if key not in seen:
                        seen[key] = _Text(layer_id, name, key, str(props[name]), [])
                        self.texts.append(seen[key])
                    seen[key].rows.append(i)

    def find(
        self,
        query: str,
        *,
        layers: Iterable[str],
        cities: Sequence[str] | None,
        skip_fields: Mapping[str, Iterable[str]],
        limit: int,
    ) -> list[tuple[str, int, str, str, str]]:
        """Up to `limit` (layer, row, field, value, tier) of distinct features, best first."""
        wanted = set(layers)
        region = None if cities is None else set(cities)
        candidates = [
            t
            for t in self.texts
            if t.layer in wanted and t.field not in set(skip_fields.get(t.layer, ()))
        ]
        found: list[tuple[str, int, str, str, str]] = []
        seen: set[tuple[str, int]] = set()
        for tier in TIERS:
            for districts in (True, False):
                texts = [
                    t
                    for t in candidates
                    if (t.layer == DISTRICTS_LAYER) == districts and tier_of(t.key, query) == tier
                ]
                if tier == "prefix":
                    texts.sort(key=lambda t: t.key)  # stable: store order among equal keys
                for t in texts:
                    for row in t.rows:
                        if (t.layer, row) in seen:
                            continue
                        if region is not None:
                            city = city_of(self.properties[t.layer][row])
                            if city is not None and city not in region:
                                continue
                        seen.add((t.layer, row))
                        found.append((t.layer, row, t.field, t.value, tier))
                        if len(found) >= limit:
                            return found
        return found
