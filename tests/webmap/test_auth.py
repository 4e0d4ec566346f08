"""Access control: users and tokens from the CLI, login with its rate limit, password changes
and the end of sessions, CSRF, roles, API tokens and the secret key file."""

from __future__ import annotations

import re
import sqlite3
import stat
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from app import create_app
from webmap import auth
from webmap.auth import (
    LOGIN_FAILED,
    PASSWORD_CHANGED,
    PASSWORDS_DIFFER,
    WRONG_CURRENT_PASSWORD,
    LoginLimiter,
    User,
    UserStore,
    current_user,
    role_required,
)

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a new and longer one"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def test_views(app: Flask) -> None:
    """Two views that exist only in these tests: an editor page and an editor write."""

    @app.get("/_test/editor")
    @role_required("editor")
    def editor_page() -> str:
        return "editor page"

    @app.route("/_test/write", methods=["POST", "PUT", "PATCH", "DELETE"])
    @role_required("editor")
    def editor_write() -> dict[str, str]:
        user = current_user()
        assert user is not None
        return {"written_by": user.name}


def add_user(app: Flask, name: str, role: str, password: str = PASSWORD) -> None:
    UserStore(app.config["USERS_PATH"]).add(name, password, role)


def csrf(client: FlaskClient) -> str:
    """The session's CSRF token, as the login form carries it."""
    match = CSRF_INPUT.search(client.get("/login").get_data(as_text=True))
    assert match
    return match.group(1)


def login(client: FlaskClient, name: str, password: str = PASSWORD, **kw):
    data = {"name": name, "password": password, "csrf_token": csrf(client), **kw}
    return client.post("/login", data=data)


def change_password(
    client: FlaskClient,
    current: str = PASSWORD,
    new: str = NEW_PASSWORD,
    repeat: str | None = None,
    **kw,
):
    """Post the account page's form, with the CSRF token it carries."""
    match = CSRF_INPUT.search(client.get("/account").get_data(as_text=True))
    assert match
    data = {
        "current_password": current,
        "new_password": new,
        "repeat_password": new if repeat is None else repeat,
        "csrf_token": match.group(1),
    }
    return client.post("/account", data=data, **kw)


def logged_in(app: Flask, name: str, password: str = PASSWORD) -> FlaskClient:
    """A new browser with its own session of `name`."""
    client = app.test_client()
    assert login(client, name, password).status_code == 302
    return client


def header_user(client: FlaskClient) -> str | None:
    """Who the page header says is logged in."""
    match = re.search(r'class="lutu-user">([^<]*)<', client.get("/measures").get_data(as_text=True))
    return match.group(1) if match else None


# =============================================================================== CLI


