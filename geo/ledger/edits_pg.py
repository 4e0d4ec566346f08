"""The edit store on PostgreSQL (schema lutu; migration 0020_edits.sql): the methods of the
SQLite edits file (`geo.ledger.edits.EditLog`), and the changed features written in place into
the layer tables, in the same transaction as their edit rows and audit entries, with the data
version bumped there too. Readers see the old state or the new one; nothing is rebuilt.

Concurrency is row by row. An import locks the rows of the features it changes (SELECT … FOR
UPDATE, in id order, so two imports never deadlock) and compares them with what its check saw;
a feature someone else changed, deleted or added meanwhile is a ConflictError and nothing is
written. Imports of different features run side by side and wait for each other only at the
end, on the catalog row of their layer and the data-version row, for as long as a commit takes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
import shapely
from psycopg import sql
from shapely.geometry.base import BaseGeometry

from geo.ledger.edits import (
    AUDIT_COLUMNS,
    AuditEntry,
    Batch,
    EditLog,
    Entry,
    RowWriter,
    Stored,
    audit_entries,
    audit_query,
    audit_values,
    conflict_error,
)
from geo.store.postgis import SCHEMA, SRID, bump_version, layer_columns, write_features

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

    from geo.ledger.plan import RowOutcome

_INSERT_AUDIT = f"INSERT INTO lutu.audit ({AUDIT_COLUMNS}) VALUES ({', '.join(['%s'] * 10)})"
_DELETED = "SELECT feature_id FROM lutu.edit_deleted WHERE layer = %s"
_COPY_EDIT_FEATURES = "COPY lutu.edit_features (layer, feature_id, properties, geom) FROM STDIN"


class PostgresEditStore(EditLog):
    """The edits and the audit log in the PostGIS database at `url` (migrated: see
    geo.migrations), or taken from `pool` when the app has one."""

    def __init__(self, url: str, *, pool: ConnectionPool | None = None) -> None:
        self.url = url
        self.pool = pool

    @contextmanager
    def _connect(self) -> Iterator[psycopg.Connection]:
        if self.pool is not None:
            with self.pool.connection() as con:
                yield con
            return
        with psycopg.connect(self.url, autocommit=True) as con:
            yield con

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        with self._connect() as con, con.transaction():
            yield con

    def _stored(self, tx: psycopg.Connection, layer: str, ids: Sequence[str]) -> dict[str, Stored]:
        geometry_type, names = layer_columns(con=tx, layer=layer)
        query = sql.SQL(
            "SELECT id, {fields}, {geometry} FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
        ).format(
            fields=sql.SQL(", ").join(map(sql.Identifier, names)),
            geometry=sql.SQL("ST_AsBinary(geom)" if geometry_type else "NULL"),
            table=sql.Identifier(SCHEMA, layer),
        )
        found: dict[str, Stored] = dict.fromkeys(ids)  # not in the table: deleted, or never was
        rows = tx.execute(query, (list(ids),), binary=True).fetchall()
        geometries = shapely.from_wkb([row[-1] for row in rows])  # one call for them all
        for row, geometry in zip(rows, geometries, strict=True):
            found[row[0]] = ({"id": row[0], **dict(zip(names, row[1:-1], strict=True))}, geometry)
        return found

    @contextmanager
    def _importing(
        self, tx: psycopg.Connection, batch: Batch, rows: Sequence[RowOutcome]
    ) -> Iterator[RowWriter]:
        # The audit entries stream into their table with one COPY while the rows are made (the
        # server indexes them as they come); then the edit rows, with another; the layer
        # table gets the features by write_features.
        edit_rows: list[tuple[str, str]] = []  # (properties JSON, geometry WKT) of each row
        with tx.cursor().copy(f"COPY lutu.audit ({AUDIT_COLUMNS}) FROM STDIN") as copy:

            def write(n: int, outcome: RowOutcome, properties: str, wkt: str, entry: Entry) -> None:
                copy.write_row(audit_values(batch, entry))
                edit_rows.append((properties, wkt))

            yield write
        if not rows:
            return
        layer = batch.layer
        ids = [str(o.feature_id) for o in rows]
        changed = [fid for fid, o in zip(ids, rows, strict=True) if o.action == "change"]
        # A changed feature's edit row is replaced; one deleted earlier and imported again is
        # back. (Its layer row is locked: nobody else writes these keys meanwhile.)
        tx.execute(
            "DELETE FROM lutu.edit_features WHERE layer = %s AND feature_id = ANY(%s)",
            (layer, changed),
        )
        gone = {fid for (fid,) in tx.execute(_DELETED, (layer,))}  # few: not 100,000 ids sent
        back = [fid for fid in ids if fid in gone]
        if back:
            tx.execute(
                "DELETE FROM lutu.edit_deleted WHERE layer = %s AND feature_id = ANY(%s)",
                (layer, back),
            )
        ewkt = f"SRID={SRID};"  # WKT as the audit has it, exact: the shortest repr of each number
        order = sorted(range(len(rows)), key=ids.__getitem__)  # id order: no deadlock
        try:
            # An add someone else made meanwhile has no layer row to lock: its edit row tells
            # (the COPY waits for their commit, then finds the key taken).
            with tx.transaction(), tx.cursor().copy(_COPY_EDIT_FEATURES) as copy:
                for i in order:
                    properties, wkt = edit_rows[i]
                    copy.write_row((layer, ids[i], properties, ewkt + wkt))
        except psycopg.errors.UniqueViolation:
            added = [fid for fid, o in zip(ids, rows, strict=True) if o.action == "add"]
            raced = tx.execute(
                "SELECT feature_id FROM lutu.edit_features WHERE layer = %s"
                " AND feature_id = ANY(%s) ORDER BY feature_id",
                (layer, added),
            ).fetchall()
            raise conflict_error(layer, [(fid, "add") for (fid,) in raced]) from None
        upserts = [(ids[i], o.properties, o.geometry) for i, o in enumerate(rows)]
        write_features(tx, layer, upserts)  # type: ignore[arg-type]
        bump_version(tx)  # last: every commit waits on this row, for the shortest time

    def _remove(self, tx: psycopg.Connection, batch: Batch, entry: Entry) -> None:
        key = (batch.layer, entry.feature_id)
        tx.execute("DELETE FROM lutu.edit_features WHERE layer = %s AND feature_id = %s", key)
        tx.execute("INSERT INTO lutu.edit_deleted VALUES (%s, %s) ON CONFLICT DO NOTHING", key)
        tx.execute(_INSERT_AUDIT, audit_values(batch, entry))
        write_features(tx, batch.layer, (), [entry.feature_id])
        bump_version(tx)

    def _append(self, batch: Batch, entry: Entry) -> None:
        with self._connect() as con:
            con.execute(_INSERT_AUDIT, audit_values(batch, entry))

    def deleted(self, layer: str) -> set[str]:
        with self._connect() as con:
            return {fid for (fid,) in con.execute(_DELETED, (layer,))}

    def features(self, layer: str) -> list[tuple[str, dict[str, Any], BaseGeometry]]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT feature_id, properties, ST_AsBinary(geom) FROM lutu.edit_features"
                ' WHERE layer = %s ORDER BY feature_id COLLATE "C"',  # byte order, as SQLite's
                (layer,),
                binary=True,
            ).fetchall()
        return [(fid, props, shapely.from_wkb(wkb)) for fid, props, wkb in rows]

    def audit(
        self, *, layer: str | None = None, feature_id: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        query, args = audit_query(
            "%s", "lutu.audit", layer=layer, feature_id=feature_id, limit=limit
        )
        with self._connect() as con:
            return audit_entries(con.execute(query, args).fetchall())
