"""Reading and validating source files (GeoJSON in lon/lat) against layer schemas.

A bad feature stops the load with a SourceError naming the file, the feature and the field;
nothing is written until every source has passed, so a failed load leaves the store as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiLineString, MultiPolygon, shape
from shapely.geometry.base import BaseGeometry

from geo.errors import SourceError
from geo.schema import LayerSchema

SOURCE_SUFFIX = ".geojson"


@dataclass
class LayerData:
    """Validated features of one layer, in file order."""

    schema: LayerSchema
    ids: list[str] = field(default_factory=list)
    properties: list[dict[str, Any]] = field(default_factory=list)
    geometries: list[BaseGeometry] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def source_files(schemas: Iterable[LayerSchema], source_dirs: Sequence[Path]) -> list[Path]:
    """Every `<layer_id>.geojson` in the source folders, in a stable order."""
    ids = {s.id for s in schemas}
    found = []
    for folder in source_dirs:
        for path in sorted(Path(folder).glob(f"*{SOURCE_SUFFIX}")):
            if path.name[: -len(SOURCE_SUFFIX)] in ids:
                found.append(path)
    return found


def fingerprint(
    schemas: Iterable[LayerSchema], source_dirs: Sequence[Path], extra: Sequence[Path] = ()
) -> str:
    """Changes whenever a source file's content, any layer schema or an `extra` file changes."""
    schemas = list(schemas)
    digest = hashlib.sha256()
    for s in sorted(schemas, key=lambda s: s.id):
        digest.update(s.fingerprint().encode())
    for path in [*source_files(schemas, source_dirs), *extra]:
        digest.update(path.name.encode())
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def load_sources(
    schemas: Iterable[LayerSchema], source_dirs: Sequence[Path]
) -> dict[str, LayerData]:
    """Read and validate every source file; ids must be unique within a layer."""
    schemas = list(schemas)
    by_id = {s.id: s for s in schemas}
    data = {s.id: LayerData(schema=s) for s in schemas}
    for path in source_files(schemas, source_dirs):
        layer_id = path.name[: -len(SOURCE_SUFFIX)]
        read_source(path, by_id[layer_id], into=data[layer_id])
    return data


def read_source(path: Path, schema: LayerSchema, into: LayerData | None = None) -> LayerData:
    """Validate one GeoJSON FeatureCollection against `schema` and append it to `into`."""
    into = into if into is not None else LayerData(schema=schema)
    try:
        with Path(path).open(encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"无法读取 GeoJSON cannot read GeoJSON: {exc}", path=str(path)) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise SourceError(
            "应为 GeoJSON 要素集 expected a GeoJSON FeatureCollection", path=str(path)
        )
    features = doc.get("features")
    if not isinstance(features, list):
        raise SourceError("features 须是列表 'features' must be a list", path=str(path))

    fields = schema.field_map
    seen = set(into.ids)
    for number, feature in enumerate(features, start=1):
        where = {"path": str(path), "feature": number}
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise SourceError("不是 GeoJSON 要素 not a GeoJSON Feature", **where)
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise SourceError("properties 须是对象 'properties' must be an object", **where)
        fid = props.get("id", feature.get("id"))
        where["feature_id"] = str(fid) if fid is not None else None
        unknown = sorted(set(props) - set(fields))
        if unknown:
            raise SourceError(
                f"未知字段 unknown field (layer {schema.id} has: {', '.join(fields)})",
                field=unknown[0],
                **where,
            )
        row = {name: props.get(name) for name in fields}
        if row["id"] is None and fid is not None:
            row["id"] = fid
        for f in schema.fields:
            problem = f.check(row[f.name])
            if problem:
                raise SourceError(problem, field=f.name, **where)
        for check in schema.row_checks:
            if not check.ok(row):
                raise SourceError(check.message, field=check.field, **where)
        if row["id"] in seen:
            raise SourceError(
                f"编号重复 duplicate id {row['id']!r} in layer {schema.id}", field="id", **where
            )
        seen.add(row["id"])
        geometry = _geometry(feature.get("geometry"), schema, where)
        into.ids.append(row["id"])
        into.properties.append(row)
        into.geometries.append(geometry)
    return into


def _geometry(raw: Any, schema: LayerSchema, where: dict[str, Any]) -> BaseGeometry:
    if raw is None:
        raise SourceError("要素没有几何 the feature has no geometry", field="geometry", **where)
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several kinds for malformed GeoJSON
        raise SourceError(f"几何损坏 broken geometry: {exc}", field="geometry", **where) from None
    wanted = schema.geometry_type
    if wanted == "MultiPolygon" and geom.geom_type == "Polygon":
        geom = MultiPolygon([geom])
    elif wanted == "MultiLineString" and geom.geom_type == "LineString":
        geom = MultiLineString([geom])
    if geom.geom_type != wanted:
        raise SourceError(
            f"应为 {wanted}，实为 {geom.geom_type} expected a {wanted}, got a {geom.geom_type}",
            field="geometry",
            **where,
        )
    if geom.is_empty:
        raise SourceError("几何为空 empty geometry", field="geometry", **where)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise SourceError(f"几何无效 invalid geometry: {reason}", field="geometry", **where)
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise SourceError(
            "坐标不是经纬度（GeoJSON 源数据须是 CGCS2000/WGS84 经纬度） "
            "coordinates are not longitude/latitude (GeoJSON sources are CGCS2000/WGS84 lon/lat)",
            field="geometry",
            **where,
        )
    return geom
