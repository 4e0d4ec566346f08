"""Edit-store benchmark (issue #16): committing a 100,000-row coal-boiler ledger on PostgreSQL,
written in place into the layer table with its edit rows, audit entries and the data version
in one transaction, against the same commit into the SQLite edits file (which the GeoPackage
store is then rebuilt from: see bench/ledger_bench.py for that part).

    .venv/bin/python bench/edits_pg_bench.py [--rows 100000] [--existing 100000] [--no-fsync]

A throwaway cluster (tests/pgcluster.py; fsync on unless --no-fsync) holds a boiler table of
`--existing` rows. Timed: the commit of `--rows` new boilers (after the checks: the plan is
made beforehand, as the web job has it when it commits); the commit of a second ledger changing
all of them (each row locked and compared with the plan's `before`); one web edit; one deletion.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import psycopg  # noqa: E402
from edits_support import boilers, create_layer_table, import_plan, layer_features  # noqa: E402
from pgcluster import Cluster  # noqa: E402
from psycopg_pool import ConnectionPool  # noqa: E402

import geo.ledger.read  # noqa: E402, F401 (commit imports it: a web app has it loaded)
from geo.ledger.edits import EditStore  # noqa: E402
from geo.ledger.edits_pg import PostgresEditStore  # noqa: E402
from geo.migrations import migrate  # noqa: E402
from geo.store.postgis import write_features  # noqa: E402
from layers import get_layer  # noqa: E402

LAYER = get_layer("coal_boilers")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used: a server backend's, read from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Timer:
    """Wall time of each step, and the CPU time it took in this process and in the database
    backend serving it: on a shared machine the wall time grows with the load, the CPU time
    does not (their sum is about what an idle machine takes)."""

    def __init__(self, backend_pid: int) -> None:
        self.backend_pid = backend_pid

    def __call__(self, work: Callable[[], object]) -> tuple[float, float, float]:
        wall, client, server = time.perf_counter(), time.process_time(), self._server()
        work()
        return (
            time.perf_counter() - wall,
            time.process_time() - client,
            self._server() - server,
        )

    def _server(self) -> float:
        return cpu_seconds(self.backend_pid) if self.backend_pid else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--no-fsync", action="store_true", help="the test cluster's settings")
    args = parser.parse_args()
    with Cluster(durable=not args.no_fsync) as cluster:
        url = cluster.create_database("edits_bench")
        migrate(url)
        with psycopg.connect(url) as con:
            create_layer_table(con, LAYER)
            write_features(con, LAYER.id, boilers(args.existing, "yk", seed=1))
            con.execute("ANALYZE lutu.coal_boilers")
        # One connection, so that its backend's CPU time is the commit's.
        pool = ConnectionPool(url, min_size=1, max_size=1, kwargs={"autocommit": True}, open=True)
        with pool.connection() as con:
            pid = con.info.backend_pid if cluster.host.startswith("/") else 0
        timed = Timer(pid)
        edits = PostgresEditStore(url, pool=pool)
        rows = boilers(args.rows, "L")
        adds = import_plan(LAYER.id, rows)
        print(f"load average before: {os.getloadavg()[0]:.1f} (2 CPUs here: {os.cpu_count()})")
        print(
            f"| step (PostgreSQL, {args.existing:,} boilers stored) | rows | wall s "
            "| CPU s: Python | CPU s: PostgreSQL |"
        )
        print("|---|---|---|---|---|")

        def line(step: str, count: int, seconds: tuple[float, float, float]) -> None:
            wall, client, server = seconds
            print(f"| {step} | {count:,} | {wall:.2f} | {client:.2f} | {server:.2f} |")

        line("commit a new ledger (adds)", args.rows, timed(lambda: edits.commit(adds, "bench")))
        with psycopg.connect(url) as con:
            stored = {f.id: f for f in layer_features(con, LAYER)}
        changed = [(fid, {**props, "status": "已淘汰", "status_year": 2025}, geom)
                   for fid, props, geom in rows]  # fmt: skip
        changes = import_plan(LAYER.id, changed, stored)
        assert changes.count("change") == args.rows
        line("commit a ledger changing them", args.rows, timed(lambda: edits.commit(changes, "b")))
        fid = rows[0][0]
        with psycopg.connect(url) as con:
            stored = {f.id: f for f in layer_features(con, LAYER) if f.id == fid}
        edited = {**changed[0][1], "note": "网页编辑"}
        one = import_plan(LAYER.id, [(fid, edited, rows[0][2])], stored)
        line("one web edit", 1, timed(lambda: edits.commit(one, "bench")))
        line(
            "one deletion",
            1,
            timed(lambda: edits.delete(LAYER.id, fid, edited, rows[0][2], "bench")),
        )
        with psycopg.connect(url) as con:
            (count,) = con.execute("SELECT count(*) FROM lutu.coal_boilers").fetchone()
        assert count == args.existing + args.rows - 1
        pool.close()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = EditStore(Path(tmp) / "edits.sqlite")
        wall, client, _ = Timer(0)(lambda: sqlite.commit(import_plan(LAYER.id, rows), "bench"))
        print(f"| SQLite edits file: the new ledger (no rebuild) | {args.rows:,} | {wall:.2f} "
              f"| {client:.2f} | – |")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
