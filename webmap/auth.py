"""Who may change data: users with hashed passwords and roles (viewer < editor < admin) in a
SQLite file, login sessions, API tokens for scripts, CSRF protection and a login rate limit.
With DATABASE_URL all of it that servers must agree on lives in that database instead: the
users and tokens, the login failures counted and the session-signing key.

Reading public pages needs no login. Other blueprints protect their writes with
`@role_required("editor")` and ask `current_user()` who is acting (for the audit log).
Users are managed from the command line only (`flask users ...`): there is no default user and
no password or secret in the repository. A logged-in user changes their own password at /account.

Sessions are signed cookies, so the server cannot delete one; instead each names its user, a
fingerprint of their password hash and their `session_epoch`, all checked on every request. A
new password changes both, `flask users logout-all` raises the epoch: either ends every session
on its next request. Role changes and removals are read on every request too.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import click
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.cli import AppGroup
from werkzeug.security import check_password_hash, generate_password_hash

from webmap import database
from webmap.database import Database, QmarkConnection, app_database
from webmap.errors import error_response, wants_json

ROLES = ("viewer", "editor", "admin")  # in order: each role can do what the ones before can
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MIN_PASSWORD_LENGTH = 8
MAX_NAME_LENGTH = 64
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_USER = "user"  # session keys
SESSION_FINGERPRINT = "pw"
SESSION_EPOCH = "ep"
SESSION_CSRF = "csrf"
SECRET_KEY_NAME = "session_key"  # its row in the database's app_secrets
LOGIN_FAILED = "用户名或密码错误。Wrong user name or password."
WRONG_CURRENT_PASSWORD = "当前密码错误。Wrong current password."
PASSWORDS_DIFFER = "两次输入的新密码不一致。The new passwords do not match."
PASSWORD_TOO_SHORT = (
    f"新密码至少 {MIN_PASSWORD_LENGTH} 个字符。"
    f"A new password has at least {MIN_PASSWORD_LENGTH} characters."
)
PASSWORD_CHANGED = "密码已修改，其他会话均已退出。Password changed; other sessions logged out."

bp = Blueprint("auth", __name__, template_folder="templates")
users_cli = AppGroup("users", help="用户 Users: who may log in, their roles and API tokens.")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class User:
    """A logged-in person or a script holding one of their API tokens."""

    name: str
    role: str  # viewer | editor | admin

    def can(self, role: str) -> bool:
        """Whether this user's role is `role` or above it (viewer < editor < admin)."""
        return ROLES.index(self.role) >= _role_rank(role)


def _role_rank(role: str) -> int:
    if role not in ROLES:
        raise ValueError(f"没有角色「{role}」 unknown role {role!r}: one of {', '.join(ROLES)}")
    return ROLES.index(role)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _fingerprint(password_hash: str) -> str:
    """Ties a session to the password it was opened with: a new password (always a new salt,
    so a new hash) or a removed and re-added user ends the old sessions."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@functools.cache
def _dummy_hash() -> str:
    """Checked for unknown users, so they cost as much time as a wrong password."""
    return generate_password_hash(secrets.token_urlsafe(16))


def check_name(name: str) -> str:
    """A user name as stored: 1–64 printable characters without surrounding spaces."""
    if not name or len(name) > MAX_NAME_LENGTH or name != name.strip() or not name.isprintable():
        raise ValueError(
            f"用户名须为 1–{MAX_NAME_LENGTH} 个可打印字符，首尾无空格 "
            f"a user name is 1–{MAX_NAME_LENGTH} printable characters, without surrounding spaces"
        )
    return name


def check_password(password: str) -> str:
    """A password as accepted for a new user or a new password: at least 8 characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"密码至少 {MIN_PASSWORD_LENGTH} 个字符 a password has at least {MIN_PASSWORD_LENGTH} "
            "characters"
        )
    return password


# =============================================================================== the store


SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    created TEXT NOT NULL,
    session_epoch INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created TEXT NOT NULL,
    label TEXT
);
CREATE INDEX IF NOT EXISTS tokens_name ON tokens (name);
"""


def _user_columns(conn: sqlite3.Connection) -> set[str]:
    return {row[1] for row in conn.execute("PRAGMA table_info(users)")}


def _migrate(conn: sqlite3.Connection) -> None:
    """Adds what files made by earlier versions lack: `session_epoch` (0 for everyone)."""
    if "session_epoch" in _user_columns(conn):
        return
    with conn:
        # Workers starting together: one migrates, the others wait here and then find it done.
        conn.execute("BEGIN IMMEDIATE")
        if "session_epoch" not in _user_columns(conn):
            conn.execute("ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0")


@dataclass(frozen=True)
class Login:
    """What a session is opened with and checked against on every request."""

    user: User
    fingerprint: str  # of the password hash: a new password ends the session
    epoch: int  # the user's session_epoch: `flask users logout-all` ends the session


@dataclass(frozen=True)
class UserRow:
    name: str
    role: str
    created: str
    tokens: int


class UserStore:
    """Users and their API tokens: in the users file (config USERS_PATH, SQLite) or, with
    DATABASE_URL, in the shared database (geo/migrations/0030_accounts.sql), through the same
    SQL. Connected per call: it is small and rarely read (only for requests with a session or
    a token), and gunicorn workers and app servers share it."""

    def __init__(self, where: str | os.PathLike[str] | Database) -> None:
        self.database = where if isinstance(where, Database) else None
        self.path = None if isinstance(where, Database) else Path(where)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection | QmarkConnection]:
        """One transaction, committed or rolled back. The database's tables are made by its
        migrations at start; the file's here, on first use."""
        if self.database is not None:
            with self.database.connect() as con:
                yield QmarkConnection(con)
            return
        assert self.path is not None
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Password hashes: readable by the service account only (SQLite's journal copies
            # the mode).
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        with closing(sqlite3.connect(self.path, timeout=10)) as conn:
            conn.execute("PRAGMA foreign_keys = ON")
            with conn:
                conn.executescript(SCHEMA)
            _migrate(conn)
            with conn:
                yield conn

    def add(self, name: str, password: str, role: str) -> None:
        """A new user; ValueError for a taken or invalid name, a short password, a bad role."""
        check_name(name)
        _role_rank(role)
        check_password(password)
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise ValueError(f"用户「{name}」已存在 user {name!r} exists")
            conn.execute(
                "INSERT INTO users (name, password_hash, role, created) VALUES (?, ?, ?, ?)",
                (name, generate_password_hash(password), role, _now()),
            )

    def users(self) -> list[UserRow]:
        """All users by name, with how many API tokens each holds."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT u.name, u.role, u.created, count(t.token_hash) FROM users u"
                " LEFT JOIN tokens t ON t.name = u.name GROUP BY u.name ORDER BY u.name"
            ).fetchall()
        return [UserRow(*row) for row in rows]

    def set_role(self, name: str, role: str) -> None:
        """Change a role (KeyError for an unknown user); sessions see it on their next request."""
        _role_rank(role)
        with self._connect() as conn:
            if not conn.execute("UPDATE users SET role = ? WHERE name = ?", (role, name)).rowcount:
                raise KeyError(name)

    def remove(self, name: str) -> None:
        """Remove a user and their tokens (KeyError if unknown); their sessions end with it."""
        with self._connect() as conn:
            conn.execute("DELETE FROM tokens WHERE name = ?", (name,))
            if not conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount:
                raise KeyError(name)

    def set_password(self, name: str, password: str) -> None:
        """An administrator's reset (KeyError for an unknown user, ValueError for a short
        password); every session of the user ends."""
        check_password(password)
        with self._connect() as conn:
            if not conn.execute(
                "UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1"
                " WHERE name = ?",
                (generate_password_hash(password), name),
            ).rowcount:
                raise KeyError(name)

    def change_password(self, name: str, current: str, new: str) -> Login | None:
        """A user's own change: None if `current` is not their password (ValueError for a short
        new one). Every session of theirs ends; the Login returned re-opens the caller's."""
        check_password(new)
        row = self._verify(name, current)
        if row is None:
            return None
        with self._connect() as conn:
            # Only over the hash just checked: the slow check runs outside the transaction, and
            # a change made meanwhile must not be overwritten by someone who no longer knows it.
            if not conn.execute(
                "UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1"
                " WHERE name = ? AND password_hash = ?",
                (generate_password_hash(new), name, row[1]),
            ).rowcount:
                return None
            role, password_hash, epoch = conn.execute(
                "SELECT role, password_hash, session_epoch FROM users WHERE name = ?", (name,)
            ).fetchone()
        return Login(User(name, role), _fingerprint(password_hash), epoch)

    def end_sessions(self, name: str) -> None:
        """End every session of a user, keeping their password (KeyError if unknown)."""
        with self._connect() as conn:
            if not conn.execute(
                "UPDATE users SET session_epoch = session_epoch + 1 WHERE name = ?", (name,)
            ).rowcount:
                raise KeyError(name)

    def _verify(self, name: str, password: str) -> tuple[str, str, int] | None:
        """Role, password hash and session epoch of `name` if `password` is theirs; as slow for
        an unknown name as for a wrong password."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT role, password_hash, session_epoch FROM users WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            check_password_hash(_dummy_hash(), password)
            return None
        return row if check_password_hash(row[1], password) else None

    def authenticate(self, name: str, password: str) -> Login | None:
        """What a session for `name` is opened with, or None for a wrong name or password."""
        row = self._verify(name, password)
        if row is None:
            return None
        role, password_hash, epoch = row
        return Login(User(name, role), _fingerprint(password_hash), epoch)

    def session_user(self, name: str, fingerprint: str, epoch: int) -> User | None:
        """The user a session names, if they still exist with the same password and no
        `logout-all` since; with their role as it is now."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT role, password_hash, session_epoch FROM users WHERE name = ?", (name,)
            ).fetchone()
        if row is None or row[2] != epoch:
            return None
        if not hmac.compare_digest(_fingerprint(row[1]), fingerprint):
            return None
        return User(name, row[0])

    def new_token(self, name: str, label: str | None = None) -> str:
        """A new API token for `name`, returned once: only its SHA-256 is kept."""
        token = secrets.token_urlsafe(32)
        with self._connect() as conn:
            if not conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise KeyError(name)
            conn.execute(
                "INSERT INTO tokens (token_hash, name, created, label) VALUES (?, ?, ?, ?)",
                (_token_hash(token), name, _now(), label),
            )
        return token

    def token_user(self, token: str) -> User | None:
        """The holder of an API token, or None for an unknown or revoked one."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT u.name, u.role FROM tokens t JOIN users u ON u.name = t.name"
                " WHERE t.token_hash = ?",
                (_token_hash(token),),
            ).fetchone()
        return User(*row) if row else None

    def revoke_tokens(self, name: str) -> int:
        """Delete all of a user's API tokens; how many there were (KeyError if unknown)."""
        with self._connect() as conn:
            if not conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise KeyError(name)
            return conn.execute("DELETE FROM tokens WHERE name = ?", (name,)).rowcount


