-- The store's catalog and data version (geo/store/postgis.py). Runs with search_path = lutu.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Build metadata, as the GeoPackage's lutu_meta: the sources' fingerprint, the store format.
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);

-- One row: bumped in the same transaction as every change to the data, so every app server
-- notices a change (by polling this row, or by NOTIFY lutu_data carrying the new version).
CREATE TABLE data_version (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    version bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO data_version (version) VALUES (0);

-- The layers and attribute tables the store holds (their own tables are made by the loader).
CREATE TABLE layers (
    id text PRIMARY KEY,
    geometry_type text,          -- NULL: an attribute table
    fields jsonb NOT NULL,       -- [[name, "str"|"int"|"float"|"bool"], ...] in order
    description text NOT NULL DEFAULT '',
    feature_count bigint NOT NULL DEFAULT 0,
    bbox double precision[],     -- minx, miny, maxx, maxy; NULL when empty or a table
    position integer NOT NULL DEFAULT 0
);
