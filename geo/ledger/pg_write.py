"""Changing the PostGIS store's layer tables in the caller's transaction, and telling every app
server that the data changed.

A stand-in for `write_features` and `bump_version` of geo/store/postgis.py (branch i16-store,
not merged yet): the same signatures, the agreed layout (schema lutu, one table per layer named
by its id: fid identity, id text unique, the fields, geom in EPSG:4490; the catalog
lutu.layers; the row lutu.data_version). At merge the edit store imports the store's instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import shapely
from psycopg import sql
from shapely.geometry.base import BaseGeometry

from geo.errors import LayerNotFound

if TYPE_CHECKING:
    import psycopg

SCHEMA = "lutu"
SRID = 4490  # CGCS2000 lon/lat


def write_features(
    con: psycopg.Connection,
    layer: str,
    upserts: Sequence[tuple[str, dict[str, Any], BaseGeometry]],
    deletes: Sequence[str] = (),
) -> None:
    """Insert or replace the features `upserts` ((id, properties, geometry), by id; a replaced
    feature keeps its fid, so its place in insertion order) and remove the ids `deletes`, in
    the caller's transaction; the catalog's feature count and bbox follow.

    The rows go in with one COPY and one INSERT … ON CONFLICT, in id order (two writers lock
    rows in the same order, so they wait for each other instead of deadlocking)."""
    geometry_type, names = layer_columns(con, layer)
    table = sql.Identifier(SCHEMA, layer)
    added = 0
    box = None
    if upserts:
        columns = ["id", *names, *(["geom"] if geometry_type else [])]
        listed = sql.SQL(", ").join(map(sql.Identifier, columns))
        con.execute("DROP TABLE IF EXISTS pg_temp.layer_rows")
        # The layer's own column types, without its constraints or identity.
        con.execute(
            sql.SQL("CREATE TEMP TABLE layer_rows ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA")
            .format(listed, table)
        )  # fmt: skip
        geometries = [geometry for _, _, geometry in upserts] if geometry_type else []
        ewkb = shapely.to_wkb(shapely.set_srid(geometries, SRID), hex=True, include_srid=True)
        with con.cursor().copy(sql.SQL("COPY layer_rows ({}) FROM STDIN").format(listed)) as copy:
            for n, (fid, properties, _) in enumerate(upserts):
                values = [fid, *[properties.get(name) for name in names]]
                if geometry_type:
                    values.append(ewkb[n])
                copy.write_row(values)
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in columns[1:]
        )
        (added,) = con.execute(
            sql.SQL(
                "WITH written AS (INSERT INTO {table} ({listed}) SELECT {listed} FROM layer_rows"
                " ORDER BY id ON CONFLICT (id) DO UPDATE SET {updates}"
                " RETURNING (xmax = 0) AS inserted)"  # xmax 0: a new row, not a replaced one
                " SELECT count(*) FILTER (WHERE inserted) FROM written"
            ).format(table=table, listed=listed, updates=updates)
        ).fetchone()
        bounds = shapely.total_bounds(geometries) if geometries else None
        if bounds is not None and not any(b != b for b in bounds):  # NaN: all empty
            box = [float(b) for b in bounds]
    removed = 0
    if deletes:
        removed = con.execute(
            sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(table), (list(deletes),)
        ).rowcount
    # The bbox grows with what is written and is not shrunk by a deletion or a move (that
    # would need the whole table's extent): a little too large an extent is harmless.
    con.execute(
        "UPDATE lutu.layers SET feature_count = feature_count + %(change)s, bbox = CASE"
        " WHEN geometry_type IS NULL OR feature_count + %(change)s = 0 THEN NULL"
        " WHEN b IS NULL THEN bbox WHEN bbox IS NULL THEN b"
        " ELSE ARRAY[least(bbox[1], b[1]), least(bbox[2], b[2]),"
        " greatest(bbox[3], b[3]), greatest(bbox[4], b[4])] END"
        " FROM (SELECT %(box)s::float8[] AS b) AS written WHERE id = %(layer)s",
        {"change": added - removed, "box": box, "layer": layer},
    )


def bump_version(con: psycopg.Connection) -> int:
    """Count one more change of the data, in the caller's transaction, and tell the app
    servers listening on lutu_data (they hear it once the transaction commits); returns the
    new version."""
    (version,) = con.execute(
        "UPDATE lutu.data_version SET version = version + 1, changed_at = now() RETURNING version"
    ).fetchone()
    con.execute("SELECT pg_notify('lutu_data', %s)", (str(version),))
    return int(version)


def layer_columns(con: psycopg.Connection, layer: str) -> tuple[str | None, list[str]]:
    """(geometry type, None for an attribute table; the field columns after id, in order) of
    a layer, from the catalog."""
    row = con.execute(
        "SELECT geometry_type, fields FROM lutu.layers WHERE id = %s", (layer,)
    ).fetchone()
    if row is None:
        raise LayerNotFound(layer)
    geometry_type, fields = row
    return geometry_type, [name for name, _type in fields if name != "id"]
