"""Two app servers on one PostgreSQL database (DATABASE_URL): each with its own instance folder,
secret-key path and users path, and nothing of what they must agree on read from there —
users, sessions, API tokens, login failures, the session key, ledger uploads and their jobs.
The throwaway cluster of tests/pgcluster.py, a fresh database per test; no mocks."""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from support import ROOT, TEST_PASSWORD, app_config, csrf, gunicorn_served
from support import boiler_ledger_bytes as ledger_bytes
from support import ledger_boiler as boiler

from app import create_app
from geo.ledger.edits import open_edits
from webmap.auth import UserStore
from webmap.database import Database, close_app_database
from webmap.uploads import DatabaseUploads

ROWS = [boiler("S-1"), boiler("S-2"), boiler("S-3", "关停")]
DEADLINE_S = 120  # generous for a loaded machine; a passing run polls for a second or two


@pytest.fixture
def pg_url(pg_copies) -> str:
    """A database loaded with the session's layers (the app's store is the database too)."""
    return pg_copies()


@pytest.fixture
def servers(
    store_path: Path, source_dirs: list[Path], tmp_path: Path, pg_url: str
) -> Iterator[tuple[Flask, Flask]]:
    """Two apps on one database, their local folders apart: the store, the edit log, users
    and jobs are all in the database."""
    store = tmp_path / "lutu.gpkg"  # never made: the store is the database
    apps = []
    for name in ("server1", "server2"):
        folder = tmp_path / name
        config = app_config(
            store,
            source_dirs,
            folder,
            DATABASE_URL=pg_url,
            SECRET_KEY=None,
            SECRET_KEY_PATH=str(folder / "secret_key"),
            LEDGER_BACKGROUND_BYTES=0,  # every upload through a job
        )
        app = create_app(config)
        app.instance_path = str(folder / "instance")
        apps.append(app)
    yield apps[0], apps[1]
    for app in apps:
        close_app_database(app)


def cli(app: Flask, *args: str, password: str | None = None) -> str:
    result = app.test_cli_runner().invoke(
        args=list(args), input=None if password is None else f"{password}\n"
    )
    assert result.exit_code == 0, result.output
    return result.output


def login(client: FlaskClient, name: str, password: str = TEST_PASSWORD):
    data = {"name": name, "password": password, "csrf_token": csrf(client)}
    return client.post("/login", data=data)


def header_user(client: FlaskClient) -> str | None:
    """Who the page header says is logged in."""
    match = re.search(r'class="lutu-user">([^<]*)<', client.get("/measures").get_data(as_text=True))
    return match.group(1) if match else None


def same_browser(client: FlaskClient, app: Flask) -> FlaskClient:
    """A client of `app` carrying `client`'s session cookie: one browser, a balancer sending
    its next request to the other server."""
    other = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    other.set_cookie("session", cookie.value)
    return other


def local_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_session_key_is_made_once_and_kept_in_the_database(servers, tmp_path) -> None:
    one, two = servers
    assert one.config["SECRET_KEY"] == two.config["SECRET_KEY"]
    assert len(one.config["SECRET_KEY"]) == 64
    assert not (tmp_path / "server1" / "secret_key").exists()
    assert not (tmp_path / "server2" / "secret_key").exists()
    # An explicit SECRET_KEY still wins.
    folder = tmp_path / "server3"
    config = app_config(
        Path(one.config["STORE_PATH"]),
        [Path(p) for p in one.config["SOURCE_DIRS"]],
        folder,
        DATABASE_URL=one.config["DATABASE_URL"],
        SECRET_KEY="given-key",
    )
    three = create_app(config)
    try:
        assert three.config["SECRET_KEY"] == "given-key"
    finally:
        close_app_database(three)


def test_users_sessions_and_tokens_are_shared(servers, tmp_path) -> None:
    one, two = servers
    assert "张工 (editor)" in cli(
        one, "users", "add", "张工", "--role", "editor", "--password-stdin", password=TEST_PASSWORD
    )
    assert re.search(r"张工\s+editor", cli(two, "users", "list"))

    first = one.test_client()
    assert login(first, "张工").status_code == 302
    assert header_user(first) == "张工（editor）"
    second = same_browser(first, two)
    assert header_user(second) == "张工（editor）"  # the session is valid on the other server
    assert second.get("/audit").status_code == 200

    token = cli(one, "users", "token", "张工").splitlines()[0]
    bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    assert two.test_client().get("/audit", headers=bearer).status_code == 200
    cli(two, "users", "revoke-tokens", "张工")
    assert one.test_client().get("/audit", headers=bearer).status_code == 401

    cli(two, "users", "logout-all", "张工")  # on server 2: the session ends on server 1 too
    assert header_user(first) is None
    assert header_user(second) is None
    assert login(one.test_client(), "张工").status_code == 302  # the password stays

    # Only in the database: neither server made a users file or a key file.
    for name in ("server1", "server2"):
        assert not (tmp_path / name / "users.sqlite").exists()
        assert not (tmp_path / name / "secret_key").exists()
    with psycopg.connect(one.config["DATABASE_URL"]) as con:
        stored = con.execute("SELECT password_hash FROM lutu.users WHERE name = '张工'").fetchone()
    assert stored[0].startswith("scrypt:")


