"""Planners' changes, kept apart from the shipped sources: the current state of every feature
a planner added or changed, the features a planner deleted, and the audit log (留痕) of every
change — who, when, what, before and after.

Two backends keep them, with the same methods (`EditLog`; `open_edits` picks one by name):
- `EditStore`, one SQLite file beside the GeoPackage store, which is rebuilt from the sources
  with these edits laid over them (`overlay`) and swapped in whole, so readers see the old
  store or the new one;
- `geo.ledger.edits_pg.PostgresEditStore`, tables in the PostGIS database, which also writes
  the changed features in place into the layer tables, in the same transaction.

An import is one transaction: every accepted row and its audit entry, or nothing (a crash or a
kill mid-import leaves everything as it was). It first compares each feature it changes with
what its check saw, so that nobody overwrites someone else's change unseen (ConflictError).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import shapely
from shapely.geometry.base import BaseGeometry

from geo.errors import ConflictError, LedgerError

if TYPE_CHECKING:
    from geo.ledger.plan import ImportPlan, RowOutcome
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


class Batch(NamedTuple):
    """What every audit entry of one change has alike."""

    at: str  # UTC, ISO 8601
    user: str
    layer: str  # or the catalog table a `record` entry concerns
    source: str | None
    batch: str


class Entry(NamedTuple):
    """One audit entry as written, its JSON made (by EditLog, the same for every backend)."""

    action: str
    feature_id: str
    before: str | None
    after: str | None
    details: str | None


# A feature as a conflict check finds it stored: (properties, geometry), or None when it is
# not there (deleted).
Stored = tuple[dict[str, Any], BaseGeometry | None] | None
# Writes one accepted row of an import inside its transaction: (its number from 1, the
# outcome, its properties as JSON, its geometry as WKT, its audit entry).
RowWriter = Callable[[int, "RowOutcome", str, str, Entry], None]

# A change found on commit, as its message says it: (Chinese, English).
_CHANGED_BY_OTHERS = {
    "change": ("修改", "changed"),
    "delete": ("删除", "deleted"),
    "add": ("添加", "added"),
}
IMPORT_CHECKED = ("自本次导入检查以来", "since this import was checked")
FEATURE_READ = ("自读取以来", "since it was read")


class EditLog(ABC):
    """The planners' edits and the audit log, wherever they are kept.

    What a change means is decided here, once for every backend: who may make it, the plan's
    all-or-nothing rule, the conflict check, the audit entries and their JSON. A backend gives
    a transaction, the stored state of features (locked), and the writes."""

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
        choice, the rows left out and the row's warnings. A feature the plan changes that
        someone else changed, deleted or added since the plan was checked (its stored state
        is not the plan's `before`) writes nothing either (ConflictError, naming it).

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
        batch = Batch(
            now().isoformat(timespec="seconds"), user, plan.layer, Path(plan.path).name, _new_id()
        )
        added = changed = 0
        accepted = plan.accepted
        before_geometries = [_before_geometry(o) for o in accepted]
        # WKT of every geometry in one call, not one per row (a 100,000-row import).
        after_wkt = _wkt([o.geometry for o in accepted])
        before_wkt = _wkt(before_geometries)
        choice = {
            "accepted_only": bool(rejected),
            "rows_left_out": rejected[:1000],
            "as_of_year": plan.as_of_year,
        }
        # The same for every row: made once (a 100,000-row import writes as many entries).
        choice_json = json.dumps(choice, ensure_ascii=False)[1:-1]
        total = len(accepted)
        if progress is not None:
            progress("write", 0, total)
        with self._transaction() as tx:
            expected = [
                (o.feature_id, o.before, geometry)
                for o, geometry in zip(accepted, before_geometries, strict=True)
            ]
            self._check_unchanged(tx, plan.layer, expected, IMPORT_CHECKED)
            with self._importing(tx, batch, accepted) as write:
                for n, outcome in enumerate(accepted, start=1):
                    assert outcome.properties is not None and outcome.geometry is not None
                    assert outcome.feature_id is not None
                    properties = _to_json(outcome.properties)
                    before = None
                    if outcome.before is not None:
                        before_properties = _to_json(outcome.before)
                        before = _state_json(before_properties, before_wkt[n - 1])
                    warnings = [{"field": w.field, "message": w.message} for w in outcome.warnings]
                    warned = json.dumps(warnings, ensure_ascii=False) if warnings else "[]"
                    details = f'{{"row": {outcome.row}, "warnings": {warned}, {choice_json}}}'
                    after = _state_json(properties, after_wkt[n - 1])
                    entry = Entry(outcome.action, outcome.feature_id, before, after, details)
                    write(n, outcome, properties, after_wkt[n - 1], entry)
                    added += outcome.action == "add"
                    changed += outcome.action == "change"
                    if between_rows is not None:
                        between_rows(n)
                    if progress is not None and n % PROGRESS_EVERY == 0 and n < total:
                        progress("write", n, total)
        if progress is not None:
            progress("write", total, total)
        return Committed(batch.batch, added, changed)

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
        dump = partial(json.dumps, ensure_ascii=False)
        batch = Batch(now().isoformat(timespec="seconds"), user, subject, source, _new_id())
        entry = Entry(
            action,
            subject_id,
            dump(before) if before is not None else None,
            dump(after) if after is not None else None,
            dump(details) if details is not None else None,
        )
        self._append(batch, entry)
        return batch.batch

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
        is kept as the entry's source, so the log says why. `before` and `geometry` are the
        feature as the caller read it: changed or deleted by someone else since, it is left
        alone (ConflictError)."""
        if not user:
            raise ValueError("删除须写明操作人 a deletion needs the name of who makes it")
        batch = Batch(now().isoformat(timespec="seconds"), user, layer, reason, _new_id())
        state = json.dumps(_state(before, geometry), ensure_ascii=False)
        entry = Entry("delete", feature_id, state, None, None)
        with self._transaction() as tx:
            self._check_unchanged(tx, layer, [(feature_id, before, geometry)], FEATURE_READ)
            self._remove(tx, batch, entry)
        return batch.batch

    @abstractmethod
    def deleted(self, layer: str) -> set[str]:
        """The ids deleted from a layer (and not imported again since)."""

    @abstractmethod
    def features(self, layer: str) -> list[tuple[str, dict[str, Any], BaseGeometry]]:
        """(id, properties, geometry) of every edited feature of a layer, by id."""

    @abstractmethod
    def audit(
        self, *, layer: str | None = None, feature_id: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """The audit log, newest first; of one layer or one feature when asked."""

    # -- what a backend gives ----------------------------------------------------------------
    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Any]:
        """One write transaction; its handle goes to the methods below. Committed when the
        block ends, rolled back on any exception (a kill rolls it back too)."""

    @abstractmethod
    def _stored(self, tx: Any, layer: str, ids: Sequence[str]) -> dict[str, Stored]:
        """The stored state of those features, locked against other writers until the
        transaction ends. An id left out is one the backend cannot see (a shipped feature the
        SQLite edits file never held): it counts as unchanged."""

    @abstractmethod
    def _importing(
        self, tx: Any, batch: Batch, rows: Sequence[RowOutcome]
    ) -> AbstractContextManager[RowWriter]:
        """A writer of the import's rows, one call per row in order; whatever else the import
        writes is written when the block ends without an exception."""

    @abstractmethod
    def _remove(self, tx: Any, batch: Batch, entry: Entry) -> None:
        """Take `entry.feature_id` out of `batch.layer` and write the entry."""

    @abstractmethod
    def _append(self, batch: Batch, entry: Entry) -> None:
        """Write one audit entry on its own (a catalog change)."""

    # ------------------------------------------------------------------------------------------
    def _check_unchanged(
        self,
        tx: Any,
        layer: str,
        expected: Sequence[tuple[str | None, Mapping[str, Any] | None, BaseGeometry | None]],
        since: tuple[str, str],
    ) -> None:
        """ConflictError unless every feature is stored as `expected` says: (id, properties,
        geometry) as the caller read it, properties None for a feature that was not there."""
        stored = self._stored(tx, layer, [fid for fid, _, _ in expected if fid is not None])
        conflicts = []
        for fid, properties, geometry in expected:
            if fid not in stored:
                continue
            now = stored[fid]
            if _unchanged(properties, geometry, now):
                continue
            how = "add" if properties is None else "delete" if now is None else "change"
            conflicts.append((fid, how))
        if conflicts:
            raise conflict_error(layer, conflicts, since)


