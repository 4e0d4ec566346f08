"""The edit store on PostgreSQL, beside the SQLite edits file: the same methods and behaviour,
edits written in place into the layer tables, row-level concurrency with clear conflicts, and
a commit killed mid-transaction leaving everything as it was. A real throwaway cluster (the
pg_url fixture), no mocks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from edits_support import boilers, create_layer_table, import_plan, layer_features, state
from shapely.geometry import Point

from geo.errors import ConflictError
from geo.ledger.edits import EditLog, EditStore, open_edits
from geo.ledger.edits_pg import PostgresEditStore
from geo.migrations import migrate
from geo.store import Feature
from layers import get_layer

ROOT = Path(__file__).resolve().parents[2]
LAYER = "coal_boilers"
BOILERS = get_layer(LAYER)
SHIPPED = boilers(5, prefix="yk-boiler", seed=1)
AT = "2026-12-03T10:00:00+00:00"


def prepared(url: str) -> str:
    """A migrated database with the boiler layer holding the shipped boilers."""
    from geo.store.postgis import write_features

    migrate(url)
    with psycopg.connect(url) as con:
        create_layer_table(con, BOILERS)
        write_features(con, LAYER, SHIPPED)
    return url


@dataclass
class Backend:
    """One edit store and what its features are as a store would show them."""

    name: str
    edits: EditLog
    stored: Callable[[], dict[str, Feature]]
    where: str  # the path or URL open_edits takes


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        edits = EditStore(tmp_path / "edits.sqlite")
        shipped = {fid: Feature(fid, props, geom) for fid, props, geom in SHIPPED}

        def stored_sqlite() -> dict[str, Feature]:
            # The GeoPackage store's view: the sources with the edits laid over them.
            features = dict(shipped)
            for fid in edits.deleted(LAYER):
                features.pop(fid, None)
            for fid, props, geom in edits.features(LAYER):
                features[fid] = Feature(fid, props, geom)
            return features

        return Backend("sqlite", edits, stored_sqlite, str(tmp_path / "edits.sqlite"))
    url = prepared(request.getfixturevalue("pg_url"))

    def stored_pg() -> dict[str, Feature]:
        with psycopg.connect(url) as con:
            return {f.id: f for f in layer_features(con, BOILERS)}

    return Backend("postgresql", PostgresEditStore(url), stored_pg, url)


def moved(props: dict, **changes: object) -> dict:
    return {**props, **changes}


# -- the same behaviour on both ----------------------------------------------------------------
def test_open_edits_picks_the_backend_by_name(backend: Backend) -> None:
    expected = EditStore if backend.name == "sqlite" else PostgresEditStore
    assert type(open_edits(backend.where)) is expected


def test_a_commit_adds_and_changes_with_its_audit(backend: Backend) -> None:
    stored = backend.stored()
    fid, props, geom = SHIPPED[0]
    rows = [
        (fid, moved(props, status="已淘汰", status_year=2025), Point(122.3, 40.65)),
        *boilers(2, prefix="new"),
    ]
    done = backend.edits.commit(import_plan(LAYER, rows, stored), "张工", now=_at)
    assert (done.added, done.changed) == (2, 1)
    features = backend.edits.features(LAYER)
    assert [f for f, _, _ in features] == sorted(r[0] for r in rows)
    by_id = {f: (p, g) for f, p, g in features}
    assert by_id[fid][0]["status"] == "已淘汰" and by_id[fid][1].equals(Point(122.3, 40.65))
    entries = backend.edits.audit()
    assert [(e.action, e.feature_id) for e in entries] == [
        ("add", "new-000001"),
        ("add", "new-000000"),
        ("change", fid),
    ]  # newest first
    change = entries[-1]
    assert (change.at, change.user, change.source, change.batch) == (
        AT,
        "张工",
        "台账.xlsx",
        done.batch,
    )
    assert change.before == {"properties": props, "geometry": geom.wkt}
    assert change.after == {
        "properties": moved(props, status="已淘汰", status_year=2025),
        "geometry": "POINT (122.3 40.65)",
    }
    assert change.details == {
        "row": 2,
        "warnings": [],
        "accepted_only": False,
        "rows_left_out": [],
        "as_of_year": None,
    }
    assert backend.edits.audit(feature_id=fid) == [change]
    assert len(backend.edits.audit(layer=LAYER, limit=2)) == 2
    assert backend.edits.audit(layer="parks") == []


def test_deleting_and_importing_again(backend: Backend) -> None:
    fid, props, geom = SHIPPED[1]
    batch = backend.edits.delete(LAYER, fid, props, geom, "李工", reason="已拆除", now=_at)
    assert backend.edits.deleted(LAYER) == {fid}
    assert fid not in backend.stored()
    (entry,) = backend.edits.audit()
    assert (entry.action, entry.source, entry.batch, entry.after, entry.details) == (
        "delete",
        "已拆除",
        batch,
        None,
        None,
    )
    assert entry.before == {"properties": props, "geometry": geom.wkt}
    backend.edits.commit(import_plan(LAYER, [SHIPPED[1]], backend.stored()), "李工")
    assert backend.edits.deleted(LAYER) == set()
    assert backend.stored()[fid].properties == props
    assert [e.action for e in backend.edits.audit()] == ["add", "delete"]


def test_catalog_changes_are_recorded_alike(backend: Backend) -> None:
    batch = backend.edits.record(
        "editor1", "correct", "plan_documents", "005", before={"unit": "万吨"},
        after={"unit": "吨"}, details={"measure": "005/一/（一）"}, now=_at,
    )  # fmt: skip
    (entry,) = backend.edits.audit(layer="plan_documents")
    assert (entry.user, entry.action, entry.feature_id, entry.batch, entry.at) == (
        "editor1",
        "correct",
        "005",
        batch,
        AT,
    )
    assert entry.before == {"unit": "万吨"} and entry.details == {"measure": "005/一/（一）"}
    with pytest.raises(ValueError, match="操作人"):
        backend.edits.record("", "publish", "plan_documents", "005")


# -- conflicts ---------------------------------------------------------------------------------
def test_the_second_of_two_changes_to_one_feature_is_a_conflict(backend: Backend) -> None:
    """Both plans were checked against the same state; the first commit stands, the second
    writes nothing and names the feature."""
    stored = backend.stored()
    fid, props, geom = SHIPPED[2]
    first = import_plan(
        LAYER, [(fid, moved(props, status="已淘汰", status_year=2025), geom)], stored
    )
    second_rows = [(fid, moved(props, note="改为燃气"), geom), *boilers(3, prefix="mine")]
    second = import_plan(LAYER, second_rows, stored)
    backend.edits.commit(first, "张工")
    before = (backend.edits.features(LAYER), backend.edits.audit(), backend.stored())
    with pytest.raises(ConflictError) as raised:
        backend.edits.commit(second, "李工")
    message = str(raised.value)
    assert message.startswith(f"要素 {LAYER}/{fid} 已被他人修改")
    assert "changed by someone else since this import was checked" in message
    assert (raised.value.layer, raised.value.feature_ids) == (LAYER, [fid])
    assert (backend.edits.features(LAYER), backend.edits.audit(), backend.stored()) == before
    assert backend.stored()[fid].properties["status"] == "已淘汰"  # nothing lost
    # Checked again against what is stored now, the same change goes in.
    again = import_plan(LAYER, second_rows, backend.stored())
    assert backend.edits.commit(again, "李工").changed == 1


def test_a_feature_added_or_deleted_meanwhile_is_a_conflict(backend: Backend) -> None:
    stored = backend.stored()
    new = boilers(1, prefix="twice")
    fid, props, geom = SHIPPED[3]
    backend.edits.commit(import_plan(LAYER, new, stored), "张工")
    with pytest.raises(ConflictError, match="已被他人添加.* added by someone else"):
        backend.edits.commit(import_plan(LAYER, new, stored), "李工")
    backend.edits.delete(LAYER, fid, props, geom, "张工")
    changed = import_plan(LAYER, [(fid, moved(props, note="x"), geom)], stored)
    with pytest.raises(ConflictError, match=f"{fid} 已被他人删除.* deleted by someone else"):
        backend.edits.commit(changed, "李工")
    with pytest.raises(ConflictError, match="自读取以来.*since it was read"):
        backend.edits.delete(LAYER, fid, props, geom, "李工")
    assert [e.user for e in backend.edits.audit()] == ["张工", "张工"]


def test_a_deletion_of_a_feature_changed_meanwhile_is_a_conflict(backend: Backend) -> None:
    fid, props, geom = SHIPPED[4]
    changed = moved(props, status="已淘汰", status_year=2025)
    backend.edits.commit(import_plan(LAYER, [(fid, changed, geom)], backend.stored()), "张工")
    with pytest.raises(ConflictError, match=f"要素 {LAYER}/{fid} 已被他人修改"):
        backend.edits.delete(LAYER, fid, props, geom, "李工")
    assert fid in backend.stored()
    backend.edits.delete(LAYER, fid, changed, geom, "李工")  # as it is now: deleted
    assert fid not in backend.stored()


# -- in place, on PostgreSQL -------------------------------------------------------------------
def test_a_commit_writes_the_layer_table_in_place(pg_url: str) -> None:
    url = prepared(pg_url)
    edits = PostgresEditStore(url)
    with psycopg.connect(url) as con:
        stored = {f.id: f for f in layer_features(con, BOILERS)}
        fids = dict(con.execute("SELECT id, fid FROM lutu.coal_boilers").fetchall())
        (version,) = con.execute("SELECT version FROM lutu.data_version").fetchone()
    fid, props, _ = SHIPPED[0]
    far = Point(123.5, 41.9)  # outside the shipped boilers' bbox: it grows
    rows = [(fid, moved(props, status="已淘汰", status_year=2025), far), *boilers(2, "new")]
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute("LISTEN lutu_data")
        edits.commit(import_plan(LAYER, rows, stored), "张工")
        (notice,) = list(listener.notifies(timeout=5, stop_after=1))
    with psycopg.connect(url) as con:
        now = {f.id: f for f in layer_features(con, BOILERS)}
        ids = con.execute("SELECT id, fid FROM lutu.coal_boilers ORDER BY fid").fetchall()
        count, bbox = con.execute(
            "SELECT feature_count, bbox FROM lutu.layers WHERE id = %s", (LAYER,)
        ).fetchone()
        (new_version,) = con.execute("SELECT version FROM lutu.data_version").fetchone()
    assert now[fid].properties["status"] == "已淘汰" and now[fid].geometry.equals(far)
    assert dict(ids)[fid] == fids[fid]  # a changed feature keeps its place (insertion order)
    assert [i for i, _ in ids][-2:] == ["new-000000", "new-000001"]
    assert count == len(SHIPPED) + 2 and bbox[2:] == [123.5, 41.9]
    assert new_version == version + 1 and notice.payload == str(new_version)
    edits.delete(LAYER, fid, now[fid].properties, far, "张工")
    with psycopg.connect(url) as con:
        assert con.execute(
            "SELECT feature_count FROM lutu.layers WHERE id = %s", (LAYER,)
        ).fetchone() == (len(SHIPPED) + 1,)
        assert con.execute(
            "SELECT count(*) FROM lutu.coal_boilers WHERE id = %s", (fid,)
        ).fetchone() == (0,)
        assert con.execute("SELECT version FROM lutu.data_version").fetchone() == (version + 2,)


def test_a_commit_into_an_unknown_layer_writes_nothing(pg_url: str) -> None:
    from geo.errors import LayerNotFound

    edits = PostgresEditStore(prepared(pg_url))
    with pytest.raises(LayerNotFound):
        edits.commit(import_plan("parks", boilers(1)), "张工")
    assert edits.audit() == []


def test_the_app_s_connection_pool_serves_the_store(pg_url: str) -> None:
    from psycopg_pool import ConnectionPool

    url = prepared(pg_url)
    with ConnectionPool(url, min_size=1, max_size=2, open=True) as pool:
        edits = PostgresEditStore(url, pool=pool)
        edits.commit(import_plan(LAYER, boilers(3, "pooled")), "张工")
        edits.record("张工", "publish", "plan_documents", "005")
        assert [e.action for e in edits.audit()] == ["publish", "add", "add", "add"]
        assert len(edits.features(LAYER)) == 3


# -- two editors at once, on PostgreSQL --------------------------------------------------------
def _waiting_for_a_lock(url: str, timeout: float = 10) -> bool:
    """Whether some other connection waits for a row lock (polled until `timeout`)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as con:
        while time.monotonic() < deadline:
            (waiting,) = con.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            ).fetchone()
            if waiting:
                return True
            time.sleep(0.02)
    return False


