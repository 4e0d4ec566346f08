-- Accounts shared by every app server (webmap/auth.py): the same tables the users file
-- (USERS_PATH, SQLite) has without a database, so one SQL text serves both.
-- Runs with search_path = lutu.

CREATE TABLE users (
    name text COLLATE "C" PRIMARY KEY,  -- "C": listed in code-point order, as SQLite does
    password_hash text NOT NULL,        -- werkzeug's salted hash; never the password
    role text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    created text NOT NULL,              -- ISO 8601 UTC, as the users file has it
    session_epoch integer NOT NULL DEFAULT 0  -- raised by a new password or logout-all
);

CREATE TABLE tokens (
    token_hash text PRIMARY KEY,        -- SHA-256 of an API token, which is shown only once
    name text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created text NOT NULL,
    label text
);
CREATE INDEX tokens_name ON tokens (name);

-- Failed logins, a row each, counted per key (ip:…, name:…) over LOGIN_WINDOW_S by every
-- server together; rows older than the window are deleted as new failures come.
CREATE TABLE login_failures (
    key text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- Secrets the first server makes and every server reads: the session-signing key, so a
-- session opened on one server is valid on all.
CREATE TABLE app_secrets (
    name text PRIMARY KEY,
    value text NOT NULL
);
