"""Versioned schema migrations for the PostGIS database: numbered SQL files beside this module
(`0001_base.sql`, `0002_….sql`), applied in order, each once, each in its own transaction,
recorded in `lutu.schema_migrations`.

A dozen lines of our own rather than Alembic: the schema is plain SQL a DBA can read and run
with psql, there is no ORM whose models Alembic would diff, and one file per change needs no
revision graph. A session-level advisory lock makes app servers that start together apply each
migration once. Layer tables are not here: their columns come from the layer registry
(`layers/`), so the loader creates them (geo/store/postgis.py).
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCHEMA = "lutu"
_LOCK_KEY = 0x6C757475  # "lutu": the advisory lock that serialises migrating servers
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration shipped, in order."""
    found = []
    for path in sorted(HERE.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise ValueError(f"{path.name}: a migration is named NNNN_words.sql")
        found.append((int(match.group(1)), path.name, path.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two migrations share a number in {HERE}")
    return found


def migrate(url: str) -> list[str]:
    """Apply the migrations the database at `url` lacks; returns the names applied."""
    import psycopg

    applied: list[str] = []
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_migrations (version integer "
                "PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {v for (v,) in con.execute(f"SELECT version FROM {SCHEMA}.schema_migrations")}
            for version, name, sql in migrations():
                if version in done:
                    continue
                with con.transaction():
                    con.execute(f"SET LOCAL search_path = {SCHEMA}, public")
                    con.execute(sql)
                    con.execute(
                        f"INSERT INTO {SCHEMA}.schema_migrations (version, name) VALUES (%s, %s)",
                        (version, name),
                    )
                applied.append(name)
        finally:
            con.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied


def applied(url: str) -> list[int]:
    """The migration versions the database has (empty: never migrated)."""
    import psycopg

    with psycopg.connect(url) as con:
        exists = con.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.schema_migrations",)).fetchone()
        if exists[0] is None:
            return []
        return [v for (v,) in con.execute(f"SELECT version FROM {SCHEMA}.schema_migrations")]