class Paused:
    """A between_rows hook that holds its commit inside the transaction at row `at` until
    released: the other editor works meanwhile."""

    def __init__(self, at: int = 1) -> None:
        self.at = at
        self.inside = threading.Event()
        self.release = threading.Event()

    def __call__(self, n: int) -> None:
        if n == self.at:
            self.inside.set()
            assert self.release.wait(30)


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_two_editors_committing_different_ledgers_both_succeed(pg_url: str) -> None:
    """The first holds its transaction open (its rows locked, half written) while the second
    commits a ledger of the same layer from start to end: row locks only, nobody times out."""
    url = prepared(pg_url)
    edits = PostgresEditStore(url)
    with psycopg.connect(url) as con:
        stored = {f.id: f for f in layer_features(con, BOILERS)}
    mine = [(SHIPPED[0][0], moved(SHIPPED[0][1], note="甲"), SHIPPED[0][2]), *boilers(500, "A")]
    theirs = [(SHIPPED[1][0], moved(SHIPPED[1][1], note="乙"), SHIPPED[1][2]), *boilers(500, "B")]
    pause = Paused(at=300)
    first, first_done = _in_thread(
        lambda: edits.commit(import_plan(LAYER, mine, stored), "甲", between_rows=pause)
    )
    assert pause.inside.wait(30)
    started = time.monotonic()
    second = PostgresEditStore(url).commit(import_plan(LAYER, theirs, stored), "乙")
    assert second.added == 500 and time.monotonic() - started < 5
    assert first.is_alive()  # still inside its transaction: the second did not wait for it
    pause.release.set()
    first.join(30)
    assert first_done[0].added == 500, first_done
    with psycopg.connect(url) as con:
        now = {f.id: f for f in layer_features(con, BOILERS)}
    assert len(now) == len(SHIPPED) + 1000
    assert now[SHIPPED[0][0]].properties["note"] == "甲"
    assert now[SHIPPED[1][0]].properties["note"] == "乙"
    assert {e.user for e in edits.audit()} == {"甲", "乙"} and len(edits.audit()) == 1002