def conflict_error(
    layer: str, features: Sequence[tuple[str, str]], since: tuple[str, str] = IMPORT_CHECKED
) -> ConflictError:
    """The error for features someone else changed meanwhile: (id, "change" | "delete" |
    "add") each, the first named, the rest counted; nothing was written."""
    fid, how = features[0]
    verb_zh, verb_en = _CHANGED_BY_OTHERS[how]
    more = len(features) - 1
    more_zh = f"，另有 {more} 个要素亦然" if more else ""
    more_en = f" (and {more} more)" if more else ""
    return ConflictError(
        f"要素 {layer}/{fid} 已被他人{verb_zh}（{since[0]}）{more_zh}：未写入任何内容，"
        f"请重新检查后再提交 feature {layer}/{fid} {verb_en} by someone else {since[1]}"
        f"{more_en}: nothing written; check again and retry",
        layer=layer,
        feature_ids=[f for f, _ in features],
    )


class EditStore(EditLog):
    """The edits file (SQLite): `commit` an import plan, read `features` back, browse `audit`.
    The GeoPackage store is rebuilt with these edits laid over the sources (`overlay`)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A writer waits its turn behind another one's import instead of failing after
        # SQLite's default 5 s.
        connect = partial(sqlite3.connect, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        with closing(connect(self.path)) as con:
            con.execute("PRAGMA journal_mode=DELETE")  # the whole state in one file
            con.executescript(SCHEMA)
            columns = {row[1] for row in con.execute("PRAGMA table_info(audit)")}
            if "details" not in columns:  # an edits file from before the details column
                con.execute("ALTER TABLE audit ADD COLUMN details TEXT")
            yield con

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")  # the write lock first: what is checked stays so
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _stored(self, tx: sqlite3.Connection, layer: str, ids: Sequence[str]) -> dict[str, Stored]:
        found: dict[str, Stored] = {}
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = list(ids[start : start + _IDS_PER_QUERY])
            marks = ", ".join("?" * len(chunk))
            where = f"WHERE layer = ? AND id IN ({marks})"  # only ? marks: parameterised
            for (fid,) in tx.execute(f"SELECT id FROM deleted {where}", (layer, *chunk)):
                found[fid] = None
            for fid, properties, geometry in tx.execute(
                f"SELECT id, properties, geometry FROM features {where}", (layer, *chunk)
            ):
                found[fid] = (json.loads(properties), shapely.from_wkb(geometry))
        return found

    @contextmanager
    def _importing(
        self, tx: sqlite3.Connection, batch: Batch, rows: Sequence[RowOutcome]
    ) -> Iterator[RowWriter]:
        def write(n: int, outcome: RowOutcome, properties: str, wkt: str, entry: Entry) -> None:
            # A feature deleted earlier and imported again is back.
            tx.execute(
                "DELETE FROM deleted WHERE layer = ? AND id = ?", (batch.layer, entry.feature_id)
            )
            tx.execute(
                "INSERT OR REPLACE INTO features VALUES (?, ?, ?, ?)",
                (batch.layer, entry.feature_id, properties, shapely.to_wkb(outcome.geometry)),
            )
            tx.execute(_INSERT_AUDIT, audit_values(batch, entry))

        yield write

    def _remove(self, tx: sqlite3.Connection, batch: Batch, entry: Entry) -> None:
        key = (batch.layer, entry.feature_id)
        tx.execute("DELETE FROM features WHERE layer = ? AND id = ?", key)
        tx.execute("INSERT OR IGNORE INTO deleted VALUES (?, ?)", key)
        tx.execute(_INSERT_AUDIT, audit_values(batch, entry))

    def _append(self, batch: Batch, entry: Entry) -> None:
        with self._connect() as con:
            con.execute(_INSERT_AUDIT, audit_values(batch, entry))

    def deleted(self, layer: str) -> set[str]:
        if not self.path.exists():
            return set()
        with self._connect() as con:
            rows = con.execute("SELECT id FROM deleted WHERE layer = ?", (layer,)).fetchall()
        return {fid for (fid,) in rows}

    def features(self, layer: str) -> list[tuple[str, dict[str, Any], BaseGeometry]]:
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
        if not self.path.exists():
            return []
        query, args = audit_query("?", layer=layer, feature_id=feature_id, limit=limit)
        with self._connect() as con:
            return audit_entries(con.execute(query, args).fetchall())


BUSY_TIMEOUT_S = 60.0
_IDS_PER_QUERY = 900  # ids in one IN (…): below SQLite's bound on parameters
# The audit table's written columns, in the order of audit_values (every backend's).
AUDIT_COLUMNS = 'at, "user", action, layer, feature_id, before, after, source, batch, details'
_INSERT_AUDIT = f"INSERT INTO audit ({AUDIT_COLUMNS}) VALUES ({', '.join('?' * 10)})"


def audit_values(batch: Batch, entry: Entry) -> tuple[Any, ...]:
    """An entry's values, in the order of AUDIT_COLUMNS."""
    return (
        batch.at,
        batch.user,
        entry.action,
        batch.layer,
        entry.feature_id,
        entry.before,
        entry.after,
        batch.source,
        batch.batch,
        entry.details,
    )