def test_login_failures_on_both_servers_add_up(servers) -> None:
    one, two = servers
    cli(one, "users", "add", "李工", "--password-stdin", password=TEST_PASSWORD)
    limit = one.config["LOGIN_MAX_FAILURES"]
    for i in range(limit):  # from several addresses, alternating between the servers
        client = (one if i % 2 else two).test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.5.{i}"
        assert login(client, "李工", "a guess").status_code == 401
    for app in (one, two):  # the right password does not get past the limit on either
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "10.0.6.1"
        assert login(client, "李工").status_code == 429
    other = one.test_client()  # another user from another address is not blocked
    other.environ_base["REMOTE_ADDR"] = "10.0.6.2"
    cli(two, "users", "add", "王工", "--password-stdin", password=TEST_PASSWORD)
    assert login(other, "王工").status_code == 302


def upload(client: FlaskClient, data: bytes, filename: str = "台账.csv"):
    return client.post(
        "/ledger/preview",
        data={
            "csrf_token": csrf(client, "/ledger"),
            "layer": "coal_boilers",
            "crs": "",
            "file": (io.BytesIO(data), filename),
        },
        content_type="multipart/form-data",
    )


def job_token(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    match = re.fullmatch(r"/ledger/jobs/([A-Za-z0-9_-]+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def wait_for(client: FlaskClient, token: str) -> dict:
    """The job's state once it is no longer running (polled, with a deadline)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        response = client.get(f"/ledger/jobs/{token}.json")
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        job = response.get_json()
        if job["state"] != "running":
            return job
        assert time.monotonic() < deadline, f"the job is still running: {job}"
        time.sleep(0.05)


def stored_upload(url: str, token: str) -> bytes | None:
    with psycopg.connect(url) as con:
        row = con.execute("SELECT content FROM lutu.uploads WHERE token = %s", (token,)).fetchone()
    return None if row is None else bytes(row[0])


def test_an_upload_job_started_on_one_server_is_followed_and_committed_on_the_other(
    servers, tmp_path
) -> None:
    one, two = servers
    cli(
        one,
        "users",
        "add",
        "editor1",
        "--role",
        "editor",
        "--password-stdin",
        password=TEST_PASSWORD,
    )
    first = one.test_client()
    assert login(first, "editor1").status_code == 302
    second = same_browser(first, two)
    data = ledger_bytes(ROWS)

    token = job_token(upload(first, data))
    job = wait_for(second, token)  # polled on server 2
    assert job["state"] == "done" and job["kind"] == "preview" and job["user"] == "editor1"
    assert (job["stage"], job["done"], job["total"]) == ("check", 3, 3)
    assert job["counts"] == {"add": 2, "change": 0, "unchanged": 0, "reject": 1}
    assert second.get(f"/ledger/jobs/{token}").headers["Location"] == f"/ledger/preview/{token}"
    page = second.get(f"/ledger/preview/{token}")  # the plan server 1's job made
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'name="token" value="{token}"' in html
    assert "S-1号锅炉" in html
    # The file is in the database, not on server 1's disk (nor server 2's).
    assert stored_upload(one.config["DATABASE_URL"], token) == data
    for name in ("server1", "server2"):
        assert not (tmp_path / name / "instance" / "uploads").exists()
        assert "台账.csv" not in " ".join(local_files(tmp_path / name))

    # Committed from server 2; the outcome read on server 1.
    commit = {
        "csrf_token": csrf(second, "/ledger"),
        "token": token,
        "layer": "coal_boilers",
        "accepted_only": "1",
    }
    assert job_token(second.post("/ledger/commit", data=commit)) == token
    job = wait_for(first, token)
    assert job["state"] == "done" and job["kind"] == "commit", job
    assert job["committed"]["added"] == 2 and job["rejected"] == 1
    done = first.get(f"/ledger/jobs/{token}")
    assert done.status_code == 200 and "新增 2" in done.get_data(as_text=True)
    entries = open_edits(one.config["DATABASE_URL"]).audit()  # in the database, not a file
    assert {(e.user, e.feature_id) for e in entries} == {("editor1", "S-1"), ("editor1", "S-2")}
    # The bytes went with the commit; the report stays; a second commit finds nothing.
    assert stored_upload(one.config["DATABASE_URL"], token) is None
    commit["csrf_token"] = csrf(first, "/ledger")
    assert first.post("/ledger/commit", data=commit).status_code == 404


def running_job(url: str, token: str, **state: object) -> DatabaseUploads:
    """A job as a server would have left it mid-way (the server may since have died)."""
    uploads = DatabaseUploads(Database(url), max_bytes=1024)
    uploads.add(token, "台账.xlsx", io.BytesIO(b"PK"))
    now = time.time()
    job = {
        "kind": "commit",
        "stage": "write",
        "stage_zh": "写入",
        "done": 41000,
        "total": 100000,
        "state": "running",
        "error": None,
        "started": now - 20,
        "updated": now,
        "user": "editor1",
        "file": "台账.xlsx",
        "layer": "coal_boilers",
    }
    uploads.write_job(token, job | state)
    return uploads


def test_progress_and_a_dead_servers_job_show_on_the_other_server(servers) -> None:
    one, two = servers
    url = one.config["DATABASE_URL"]
    cli(
        one,
        "users",
        "add",
        "editor1",
        "--role",
        "editor",
        "--password-stdin",
        password=TEST_PASSWORD,
    )
    watcher = two.test_client()
    assert login(watcher, "editor1").status_code == 302

    alive = running_job(url, "r" * 24)
    page = watcher.get(f"/ledger/jobs/{'r' * 24}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<progress id="lutu-job-bar" value="41000" max="100000">' in html
    assert "41,000 / 100,000 行 rows" in html and "台账.xlsx" in html
    assert watcher.get(f"/ledger/jobs/{'r' * 24}.json").get_json()["state"] == "running"
    commit = {"csrf_token": csrf(watcher, "/ledger"), "token": "r" * 24, "layer": "coal_boilers"}
    assert watcher.post("/ledger/commit", data=commit).status_code == 409  # being worked on
    alive.database.close()

    # Its server was killed: silent past JOB_STALE_S, it is reported stopped, its upload gone.
    dead = running_job(url, "d" * 24, updated=time.time() - 11 * 60)
    job = watcher.get(f"/ledger/jobs/{'d' * 24}.json").get_json()
    assert job["state"] == "failed" and job["error"].startswith("中断 interrupted")
    assert "nothing was written" in job["error"]
    assert dead.get("d" * 24) is None and dead.read_job("d" * 24)["state"] == "failed"
    dead.database.close()


def test_one_commit_claim_per_upload_and_a_size_limit(pg_url, servers) -> None:
    one, _two = servers  # migrated the database
    uploads = DatabaseUploads(Database(pg_url), max_bytes=10)
    try:
        uploads.add("c" * 24, "a.csv", io.BytesIO(b"0123456789"))
        assert uploads.claim_commit("c" * 24) and not uploads.claim_commit("c" * 24)
        with uploads.local_file(uploads.get("c" * 24)) as path:
            assert path.name == "a.csv" and path.read_bytes() == b"0123456789"
        assert not path.exists()  # the local copy lasts only while it is read
    finally:
        uploads.database.close()

    small = create_app(
        app_config(
            Path(one.config["STORE_PATH"]),
            [Path(p) for p in one.config["SOURCE_DIRS"]],
            Path(one.instance_path).parent / "small",
            DATABASE_URL=pg_url,
            DATABASE_UPLOAD_MAX_BYTES=100,
        )
    )
    try:
        cli(
            small,
            "users",
            "add",
            "editor1",
            "--role",
            "editor",
            "--password-stdin",
            password=TEST_PASSWORD,
        )
        client = small.test_client()
        assert login(client, "editor1").status_code == 302
        refused = upload(client, ledger_bytes(ROWS))
        text = refused.get_data(as_text=True)
        assert refused.status_code == 413 and "DATABASE_UPLOAD_MAX_BYTES" in text
        with psycopg.connect(pg_url) as con:
            assert con.execute("SELECT count(*) FROM lutu.uploads").fetchone()[0] == 1
    finally:
        close_app_database(small)


def test_user_store_rules_hold_on_the_database(pg_url, servers) -> None:
    """The same UserStore, the same rules, over PostgreSQL."""
    _one, _two = servers
    users = UserStore(Database(pg_url))
    try:
        users.add("b", TEST_PASSWORD, "viewer")
        users.add("a", TEST_PASSWORD, "admin")
        with pytest.raises(ValueError, match="exists"):
            users.add("a", TEST_PASSWORD, "viewer")
        assert [(r.name, r.role, r.tokens) for r in users.users()] == [
            ("a", "admin", 0),
            ("b", "viewer", 0),
        ]
        login_a = users.authenticate("a", TEST_PASSWORD)
        assert login_a is not None and users.authenticate("a", "wrong one") is None
        assert users.session_user("a", login_a.fingerprint, login_a.epoch) is not None
        changed = users.change_password("a", TEST_PASSWORD, "a new password")
        assert changed is not None and changed.epoch == login_a.epoch + 1
        assert users.session_user("a", login_a.fingerprint, login_a.epoch) is None
        token = users.new_token("b", "nightly")
        assert users.token_user(token).name == "b"
        users.remove("b")  # with its tokens
        assert users.token_user(token) is None
        with pytest.raises(KeyError):
            users.set_role("b", "editor")
    finally:
        users.database.close()


# =============================================================================== two processes


def test_two_server_processes_share_sessions_and_jobs_and_outlive_a_killed_one(
    store_path: Path, source_dirs: list[Path], tmp_path: Path, pg_url: str
) -> None:
    """Two gunicorn processes, one cookie jar (a browser behind a balancer): log in on one, go
    on on the other; a job started on the first is watched on the second, which reports it
    interrupted once the first is killed with SIGKILL mid-job."""
    env = {
        "LUTU_DATABASE_URL": pg_url,
        "LUTU_STORE_PATH": str(tmp_path / "lutu.gpkg"),  # never made: the store is the database
        "LUTU_SOURCE_DIRS": os.pathsep.join(str(p) for p in source_dirs),
        "LUTU_BUILD_ON_START": "false",
        "LUTU_WARM_CACHES": "false",
        "LUTU_LEDGER_BACKGROUND_BYTES": "0",
        "LUTU_LEDGER_JOB_STALE_S": "5",
        "LUTU_LEDGER_JOB_HEARTBEAT_S": "0.5",
    }
    with (
        gunicorn_served(env, tmp_path / "server1", workers=1) as server1,
        gunicorn_served(env, tmp_path / "server2", workers=1) as server2,
    ):
        url1, url2 = server1.url, server2.url
        users = UserStore(Database(pg_url))
        users.add("editor1", TEST_PASSWORD, "editor")
        users.database.close()
        browser = requests.Session()  # cookies are per host, not port: both servers get them
        form = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(f"{url1}/login").text)
        data = {"name": "editor1", "password": TEST_PASSWORD, "csrf_token": form.group(1)}
        assert browser.post(f"{url1}/login", data=data, allow_redirects=False).status_code == 302
        page = browser.get(f"{url2}/ledger")  # the other server knows the session
        assert page.status_code == 200 and 'class="lutu-user">editor1' in page.text

        rows = [boiler(f"K-{i}") for i in range(150_000)]  # seconds of reading and checking
        token_field = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        started = browser.post(
            f"{url1}/ledger/preview",
            data={"csrf_token": token_field, "layer": "coal_boilers", "crs": ""},
            files={"file": ("大台账.csv", ledger_bytes(rows))},
            allow_redirects=False,
        )
        token = job_token_of(started.status_code, started.headers.get("Location", ""))
        deadline = time.monotonic() + DEADLINE_S
        while True:  # server 2 sees server 1's job making progress
            job = browser.get(f"{url2}/ledger/jobs/{token}.json").json()
            assert job["state"] == "running", job
            if job["done"]:
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
        server1.kill()
        seen = job["done"]
        while True:  # no heartbeat any more: after LEDGER_JOB_STALE_S it is reported stopped
            job = browser.get(f"{url2}/ledger/jobs/{token}.json").json()
            if job["state"] != "running":
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["state"] == "failed" and job["error"].startswith("中断 interrupted"), job
        assert job["done"] >= seen and "nothing was written" in job["error"]
        assert stored_upload(pg_url, token) is None  # its bytes went with it
        page = browser.get(f"{url2}/ledger/jobs/{token}")
        assert page.status_code == 400 and "中断 interrupted" in page.text
        assert not (ROOT / "instance" / "uploads" / token).exists()


def job_token_of(status: int, location: str) -> str:
    assert status == 303, (status, location)
    match = re.fullmatch(r"/ledger/jobs/([A-Za-z0-9_-]+)", location)
    assert match, location
    return match.group(1)