def test_the_same_feature_changed_by_two_at_once_the_second_waits_and_conflicts(
    pg_url: str,
) -> None:
    url = prepared(pg_url)
    with psycopg.connect(url) as con:
        stored = {f.id: f for f in layer_features(con, BOILERS)}
    fid, props, geom = SHIPPED[2]
    pause = Paused()
    first, first_done = _in_thread(
        lambda: PostgresEditStore(url).commit(
            import_plan(LAYER, [(fid, moved(props, note="甲"), geom)], stored),
            "甲",
            between_rows=pause,
        )
    )
    assert pause.inside.wait(30)
    theirs = [(fid, moved(props, note="乙"), geom), *boilers(10, "B")]
    second, second_done = _in_thread(
        lambda: PostgresEditStore(url).commit(import_plan(LAYER, theirs, stored), "乙")
    )
    assert _waiting_for_a_lock(url)  # on the feature's row, not on a table
    pause.release.set()
    first.join(30)
    second.join(30)
    assert first_done[0].changed == 1
    (error,) = second_done
    assert isinstance(error, ConflictError) and error.feature_ids == [fid], error
    with psycopg.connect(url) as con:
        now = {f.id: f for f in layer_features(con, BOILERS)}
    assert now[fid].properties["note"] == "甲" and len(now) == len(SHIPPED)
    assert [e.user for e in PostgresEditStore(url).audit()] == ["甲"]