def audit_query(
    mark: str,
    table: str = "audit",
    *,
    layer: str | None = None,
    feature_id: str | None = None,
    limit: int | None = None,
) -> tuple[str, list[Any]]:
    """The audit log's SELECT, newest first, with the driver's parameter `mark` (? or %s);
    `table` is ours, never a caller's text."""
    where, args = [], []
    if layer is not None:
        where.append(f"layer = {mark}")
        args.append(layer)
    if feature_id is not None:
        where.append(f"feature_id = {mark}")
        args.append(feature_id)
    query = (
        'SELECT seq, at, "user", action, layer, feature_id, before, after, source, batch,'
        f" details FROM {table}"
    )
    if where:
        query += " WHERE " + " AND ".join(where)
    query += " ORDER BY seq DESC"
    if limit is not None:
        query += f" LIMIT {mark}"
        args.append(int(limit))
    return query, args


def audit_entries(rows: Iterable[Sequence[Any]]) -> list[AuditEntry]:
    """AuditEntry of each row of `audit_query` (JSON as text or as the driver parsed it)."""
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


def open_edits(where: Path | str) -> EditLog:
    """The edit store at `where`: a postgresql:// URL names the database (the edits written
    in place into its layer tables), anything else the SQLite edits file."""
    text = str(where)
    if text.startswith(("postgresql://", "postgres://")):
        from geo.ledger.edits_pg import PostgresEditStore

        return PostgresEditStore(text)
    return EditStore(where)


