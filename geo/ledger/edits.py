"""Planners' changes, kept apart from the shipped sources: one SQLite file holding the current
state of every feature a planner added or changed, the features a planner deleted, and the
audit log (留痕) of every change — who, when, what, before and after.

An import is one SQLite transaction: every accepted row and its audit entry, or nothing (a
crash or a kill mid-import leaves the file as it was; SQLite's journal sees to it). The store
is then rebuilt from the sources with these edits laid over them (`overlay`), and swapped in
whole, so readers see the old store or the new one.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely
from shapely.geometry.base import BaseGeometry

from geo.errors import LedgerError

if TYPE_CHECKING:
    from geo.ledger.plan import ImportPlan
    from geo.ledger.read import Progress
    from geo.sources import LayerData

SCHEMA = """
CREATE TABLE IF NOT EXISTS features (
    layer TEXT NOT NULL,
    id TEXT NOT NULL,
    properties TEXT NOT NULL,      -- JSON, the layer's fields
    geometry BLOB NOT NULL,        -- WKB, WGS84 lon/lat
    PRIMARY KEY (layer, id)
);
CREATE TABLE IF NOT EXISTS deleted (  -- features taken out of a layer, sources included
    layer TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (layer, id)
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,              -- UTC, ISO 8601
    user TEXT NOT NULL,
    action TEXT NOT NULL,          -- add | change | delete
    layer TEXT NOT NULL,
    feature_id TEXT NOT NULL,
    before TEXT,                   -- JSON properties + WKT geometry, NULL for an add
    after TEXT,                    -- JSON properties + WKT geometry, NULL for a delete
    source TEXT,                   -- the file an import came from
    batch TEXT NOT NULL,           -- one id per import
    details TEXT                   -- JSON: the row, its warnings, the import's choices
);
CREATE INDEX IF NOT EXISTS audit_feature ON audit (layer, feature_id);
"""


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    user: str
    action: str
    layer: str
    feature_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source: str | None
    batch: str
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class Committed:
    batch: str
    added: int
    changed: int


class EditStore:
    """The edits file: `commit` an import plan, read `features` back, browse `audit`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, isolation_level=None)) as con:
            con.execute("PRAGMA journal_mode=DELETE")  # the whole state in one file
            con.executescript(SCHEMA)
            columns = {row[1] for row in con.execute("PRAGMA table_info(audit)")}
            if "details" not in columns:  # an edits file from before the details column
                con.execute("ALTER TABLE audit ADD COLUMN details TEXT")
            yield con

    def commit(
        self,
        plan: ImportPlan,
        user: str,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        between_rows: Callable[[int], None] | None = None,
        progress: Progress | None = None,
        accepted_only: bool = False,
    ) -> Committed:
        """Write every accepted row of `plan` and its audit entry in one transaction.

        All or nothing: a plan with a rejected row writes nothing (LedgerError) unless
        `accepted_only` says to leave the rejected rows out; each audit entry keeps that
        choice, the rows left out and the row's warnings.

        `between_rows` is called after each row is written, inside the transaction (tests kill
        the process there to show that nothing of a half-done import survives). `progress`
        hears ("write", rows written, rows to write) now and then; the last report, done ==
        total, comes once the transaction is committed."""
        from geo.ledger.read import PROGRESS_EVERY

        if not user:
            raise ValueError("导入须写明操作人 an import needs the name of who makes it")
        rejected = [o.row for o in plan.outcomes if o.action == "reject"]
        if rejected and not accepted_only:
            raise LedgerError(
                f"{len(rejected)} 行被拒绝，未写入任何行；请改正后重新导入，或选择只导入可接受的行 "
                f"{len(rejected)} row(s) rejected: nothing written; fix them, or choose to "
                "import only the accepted rows (--accepted-only)",
                path=Path(plan.path).name,
            )
        batch = uuid.uuid4().hex[:12]
        at = now().isoformat(timespec="seconds")
        added = changed = 0
        accepted = plan.accepted
        choice = {
            "accepted_only": bool(rejected),
            "rows_left_out": rejected[:1000],
            "as_of_year": plan.as_of_year,
        }
        # The same for every row: made once (a 100,000-row import writes as many entries).
        choice_json = json.dumps(choice, ensure_ascii=False)[1:-1]
        source = Path(plan.path).name
        total = len(accepted)
        if progress is not None:
            progress("write", 0, total)
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                for n, outcome in enumerate(accepted, start=1):
                    assert outcome.properties is not None and outcome.geometry is not None
                    before = _state(outcome.before, _before_geometry(outcome))
                    after = _state(outcome.properties, outcome.geometry)
                    # A feature deleted earlier and imported again is back.
                    con.execute(
                        "DELETE FROM deleted WHERE layer = ? AND id = ?",
                        (plan.layer, outcome.feature_id),
                    )
                    con.execute(
                        "INSERT OR REPLACE INTO features VALUES (?, ?, ?, ?)",
                        (
                            plan.layer,
                            outcome.feature_id,
                            json.dumps(outcome.properties, ensure_ascii=False),
                            shapely.to_wkb(outcome.geometry),
                        ),
                    )
                    warnings = [{"field": w.field, "message": w.message} for w in outcome.warnings]
                    warned = json.dumps(warnings, ensure_ascii=False) if warnings else "[]"
                    details = f'{{"row": {outcome.row}, "warnings": {warned}, {choice_json}}}'
                    con.execute(
                        "INSERT INTO audit (at, user, action, layer, feature_id, before, after,"
                        " source, batch, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            at,
                            user,
                            outcome.action,
                            plan.layer,
                            outcome.feature_id,
                            json.dumps(before, ensure_ascii=False) if before else None,
                            json.dumps(after, ensure_ascii=False),
                            source,
                            batch,
                            details,
                        ),
                    )
                    added += outcome.action == "add"
                    changed += outcome.action == "change"
                    if between_rows is not None:
                        between_rows(n)
                    if progress is not None and n % PROGRESS_EVERY == 0 and n < total:
                        progress("write", n, total)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        if progress is not None:
            progress("write", total, total)
        return Committed(batch, added, changed)

    def record(
        self,
        user: str,
        action: str,
        subject: str,
        subject_id: str,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        source: str | None = None,
        details: Mapping[str, Any] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> str:
        """One audit entry for a change that is not a feature's: a plan document corrected or
        published, a link confirmed, an indicator added (`subject` is then the catalog table
        it changes: plan_documents, measure_links, indicators; `subject_id` its row's id).
        Returns the entry's batch id."""
        if not user:
            raise ValueError("留痕须写明操作人 an audit entry needs the name of who acts")
        batch = uuid.uuid4().hex[:12]
        dump = partial(json.dumps, ensure_ascii=False)
        with self._connect() as con:
            con.execute(
                "INSERT INTO audit (at, user, action, layer, feature_id, before, after, source,"
                " batch, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now().isoformat(timespec="seconds"),
                    user,
                    action,
                    subject,
                    subject_id,
                    dump(before) if before is not None else None,
                    dump(after) if after is not None else None,
                    source,
                    batch,
                    dump(details) if details is not None else None,
                ),
            )
        return batch

    def delete(
        self,
        layer: str,
        feature_id: str,
        before: Mapping[str, Any],
        geometry: BaseGeometry | None,
        user: str,
        *,
        reason: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> str:
        """Take one feature out of its layer (a source feature or an imported one), with its
        audit entry holding what it was, in one transaction; returns the batch id. `reason`
        is kept as the entry's source, so the log says why."""
        if not user:
            raise ValueError("删除须写明操作人 a deletion needs the name of who makes it")
        batch = uuid.uuid4().hex[:12]
        state = _state(before, geometry)
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute("DELETE FROM features WHERE layer = ? AND id = ?", (layer, feature_id))
                con.execute("INSERT OR IGNORE INTO deleted VALUES (?, ?)", (layer, feature_id))
                con.execute(
                    "INSERT INTO audit (at, user, action, layer, feature_id, before, after,"
                    " source, batch) VALUES (?, ?, 'delete', ?, ?, ?, NULL, ?, ?)",
                    (
                        now().isoformat(timespec="seconds"),
                        user,
                        layer,
                        feature_id,
                        json.dumps(state, ensure_ascii=False),
                        reason,
                        batch,
                    ),
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return batch

    def deleted(self, layer: str) -> set[str]:
        """The ids deleted from a layer (and not imported again since)."""
        if not self.path.exists():
            return set()
        with self._connect() as con:
            rows = con.execute("SELECT id FROM deleted WHERE layer = ?", (layer,)).fetchall()
        return {fid for (fid,) in rows}

    def features(self, layer: str) -> list[tuple[str, dict[str, Any], BaseGeometry]]:
        """(id, properties, geometry) of every edited feature of a layer."""
        if not self.path.exists():
            return []
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, properties, geometry FROM features WHERE layer = ? ORDER BY id",
                (layer,),
            ).fetchall()
        return [(fid, json.loads(props), shapely.from_wkb(geom)) for fid, props, geom in rows]

    def audit(
        self, *, layer: str | None = None, feature_id: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """The audit log, newest first; of one layer or one feature when asked."""
        if not self.path.exists():
            return []
        where, args = [], []
        if layer is not None:
            where.append("layer = ?")
            args.append(layer)
        if feature_id is not None:
            where.append("feature_id = ?")
            args.append(feature_id)
        sql = (
            "SELECT seq, at, user, action, layer, feature_id, before, after, source, batch,"
            " details FROM audit"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._connect() as con:
            rows = con.execute(sql, args).fetchall()
        return [
            AuditEntry(
                seq,
                at,
                user,
                action,
                layer_,
                fid,
                _load(before),
                _load(after),
                source,
                batch,
                _load(details),
            )
            for seq, at, user, action, layer_, fid, before, after, source, batch, details in rows
        ]


def overlay(edits: EditStore, data: Mapping[str, LayerData]) -> None:
    """Lay the edited features over the layers read from the sources: a feature with the same
    id is replaced, a new one appended, a deleted one taken out."""
    for layer_id, layer in data.items():
        gone = edits.deleted(layer_id)
        if gone:
            kept = [i for i, fid in enumerate(layer.ids) if fid not in gone]
            layer.ids[:] = [layer.ids[i] for i in kept]
            layer.properties[:] = [layer.properties[i] for i in kept]
            layer.geometries[:] = [layer.geometries[i] for i in kept]
        position = {fid: i for i, fid in enumerate(layer.ids)}
        for fid, props, geometry in edits.features(layer_id):
            row = {name: props.get(name) for name in layer.schema.field_map}
            if fid in position:
                i = position[fid]
                layer.properties[i], layer.geometries[i] = row, geometry
            else:
                position[fid] = len(layer.ids)
                layer.ids.append(fid)
                layer.properties.append(row)
                layer.geometries.append(geometry)


def _before_geometry(outcome: Any) -> BaseGeometry | None:
    """Where a changed feature was: the old position if it moved, else where it still is."""
    if outcome.before is None:
        return None
    moved = outcome.changes.get("geometry")
    return moved[0] if moved is not None else outcome.geometry


def _state(properties: Mapping[str, Any] | None, geometry: BaseGeometry | None) -> dict | None:
    if properties is None:
        return None
    return {"properties": dict(properties), "geometry": geometry.wkt if geometry else None}


def _load(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None


def audit_rows(entries: Sequence[AuditEntry]) -> list[list[str]]:
    """The audit log as table rows (for CSV export): one row per changed field."""
    rows = []
    for e in entries:
        before = (e.before or {}).get("properties", {})
        after = (e.after or {}).get("properties", {})
        names = sorted(set(before) | set(after))
        changed = [n for n in names if before.get(n) != after.get(n)]
        geometry_moved = (e.before or {}).get("geometry") != (e.after or {}).get("geometry")
        if geometry_moved:
            changed.append("geometry")
        for name in changed or ["—"]:
            old = (e.before or {}).get("geometry") if name == "geometry" else before.get(name)
            new = (e.after or {}).get("geometry") if name == "geometry" else after.get(name)
            rows.append(
                [
                    e.at,
                    e.user,
                    e.action,
                    e.layer,
                    e.feature_id,
                    name,
                    _cell(old),
                    _cell(new),
                    e.source or "",
                    e.batch,
                    details_text(e.details),
                ]
            )
    return rows


def details_text(details: Mapping[str, Any] | None) -> str:
    """An entry's row, warnings and import choices for people (the audit page, the CSV)."""
    if not details:
        return ""
    parts = []
    if details.get("summary"):  # a catalog change in words: 更正 merge：005/三/一 ← 005/三/二
        parts.append(str(details["summary"]))
    if details.get("row"):
        parts.append(f"第 {details['row']} 行")
    for w in details.get("warnings") or ():
        parts.append(f"{w['field']}：{w['message']}" if w.get("field") else w["message"])
    if details.get("accepted_only"):
        left = details.get("rows_left_out") or []
        shown = "、".join(map(str, left[:20])) + ("…" if len(left) > 20 else "")
        parts.append(f"只导入可接受的行，略过 {len(left)} 行（第 {shown} 行） accepted rows only")
    if details.get("as_of_year"):
        parts.append(f"统计年份 {details['as_of_year']}")
    return "；".join(parts)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