def test_the_same_feature_added_by_two_at_once_is_a_conflict(pg_url: str) -> None:
    """Neither finds a row to lock when it checks: the one that commits second finds the
    other's edit rows when it inserts its own, and writes nothing."""
    url = prepared(pg_url)
    new = boilers(3, "twin")
    pause = Paused(at=3)
    first, first_done = _in_thread(
        lambda: PostgresEditStore(url).commit(import_plan(LAYER, new), "甲", between_rows=pause)
    )
    assert pause.inside.wait(30)  # checked, its rows half written, not committed
    assert PostgresEditStore(url).commit(import_plan(LAYER, new[1:]), "乙").added == 2
    pause.release.set()
    first.join(30)
    (error,) = first_done
    assert isinstance(error, ConflictError), error
    assert error.feature_ids == ["twin-000001", "twin-000002"]
    assert "要素 coal_boilers/twin-000001 已被他人添加" in str(error) and "另有 1 个" in str(error)
    assert [e.user for e in PostgresEditStore(url).audit()] == ["乙"] * 2
    with psycopg.connect(url) as con:
        ids = {f.id for f in layer_features(con, BOILERS)}
    assert "twin-000000" not in ids and {"twin-000001", "twin-000002"} <= ids


# -- kill -9 mid-transaction -------------------------------------------------------------------
KILLED_ROWS = 20_000


