"""The embedded store: one GeoPackage file, written whole and swapped in atomically.

Writing goes through GDAL (pyogrio), which creates a proper GeoPackage with an R-tree spatial
index per layer that QGIS and ogr2ogr read as is. Reading uses plain sqlite3 against that
R-tree: no GDAL call per request, and a bbox query touches only the candidates.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.errors import FeatureNotFound, LayerNotFound, QueryError
from geo.schema import LayerSchema
from geo.sources import LayerData
from geo.store.base import (
    AttributeTable,
    BBox,
    Feature,
    FeatureStore,
    FilterValue,
    LayerInfo,
    Positions,
    QueryResult,
    Range,
    check_bbox,
    freeze_filters,
)
from geo.store.loading import Overlay, TablesMaker, ensure_loaded
from geo.store.points import PointIndex, first_fids
from geo.store.search import (
    DISTRICTS_LAYER,
    MAX_QUERY_CHARS,
    SearchHit,
    layer_order,
    name_field,
    search_key,
    searched_fields,
)

STORE_CRS = "EPSG:4326"  # lon/lat; CGCS2000 (EPSG:4490) coincides at map precision
META_TABLE = "lutu_meta"
COLUMNS_TABLE = "lutu_columns"  # every spatial layer's columns as arrays (see write_columns)
STORE_FORMAT = 7  # bump when the way a store is written changes, so old files are rebuilt

_PANDAS_TYPES = {"str": object, "int": "Int64", "float": "float64", "bool": "boolean"}
_SQL_TYPES = {  # GeoPackage column types -> our field types
    "TEXT": "str",
    "BOOLEAN": "bool",
    "INTEGER": "int",
    "INT": "int",
    "MEDIUMINT": "int",
    "SMALLINT": "int",
    "TINYINT": "int",
    "REAL": "float",
    "DOUBLE": "float",
    "FLOAT": "float",
}
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_INDEXED_FIELDS = ("city_adcode", "county_adcode")


# -- writing ---------------------------------------------------------------------------------
def build_geopackage(
    path: Path,
    data: Mapping[str, LayerData],
    meta: Mapping[str, str],
    tables: Sequence[AttributeTable] = (),
) -> None:
    """Write every layer and table into a new GeoPackage at `path`, replacing any old file
    atomically: the new file is complete and closed before it takes the old one's name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # GDAL wants the .gpkg extension; the leading dot keeps the half-written file out of sight.
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.gpkg")
    tmp.unlink(missing_ok=True)
    try:
        columns = {layer_id: _write_layer(tmp, layer_id, layer) for layer_id, layer in data.items()}
        for table in tables:
            _write_table(tmp, table)
        with sqlite3.connect(tmp) as con:
            con.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT)")
            written = {**meta, "store_format": str(STORE_FORMAT)}  # what `_format` reads
            con.executemany(f"INSERT INTO {META_TABLE} VALUES (?, ?)", sorted(written.items()))
            con.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
                "VALUES (?, 'attributes', ?, ?)",
                (META_TABLE, META_TABLE, "绿图 build metadata"),
            )
            for table in tables:
                con.execute(f'CREATE UNIQUE INDEX "idx_{table.name}_id" ON "{table.name}" (id)')
            for layer_id, layer in data.items():
                con.execute(f'CREATE UNIQUE INDEX "idx_{layer_id}_id" ON "{layer_id}" (id)')
                for name in _INDEXED_FIELDS:
                    if name in layer.schema.field_map:
                        con.execute(
                            f'CREATE INDEX "idx_{layer_id}_{name}" ON "{layer_id}" ("{name}")'
                        )
            write_search_index(con, {k: v.schema.field_map for k, v in data.items()})
            write_columns(con, {k: (v.schema.field_map, columns[k]) for k, v in data.items()})
        con.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# The search index (see geo/store/search.py for what is found and in which order):
#   lutu_search_text  one row per distinct searched text of a layer's field (tid in store
#                     order), `key` its search_key, `value` the text as its first feature has it
#                     (NULL when that is the key itself);
#   lutu_search       which features hold a text, with their city for the region filter;
#   lutu_search_fts   an FTS5 trigram index of the keys: substrings of 3+ characters;
#   lutu_search_words the keys that are not ids, in tid order: 1–2 character queries scan it
#                     (names repeat, so it is far smaller than the features).
SEARCH_TEXT = "lutu_search_text"
SEARCH_ROWS = "lutu_search"
SEARCH_FTS = "lutu_search_fts"
SEARCH_WORDS = "lutu_search_words"
_SEARCH_BATCH = 256


def _city_sql(fields: Mapping[str, object]) -> str:
    """SQL for the city a feature belongs to (see geo.store.search.city_of)."""
    if "city_adcode" in fields:
        return '"city_adcode"'
    if {"level", "parent_adcode", "adcode"} <= fields.keys():
        return "CASE WHEN level = 'county' THEN parent_adcode ELSE adcode END"
    return "NULL"


