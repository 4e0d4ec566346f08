"""A throwaway PostgreSQL + PostGIS cluster for tests and benchmarks: `initdb` in a temp dir,
a free port, a unix socket in that dir (no TCP unless asked), removed afterwards.

Debian's server binaries (postgresql-15, postgresql-15-postgis-3; scripts/setup.sh installs
them) refuse to run as root, so as root the cluster runs as the `postgres` user the package
creates, in a folder that user owns.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

PG_BIN = Path(os.environ.get("LUTU_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One running cluster; `url(db)` names a database in it, `create_database` makes one
    with PostGIS (from a template, so each costs tens of milliseconds)."""

    def __init__(
        self, *, tcp: bool = False, durable: bool = False, settings: Sequence[str] = ()
    ) -> None:
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(
                f"no PostgreSQL server at {PG_BIN}: run `bash scripts/setup.sh test` "
                "(Debian postgresql-15 and postgresql-15-postgis-3)"
            )
        self.dir = Path(tempfile.mkdtemp(prefix="lutu-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.host = "127.0.0.1" if tcp else str(self.dir)
        self.user = "postgres"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
             "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"]
        )  # fmt: skip
        options = [
            f"-c port={self.port}",
            f"-c unix_socket_directories={self.dir}",
            f"-c listen_addresses={'127.0.0.1' if tcp else chr(39) * 2}",
            "-c max_connections=200",
            *([] if durable else ["-c fsync=off", "-c full_page_writes=off"]),
            *(f"-c {s}" for s in settings),
        ]
        self._run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
             "-w", "-t", "60", "-o", " ".join(options), "start"]
        )  # fmt: skip
        self._wait()
        self.sql("postgres", "CREATE DATABASE lutu_template")
        self.sql("lutu_template", "CREATE EXTENSION postgis; CREATE EXTENSION pg_trgm")
        self.sql("postgres", "ALTER DATABASE lutu_template WITH is_template true")
        self._made = 0

    def _run(self, argv: list[str]) -> None:
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=self.dir)
        if done.returncode:
            raise RuntimeError(f"{argv[-1]} failed: {done.stderr or done.stdout}")

    def _wait(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def url(self, database: str = "lutu") -> str:
        return f"postgresql://{self.user}@/{database}?host={self.host}&port={self.port}"

    def sql(self, database: str, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as con:
            con.execute(statement)

    def create_database(self, name: str | None = None) -> str:
        """A new empty database with PostGIS and pg_trgm; returns its URL."""
        if name is None:
            self._made += 1
            name = f"lutu_{os.getpid()}_{self._made}"
        self.sql("postgres", f'CREATE DATABASE "{name}" TEMPLATE lutu_template')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.sql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        try:
            self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
