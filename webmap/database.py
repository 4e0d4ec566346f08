"""The PostgreSQL database every app server shares (config DATABASE_URL, env LUTU_DATABASE_URL):
its schema migrated once at start, one connection pool per app and process, opened on first
use and closed at exit. Without DATABASE_URL there is none and each part keeps its local files.

What the servers share through it: accounts, login failures and the session key
(webmap/auth.py), ledger uploads and their jobs (webmap/uploads.py); the store's layers are
wired in separately (geo/store/postgis.py).
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from geo.migrations import SCHEMA, migrate

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

_EXTENSION = "lutu_database"
_open_databases: weakref.WeakSet[Database] = weakref.WeakSet()


class Database:
    """One PostgreSQL database: `connect()` lends a pooled connection for one transaction."""

    def __init__(self, url: str, *, max_connections: int = 10) -> None:
        self.url = url
        self.max_connections = max_connections
        self._pool: ConnectionPool | None = None
        self._pool_pid = 0
        self._lock = threading.Lock()
        _open_databases.add(self)

    def _the_pool(self) -> ConnectionPool:
        # Made on first use and again in a forked child (gunicorn --preload): a pool's
        # connections and threads are never shared across processes.
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():
                from psycopg_pool import ConnectionPool

                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.max_connections,
                    configure=_use_schema,
                    name="lutu",
                    open=True,
                )
                self._pool_pid = os.getpid()
            return self._pool

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection in one transaction: committed when the block ends, rolled back if it
        raises; `lutu` first on its search_path."""
        with self._the_pool().connection() as con:
            yield con

    def close(self) -> None:
        """Close the pool (this process's); a later `connect()` opens a new one."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and self._pool_pid == os.getpid():
            pool.close()


def _use_schema(con: psycopg.Connection[Any]) -> None:
    con.execute(f"SET search_path = {SCHEMA}, public")
    con.commit()  # the pool takes only idle connections


@atexit.register
def _close_all() -> None:
    for database in list(_open_databases):
        database.close()


class QmarkConnection:
    """A psycopg connection taking sqlite3's `?` placeholders, so that one SQL text serves the
    SQLite file and PostgreSQL alike (webmap/auth.py's UserStore). The SQL given never holds
    a `?` or `%` of its own: values always go as parameters."""

    def __init__(self, con: psycopg.Connection[Any]) -> None:
        self.con = con

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        if "%" in sql:
            raise ValueError("a % in SQL run through QmarkConnection: pass it as a parameter")
        return self.con.execute(sql.replace("?", "%s"), params)


def init_app(app: Flask) -> None:
    """With DATABASE_URL: migrate the schema (once, whichever server starts first) and keep the
    app's Database for `app_database()`."""
    url = app.config.get("DATABASE_URL")
    if not url or _EXTENSION in app.extensions:  # none, or done by an earlier caller
        return
    migrate(url)
    size = int(app.config.get("DATABASE_POOL_SIZE") or 10)
    app.extensions[_EXTENSION] = Database(url, max_connections=size)


def app_database(app: Flask | None = None) -> Database | None:
    """The database of `app` (default: the current app), or None when it keeps local files."""
    app = app if app is not None else current_app
    return app.extensions.get(_EXTENSION)


def close_app_database(app: Flask) -> None:
    """Close the app's connections now rather than at exit (tests dropping their database)."""
    database = app.extensions.get(_EXTENSION)
    if database is not None:
        database.close()
