"""Seeded, reproducible demonstration data (示例数据) for every layer type.

Each layer module defines `demo_features(ctx)`, which gets a `DemoContext`: a seeded random
generator of its own, the real district boundaries, the wanted counts and the features that
layers earlier in `demo_order` produced (boilers are placed inside built-up areas made before
them). This module holds what those generators share (vectorised point sampling, local
Gauss-Krüger measures, irregular polygons, feature assembly) plus `generate`, `write` and a CLI::

    python -m layers.demo                      # regenerates exactly the shipped data/demo/
    python -m layers.demo --villages 1000000 --boilers 100000 --out /tmp/big

Everything produced here is fictitious: `is_demo` is true and `note` says 示例数据（虚构）.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.affinity import affine_transform
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from geo.crs import WGS84, get_transformer
from layers import all_layers, get_layer
from layers.base import LayerType

__all__ = [
    "CITIES",
    "COORD_DECIMALS",
    "DEFAULT_COUNTS_PER_CITY",
    "DEFAULT_OUT",
    "DEFAULT_SEED",
    "DEMO_NOTE",
    "DEMO_NOTE_PLACE",
    "DISTRICTS_PATH",
    "City",
    "DemoContext",
    "District",
    "Written",
    "generate",
    "geometry_json",
    "load_districts",
    "main",
    "normalise_feature",
    "point_json",
    "split_total",
    "write",
    "zone_epsg",
]

REPO = Path(__file__).resolve().parents[1]
DISTRICTS_PATH = REPO / "data" / "boundaries" / "districts.geojson"
DEFAULT_OUT = REPO / "data" / "demo"
DEFAULT_SEED = 20221118  # 营政发〔2022〕18号 was issued on 2022-11-16; any fixed number will do
COORD_DECIMALS = 6  # 1e-6° ≈ 0.1 m
LAND_MARGIN_DEG = 0.0003  # ≈ 30 m: sampled geometry keeps this far from county borders

DEMO_NOTE = "示例数据（虚构）"
DEMO_NOTE_PLACE = "示例数据（虚构）；位置示意"

# How many features of each scalable layer a city gets by default. Context layers (built-up
# areas, heating coverage, waste-heat sources) are fixed lists in their modules.
DEFAULT_COUNTS_PER_CITY: dict[str, int] = {
    "coal_boilers": 44,
    "parks": 8,
    "rail_spurs": 8,
    "wastewater_plants": 8,
    "villages": 150,
}


@dataclass(frozen=True)
class City:
    """A city the demo data covers, with its id prefix and local Gauss-Krüger CRS."""

    adcode: str
    prefix: str
    name_zh: str
    epsg: str


CITIES: tuple[City, ...] = (
    City("210800", "yk", "营口", "EPSG:4550"),
    City("220400", "ly", "辽源", "EPSG:4551"),
)


@dataclass(frozen=True)
class District:
    """One boundary from districts.geojson (geometry prepared for fast point tests)."""

    adcode: str
    name_zh: str
    level: str
    parent_adcode: str | None
    geom: BaseGeometry


def zone_epsg(lon: float) -> str:
    """The CGCS2000 3-degree Gauss-Krüger CRS (CM variant) whose meridian is nearest `lon`.

    EPSG:4534 is CM 75°E and the codes run in 3° steps, so 123°E → 4550, 126°E → 4551.
    """
    cm = 3 * round(lon / 3)
    if not 75 <= cm <= 135:
        raise ValueError(f"longitude {lon} is outside the CGCS2000 Gauss-Krüger zones")
    return f"EPSG:{4534 + (cm - 75) // 3}"


def load_districts(path: str | Path = DISTRICTS_PATH) -> dict[str, District]:
    """Read the district boundaries (WGS84 lon/lat) keyed by adcode."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    out: dict[str, District] = {}
    for feat in data["features"]:
        p = feat["properties"]
        geom = shape(feat["geometry"])
        shapely.prepare(geom)
        out[p["adcode"]] = District(
            p["adcode"], p["name_zh"], p["level"], p.get("parent_adcode"), geom
        )
    return out


def split_total(total: int, n_parts: int = len(CITIES)) -> list[int]:
    """Split a total evenly over the cities; the first ones get the remainder."""
    base, extra = divmod(int(total), n_parts)
    return [base + (1 if i < extra else 0) for i in range(n_parts)]


