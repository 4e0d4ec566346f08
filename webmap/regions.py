"""The map views a planner picks from: every city, one city, or a province — read from the
store's regions table, so an added region is on every surface."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from shapely.ops import unary_union

from geo.regions import read_regions
from geo.store import FeatureStore
from layers.base import LayerType


@dataclass(frozen=True)
class Region:
    key: str
    adcode: str | None  # None: every city the store has
    name_zh: str
    name_en: str
    level: str = "city"  # "all" | "city" | "province"


DEFAULT_REGION = "all"


@lru_cache(maxsize=8)  # a store is immutable while open
def regions_of(store: FeatureStore) -> dict[str, Region]:
    """The views a planner picks from, read from the store's regions table: every city
    together, then each city, then each province (the table is the one list of regions:
    an added region appears on every surface)."""
    rows = read_regions(store)
    cities = [r for r in rows if r.level == "city"]
    provinces = [r for r in rows if r.level == "province"]
    found = {
        DEFAULT_REGION: Region(
            DEFAULT_REGION,
            None,
            " · ".join(c.name_zh for c in cities),
            " & ".join(c.name_en or c.adcode for c in cities),
            "all",
        )
    }
    for r in cities + provinces:
        found[r.key] = Region(r.key, r.adcode, r.name_zh, r.name_en or r.adcode, r.level)
    return found


def cities_of(store: FeatureStore) -> dict[str, str]:
    """City key -> adcode, for the pages that are about one city (dashboard, indicators)."""
    return {k: r.adcode for k, r in regions_of(store).items() if r.level == "city" and r.adcode}


@dataclass
class RegionView:
    """What a region means for the data: which districts to draw, which facilities to show."""

    region: Region
    districts: list[Any]  # store Features
    filters: dict[str, list[str]] | None
    bounds: tuple[float, float, float, float]

    def filters_for(
        self, layer: LayerType, extra: dict[str, list[str]] | None = None
    ) -> dict[str, list[str]] | None:
        """The store filter for `layer` in this region, plus `extra`: layers with a city are
        narrowed to the region's cities (context layers without one are not). The map data, its
        warm-up and a map's opening extent ask the same, so they share cached positions."""
        own = self.filters if "city_adcode" in layer.field_map else None
        if extra:
            return (own or {}) | extra
        return own


@lru_cache(maxsize=32)  # a store is immutable while open; views are asked for on every fetch
def region_view(store: FeatureStore, key: str) -> RegionView:
    region = regions_of(store)[key]
    everything = store.query("districts", limit=None).features
    by_code = {f.properties["adcode"]: f for f in everything}
    cities = [f for f in everything if f.properties["level"] == "city"]
    if region.adcode is None:
        chosen_cities = cities
    elif by_code.get(region.adcode) and by_code[region.adcode].properties["level"] == "province":
        chosen_cities = [c for c in cities if c.properties["parent_adcode"] == region.adcode]
    else:
        chosen_cities = [c for c in cities if c.properties["adcode"] == region.adcode]
    city_codes = [c.properties["adcode"] for c in chosen_cities]
    provinces = {c.properties["parent_adcode"] for c in chosen_cities}
    districts = [
        f
        for f in everything
        if f.properties["adcode"] in provinces
        or f.properties["adcode"] in city_codes
        or f.properties["parent_adcode"] in city_codes
    ]
    if region.adcode is not None and by_code.get(region.adcode, None) is not None:
        focus = [by_code[region.adcode]]
    else:
        focus = chosen_cities or everything
    bounds = unary_union([f.geometry for f in focus]).bounds if focus else (118, 38, 132, 47)
    filters = None if region.adcode is None else {"city_adcode": city_codes}
    return RegionView(region=region, districts=districts, filters=filters, bounds=bounds)


@lru_cache(maxsize=8)
def place_names(store: FeatureStore) -> dict[str, str]:
    """Adcode -> Chinese name of every district in the store, for popups."""
    rows = store.query(
        "districts", limit=None, properties=["adcode", "name_zh"], with_geometry=False
    ).features
    return {f.properties["adcode"]: f.properties["name_zh"] for f in rows}


def counties_of(store: FeatureStore, city_adcode: str) -> list[dict[str, Any]]:
    """The counties of a city (their properties), in adcode order: what county reports exist."""
    return [
        f.properties
        for f in store.query(
            "districts",
            filters={"parent_adcode": [city_adcode]},
            limit=None,
            sortby=[("adcode", True)],
            with_geometry=False,
        ).features
        if f.properties["level"] == "county"
    ]
