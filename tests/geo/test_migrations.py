"""The numbered-SQL migration runner on a real PostgreSQL."""

import threading

import psycopg

from geo.migrations import applied, migrate, migrations


def test_migrations_apply_once_in_order(pg_url: str) -> None:
    assert applied(pg_url) == []
    names = migrate(pg_url)
    assert names == [name for _, name, _ in migrations()]
    assert migrate(pg_url) == []
    assert applied(pg_url) == [v for v, _, _ in migrations()]
    with psycopg.connect(pg_url) as con:
        assert con.execute("SELECT version FROM lutu.data_version").fetchone() == (0,)


def test_servers_starting_together_migrate_once(pg_url: str) -> None:
    results: list[list[str]] = []
    threads = [threading.Thread(target=lambda: results.append(migrate(pg_url))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 0, 0, len(migrations())]