# ------------------------------------------------------------------------------ geometry json
def _round(values: NDArray[np.float64]) -> list[Any]:
    return np.round(values, COORD_DECIMALS).tolist()


def geometry_json(geom: BaseGeometry) -> dict[str, Any]:
    """A shapely geometry as a GeoJSON dict on the 1e-6° grid, valid and RFC 7946 oriented.

    Polygons are snapped with `set_precision` (which keeps them valid) before rounding, and
    always come out as MultiPolygon, the type the polygon layers declare.
    """
    if isinstance(geom, Point):
        return {"type": "Point", "coordinates": _round(np.array([geom.x, geom.y]))}
    if isinstance(geom, LineString):
        geom = shapely.set_precision(geom, 10.0**-COORD_DECIMALS)
        return {"type": "LineString", "coordinates": _round(shapely.get_coordinates(geom))}
    if isinstance(geom, Polygon | MultiPolygon):
        geom = shapely.set_precision(geom, 10.0**-COORD_DECIMALS)
        if not geom.is_valid:  # pragma: no cover - set_precision returns valid polygons
            geom = shapely.make_valid(geom)
        geom = shapely.orient_polygons(geom)
        polys = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
        if not polys:
            raise ValueError("polygon collapsed when snapped to the coordinate grid")
        coords = [[_round(np.asarray(r.coords)) for r in (p.exterior, *p.interiors)] for p in polys]
        return {"type": "MultiPolygon", "coordinates": coords}
    raise TypeError(f"unsupported geometry {geom.geom_type}")


def point_json(lon: float, lat: float) -> dict[str, Any]:
    """A GeoJSON Point with coordinates rounded to 6 decimals."""
    return {
        "type": "Point",
        "coordinates": [round(float(lon), COORD_DECIMALS), round(float(lat), COORD_DECIMALS)],
    }