def users_store() -> UserStore:
    """The users of the current app: its database's when it has one, else its users file."""
    return UserStore(app_database() or current_app.config["USERS_PATH"])


# =============================================================================== rate limit


class FailureLog(Protocol):
    """Where failed logins are counted."""

    def most(self, keys: list[str], window_s: float) -> int:
        """The most failures any of `keys` had within the last `window_s` seconds."""
        ...

    def add(self, keys: list[str], window_s: float, keep: int) -> None:
        """One failure for each of `keys`; at least the last `keep` within the window stay."""
        ...


class LoginLimiter:
    """At most `max_failures` failed logins per key (client IP, user name) within `window_s`
    seconds, counted in `failures`: by default in memory, per process (each gunicorn worker
    counts on its own); with a database, by all servers together (DatabaseFailures)."""

    def __init__(
        self, max_failures: int, window_s: float, failures: FailureLog | None = None
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.failures = failures if failures is not None else MemoryFailures()

    def blocked(self, keys: list[str]) -> bool:
        return self.failures.most(keys, self.window_s) >= self.max_failures

    def fail(self, keys: list[str]) -> None:
        self.failures.add(keys, self.window_s, keep=self.max_failures)


class MemoryFailures:
    """Failure times per key in this process's memory (monotonic clock)."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float, window_s: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - window_s:
            times.popleft()
        return times

    def most(self, keys: list[str], window_s: float) -> int:
        now = time.monotonic()
        with self._lock:
            return max((len(self._recent(k, now, window_s)) for k in keys), default=0)

    def add(self, keys: list[str], window_s: float, keep: int) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 10_000:  # forget keys whose failures have all expired
                for k in [k for k in self._failures if not self._recent(k, now, window_s)]:
                    del self._failures[k]
            for k in keys:
                times = self._failures.setdefault(k, self._recent(k, now, window_s))
                times.append(now)
                while len(times) > keep:
                    times.popleft()


class DatabaseFailures:
    """Failures as rows of the shared database (login_failures), timed by its clock, so that
    servers behind one balancer count together and need not agree on the time."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def most(self, keys: list[str], window_s: float) -> int:
        with self.database.connect() as con:
            row = con.execute(
                "SELECT count(*) FROM login_failures"
                " WHERE key = ANY(%s) AND at > now() - make_interval(secs => %s)"
                " GROUP BY key ORDER BY count(*) DESC LIMIT 1",
                (keys, window_s),
            ).fetchone()
        return row[0] if row else 0

    def add(self, keys: list[str], window_s: float, keep: int) -> None:
        # `keep` is for memory's sake; rows are few (only failures within the window stay).
        with self.database.connect() as con:
            con.execute(
                "DELETE FROM login_failures WHERE at <= now() - make_interval(secs => %s)",
                (window_s,),
            )
            con.execute("INSERT INTO login_failures (key) SELECT unnest(%s::text[])", (keys,))


def _limiter() -> LoginLimiter:
    return current_app.extensions["lutu_login_limiter"]


# =============================================================================== who is asking


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def current_user() -> User | None:
    """The user of this request, from its Bearer token or else its login session (resolved
    once per request). A request carrying a Bearer token is judged by the token alone."""
    if not has_request_context():
        return None
    if "lutu_user" not in g:
        g.lutu_user = _resolve_user()
    return g.lutu_user


def _resolve_user() -> User | None:
    token = _bearer_token()
    if token is not None:
        return users_store().token_user(token)
    name = session.get(SESSION_USER)
    fingerprint = session.get(SESSION_FINGERPRINT)
    epoch = session.get(SESSION_EPOCH)
    if not isinstance(name, str) or not isinstance(fingerprint, str) or type(epoch) is not int:
        return None
    return users_store().session_user(name, fingerprint, epoch)


def _deny(status: int, code: str, message: str) -> Response:
    body, status = error_response(status, code, message)
    response = current_app.make_response((body, status))
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lutu"'
    return response


def _login_url() -> str:
    """The login page, coming back here afterwards (for GET pages)."""
    if request.method in ("GET", "HEAD"):
        return url_for("auth.login", next=request.full_path.rstrip("?"))
    return url_for("auth.login")


def role_required(role: str) -> Callable[[F], F]:
    """View decorator: anonymous people are sent to the login page (scripts and JSON requests
    get 401), users below `role` get 403."""
    _role_rank(role)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if wants_json():
                    return _deny(401, "Unauthorized", "请先登录。Log in first.")
                return redirect(_login_url())
            if not user.can(role):
                return _deny(
                    403, "Forbidden", f"需要 {role} 或更高的角色。Needs the {role} role or above."
                )
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


# =============================================================================== CSRF


def csrf_token() -> str:
    """This session's CSRF token (made on first use), for forms and the X-CSRF-Token header."""
    token = session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return token


def _check_csrf() -> Response | None:
    """Every state-changing request carries the session's CSRF token, unless a Bearer token
    authenticates it (browsers never add one on their own)."""
    if request.method not in UNSAFE_METHODS:
        return None
    if request.routing_exception is not None:
        return None  # no view will run: the 404 or 405 is answered as such
    if _bearer_token() is not None:
        if current_user() is None:
            return _deny(401, "InvalidToken", "API 令牌无效或已撤销。Invalid or revoked API token.")
        return None
    expected = session.get(SESSION_CSRF)
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    if (
        not isinstance(expected, str)
        or not isinstance(given, str)
        or not hmac.compare_digest(expected.encode(), given.encode())
    ):
        return _deny(
            400, "CSRFError", "表单已过期或来源不明，请刷新页面重试。CSRF token missing or wrong"
        )
    return None


def _private_when_personal(response: Response) -> Response:
    """A page made for a logged-in user (their name in the header, their CSRF token) is never
    kept by a shared cache."""
    if g.get("lutu_user") is not None and response.cache_control.public:
        response.cache_control.public = False
        response.cache_control.private = True
    return response


# =============================================================================== pages


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _client_ip() -> str:
    return request.remote_addr or "?"


def _too_many_failures(limiter: LoginLimiter) -> Response:
    minutes = max(1, round(limiter.window_s / 60))
    return _deny(
        429,
        "TooManyRequests",
        f"登录失败次数过多，请 {minutes} 分钟后再试。"
        f"Too many failed logins: try again in {minutes} minutes.",
    )


def _remember(login: Login) -> None:
    """Make this session `login.user`'s, as of their current password and session epoch."""
    session[SESSION_USER] = login.user.name
    session[SESSION_FINGERPRINT] = login.fingerprint
    session[SESSION_EPOCH] = login.epoch
    g.lutu_user = login.user


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[Any, int]:
    """The login form; a success opens a session and goes back to `next`."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next=next_url, error=None, name="")
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    keys = [f"ip:{_client_ip()}", f"name:{name[:MAX_NAME_LENGTH]}"]
    limiter = _limiter()
    if limiter.blocked(keys):
        return _too_many_failures(limiter)
    found = users_store().authenticate(name, password) if name and password else None
    if found is None:
        limiter.fail(keys)
        if wants_json():
            return _deny(401, "LoginFailed", LOGIN_FAILED)
        page = render_template("login.html", next=next_url, error=LOGIN_FAILED, name=name)
        return page, 401
    session.clear()  # a fresh session, with a fresh CSRF token
    session.permanent = True
    _remember(found)
    user = found.user
    current_app.logger.info("login: %s (%s) from %s", user.name, user.role, _client_ip())
    return redirect(next_url or url_for("pages.map_page"))


@bp.post("/logout")
def logout() -> Response:
    """End the session (a POST with the CSRF token, so no other site can log anyone out). The
    emptied session makes Flask delete the cookie; a copy taken earlier stays valid until it
    expires, a new password or `flask users logout-all`."""
    session.clear()
    g.lutu_user = None
    return redirect(url_for("pages.map_page"))


@bp.route("/account", methods=["GET", "POST"])
@role_required("viewer")
def account() -> Response | str | tuple[Any, int]:
    """The logged-in user's name and role, and their own password change. A wrong current
    password counts as a failed login for their name, so the form cannot be used to guess it."""
    user = current_user()
    assert user is not None  # role_required lets only users in
    if _bearer_token() is not None:
        # An API token is for scripts writing data, not for taking over the account.
        return _deny(
            403,
            "Forbidden",
            "账户页面需要登录会话，不接受 API 令牌。The account page needs a login, not a token.",
        )
    if request.method == "GET":
        return render_template("account.html", me=user, error=None, min_length=MIN_PASSWORD_LENGTH)

    def refuse(status: int, code: str, message: str) -> Response | tuple[str, int]:
        if wants_json():
            return _deny(status, code, message)
        return render_template(
            "account.html", me=user, error=message, min_length=MIN_PASSWORD_LENGTH
        ), status

    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    keys = [f"name:{user.name}"]
    limiter = _limiter()
    if limiter.blocked(keys):
        return _too_many_failures(limiter)
    if new != request.form.get("repeat_password", ""):
        return refuse(400, "PasswordsDiffer", PASSWORDS_DIFFER)
    if len(new) < MIN_PASSWORD_LENGTH:
        return refuse(400, "PasswordTooShort", PASSWORD_TOO_SHORT)
    changed = users_store().change_password(user.name, current, new)
    if changed is None:
        limiter.fail(keys)
        current_app.logger.warning(
            "password change: wrong current password for %s from %s", user.name, _client_ip()
        )
        return refuse(400, "WrongPassword", WRONG_CURRENT_PASSWORD)
    _remember(changed)  # every other session of theirs has ended; this one goes on
    current_app.logger.info("password change: %s from %s", user.name, _client_ip())
    flash(PASSWORD_CHANGED)
    return redirect(url_for("auth.account"), 303)  # a reload does not post the form again


# =============================================================================== commands


def _no_user(name: str) -> click.ClickException:
    return click.ClickException(f"没有用户「{name}」 no user {name!r} (flask users list)")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("密码 Password", hide_input=True, confirmation_prompt=True)


password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="read the password from one stdin line"
)


@users_cli.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@password_stdin_option
def add_command(name: str, role: str, password_stdin: bool) -> None:
    """Add a user; the password is asked twice (or read from stdin, for scripts)."""
    password = _read_password(password_stdin)
    try:
        users_store().add(name, password, role)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已添加 {name}（{role}） added {name} ({role})")


@users_cli.command("list")
def list_command() -> None:
    """List users, their roles and how many API tokens they hold."""
    rows = users_store().users()
    if not rows:
        click.echo("还没有用户 no users yet: flask --app app users add NAME --role admin")
        return
    width = max(len(r.name) for r in rows)
    for r in rows:
        click.echo(f"{r.name:<{width}}  {r.role:<6}  {r.created}  令牌 tokens: {r.tokens}")


@users_cli.command("passwd")
@click.argument("name")
@password_stdin_option
def passwd_command(name: str, password_stdin: bool) -> None:
    """Set NAME's password (asked twice, or read from stdin); their sessions end."""
    store = users_store()
    if not any(r.name == name for r in store.users()):
        raise _no_user(name)  # before asking for a password that could not be used
    password = _read_password(password_stdin)
    try:
        store.set_password(name, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyError:
        raise _no_user(name) from None  # removed while the password was typed
    click.echo(
        f"已为 {name} 设置新密码，其会话已全部退出 new password for {name}; their sessions "
        "are logged out"
    )


@users_cli.command("logout-all")
@click.argument("name")
def logout_all_command(name: str) -> None:
    """End every session of NAME (their password and API tokens stay)."""
    try:
        users_store().end_sessions(name)
    except KeyError:
        raise _no_user(name) from None
    click.echo(f"{name} 的会话已全部退出 every session of {name} is logged out")


@users_cli.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
def set_role_command(name: str, role: str) -> None:
    """Change a user's role (takes effect on their next request)."""
    try:
        users_store().set_role(name, role)
    except KeyError:
        raise _no_user(name) from None
    click.echo(f"{name} 的角色现为 {role} {name} is now {role}")


@users_cli.command("remove")
@click.argument("name")
def remove_command(name: str) -> None:
    """Remove a user with their API tokens; their sessions end too."""
    try:
        users_store().remove(name)
    except KeyError:
        raise _no_user(name) from None
    click.echo(f"已删除 {name} removed {name}")


@users_cli.command("token")
@click.argument("name")
@click.option("--label", default=None, help="what the token is for, e.g. the script's name")
def token_command(name: str, label: str | None) -> None:
    """Print a new API token for NAME (shown once; send it as `Authorization: Bearer ...`)."""
    try:
        token = users_store().new_token(name, label)
    except KeyError:
        raise _no_user(name) from None
    click.echo(token)
    click.echo("令牌只显示这一次 The token is shown only this once: keep it safe.", err=True)


@users_cli.command("revoke-tokens")
@click.argument("name")
def revoke_tokens_command(name: str) -> None:
    """Revoke all of NAME's API tokens."""
    try:
        n = users_store().revoke_tokens(name)
    except KeyError:
        raise _no_user(name) from None
    click.echo(f"已撤销 {name} 的 {n} 个令牌 revoked {n} token(s) of {name}")


# =============================================================================== setup


def load_secret_key(path: str | os.PathLike[str]) -> str:
    """The key in `path`, made (random, mode 0600) if the file is missing. Written beside and
    linked into place, so workers starting together agree on one key and never read half."""
    target = Path(path)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, target)
            except FileExistsError:
                pass  # another worker was first: use its key
        finally:
            tmp.unlink(missing_ok=True)
    key = target.read_text().strip()
    if not key:
        raise RuntimeError(
            f"{target} 为空：删除它即会生成新密钥 {target} is empty: delete it to have a new "
            "secret key made"
        )
    return key


def shared_secret_key(database: Database) -> str:
    """The session key kept in the database: made by whichever server asks first, then the
    same for every server, so a session opened on one is valid on all."""
    with database.connect() as con:
        con.execute(
            "INSERT INTO app_secrets (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
            (SECRET_KEY_NAME, secrets.token_hex(32)),
        )
        (key,) = con.execute(
            "SELECT value FROM app_secrets WHERE name = %s", (SECRET_KEY_NAME,)
        ).fetchone()
    return key


def init_app(app: Flask) -> None:
    """Secret key, `flask users`, the CSRF hook, Jinja globals and the login pages."""
    database.init_app(app)  # the app's db init will do this once it has one
    shared = app_database(app)
    key = app.config.get("SECRET_KEY")
    if not key and shared is not None:
        app.config["SECRET_KEY"] = shared_secret_key(shared)
    elif not key:
        path = app.config.get("SECRET_KEY_PATH") or Path(app.instance_path) / "secret_key"
        app.config["SECRET_KEY"] = load_secret_key(path)
    elif not isinstance(key, str | bytes):
        app.config["SECRET_KEY"] = str(key)  # LUTU_SECRET_KEY of digits parses as a number
    app.extensions["lutu_login_limiter"] = LoginLimiter(
        int(app.config["LOGIN_MAX_FAILURES"]),
        float(app.config["LOGIN_WINDOW_S"]),
        DatabaseFailures(shared) if shared is not None else None,
    )
    app.cli.add_command(users_cli)
    app.before_request(_check_csrf)
    app.after_request(_private_when_personal)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
    app.register_blueprint(bp)