def _killed_commit(backend: Backend, how: str) -> subprocess.CompletedProcess:
    """A child process commits a KILLED_ROWS-row plan (new boilers and changes of stored ones)
    and SIGKILLs itself inside the transaction: from between_rows or from a progress report."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests")!r}]
        import psycopg
        from edits_support import boilers, import_plan, layer_features
        from geo.ledger.edits import open_edits
        from geo.store import Feature
        from layers import get_layer

        where = {backend.where!r}
        edits = open_edits(where)
        if where.startswith("postgresql:"):
            with psycopg.connect(where) as con:
                stored = {{f.id: f for f in layer_features(con, get_layer("coal_boilers"))}}
        else:
            stored = {{f: Feature(f, p, g) for f, p, g in edits.features("coal_boilers")}}
        changes = [(f, {{**x.properties, "note": "killed"}}, x.geometry) for f, x in stored.items()]
        plan = import_plan("coal_boilers", changes + boilers({KILLED_ROWS}, "K"), stored)

        def die(*report):
            if report[-2 if len(report) == 3 else 0] >= {KILLED_ROWS // 2}:
                os.kill(os.getpid(), signal.SIGKILL)

        hook = {{"between_rows": die}} if {how!r} == "between_rows" else {{"progress": die}}
        edits.commit(plan, "kill-test", **hook)
        print("not killed")
        """
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)


def _everything(backend: Backend) -> object:
    if backend.name == "postgresql":
        return state(backend.where, LAYER)
    # Read first: the first reader after a kill rolls the hot journal back.
    read = (backend.edits.features(LAYER), backend.edits.deleted(LAYER), backend.edits.audit())
    return read, Path(backend.where).read_bytes(), Path(backend.where + "-journal").exists()


@pytest.mark.parametrize("how", ["between_rows", "progress"])
def test_a_commit_killed_mid_transaction_leaves_everything_as_it_was(
    backend: Backend, how: str
) -> None:
    stored = backend.stored()
    earlier = [(SHIPPED[0][0], moved(SHIPPED[0][1], note="earlier"), SHIPPED[0][2])]
    backend.edits.commit(import_plan(LAYER, earlier + boilers(50, "E"), stored), "张工")
    backend.edits.delete(LAYER, *SHIPPED[1], "张工")
    before = _everything(backend)
    proc = _killed_commit(backend, how)
    assert proc.returncode == -9, proc.stdout + proc.stderr
    assert _everything(backend) == before
    # The next commit works (no lock left behind), the killed plan's rows included.
    again = import_plan(LAYER, boilers(KILLED_ROWS, "K"), backend.stored())
    assert backend.edits.commit(again, "张工").added == KILLED_ROWS
    assert len(backend.edits.audit()) == 52 + KILLED_ROWS


def _at() -> datetime:
    return datetime.fromisoformat(AT)