# ------------------------------------------------------------------------------ the context
@dataclass
class DemoContext:
    """What a layer's `demo_features` gets: randomness, boundaries, counts, earlier layers.

    `rng` is re-seeded per layer by `generate` (from the seed and the layer id), so changing
    the number of villages does not move a single boiler.
    """

    rng: np.random.Generator
    districts: dict[str, District]
    counts: dict[str, dict[str, int]]  # layer id -> city adcode -> features wanted
    features: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    cities: tuple[City, ...] = CITIES
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    # -- counts and ids ---------------------------------------------------------------------
    def count(self, layer_id: str, city: str) -> int:
        """How many features of `layer_id` city `city` (adcode) should get."""
        return self.counts[layer_id][city]

    def city(self, adcode: str) -> City:
        """The `City` (id prefix, local CRS) of a city adcode."""
        return next(c for c in self.cities if c.adcode == adcode)

    def ids(self, city: str, stem: str, n: int) -> list[str]:
        """Feature ids like yk-boiler-0001; the zero padding grows with `n`."""
        prefix = self.city(city).prefix
        width = max(4, len(str(n)))
        return [f"{prefix}-{stem}-{i:0{width}d}" for i in range(1, n + 1)]

    # -- districts --------------------------------------------------------------------------
    def counties(self, city: str) -> list[str]:
        """The county adcodes of a city, in adcode order."""
        return sorted(
            a for a, d in self.districts.items() if d.level == "county" and d.parent_adcode == city
        )

    def geom(self, adcode: str) -> BaseGeometry:
        """The exact (prepared) boundary of a district."""
        return self.districts[adcode].geom

    def name(self, adcode: str) -> str:
        """A district's Chinese name, e.g. 盖州市."""
        return self.districts[adcode].name_zh

    def city_of(self, county: str) -> str:
        """The city adcode a county belongs to."""
        parent = self.districts[county].parent_adcode
        assert parent is not None
        return parent

    def land(self, adcode: str) -> BaseGeometry:
        """A county (or the union of a city's counties) shrunk by ~30 m from every border, so a
        point inside it is strictly inside exactly one county even after rounding."""
        key = ("land", adcode)
        if key not in self._cache:
            d = self.districts[adcode]
            if d.level == "county":
                geom = d.geom.buffer(-LAND_MARGIN_DEG)
            else:
                geom = shapely.union_all([self.land(c) for c in self.counties(adcode)])
            shapely.prepare(geom)
            self._cache[key] = geom
        return self._cache[key]

    def inner(self, adcode: str) -> BaseGeometry:
        """A district's outline shrunk by ~30 m: for clipping polygons that may span counties
        (unlike `land` of a city, it has no gaps along the county borders)."""
        key = ("inner", adcode)
        if key not in self._cache:
            geom = self.districts[adcode].geom.buffer(-LAND_MARGIN_DEG)
            shapely.prepare(geom)
            self._cache[key] = geom
        return self._cache[key]

    def county_of(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.object_]:
        """The adcode of the county strictly containing each point (None where there is none)."""
        x = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        y = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        out = np.full(x.shape, None, dtype=object)
        free = np.ones(x.shape, dtype=bool)
        for adcode in sorted(self.districts):
            d = self.districts[adcode]
            if d.level != "county":
                continue
            minx, miny, maxx, maxy = d.geom.bounds
            sel = np.flatnonzero(free & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
            if sel.size == 0:
                continue
            inside = sel[shapely.contains_xy(d.geom, x[sel], y[sel])]
            out[inside] = adcode
            free[inside] = False
        return out

    def county_of_geom(self, geom: BaseGeometry) -> str | None:
        """The county of a line or polygon: the one containing its centroid."""
        c = geom.centroid
        return self.county_of(c.x, c.y)[0]

    # -- sampling ---------------------------------------------------------------------------
    def random_points_in(
        self, geom: BaseGeometry, n: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """`n` uniform random points strictly inside `geom`, already on the 1e-6° grid.

        Vectorised rejection sampling: draw in the bounding box of each part (parts get points
        in proportion to their area), keep what `shapely.contains_xy` accepts, repeat.
        """
        if n <= 0:
            return np.empty(0), np.empty(0)
        parts = [p for p in shapely.get_parts(geom) if p.area > 0]
        if not parts:
            raise ValueError("cannot sample points in an empty geometry")
        if len(parts) == 1:
            return self._sample_part(parts[0], n)
        areas = np.array([p.area for p in parts])
        alloc = self.rng.multinomial(n, areas / areas.sum())
        xs, ys = zip(
            *(self._sample_part(p, k) for p, k in zip(parts, alloc, strict=True)), strict=True
        )
        order = self.rng.permutation(n)
        return np.concatenate(xs)[order], np.concatenate(ys)[order]

    def _sample_part(
        self, geom: BaseGeometry, n: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if n <= 0:
            return np.empty(0), np.empty(0)
        shapely.prepare(geom)
        minx, miny, maxx, maxy = geom.bounds
        fill = max(geom.area / max((maxx - minx) * (maxy - miny), 1e-18), 1e-3)
        xs: list[NDArray[np.float64]] = []
        ys: list[NDArray[np.float64]] = []
        got = 0
        for _ in range(1000):
            m = int((n - got) / fill * 1.15) + 16
            x = np.round(self.rng.uniform(minx, maxx, m), COORD_DECIMALS)
            y = np.round(self.rng.uniform(miny, maxy, m), COORD_DECIMALS)
            keep = shapely.contains_xy(geom, x, y)
            xs.append(x[keep])
            ys.append(y[keep])
            got += int(keep.sum())
            if got >= n:
                return np.concatenate(xs)[:n], np.concatenate(ys)[:n]
        raise ValueError("geometry too thin to sample points in")  # pragma: no cover

    def random_point_in(self, geom: BaseGeometry) -> tuple[float, float]:
        """One point of `random_points_in`, as Python floats."""
        x, y = self.random_points_in(geom, 1)
        return float(x[0]), float(y[0])

    def snap_inside(
        self, geom: BaseGeometry, lon: float, lat: float, margin_m: float = 300.0
    ) -> tuple[float, float]:
        """A point approximately at (lon, lat) but at least ~`margin_m` inside `geom` (a real
        place given roughly, e.g. a coastal steel works, must still land on land)."""
        margin = margin_m / 111_000.0
        while margin > 1e-5:
            inner = geom.buffer(-margin)
            if not inner.is_empty:
                break
            margin /= 2
        else:  # pragma: no cover - only for slivers
            inner = geom
        p = Point(round(lon, COORD_DECIMALS), round(lat, COORD_DECIMALS))
        if inner.contains(p):
            return p.x, p.y
        q = nearest_points(inner, p)[0]
        x, y = round(q.x, COORD_DECIMALS), round(q.y, COORD_DECIMALS)
        if not geom.contains(Point(x, y)):  # pragma: no cover - margin is far above rounding
            x, y = inner.representative_point().coords[0]
        return x, y

    # -- local metric geometry --------------------------------------------------------------
    def to_local(self, geom: BaseGeometry, epsg: str | None = None) -> BaseGeometry:
        """`geom` in metres, in its Gauss-Krüger zone (or `epsg`)."""
        epsg = epsg or zone_epsg(geom.centroid.x)
        t = get_transformer(WGS84, epsg)
        return shapely.transform(geom, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))

    def from_local(self, geom: BaseGeometry, epsg: str) -> BaseGeometry:
        """The inverse of `to_local`: metres in `epsg` back to WGS84 lon/lat."""
        t = get_transformer(epsg, WGS84)
        return shapely.transform(geom, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))

    def length_km(self, line: BaseGeometry) -> float:
        """Length in km, measured in the local CGCS2000 Gauss-Krüger zone (4550 / 4551)."""
        return self.to_local(line).length / 1000.0

    def area_km2(self, geom: BaseGeometry) -> float:
        """Area in km², measured in the local Gauss-Krüger zone."""
        return self.to_local(geom).area / 1e6

    def distance_km(self, a: BaseGeometry, b: BaseGeometry) -> float:
        """Shortest distance in km, measured in the Gauss-Krüger zone of `a`."""
        epsg = zone_epsg(a.centroid.x)
        return self.to_local(a, epsg).distance(self.to_local(b, epsg)) / 1000.0

    def buffer_km(self, geom: BaseGeometry, km: float) -> BaseGeometry:
        """`geom` grown (or shrunk) by `km` kilometres, measured locally."""
        epsg = zone_epsg(geom.centroid.x)
        return self.from_local(self.to_local(geom, epsg).buffer(km * 1000.0), epsg)

    def blob(
        self,
        lon: float,
        lat: float,
        area_km2: float,
        *,
        within: BaseGeometry | None = None,
        irregularity: float = 0.3,
        vertices: int = 30,
        min_fraction: float = 0.55,
        tries: int = 12,
    ) -> MultiPolygon:
        """An irregular, valid polygon of about `area_km2` around (lon, lat), clipped to
        `within`: a star shape whose radius is a random low-order Fourier series, so it looks
        like a town or a park rather than a circle. Its centroid is inside `within`.

        When clipping cuts off more than `1 - min_fraction` of it, the centre is moved inward.
        """
        epsg = zone_epsg(lon)
        fwd = get_transformer(WGS84, epsg)
        best: MultiPolygon | None = None
        best_area = -1.0
        cx, cy = lon, lat
        for attempt in range(tries):
            x0, y0 = fwd.transform(cx, cy)
            step = 2 * math.pi / vertices
            theta = step * np.arange(vertices) + self.rng.uniform(-0.3, 0.3, vertices) * step
            r = np.ones(vertices)
            for j in range(1, 5):
                a = self.rng.uniform(0, irregularity / j)
                r += a * np.cos(j * theta + self.rng.uniform(0, 2 * math.pi))
            r *= 1 + self.rng.uniform(-0.07, 0.07, vertices)
            r = np.clip(r, 0.35, None)
            unit = Polygon(np.column_stack([np.cos(theta) * r, np.sin(theta) * r]))
            scale = math.sqrt(area_km2 * 1e6 / unit.area)
            local = affine_transform(unit, [scale, 0, 0, scale, x0, y0])
            poly = self.from_local(local, epsg)
            if within is not None:
                poly = poly.intersection(within)
            parts = sorted(
                (p for p in shapely.get_parts(poly) if isinstance(p, Polygon)),
                key=lambda p: -p.area,
            )
            parts = [p for p in parts if parts and p.area >= 0.2 * parts[0].area]
            if parts:
                result = MultiPolygon(parts)
                result = shapely.set_precision(result, 10.0**-COORD_DECIMALS)
                ok_centroid = within is None or within.contains(result.centroid)
                got = self.area_km2(result) if not result.is_empty else 0.0
                if ok_centroid and got >= min_fraction * area_km2:
                    return _as_multipolygon(result)
                if ok_centroid and got > best_area:
                    best, best_area = _as_multipolygon(result), got
            if within is not None:  # move inward, more with every attempt
                radius_m = math.sqrt(area_km2 * 1e6 / math.pi)
                cx, cy = self.snap_inside(within, cx, cy, radius_m * (0.3 + 0.15 * attempt))
        if best is None:
            raise ValueError(f"could not place a {area_km2} km² polygon near {lon}, {lat}")
        return best

    def disc(self, lon: float, lat: float, radius_km: float) -> Polygon:
        """A circle of `radius_km` around a point, as a lon/lat polygon."""
        return self.buffer_km(Point(lon, lat), radius_km)

    # -- features ---------------------------------------------------------------------------
    def feature(
        self,
        layer_id: str,
        fid: str,
        geometry: BaseGeometry | Mapping[str, Any],
        properties: Mapping[str, Any],
    ) -> dict[str, Any]:
        """A GeoJSON Feature of `layer_id`: every schema field in schema order (None when not
        given), `id` = `fid`, `is_demo` true, `note` defaulting to 示例数据（虚构）."""
        names = _field_names(layer_id)
        unknown = set(properties) - set(names)
        if unknown:
            raise ValueError(f"{layer_id}: properties not in the schema: {sorted(unknown)}")
        props = {n: properties.get(n) for n in names}
        props["id"] = fid
        props["is_demo"] = True
        if "note" in props and props["note"] is None:
            props["note"] = DEMO_NOTE
        geom = geometry if isinstance(geometry, Mapping) else geometry_json(geometry)
        return {"type": "Feature", "id": fid, "geometry": geom, "properties": props}

    def point(self, lon: float, lat: float) -> dict[str, Any]:
        """A GeoJSON Point on the 1e-6° grid (cheaper than `geometry` for many points)."""
        return point_json(lon, lat)

    def geometry(self, geom: BaseGeometry) -> dict[str, Any]:
        """`geometry_json`: measure lengths on this (the written) form, not the unrounded one."""
        return geometry_json(geom)

    def features_of(self, layer_id: str, city: str | None = None) -> list[dict[str, Any]]:
        """Features an earlier layer generated, optionally of one city."""
        feats = self.features.get(layer_id, [])
        if city is None:
            return feats
        return [f for f in feats if f["properties"].get("city_adcode") == city]

    def shapes_of(self, layer_id: str, city: str | None = None) -> list[BaseGeometry]:
        """`features_of` as shapely geometries."""
        return [shape(f["geometry"]) for f in self.features_of(layer_id, city)]

    def union_of(self, layer_id: str, city: str) -> BaseGeometry:
        """The union of an earlier layer's geometries in a city (prepared)."""
        key = ("union", layer_id, city)
        if key not in self._cache:
            geom = shapely.union_all(self.shapes_of(layer_id, city))
            shapely.prepare(geom)
            self._cache[key] = geom
        return self._cache[key]

    def choose(self, options: Sequence[Any], p: Sequence[float] | None = None) -> Any:
        """One of `options` (a plain Python value, not a numpy scalar)."""
        return options[int(self.rng.choice(len(options), p=p))]


def _as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    polys = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    return MultiPolygon(polys)


_FIELD_NAMES: dict[str, tuple[str, ...]] = {}


def _field_names(layer_id: str) -> tuple[str, ...]:
    if layer_id not in _FIELD_NAMES:
        _FIELD_NAMES[layer_id] = tuple(f.name for f in get_layer(layer_id).fields)
    return _FIELD_NAMES[layer_id]


# ------------------------------------------------------------------------------ generate
def generate(
    seed: int = DEFAULT_SEED,
    counts: Mapping[str, int] | None = None,
    *,
    districts_path: str | Path = DISTRICTS_PATH,
) -> dict[str, list[dict[str, Any]]]:
    """Run every registered layer's `demo` in `demo_order`; GeoJSON Feature dicts by layer id.

    `counts` are TOTALS over both cities for the scalable layers (coal_boilers, parks,
    rail_spurs, wastewater_plants, villages), split evenly; missing ones take the defaults.
    """
    totals = {k: v * len(CITIES) for k, v in DEFAULT_COUNTS_PER_CITY.items()}
    for key, value in (counts or {}).items():
        if key not in totals:
            raise ValueError(f"unknown count {key!r}; scalable layers: {', '.join(totals)}")
        if int(value) < 0:
            raise ValueError(f"count {key} must not be negative")
        totals[key] = int(value)
    per_city = {
        k: dict(zip((c.adcode for c in CITIES), split_total(v), strict=True))
        for k, v in totals.items()
    }
    ctx = DemoContext(
        rng=np.random.default_rng(seed), districts=load_districts(districts_path), counts=per_city
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for layer in sorted(all_layers(), key=lambda lt: (lt.demo_order, lt.id)):
        if layer.demo is None:
            continue
        ctx.rng = np.random.default_rng([seed, zlib.crc32(layer.id.encode())])
        feats = layer.demo(ctx)
        ids = [f["id"] for f in feats]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{layer.id}: duplicate demo feature ids")
        ctx.features[layer.id] = feats
        out[layer.id] = feats
    return out


# ------------------------------------------------------------------------------ write
def _round_coords(coords: Any) -> Any:
    if coords and isinstance(coords[0], int | float):
        return [round(float(c), COORD_DECIMALS) for c in coords]
    return [_round_coords(c) for c in coords]


def normalise_feature(layer: LayerType, feature: Mapping[str, Any]) -> dict[str, Any]:
    """The written form of a feature: fixed key order, every schema field (None when missing)
    and nothing else, `properties.id` = feature id, `is_demo` true, coordinates on 1e-6°."""
    names = _field_names(layer.id)
    given = feature.get("properties") or {}
    unknown = set(given) - set(names)
    if unknown:
        raise ValueError(f"{layer.id}: properties not in the schema: {sorted(unknown)}")
    fid = feature["id"]
    props = {n: given.get(n) for n in names}
    props["id"] = fid
    props["is_demo"] = True
    geom = feature["geometry"]
    geom = {"type": geom["type"], "coordinates": _round_coords(geom["coordinates"])}
    return {"type": "Feature", "id": fid, "geometry": geom, "properties": props}


@dataclass(frozen=True)
class Written:
    """One file `write` produced: layer, path, number of features, size in bytes."""

    layer_id: str
    path: Path
    features: int
    bytes: int


def _lines(layer: LayerType, features: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    sep = ""
    for feat in features:
        yield sep + encode(normalise_feature(layer, feat))
        sep = ",\n"


def write(
    features_by_layer: Mapping[str, Iterable[Mapping[str, Any]]], out_dir: str | Path
) -> list[Written]:
    """Write one RFC 7946 FeatureCollection per layer to `out_dir/<layer_id>.geojson`.

    UTF-8 without escapes, one feature per line (readable diffs), streamed in chunks so a
    million villages never need the whole text in memory; written atomically.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Written] = []
    for layer_id, features in features_by_layer.items():
        layer = get_layer(layer_id)
        path = out / f"{layer_id}.geojson"
        tmp = path.with_name(path.name + ".tmp")
        n = 0
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write('{"type":"FeatureCollection","features":[\n')
            chunk: list[str] = []
            for line in _lines(layer, features):
                chunk.append(line)
                n += 1
                if len(chunk) >= 10_000:
                    fh.write("".join(chunk))
                    chunk.clear()
            fh.write("".join(chunk))
            fh.write("\n]}\n")
        tmp.replace(path)
        written.append(Written(layer_id, path, n, path.stat().st_size))
    return written


# ------------------------------------------------------------------------------ CLI
def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def main(argv: Sequence[str] | None = None, echo: Callable[[str], None] = print) -> int:
    """CLI: generate and write the demo layers; print counts, sizes and seconds."""
    parser = argparse.ArgumentParser(
        prog="python -m layers.demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output folder [data/demo]")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--districts",
        default=str(DISTRICTS_PATH),
        help="district boundaries GeoJSON [data/boundaries/districts.geojson]",
    )
    options = {
        "villages": "villages",
        "boilers": "coal_boilers",
        "parks": "parks",
        "spurs": "rail_spurs",
        "plants": "wastewater_plants",
    }
    for opt, layer_id in options.items():
        parser.add_argument(
            f"--{opt}",
            type=int,
            default=None,
            metavar="N",
            help=f"total {layer_id} over both cities "
            f"[{DEFAULT_COUNTS_PER_CITY[layer_id] * len(CITIES)}]",
        )
    args = parser.parse_args(argv)
    counts = {
        layer_id: getattr(args, opt)
        for opt, layer_id in options.items()
        if getattr(args, opt) is not None
    }
    t0 = time.perf_counter()
    features = generate(args.seed, counts, districts_path=args.districts)
    t1 = time.perf_counter()
    written = write(features, args.out)
    t2 = time.perf_counter()
    for w in written:
        echo(f"{w.layer_id:<20} {w.features:>9,d} features  {_human(w.bytes):>9}  {w.path}")
    total = sum(w.bytes for w in written)
    echo(
        f"{'total':<20} {sum(w.features for w in written):>9,d} features  {_human(total):>9}"
        f"  generated in {t1 - t0:.1f} s, written in {t2 - t1:.1f} s (seed {args.seed})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