def write_search_index(con: sqlite3.Connection, layers: Mapping[str, Mapping[str, Any]]) -> None:
    """Build the search tables of `layers` (layer id -> field name -> Field) in `con`."""
    if sqlite3.sqlite_version_info < (3, 34):  # the trigram tokenizer came with 3.34.0
        raise RuntimeError(f"SQLite {sqlite3.sqlite_version} is too old: search needs 3.34+")
    con.create_function("lutu_key", 1, search_key, deterministic=True)
    con.executescript(
        f"""
        CREATE TABLE {SEARCH_TEXT} (tid INTEGER PRIMARY KEY, layer TEXT NOT NULL,
            field TEXT NOT NULL, key TEXT NOT NULL, value TEXT);
        CREATE UNIQUE INDEX {SEARCH_TEXT}_key ON {SEARCH_TEXT} (key, layer, field);
        CREATE TABLE {SEARCH_ROWS} (tid INTEGER NOT NULL, fid INTEGER NOT NULL, city TEXT,
            PRIMARY KEY (tid, fid)) WITHOUT ROWID;
        """
    )
    for layer_id in layer_order(layers):
        fields = layers[layer_id]
        texts = [n for n in searched_fields(fields) if getattr(fields[n], "type", "str") == "str"]
        for name in texts:
            con.execute(
                f'CREATE TEMP TABLE lutu_keys AS SELECT fid, lutu_key("{name}") AS key, '
                f'"{name}" AS value, {_city_sql(fields)} AS city FROM "{layer_id}" '
                f'WHERE "{name}" IS NOT NULL'
            )
            # min(fid) makes SQLite take `value` from the first feature holding the key;
            # a value that is its own key (most ids) is not stored twice.
            con.execute(
                f"INSERT INTO {SEARCH_TEXT} (layer, field, key, value) "
                "SELECT ?, ?, key, nullif(value, key) FROM (SELECT key, value, min(fid) AS first "
                "FROM lutu_keys WHERE key != '' GROUP BY key) ORDER BY first",
                (layer_id, name),
            )
            con.execute(
                f"INSERT INTO {SEARCH_ROWS} (tid, fid, city) SELECT t.tid, k.fid, k.city "
                f"FROM lutu_keys k JOIN {SEARCH_TEXT} t ON t.key = k.key AND t.layer = ? "
                "AND t.field = ?",
                (layer_id, name),
            )
            con.execute("DROP TABLE lutu_keys")
    con.executescript(
        f"""
        CREATE INDEX {SEARCH_WORDS} ON {SEARCH_TEXT} (tid, layer, field, key)
            WHERE field != 'id';
        CREATE VIRTUAL TABLE {SEARCH_FTS} USING fts5(key, content='{SEARCH_TEXT}',
            content_rowid='tid', tokenize='trigram', detail='none', columnsize=0);
        INSERT INTO {SEARCH_FTS} ({SEARCH_FTS}) VALUES ('rebuild');
        """
    )


def write_columns(
    con: sqlite3.Connection, layers: Mapping[str, tuple[Mapping[str, Any], Mapping[str, Any]]]
) -> None:
    """The columnar copy of the spatial layers (layer id -> (fields by name, the columns as
    written by `_write_layer`)), read by `GeoPackageStore.columns` without a row scan.

    Per layer, in fid order: `#fid`, `#x` and `#y` (the R-tree's bounding-box centres, exactly
    what `positions` reads; NaN for a feature without geometry), then every field. Numbers
    (int, float, bool) are read back as float64 (NaN: null) and stored raw, as the smallest
    of int8/16/32 that holds them exactly (its minimum standing for null), else float64; text
    as in `_texts`.
    Written from the arrays the layer was just written from, in the same transaction as the
    rest of the store, so it cannot disagree with the tables; a layer whose fids do not match
    its rows one to one is left out (it is read by rows).
    """
    con.execute(
        f"CREATE TABLE {COLUMNS_TABLE} (layer TEXT NOT NULL, name TEXT NOT NULL, "
        "kind TEXT NOT NULL, labels BLOB, data BLOB NOT NULL, PRIMARY KEY (layer, name))"
    )
    for layer_id, (fields, columns) in layers.items():
        fids = np.array(
            [f for (f,) in con.execute(f'SELECT fid FROM "{layer_id}" ORDER BY fid')],
            dtype=np.int64,
        )
        if any(len(v) != len(fids) for v in columns.values()):
            continue
        centres = np.array(
            con.execute(
                "SELECT id, (minx + maxx) / 2, (miny + maxy) / 2 "
                f'FROM "rtree_{layer_id}_geom" ORDER BY id'
            ).fetchall(),
            dtype=np.float64,
        ).reshape(-1, 3)
        rows = np.searchsorted(fids, centres[:, 0].astype(np.int64))
        x = np.full(len(fids), np.nan)
        y = np.full(len(fids), np.nan)
        x[rows], y[rows] = centres[:, 1], centres[:, 2]
        out = [
            (layer_id, "#fid", "fid", None, fids.astype("<i8").tobytes()),
            (layer_id, "#x", "<f8", None, x.astype("<f8").tobytes()),
            (layer_id, "#y", "<f8", None, y.astype("<f8").tobytes()),
        ]
        for name, values in columns.items():
            if getattr(fields.get(name), "type", "str") == "str":
                out.append((layer_id, name, *_texts(values)))
            else:
                numbers = pd.array(values).to_numpy(dtype=np.float64, na_value=np.nan)
                out.append((layer_id, name, *_packed(numbers)))
        con.executemany(f"INSERT INTO {COLUMNS_TABLE} VALUES (?, ?, ?, ?, ?)", out)