def test_cli_manages_users_and_stores_only_hashes(app: Flask, runner) -> None:
    add = runner.invoke(
        args=["users", "add", "张工", "--role", "editor"], input=f"{PASSWORD}\n" * 2
    )
    assert add.exit_code == 0, add.output
    assert "张工 (editor)" in add.output
    script = runner.invoke(
        args=["users", "add", "bot", "--password-stdin"], input="another password\n"
    )
    assert script.exit_code == 0, script.output

    listing = runner.invoke(args=["users", "list"]).output
    assert re.search(r"张工\s+editor", listing) and re.search(r"bot\s+viewer", listing)

    path = Path(app.config["USERS_PATH"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PASSWORD.encode() not in path.read_bytes()
    with closing(sqlite3.connect(path)) as conn:
        stored = conn.execute("SELECT password_hash FROM users WHERE name = '张工'").fetchone()[0]
    assert stored.startswith("scrypt:")

    assert runner.invoke(args=["users", "set-role", "张工", "admin"]).exit_code == 0
    assert re.search(r"张工\s+admin", runner.invoke(args=["users", "list"]).output)
    assert runner.invoke(args=["users", "remove", "bot"]).exit_code == 0
    assert "bot" not in runner.invoke(args=["users", "list"]).output


def test_cli_refuses_bad_input(runner) -> None:
    short = runner.invoke(args=["users", "add", "a", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output
    blank = runner.invoke(args=["users", "add", " a", "--password-stdin"], input=f"{PASSWORD}\n")
    assert blank.exit_code == 1 and "user name" in blank.output
    role = runner.invoke(args=["users", "add", "a", "--role", "root"], input=f"{PASSWORD}\n" * 2)
    assert role.exit_code == 2
    mismatch = runner.invoke(args=["users", "add", "a"], input=f"{PASSWORD}\nother one\n")
    assert mismatch.exit_code != 0
    ok = runner.invoke(args=["users", "add", "a", "--password-stdin"], input=f"{PASSWORD}\n")
    assert ok.exit_code == 0
    again = runner.invoke(args=["users", "add", "a", "--password-stdin"], input=f"{PASSWORD}\n")
    assert again.exit_code == 1 and "exists" in again.output
    for args in (["set-role", "nobody", "editor"], ["remove", "nobody"], ["token", "nobody"]):
        result = runner.invoke(args=["users", *args])
        assert result.exit_code == 1 and "no user 'nobody'" in result.output


def test_cli_tokens_are_shown_once_and_stored_hashed(app: Flask, runner) -> None:
    add_user(app, "bot", "editor")
    result = runner.invoke(args=["users", "token", "bot", "--label", "nightly import"])
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert len(token) >= 43
    path = Path(app.config["USERS_PATH"])
    assert token.encode() not in path.read_bytes()
    assert UserStore(path).token_user(token) == User("bot", "editor")
    assert "tokens: 1" in runner.invoke(args=["users", "list"]).output
    revoked = runner.invoke(args=["users", "revoke-tokens", "bot"])
    assert "revoked 1" in revoked.output
    assert UserStore(path).token_user(token) is None


def test_cli_passwd_resets_a_password_and_ends_sessions(app: Flask, runner) -> None:
    add_user(app, "张工", "editor")
    browser = logged_in(app, "张工")
    result = runner.invoke(args=["users", "passwd", "张工"], input=f"{NEW_PASSWORD}\n" * 2)
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output  # the prompt hides what is typed
    assert header_user(browser) is None  # logged out on its next request
    assert browser.get("/_test/editor").status_code == 302
    assert login(app.test_client(), "张工").status_code == 401
    assert header_user(logged_in(app, "张工", NEW_PASSWORD)) == "张工（editor）"

    script = runner.invoke(
        args=["users", "passwd", "张工", "--password-stdin"], input="from a script\n"
    )
    assert script.exit_code == 0, script.output
    assert login(app.test_client(), "张工", "from a script").status_code == 302


def test_cli_passwd_refuses_bad_input(app: Flask, runner) -> None:
    add_user(app, "张工", "editor")
    short = runner.invoke(args=["users", "passwd", "张工", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output
    mismatch = runner.invoke(args=["users", "passwd", "张工"], input=f"{NEW_PASSWORD}\nother one\n")
    assert mismatch.exit_code != 0
    unknown = runner.invoke(args=["users", "passwd", "nobody"])  # refused before any prompt
    assert unknown.exit_code == 1 and "no user 'nobody'" in unknown.output
    assert "Password" not in unknown.output
    assert login(app.test_client(), "张工").status_code == 302  # the password is unchanged


def test_cli_logout_all_ends_sessions_but_keeps_password_and_tokens(app: Flask, runner) -> None:
    add_user(app, "张工", "editor")
    add_user(app, "李工", "editor")
    laptop, phone, other = logged_in(app, "张工"), logged_in(app, "张工"), logged_in(app, "李工")
    token = UserStore(app.config["USERS_PATH"]).new_token("张工")
    result = runner.invoke(args=["users", "logout-all", "张工"])
    assert result.exit_code == 0 and "张工" in result.output
    assert header_user(laptop) is None and header_user(phone) is None
    assert header_user(other) == "李工（editor）"  # only that user's sessions
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().post("/_test/write", headers=bearer).status_code == 200
    assert header_user(logged_in(app, "张工")) == "张工（editor）"  # same password
    unknown = runner.invoke(args=["users", "logout-all", "nobody"])
    assert unknown.exit_code == 1 and "no user 'nobody'" in unknown.output


def test_cli_role_changes_and_removal_reach_open_sessions(app: Flask, runner) -> None:
    add_user(app, "张工", "editor")
    browser = logged_in(app, "张工")
    assert browser.get("/_test/editor").status_code == 200
    assert runner.invoke(args=["users", "set-role", "张工", "viewer"]).exit_code == 0
    assert browser.get("/_test/editor").status_code == 403  # the very next request
    assert header_user(browser) == "张工（viewer）"
    assert runner.invoke(args=["users", "remove", "张工"]).exit_code == 0
    assert header_user(browser) is None
    assert browser.get("/_test/editor").status_code == 302
    r = browser.get("/_test/editor", headers={"Accept": "application/json"})
    assert r.status_code == 401


def test_users_file_without_session_epoch_is_migrated(app: Flask, runner) -> None:
    """A users.sqlite made before `session_epoch` existed keeps its users and gains the
    column on first use."""
    path = Path(app.config["USERS_PATH"])
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.executescript(
            """
            CREATE TABLE users (
                name TEXT PRIMARY KEY NOT NULL,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
                created TEXT NOT NULL
            );
            CREATE TABLE tokens (
                token_hash TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
                created TEXT NOT NULL,
                label TEXT
            );
            """
        )
        conn.execute(
            "INSERT INTO users VALUES ('张工', ?, 'editor', '2025-01-01T00:00:00+00:00')",
            (generate_password_hash(PASSWORD),),
        )
    browser = logged_in(app, "张工")
    assert header_user(browser) == "张工（editor）"
    with closing(sqlite3.connect(path)) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(users)")]
        assert conn.execute("SELECT session_epoch FROM users").fetchall() == [(0,)]
    assert columns.count("session_epoch") == 1
    assert runner.invoke(args=["users", "logout-all", "张工"]).exit_code == 0
    assert header_user(browser) is None
    assert re.search(r"张工\s+editor", runner.invoke(args=["users", "list"]).output)


# =============================================================================== login


def test_login_opens_a_session_and_logout_ends_it(app: Flask, client: FlaskClient) -> None:
    add_user(app, "张工", "editor")
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and 'name="csrf_token"' in page
    r = login(client, "张工")
    assert r.status_code == 302 and r.headers["Location"] == "/map"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie  # http on the intranet by default; SESSION_COOKIE_SECURE
    assert header_user(client) == "张工（editor）"

    token = csrf(client)
    assert client.post("/logout").status_code == 400  # no CSRF token: still logged in
    assert header_user(client) == "张工（editor）"
    r = client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 302
    cookie = r.headers["Set-Cookie"]  # the cookie is deleted, not just emptied
    assert cookie.startswith("session=;") and "Expires=Thu, 01 Jan 1970" in cookie
    assert client.get_cookie("session") is None
    assert header_user(client) is None
    assert "登录 <small>Log in</small>" in client.get("/measures").get_data(as_text=True)


def test_login_failure_does_not_say_which_part_was_wrong(app: Flask, client: FlaskClient) -> None:
    add_user(app, "张工", "editor")
    wrong = login(client, "张工", "wrong password")
    unknown = login(client, "nobody", PASSWORD)
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert LOGIN_FAILED in r.get_data(as_text=True)
    assert header_user(client) is None
    as_json = client.post(
        "/login",
        data={"name": "nobody", "password": "x", "csrf_token": csrf(client)},
        headers={"Accept": "application/json"},
    )
    assert as_json.status_code == 401
    assert as_json.get_json()["error"]["message"] == LOGIN_FAILED


def test_login_is_rate_limited_per_ip(app: Flask, client: FlaskClient, monkeypatch) -> None:
    add_user(app, "张工", "editor")
    add_user(app, "李工", "editor")
    for _ in range(5):
        assert login(client, "张工", "wrong password").status_code == 401

    def must_not_check(*args: object) -> None:
        raise AssertionError("the password is not checked once the limit is reached")

    with monkeypatch.context() as m:
        m.setattr(UserStore, "authenticate", must_not_check)
        r = login(client, "张工")  # the right password does not get past the limit
        assert r.status_code == 429
        text = r.get_data(as_text=True)
        assert "登录失败次数过多" in text and "Too many failed logins" in text
        assert login(client, "李工").status_code == 429  # the same client IP
        r = client.post(
            "/login",
            data={"name": "李工", "password": PASSWORD, "csrf_token": csrf(client)},
            headers={"Accept": "application/json"},
        )
        assert r.status_code == 429 and r.get_json()["error"]["code"] == "TooManyRequests"
    assert header_user(client) is None

    other = app.test_client()  # another IP may log in as another user
    other.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    assert login(other, "李工").status_code == 302


def test_login_is_rate_limited_per_user_name(app: Flask) -> None:
    add_user(app, "张工", "editor")
    for i in range(5):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = f"10.0.1.{i}"
        assert login(c, "张工", "wrong password").status_code == 401
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "10.0.2.1"
    assert login(c, "张工").status_code == 429


def test_failures_expire_after_the_window(monkeypatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: now[0])
    limiter = LoginLimiter(max_failures=2, window_s=600)
    keys = ["ip:1.2.3.4", "name:a"]
    limiter.fail(keys)
    now[0] += 300
    limiter.fail(keys)
    assert limiter.blocked(keys) and limiter.blocked(["name:a"]) and not limiter.blocked(["x"])
    now[0] += 301  # the first failure is out of the window
    assert not limiter.blocked(keys)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/measures?status=planned", "/measures?status=planned"),
        ("https://evil.example", "/map"),
        ("//evil.example/x", "/map"),
        ("/\\evil.example", "/map"),
        ("javascript:alert(1)", "/map"),
        ("/x\r\nSet-Cookie: a=b", "/map"),
    ],
)
def test_login_goes_back_only_to_local_paths(
    app: Flask, client: FlaskClient, target: str, expected: str
) -> None:
    add_user(app, "张工", "editor")
    r = login(client, "张工", next=target)
    assert r.status_code == 302 and r.headers["Location"] == expected


def test_sessions_follow_role_changes_and_removal(app: Flask, client: FlaskClient) -> None:
    add_user(app, "张工", "editor")
    login(client, "张工")
    assert client.get("/_test/editor").status_code == 200
    store = UserStore(app.config["USERS_PATH"])
    store.set_role("张工", "viewer")
    assert client.get("/_test/editor").status_code == 403
    store.remove("张工")
    add_user(app, "张工", "editor", "a new password")  # a new account under the same name
    assert client.get("/_test/editor").status_code == 302  # the old session is over


def test_a_copied_session_cookie_outlives_logout_until_logout_all(
    app: Flask, client: FlaskClient, runner
) -> None:
    """Signed cookies cannot be recalled: logout deletes the browser's copy only, and
    `flask users logout-all` is what ends a copy taken before."""
    add_user(app, "张工", "editor")
    login(client, "张工")
    cookie = client.get_cookie("session")
    assert cookie is not None
    client.post("/logout", data={"csrf_token": csrf(client)})
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert header_user(thief) == "张工（editor）"
    assert runner.invoke(args=["users", "logout-all", "张工"]).exit_code == 0
    assert header_user(thief) is None


# =============================================================================== account


def test_account_page_needs_a_login(app: Flask, client: FlaskClient) -> None:
    r = client.get("/account")
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=/account"
    r = client.get("/account", headers={"Accept": "application/json"})
    assert r.status_code == 401
    assert 'href="/account"' not in client.get("/measures").get_data(as_text=True)

    add_user(app, "王工", "viewer")  # any role may change their own password
    login(client, "王工")
    assert 'href="/account"' in client.get("/measures").get_data(as_text=True)
    r = client.get("/account")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "public" not in r.headers.get("Cache-Control", "")
    assert "修改密码" in page and "Change password" in page
    assert '<dd class="lutu-account-name">王工</dd>' in page
    assert '<dd class="lutu-account-role">viewer</dd>' in page
    assert 'name="csrf_token"' in page


def test_account_changes_the_password_and_ends_other_sessions(app: Flask) -> None:
    add_user(app, "张工", "editor")
    here, elsewhere = logged_in(app, "张工"), logged_in(app, "张工")
    r = change_password(here)
    assert r.status_code == 303 and r.headers["Location"] == "/account"
    page = here.get("/account").get_data(as_text=True)
    assert PASSWORD_CHANGED in page
    assert PASSWORD_CHANGED not in here.get("/account").get_data(as_text=True)  # shown once
    assert header_user(here) == "张工（editor）"  # the session that changed it goes on
    assert here.post("/_test/write", data={"csrf_token": csrf(here)}).status_code == 200
    assert header_user(elsewhere) is None
    assert login(app.test_client(), "张工").status_code == 401
    assert login(app.test_client(), "张工", NEW_PASSWORD).status_code == 302


def test_account_refuses_a_wrong_current_password_and_bad_new_ones(
    app: Flask, client: FlaskClient
) -> None:
    add_user(app, "张工", "editor")
    login(client, "张工")
    wrong = change_password(client, current="not my password")
    assert wrong.status_code == 400
    text = wrong.get_data(as_text=True)
    assert WRONG_CURRENT_PASSWORD in text and "当前密码错误" in text and "Wrong current" in text
    differ = change_password(client, repeat=NEW_PASSWORD + "x")
    assert differ.status_code == 400 and PASSWORDS_DIFFER in differ.get_data(as_text=True)
    short = change_password(client, new="short")
    assert short.status_code == 400 and "at least 8 characters" in short.get_data(as_text=True)
    as_json = change_password(
        client, current="not my password", headers={"Accept": "application/json"}
    )
    assert as_json.status_code == 400
    assert as_json.get_json()["error"] == {
        "status": 400,
        "code": "WrongPassword",
        "message": WRONG_CURRENT_PASSWORD,
    }
    no_csrf = client.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
    )
    assert no_csrf.status_code == 400 and "CSRF" in no_csrf.get_data(as_text=True)
    assert header_user(client) == "张工（editor）"  # still logged in, password unchanged
    assert login(app.test_client(), "张工").status_code == 302


def test_wrong_current_passwords_count_as_failed_logins(
    app: Flask, client: FlaskClient, monkeypatch
) -> None:
    add_user(app, "张工", "editor")
    login(client, "张工")
    for _ in range(3):  # a typo in the new password is no guess at the current one
        assert change_password(client, repeat="something else").status_code == 400
    for _ in range(5):
        assert change_password(client, current="a guess").status_code == 400

    def must_not_check(*args: object) -> None:
        raise AssertionError("the password is not checked once the limit is reached")

    with monkeypatch.context() as m:
        m.setattr(UserStore, "change_password", must_not_check)
        m.setattr(UserStore, "authenticate", must_not_check)
        r = change_password(client)  # the right password does not get past the limit
        assert r.status_code == 429 and "Too many failed logins" in r.get_data(as_text=True)
        elsewhere = app.test_client()  # the count is the user name's, from any IP
        elsewhere.environ_base["REMOTE_ADDR"] = "10.0.3.1"
        assert login(elsewhere, "张工").status_code == 429
    assert header_user(client) == "张工（editor）"  # guessing does not log the user out


def test_failed_logins_also_block_the_account_form(app: Flask, client: FlaskClient) -> None:
    add_user(app, "张工", "editor")
    login(client, "张工")
    for i in range(5):
        attacker = app.test_client()
        attacker.environ_base["REMOTE_ADDR"] = f"10.0.4.{i}"
        assert login(attacker, "张工", "a guess").status_code == 401
    assert change_password(client).status_code == 429


def test_account_is_not_for_api_tokens(app: Flask, client: FlaskClient) -> None:
    add_user(app, "bot", "editor")
    bearer = {"Authorization": f"Bearer {UserStore(app.config['USERS_PATH']).new_token('bot')}"}
    assert client.get("/account", headers=bearer).status_code == 403
    data = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "repeat_password": NEW_PASSWORD,
    }
    r = client.post("/account", data=data, headers=bearer)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "Forbidden"
    assert login(client, "bot").status_code == 302  # the password is unchanged


def test_a_password_changed_meanwhile_is_not_overwritten(app: Flask, monkeypatch) -> None:
    """The current password is checked outside the write transaction (it is slow); an
    administrator's reset landing in between wins."""
    add_user(app, "张工", "editor")
    store = UserStore(app.config["USERS_PATH"])
    verify = UserStore._verify

    def verify_then_reset(self: UserStore, name: str, password: str):
        row = verify(self, name, password)
        store.set_password(name, "set by the administrator")
        return row

    with monkeypatch.context() as m:
        m.setattr(UserStore, "_verify", verify_then_reset)
        assert store.change_password("张工", PASSWORD, NEW_PASSWORD) is None
    assert store.authenticate("张工", NEW_PASSWORD) is None
    assert store.authenticate("张工", "set by the administrator") is not None


# =============================================================================== CSRF


def test_posts_need_the_sessions_csrf_token(app: Flask, client: FlaskClient) -> None:
    add_user(app, "张工", "editor")
    assert client.post("/login", data={"name": "张工", "password": PASSWORD}).status_code == 400
    login(client, "张工")
    token = csrf(client)
    r = client.post("/_test/write", headers={"Accept": "application/json"})
    assert r.status_code == 400
    assert r.get_json()["error"] == {
        "status": 400,
        "code": "CSRFError",
        "message": "表单已过期或来源不明，请刷新页面重试。CSRF token missing or wrong",
    }
    assert client.post("/_test/write", data={"csrf_token": token + "x"}).status_code == 400
    assert "CSRF token missing or wrong" in client.post("/_test/write").get_data(as_text=True)
    assert client.post("/_test/write", data={"csrf_token": token}).status_code == 200
    r = client.post("/_test/write", headers={"X-CSRF-Token": token})
    assert r.get_json() == {"written_by": "张工"}
    for method in (client.put, client.patch, client.delete):
        assert method("/_test/write").status_code == 400
        assert method("/_test/write", headers={"X-CSRF-Token": token}).status_code == 200


def test_preflight_and_unknown_routes_are_not_csrf_checked(client: FlaskClient) -> None:
    pre = client.options(
        "/ogc/collections/villages/items",
        headers={"Origin": "http://other.example", "Access-Control-Request-Method": "GET"},
    )
    assert pre.status_code == 200
    assert client.post("/ogc/collections").status_code == 405
    assert client.post("/no/such/page").status_code == 404


# =============================================================================== roles


def test_role_required(app: Flask, client: FlaskClient) -> None:
    r = client.get("/_test/editor?x=1")
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=/_test/editor?x%3D1"
    r = client.get("/_test/editor", headers={"Accept": "application/json"})
    assert r.status_code == 401 and r.get_json()["error"]["status"] == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")

    add_user(app, "viewer", "viewer")
    login(client, "viewer")
    r = client.get("/_test/editor")
    assert r.status_code == 403 and "editor" in r.get_data(as_text=True)

    add_user(app, "editor", "editor")
    other = app.test_client()
    r = login(other, "editor", next="/_test/editor")
    assert r.headers["Location"] == "/_test/editor"
    assert other.get("/_test/editor").get_data(as_text=True) == "editor page"


def test_user_roles_are_ordered() -> None:
    admin, viewer = User("a", "admin"), User("v", "viewer")
    assert admin.can("editor") and admin.can("viewer") and viewer.can("viewer")
    assert not viewer.can("editor")
    with pytest.raises(ValueError):
        role_required("root")


def test_public_pages_need_no_login(client: FlaskClient) -> None:
    for path in ("/", "/measures", "/ogc", "/ogc/collections/villages/items"):
        assert client.get(path).status_code == 200, path
    page = client.get("/measures").get_data(as_text=True)
    assert 'href="/login?next=/measures"' in page


def test_personal_pages_are_not_publicly_cached(app: Flask, client: FlaskClient) -> None:
    assert "public" in client.get("/ogc?f=html").headers["Cache-Control"]
    add_user(app, "张工", "editor")
    login(client, "张工")
    cache = client.get("/ogc?f=html").headers["Cache-Control"]
    assert "private" in cache and "public" not in cache


# =============================================================================== API tokens


def test_bearer_tokens_write_without_csrf_until_revoked(app: Flask, client: FlaskClient) -> None:
    add_user(app, "bot", "editor")
    add_user(app, "reader", "viewer")
    store = UserStore(app.config["USERS_PATH"])
    token = store.new_token("bot", "nightly")
    bearer = {"Authorization": f"Bearer {token}"}
    r = client.post("/_test/write", headers=bearer)
    assert r.status_code == 200 and r.get_json() == {"written_by": "bot"}
    assert client.get_cookie("session") is None  # no session was needed or made

    low = {"Authorization": f"Bearer {store.new_token('reader')}"}
    r = client.post("/_test/write", headers=low)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "Forbidden"

    store.revoke_tokens("bot")
    r = client.post("/_test/write", headers=bearer)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "InvalidToken"
    r = client.get("/_test/editor", headers=bearer)
    assert r.status_code == 401  # a script is answered, not redirected to a login form
    bogus = {"Authorization": "Bearer not-a-token"}
    assert client.post("/_test/write", headers=bogus).status_code == 401
    assert client.get("/ogc/collections", headers=bogus).status_code == 200  # reading is public


# =============================================================================== secret key


def test_secret_key_is_made_once_in_a_private_file(
    tmp_path: Path, store_path: Path, source_dirs: list[Path]
) -> None:
    key_path = tmp_path / "keys" / "secret_key"
    config = {
        "STORE_PATH": str(store_path),
        "SOURCE_DIRS": [str(p) for p in source_dirs],
        "BUILD_ON_START": False,
        "WARM_CACHES": False,
        "SECRET_KEY": None,
        "SECRET_KEY_PATH": str(key_path),
        "USERS_PATH": str(tmp_path / "users.sqlite"),
    }
    first = create_app(config)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = key_path.read_text().strip()
    assert len(key) == 64 and first.secret_key == key
    assert create_app(config).secret_key == key  # read again at the next start
    assert not list(key_path.parent.glob(".secret_key.*"))  # no temp file left behind
    assert create_app({**config, "SECRET_KEY": "configured"}).secret_key == "configured"
