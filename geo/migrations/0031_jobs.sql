-- Ledger uploads and their background jobs (webmap/uploads.py), shared by every app server:
-- a job started on one shows its progress on any other, and any of them may commit it.
-- Runs with search_path = lutu.

CREATE TABLE uploads (
    token text PRIMARY KEY,
    file_name text NOT NULL,            -- the file's own name, which messages show
    size bigint NOT NULL,
    content bytea NOT NULL,             -- at most DATABASE_UPLOAD_MAX_BYTES
    plan bytea,                         -- a background preview's ImportPlan, pickled
    committing boolean NOT NULL DEFAULT false,  -- claimed by the one commit an upload gets
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Kept uncompressed (ledgers come as xlsx or zip, or are small), so a worker copies the
-- bytes out in slices without inflating the whole value for each.
ALTER TABLE uploads ALTER COLUMN content SET STORAGE EXTERNAL;
CREATE INDEX uploads_created_at ON uploads (created_at);

-- A job outlives its upload: the report of a commit stays for its page after the bytes go.
CREATE TABLE upload_jobs (
    token text PRIMARY KEY,
    state jsonb NOT NULL,               -- what job.json holds without a database
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX upload_jobs_updated_at ON upload_jobs (updated_at);