def overlay(edits: EditLog, data: Mapping[str, LayerData]) -> None:
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


def _state_json(properties: str, wkt: str | None) -> str:
    """json.dumps(_state(…)) from the properties' JSON, made once per row for both uses (WKT
    has neither quotes nor backslashes: it is its own JSON string)."""
    geometry = f'"{wkt}"' if wkt is not None else "null"
    return f'{{"properties": {properties}, "geometry": {geometry}}}'


def _wkt(geometries: Sequence[BaseGeometry | None]) -> list[str | None]:
    """Each geometry's `.wkt` (None for none), in one vectorised call."""
    return shapely.to_wkt(list(geometries), rounding_precision=-1).tolist() if geometries else []


# json.dumps(…, ensure_ascii=False) without making an encoder per call (100,000 rows).
_to_json = json.JSONEncoder(ensure_ascii=False).encode

# Two positions this close are the same (the plan's test of whether a feature moved).
GEOMETRY_TOLERANCE = 1e-7


def _unchanged(
    before: Mapping[str, Any] | None, geometry: BaseGeometry | None, stored: Stored
) -> bool:
    """Whether a feature is stored as it was read: `before` its properties then (None: it was
    not there), `geometry` its position. A field the reader did not see is no evidence."""
    if stored is None or before is None:
        return stored is None and before is None
    properties, stored_geometry = stored
    for name, value in properties.items():
        if name == "id" or name not in before:
            continue
        old = before[name]
        if old != value and not (old != old and value != value):  # NaN is NaN
            return False
    if geometry is None or stored_geometry is None:
        return geometry is None and stored_geometry is None
    return bool(geometry.equals_exact(stored_geometry, GEOMETRY_TOLERANCE))


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def _load(value: Any) -> Any:
    """A JSON column as stored: text (SQLite) or already parsed (psycopg)."""
    if isinstance(value, str):
        return json.loads(value) if value else None
    return value


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