def _texts(values: Any) -> tuple[str, bytes | None, bytes]:
    """(kind, labels, data) of a text column. Distinct values without null (ids): "text",
    the values joined by NUL, raw (split back in one call). Others: "str", the distinct
    values (labels) joined by NUL, and int32 codes into them (-1: null), zlib-compressed.
    A value holding a NUL itself: "json", the labels as a JSON list."""
    codes, labels = pd.factorize(pd.Series(values, dtype=object))
    texts = labels.tolist()
    joined = "\0".join(texts)
    plain = all(isinstance(t, str) for t in texts)
    plain = plain and joined.count("\0") == max(len(texts) - 1, 0)
    if not plain or texts == [""]:  # a lone "" would read back as no labels
        text = json.dumps(texts, ensure_ascii=False).encode()
        return "json", zlib.compress(text, 1), zlib.compress(codes.astype("<i4").tobytes(), 1)
    if len(texts) == len(codes) and len(texts):  # every value distinct, none null
        return "text", None, joined.encode()
    return "str", zlib.compress(joined.encode(), 1), zlib.compress(codes.astype("<i4").tobytes(), 1)


def _packed(numbers: np.ndarray) -> tuple[str, None, bytes]:
    """(kind, labels, data) of a float64 column: the smallest integer type holding every
    value exactly (no fraction, no -0.0, above the type's minimum, which marks null), else
    float64; raw bytes, read faster than any decompression."""
    null = np.isnan(numbers)
    values = numbers[~null]
    whole = bool(np.isfinite(values).all() and (values == np.trunc(values)).all())
    whole = whole and not ((values == 0) & np.signbit(values)).any()
    for kind in ("<i1", "<i2", "<i4"):
        info = np.iinfo(kind)
        if whole and (not len(values) or (values.min() > info.min and values.max() <= info.max)):
            return kind, None, np.where(null, info.min, numbers).astype(kind).tobytes()
    return "<f8", None, numbers.astype("<f8").tobytes()


def _decode_column(kind: str, labels: bytes | None, data: bytes) -> np.ndarray:
    """One column of `COLUMNS_TABLE` as a writable array: `#fid` int64, numbers float64
    (NaN: null), text object (None: null)."""
    if kind == "text":
        values = data.decode().split("\0")
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    if kind in ("str", "json"):
        text = zlib.decompress(labels) if labels else b""
        texts = json.loads(text or b"[]") if kind == "json" else text.decode().split("\0")
        names = np.empty(len(texts) + 1 if text else 1, dtype=object)  # last: None
        names[:-1] = texts if text else []
        return names[np.frombuffer(zlib.decompress(data), dtype="<i4")]  # -1 -> the None
    if kind == "fid":
        return np.frombuffer(data, dtype="<i8").astype(np.int64)
    stored = np.frombuffer(data, dtype=kind)
    numbers = stored.astype(np.float64)
    if kind != "<f8":
        numbers[stored == np.iinfo(kind).min] = np.nan
    return numbers


def _write_layer(path: Path, layer_id: str, layer: LayerData) -> dict[str, Any]:
    """Write one layer; returns its columns as written (pandas arrays by field name)."""
    schema = layer.schema
    columns = {
        f.name: pd.array([p[f.name] for p in layer.properties], dtype=_PANDAS_TYPES[f.type])
        if f.type != "str"
        else pd.Series([p[f.name] for p in layer.properties], dtype=object)
        for f in schema.fields
    }
    geometry = gpd.GeoSeries(list(layer.geometries), crs=STORE_CRS)
    frame = gpd.GeoDataFrame(columns, geometry=geometry, crs=STORE_CRS)
    pyogrio.write_dataframe(
        frame,
        path,
        layer=layer_id,
        driver="GPKG",
        append=path.exists(),
        geometry_type=schema.geometry_type,
        SPATIAL_INDEX="YES",
        FID="fid",
        layer_options={"DESCRIPTION": f"{schema.name_zh} {schema.name_en}"},
    )
    return columns


