"""Two app servers, each its own process with its own instance folder, on one PostgreSQL
database: what a province runs behind a balancer. Nothing they must share is on their disks —
a login, an upload job and a commit made on one are seen on the other at once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from support import ROOT, TEST_PASSWORD, boiler_ledger_bytes, gunicorn_served, ledger_boiler

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
DEADLINE_S = 120  # polled, never timed: a loaded CI machine


def _env(url: str, folder: Path, source_dirs: list[Path]) -> dict[str, str]:
    return {
        "LUTU_DATABASE_URL": url,
        "LUTU_SOURCE_DIRS": os.pathsep.join(str(p) for p in source_dirs),
        "LUTU_STORE_PATH": str(folder / "lutu.gpkg"),  # never made: the store is the database
        "LUTU_EDITS_PATH": str(folder / "edits.sqlite"),
        "LUTU_USERS_PATH": str(folder / "users.sqlite"),
        "LUTU_SECRET_KEY_PATH": str(folder / "secret_key"),
        "LUTU_BUILD_ON_START": "false",
        "LUTU_WARM_CACHES": "false",
        "LUTU_LEDGER_BACKGROUND_BYTES": "0",  # every upload through a job
    }


def _csrf(session: requests.Session, url: str) -> str:
    match = CSRF_INPUT.search(session.get(url, timeout=30).text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def _wait(session: requests.Session, url: str) -> dict:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        job = session.get(url, timeout=30).json()
        if job["state"] != "running":
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


@pytest.fixture
def two_servers(pg_copies, source_dirs: list[Path], tmp_path: Path):
    url = pg_copies()
    folders = [tmp_path / "server1", tmp_path / "server2"]
    for folder in folders:
        folder.mkdir()
    env = {**os.environ, **_env(url, folders[0], source_dirs)}
    flask = str(Path(sys.executable).with_name("flask"))
    added = subprocess.run(
        [flask, "--app", "app", "users", "add", "editor1", "--role", "editor", "--password-stdin"],
        input=f"{TEST_PASSWORD}\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert added.returncode == 0, added.stderr
    with (
        gunicorn_served(_env(url, folders[0], source_dirs), folders[0]) as one,
        gunicorn_served(_env(url, folders[1], source_dirs), folders[1]) as two,
    ):
        yield one.url, two.url, folders


def test_a_login_an_upload_and_a_commit_on_one_server_are_seen_on_the_other(two_servers):
    one, two, folders = two_servers
    editor = requests.Session()
    login = {
        "name": "editor1",
        "password": TEST_PASSWORD,
        "csrf_token": _csrf(editor, f"{one}/login"),
    }
    logged_in = editor.post(f"{one}/login", data=login, timeout=30, allow_redirects=False)
    assert logged_in.status_code == 302
    # The session cookie made by server 1 is good on server 2.
    account = editor.get(f"{two}/account", timeout=30, allow_redirects=False)
    assert account.status_code == 200 and "editor1" in account.text

    rows = [ledger_boiler("TWO-1"), ledger_boiler("TWO-2", lon=122.2362)]
    started = editor.post(
        f"{one}/ledger/preview",
        data={"csrf_token": _csrf(editor, f"{one}/ledger"), "layer": "coal_boilers", "crs": ""},
        files={"file": ("台账.csv", boiler_ledger_bytes(rows))},
        timeout=30,
        allow_redirects=False,
    )
    assert started.status_code == 303, started.text[:500]
    token = started.headers["Location"].rsplit("/", 1)[1]
    # Its progress is read on server 2; the upload is in the database, on neither disk.
    job = _wait(editor, f"{two}/ledger/jobs/{token}.json")
    assert job["state"] == "done" and job["counts"]["add"] == 2, job
    for folder in folders:
        assert "台账.csv" not in {p.name for p in folder.rglob("*")}

    assert (
        editor.get(f"{two}/ogc/collections/coal_boilers/items/TWO-1", timeout=30).status_code == 404
    )
    committed = editor.post(
        f"{two}/ledger/commit",
        data={
            "csrf_token": _csrf(editor, f"{two}/ledger"),
            "token": token,
            "layer": "coal_boilers",
        },
        timeout=30,
        allow_redirects=False,
    )
    assert committed.status_code == 303, committed.text[:500]
    job = _wait(editor, f"{one}/ledger/jobs/{token}.json")
    assert job["state"] == "done" and job["committed"]["added"] == 2, job
    # Committed through server 2: server 1's API, map popup and audit have it at once.
    item = requests.get(f"{one}/ogc/collections/coal_boilers/items/TWO-1", timeout=30)
    assert item.status_code == 200 and item.json()["properties"]["name"] == "TWO-1号锅炉"
    popup = editor.get(f"{one}/map/popup/coal_boilers/TWO-2", timeout=30)
    assert popup.status_code == 200 and "TWO-2号锅炉" in popup.text
    audit = editor.get(f"{one}/audit?layer=coal_boilers", timeout=30)
    assert audit.status_code == 200 and "TWO-1" in audit.text