def _write_table(path: Path, table: AttributeTable) -> None:
    if "id" not in table.fields:
        raise ValueError(f"table {table.name} needs an 'id' field")
    columns = {
        name: pd.array([r.get(name) for r in table.rows], dtype=_PANDAS_TYPES[kind])
        if kind != "str"
        else pd.Series([r.get(name) for r in table.rows], dtype=object)
        for name, kind in table.fields.items()
    }
    pyogrio.write_dataframe(
        pd.DataFrame(columns),
        path,
        layer=table.name,
        driver="GPKG",
        append=path.exists(),
        FID="fid",
        layer_options={"DESCRIPTION": table.description},
    )


def ensure_geopackage(
    path: Path,
    schemas: Sequence[LayerSchema],
    source_dirs: Sequence[Path],
    *,
    extra_inputs: Sequence[Path] = (),
    tables: TablesMaker | None = None,
    overlay: Overlay | None = None,
) -> bool:
    """Build the store from the source folders when it is missing or its inputs changed.

    `extra_inputs` are further files whose change means a rebuild (the plan texts and the code
    that parses them); `tables` makes the attribute tables from the layers as loaded (edits
    laid over), called only when building;
    `overlay` lays planners' edits over the layers read from the sources.
    Returns True when it (re)built. A source that fails validation raises SourceError (and a
    failing `tables` its own error); the existing file is left exactly as it was.
    """
    path = Path(path)

    def loaded() -> str | None:
        return _read_meta(path).get("sources_fingerprint") if path.exists() else None

    return ensure_loaded(
        loaded,
        lambda data, meta, extra: build_geopackage(path, data, meta, extra),
        STORE_FORMAT,
        schemas,
        source_dirs,
        extra_inputs=extra_inputs,
        tables=tables,
        overlay=overlay,
    )


def _read_meta(path: Path) -> dict[str, str]:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return dict(con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())
        finally:
            con.close()
    except sqlite3.Error:
        return {}


# -- reading ---------------------------------------------------------------------------------
def gpkg_blob_to_wkb(blob: bytes) -> bytes | None:
    """Strip the GeoPackage header (magic, flags, srs id, optional envelope) from a geometry."""
    if blob is None:
        return None
    flags = blob[3]
    if flags & 0b10000:  # empty geometry
        return None
    return blob[8 + _ENVELOPE_BYTES[(flags >> 1) & 0b111] :]


def _point_coordinates(rows: list[tuple[int, bytes | None]]) -> tuple[np.ndarray, ...]:
    """fids, x, y of point rows (fid, GeoPackage blob); empty points are left out. Blobs of
    one layout (the usual case) are decoded with numpy in one go, others through shapely."""
    rows = [(fid, blob) for fid, blob in rows if blob is not None and not blob[3] & 0b10000]
    fids = np.array([fid for fid, _ in rows], dtype=np.int64)
    if not rows:
        return fids, np.empty(0), np.empty(0)
    first = rows[0][1]
    size, head = len(first), bytes(first[:4])
    if all(len(b) == size and b[:4] == head for _, b in rows) and size >= 21:
        raw = np.frombuffer(b"".join(b for _, b in rows), dtype=np.uint8).reshape(-1, size)
        wkb = raw[:, size - 21 :]  # byte order, type, x, y: a 2D WKB point at the end
        little = wkb[0, 0] == 1
        point_type = (
            [1, 0, 0, 0] if little else [0, 0, 0, 1]
        )  # not PointZ/M, whose x sits elsewhere
        if (wkb[:, 0] == wkb[0, 0]).all() and (wkb[:, 1:5] == point_type).all():
            xy = wkb[:, 5:].copy().view("<f8" if little else ">f8")
            return fids, xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)
    coords = shapely.get_coordinates(shapely.from_wkb([gpkg_blob_to_wkb(b) for _, b in rows]))
    return fids, coords[:, 0], coords[:, 1]


class GeoPackageStore(FeatureStore):
    """A read-only view of a GeoPackage built by `build_geopackage` (or any GeoPackage whose
    layers have an `id` column and an R-tree index)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"no GeoPackage at {self.path}")
        self._con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._positions: dict[tuple, Positions] = {}
        self._point_indexes: dict[str, PointIndex] = {}
        self._counts: OrderedDict[tuple, int] = OrderedDict()  # immutable file: counts hold
        self._layers = self._read_layers()
        self._names: dict[str, str] | None = None
        self._has_search = bool(
            self._con.execute(
                "SELECT 1 FROM sqlite_master WHERE name = ?", (SEARCH_FTS,)
            ).fetchone()
        )
        self._columnar: set[str] = set()  # layers with a columnar copy (write_columns)
        if (
            self._con.execute(
                "SELECT 1 FROM sqlite_master WHERE name = ?", (COLUMNS_TABLE,)
            ).fetchone()
            and self._format() == STORE_FORMAT
        ):  # a copy of another format: rows
            self._columnar = {
                layer
                for (layer,) in self._con.execute(f"SELECT DISTINCT layer FROM {COLUMNS_TABLE}")
            }

    def close(self) -> None:
        self._con.close()

    def _format(self) -> int | None:
        """The store format `build_geopackage` wrote the file with (None: unknown)."""
        try:
            row = self._con.execute(
                f"SELECT value FROM {META_TABLE} WHERE key = 'store_format'"
            ).fetchone()
        except sqlite3.Error:
            return None
        return int(row[0]) if row and str(row[0]).isdigit() else None

    # -- metadata
    def _read_layers(self) -> dict[str, LayerInfo]:
        rows = self._con.execute(
            "SELECT c.table_name, g.geometry_type_name, g.column_name, "
            "c.min_x, c.min_y, c.max_x, c.max_y FROM gpkg_contents c "
            "JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
            "WHERE c.data_type = 'features' ORDER BY c.table_name"
        ).fetchall()
        layers = {}
        for table, geom_type, geom_col, *extent in rows:
            fields = {}
            for _, name, decl, *_rest in self._con.execute(f'PRAGMA table_info("{table}")'):
                if name in ("fid", geom_col):
                    continue
                fields[name] = _SQL_TYPES.get(decl.upper().split("(")[0], "str")
            count = self._con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            bbox = tuple(extent) if None not in extent else None
            layers[table] = LayerInfo(
                id=table,
                geometry_type=_GEOMETRY_NAMES.get(geom_type.upper(), geom_type),
                fields=fields,
                count=count,
                bbox=bbox,
            )
        tables = self._con.execute(
            "SELECT table_name FROM gpkg_contents WHERE data_type = 'attributes' "
            f"AND table_name != '{META_TABLE}' ORDER BY table_name"
        ).fetchall()
        for (table,) in tables:
            fields = {
                name: _SQL_TYPES.get(decl.upper().split("(")[0], "str")
                for _, name, decl, *_rest in self._con.execute(f'PRAGMA table_info("{table}")')
                if name != "fid"
            }
            count = self._con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            layers[table] = LayerInfo(
                id=table, geometry_type=None, fields=fields, count=count, bbox=None
            )
        return layers

    def layers(self) -> dict[str, LayerInfo]:
        return dict(self._layers)

    def _info(self, layer: str) -> LayerInfo:
        try:
            return self._layers[layer]
        except KeyError:
            raise LayerNotFound(layer) from None

    # -- queries
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
        info = self._info(layer)
        if limit is not None and limit < 0:
            raise QueryError("limit must not be negative")
        if offset < 0:
            raise QueryError("offset must not be negative")
        columns = list(info.fields) if properties is None else list(properties)
        for name in columns:
            self._check_field(info, name)
        if "id" not in columns:
            columns.insert(0, "id")
        with_geometry = with_geometry and info.geometry_type is not None
        selected = ", ".join(f'"{c}"' for c in columns)
        if with_geometry:
            selected += ", geom"
        if info.geometry_type == "Point" and limit is not None and not filters and not sortby:
            fids, matched = self._point_page(info, bbox, limit, offset)
            with self._lock:
                rows = self._con.execute(
                    f'SELECT {selected} FROM "{layer}" '
                    "WHERE fid IN (SELECT value FROM json_each(?)) ORDER BY fid",
                    (json.dumps(fids.tolist()),),
                ).fetchall()
            return QueryResult(self._features(info, columns, rows, with_geometry), matched)
        where, params = self._where(info, bbox, filters)
        order = []
        for name, ascending in sortby:
            self._check_field(info, name)
            order.append(f'"{name}" {"ASC" if ascending else "DESC"}')
        order.append("fid")
        sql = f'SELECT {selected} FROM "{layer}" WHERE {where} ORDER BY {", ".join(order)}'
        page_params = list(params)
        sql += " LIMIT ? OFFSET ?"
        page_params += [-1 if limit is None else limit, offset]
        matched = self._count(layer, where, params)
        with self._lock:
            rows = self._con.execute(sql, page_params).fetchall() if limit != 0 else []
        return QueryResult(
            features=self._features(info, columns, rows, with_geometry), number_matched=matched
        )

    def _count(self, layer: str, where: str, params: list[Any]) -> int:
        """count(*) of a query, remembered: paging through a filter asks it again per page."""
        key = (layer, where, tuple(params))
        with self._lock:
            if key in self._counts:
                self._counts.move_to_end(key)
                return self._counts[key]
            matched = self._con.execute(
                f'SELECT count(*) FROM "{layer}" WHERE {where}', params
            ).fetchone()[0]
            self._counts[key] = matched
            if len(self._counts) > 4096:
                self._counts.popitem(last=False)
        return matched

    def _point_index(self, info: LayerInfo) -> PointIndex:
        index = self._point_indexes.get(info.id)
        if index is None:
            with self._lock:
                rows = self._con.execute(f'SELECT fid, geom FROM "{info.id}"').fetchall()
            index = PointIndex(*_point_coordinates(rows))
            self._point_indexes[info.id] = index
        return index

    def _point_page(
        self, info: LayerInfo, bbox: BBox | None, limit: int, offset: int
    ) -> tuple[np.ndarray, int]:
        """The fids of one page of a point layer (fid order) and the number matched, from the
        in-memory index: no SQL count, no OFFSET stepping through rows."""
        index = self._point_index(info)
        if bbox is None:
            return index.sorted_fids[offset : offset + limit], len(index.sorted_fids)
        inside = index.within(check_bbox(bbox))
        return first_fids(inside, offset, limit), len(inside)

    def get(self, layer: str, feature_id: str) -> Feature:
        info = self._info(layer)
        columns = list(info.fields)
        selected = ", ".join(f'"{c}"' for c in columns)
        spatial = info.geometry_type is not None
        if spatial:
            selected += ", geom"
        with self._lock:
            rows = self._con.execute(
                f'SELECT {selected} FROM "{layer}" WHERE id = ?', (feature_id,)
            ).fetchall()
        if not rows:
            raise FeatureNotFound(layer, feature_id)
        return self._features(info, columns, rows, spatial)[0]

    def positions(
        self,
        layer: str,
        *,
        bbox: BBox | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        extra: Sequence[str] = (),
    ) -> Positions:
        everything = self._all_positions(layer, freeze_filters(filters), tuple(extra))
        if bbox is None:
            return everything
        return everything.within(check_bbox(bbox))

    def _all_positions(self, layer: str, filters: tuple, extra: tuple[str, ...]) -> Positions:
        """All positions for one filter, read once from the R-tree and kept: the file is
        immutable while this store is open, and a numpy mask is far cheaper than SQL."""
        key = (layer, filters, extra)
        cached = self._positions.get(key)
        if cached is not None:
            return cached
        info = self._info(layer)
        if info.geometry_type is None:
            raise QueryError(f"'{layer}' is a table without geometry")
        for name in extra:
            self._check_field(info, name)
        sql = (
            "SELECT r.id, (r.minx + r.maxx) / 2, (r.miny + r.maxy) / 2"
            + "".join(f', t."{name}"' for name in extra)
            + f' FROM "rtree_{layer}_geom" r JOIN "{layer}" t ON t.fid = r.id'
        )
        clause, params = self._filter_sql(info, dict(filters), prefix="t.")
        if clause:
            sql += " WHERE " + clause
        with self._lock:
            rows = self._con.execute(sql + " ORDER BY r.id", params).fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [()] * (3 + len(extra))
        result = Positions(
            fids=np.asarray(columns[0], dtype=np.int64),
            x=np.asarray(columns[1], dtype=np.float64),
            y=np.asarray(columns[2], dtype=np.float64),
            extra={name: np.asarray(columns[3 + i], dtype=object) for i, name in enumerate(extra)},
        )
        with self._lock:
            if len(self._positions) > 64:  # bounded: views ask for a handful of filters
                self._positions.clear()
            self._positions[key] = result
        return result

    def columns(self, layer: str, names: Sequence[str]) -> Positions:
        """From the store's columnar copy (`write_columns`) when it has one: a few
        decompressed blobs instead of a scan of every row."""
        info = self._info(layer)
        if info.geometry_type is None:
            raise QueryError(f"'{layer}' is a table without geometry")
        for name in names:
            self._check_field(info, name)
        if layer not in self._columnar:
            return super().columns(layer, names)
        wanted = ["#fid", "#x", "#y", *dict.fromkeys(names)]
        with self._lock:
            rows = self._con.execute(
                f"SELECT name, kind, labels, data FROM {COLUMNS_TABLE} WHERE layer = ? "
                "AND name IN (SELECT value FROM json_each(?))",
                (layer, json.dumps(wanted)),
            ).fetchall()
        found = {name: (kind, labels, data) for name, kind, labels, data in rows}
        if len(found) < len(wanted):  # a field added to the layer after the copy was made
            return super().columns(layer, names)
        arrays = {name: _decode_column(*found[name]) for name in wanted}
        x = arrays["#x"]
        keep = ~np.isnan(x)  # like positions(): only features in the R-tree
        if keep.all():
            keep = slice(None)
        return Positions(
            arrays["#fid"][keep],
            x[keep],
            arrays["#y"][keep],
            {name: arrays[name][keep] for name in names},
        )

    # -- search
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
        if not self._has_search:
            raise QueryError(
                "这个存储没有搜索索引，请重建 the store has no search index: rebuild it"
            )
        spatial = [k for k, info in self._layers.items() if info.geometry_type is not None]
        wanted = spatial if layers is None else [k for k in layers if k in spatial]
        if not wanted:
            return []
        # Which texts may match: the wanted layers, without their skipped fields.
        clauses = [f"layer IN ({', '.join('?' * len(wanted))})"]
        params: list[Any] = list(wanted)
        for layer_id, names in (skip_fields or {}).items():
            names = sorted(set(names))
            if names and layer_id in wanted:
                clauses.append(f"NOT (layer = ? AND field IN ({', '.join('?' * len(names))}))")
                params += [layer_id, *names]
        allowed = " AND ".join(clauses)
        rows_sql = f"SELECT fid FROM {SEARCH_ROWS} WHERE tid = ?"
        row_params: list[Any] = []
        if region is not None:
            rows_sql += f" AND (city IN ({', '.join('?' * len(region))}) OR city IS NULL)"
            row_params = list(region)
        rows_sql += " ORDER BY fid LIMIT ?"
        found: list[tuple[str, int, str, str, str]] = []
        seen: set[tuple[str, int]] = set()
        with self._lock:
            for tier in ("exact", "prefix", "substring"):
                for districts in (True, False):
                    texts = self._search_texts(tier, query, districts, allowed, params)
                    for tid, layer_id, field_name, value in texts:
                        fids = self._con.execute(
                            rows_sql, [tid, *row_params, limit + len(seen)]
                        ).fetchall()
                        for (fid,) in fids:
                            if (layer_id, fid) in seen:
                                continue
                            seen.add((layer_id, fid))
                            found.append((layer_id, fid, field_name, value, tier))
                            if len(found) >= limit:
                                break
                        if len(found) >= limit:
                            break
                    if len(found) >= limit:
                        break
                if len(found) >= limit:
                    break
            return self._hits(found)

    def _search_texts(
        self, tier: str, query: str, districts: bool, allowed: str, params: list[Any]
    ) -> Iterator[tuple[int, str, str, str]]:
        """The (tid, layer, field, value) of the texts matching `query` in `tier`, in tier
        order, read a batch at a time (most searches stop in the first)."""
        which = f"(layer = '{DISTRICTS_LAYER}') = {int(districts)} AND {allowed}"
        not_prefix = "substr(t.key, 1, ?) != ?"  # exact and prefix hits came before
        columns = "t.tid, t.layer, t.field, coalesce(t.value, t.key)"
        if tier == "exact":
            sql = f"SELECT {columns} FROM {SEARCH_TEXT} t WHERE key = ? AND {which} ORDER BY tid"
            args = [query, *params]
        elif tier == "prefix":
            sql = (
                f"SELECT {columns} FROM {SEARCH_TEXT} t WHERE key > ? AND key < ? AND {which} "
                "ORDER BY key, tid"
            )
            args = [query, query + "\U0010ffff", *params]
        elif len(query) >= 3 and not set(query) & set("%_"):
            # The trigram index answers LIKE '%q%' for 3+ characters.
            sql = (
                f"SELECT {columns} FROM {SEARCH_FTS} f JOIN {SEARCH_TEXT} t ON t.tid = f.rowid "
                f"WHERE f.key LIKE ? AND {not_prefix} AND {which} ORDER BY f.rowid"
            )
            args = [f"%{query}%", len(query), query, *params]
        elif len(query) >= 3:
            # LIKE's own wildcards in the query (rare): instr() over every key.
            sql = (
                f"SELECT {columns} FROM {SEARCH_TEXT} t WHERE instr(t.key, ?) > 0 "
                f"AND {not_prefix} AND {which} ORDER BY tid"
            )
            args = [query, len(query), query, *params]
        else:
            # 1–2 characters: instr() over the keys that are not ids (names repeat: few
            # keys), in tid order; an id is found by its exact value or prefix instead.
            sql = (
                f"SELECT {columns} FROM {SEARCH_TEXT} t INDEXED BY {SEARCH_WORDS} "
                f"WHERE field != 'id' AND instr(t.key, ?) > 0 AND {not_prefix} AND {which} "
                "ORDER BY tid"
            )
            args = [query, len(query), query, *params]
        offset = 0
        while True:
            batch = self._con.execute(
                f"{sql} LIMIT {_SEARCH_BATCH} OFFSET {offset}", args
            ).fetchall()
            yield from batch
            if len(batch) < _SEARCH_BATCH:
                return
            offset += _SEARCH_BATCH

    def _hits(self, found: list[tuple[str, int, str, str, str]]) -> list[SearchHit]:
        """SearchHits for (layer, fid, field, value, tier): name, county and place read from
        the layers (called with the lock held)."""
        by_layer: dict[str, list[int]] = {}
        for layer_id, fid, *_ in found:
            by_layer.setdefault(layer_id, []).append(fid)
        features: dict[tuple[str, int], tuple] = {}
        for layer_id, fids in by_layer.items():
            fields = self._layers[layer_id].fields
            title = name_field(fields)
            county = (
                '"county_adcode"'
                if "county_adcode" in fields
                else ('"parent_adcode"' if "parent_adcode" in fields else "NULL")
            )
            name = f'"{title}"' if title else "NULL"
            rows = self._con.execute(
                f'SELECT fid, id, {name}, {county}, geom FROM "{layer_id}" '
                "WHERE fid IN (SELECT value FROM json_each(?))",
                (json.dumps(fids),),
            ).fetchall()
            geoms = shapely.from_wkb([gpkg_blob_to_wkb(r[4]) for r in rows])
            for row, geom in zip(rows, geoms, strict=True):
                features[(layer_id, row[0])] = (*row[1:4], geom)
        names = self._place_names()
        hits = []
        for layer_id, fid, field_name, value, tier in found:
            feature_id, name, county, geom = features[(layer_id, fid)]
            hits.append(
                SearchHit.of(
                    geom,
                    names,
                    layer=layer_id,
                    id=feature_id,
                    name=name,
                    county_adcode=county,
                    field=field_name,
                    text=value,
                    match=tier,
                )
            )
        return hits

    def _place_names(self) -> dict[str, str]:
        """Adcode -> Chinese name of the districts (read once: the file is immutable)."""
        if self._names is None:
            self._names = {}
            if DISTRICTS_LAYER in self._layers:
                rows = self._con.execute(f'SELECT adcode, name_zh FROM "{DISTRICTS_LAYER}"')
                self._names = dict(rows.fetchall())
        return self._names

    # -- helpers
    @staticmethod
    def _check_field(info: LayerInfo, name: str) -> None:
        if name not in info.fields:
            raise QueryError(f"layer '{info.id}' has no field '{name}'")

    def _filter_sql(
        self, info: LayerInfo, filters: Mapping[str, FilterValue] | None, prefix: str = ""
    ) -> tuple[str, list[Any]]:
        clauses, params = [], []
        for name, value in (filters or {}).items():
            self._check_field(info, name)
            if isinstance(value, Range):
                clauses.append(f'{prefix}"{name}" IS NOT NULL')
                for bound, op in ((value.low, ">="), (value.high, "<=")):
                    if bound is not None:
                        clauses.append(f'{prefix}"{name}" {op} ?')
                        params.append(bound)
                continue
            values = list(value) if isinstance(value, list | tuple | set) else [value]
            if not values:
                clauses.append("0")
                continue
            clauses.append(f'{prefix}"{name}" IN ({", ".join("?" * len(values))})')
            params += values
        return " AND ".join(clauses), params

    def _where(
        self, info: LayerInfo, bbox: BBox | None, filters: Mapping[str, FilterValue] | None
    ) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if bbox is not None:
            if info.geometry_type is None:
                raise QueryError(f"'{info.id}' is a table without geometry: no bbox")
            clause, bparams = self._bbox_sql(info, check_bbox(bbox))
            clauses.append(clause)
            params += bparams
        clause, fparams = self._filter_sql(info, filters)
        if clause:
            clauses.append(clause)
            params += fparams
        return (" AND ".join(clauses) or "1"), params

    def _bbox_sql(self, info: LayerInfo, bbox: BBox) -> tuple[str, list[Any]]:
        """Exact bbox intersection from the R-tree: index boxes wholly inside the bbox are
        certainly in; only the boxes straddling its edge are checked against the geometry."""
        minx, miny, maxx, maxy = bbox
        rtree = f'"rtree_{info.id}_geom"'
        inside = "minx >= ? AND maxx <= ? AND miny >= ? AND maxy <= ?"
        touching = "maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?"
        with self._lock:
            edge = self._con.execute(
                f'SELECT t.fid, t.geom FROM "{info.id}" t WHERE t.fid IN (SELECT id FROM '
                f"{rtree} WHERE {touching} AND NOT ({inside}))",
                [minx, maxx, miny, maxy, minx, maxx, miny, maxy],
            ).fetchall()
        keep: list[int] = []
        if edge:
            geoms = shapely.from_wkb([gpkg_blob_to_wkb(g) for _, g in edge])
            hits = shapely.intersects(geoms, shapely.box(minx, miny, maxx, maxy))
            keep = [fid for (fid, _), hit in zip(edge, hits, strict=True) if hit]
        sql = (
            f"(fid IN (SELECT id FROM {rtree} WHERE {inside}) "
            f"OR fid IN (SELECT value FROM json_each(?)))"
        )
        return sql, [minx, maxx, miny, maxy, json.dumps(keep)]

    def _features(
        self, info: LayerInfo, columns: list[str], rows: list[tuple], with_geometry: bool
    ) -> list[Feature]:
        n = len(columns)
        bools = [c for c in columns if info.fields.get(c) == "bool"]  # stored as 0/1
        geoms = (
            shapely.from_wkb([gpkg_blob_to_wkb(r[n]) for r in rows])
            if with_geometry and rows
            else [None] * len(rows)
        )
        features = []
        for row, geom in zip(rows, geoms, strict=True):
            props = dict(zip(columns, row, strict=False))  # stops before the geometry
            for name in bools:
                if props[name] is not None:
                    props[name] = bool(props[name])
            features.append(Feature(props["id"], props, geom))
        return features


_GEOMETRY_NAMES = {
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
    "GEOMETRY": "Geometry",
}
