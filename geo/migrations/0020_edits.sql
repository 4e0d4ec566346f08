-- Planners' changes (geo/ledger/edits_pg.py), the columns of the SQLite edits file's tables.
-- The layer tables themselves are changed in place in the same transaction; these keep what
-- was changed (a rebuild from the sources lays them over again) and the audit log (留痕).
-- Keys are compared byte by byte (COLLATE "C"): ids, layer names, batches and ISO times
-- need no language's order, and a 100,000-row import inserts into these indexes fastest so.

-- The current state of every feature a planner added or changed.
CREATE TABLE edit_features (
    layer text COLLATE "C" NOT NULL,
    feature_id text COLLATE "C" NOT NULL,
    properties json NOT NULL,               -- the layer's fields, as written
    geom geometry(Geometry, 4490),          -- CGCS2000 lon/lat
    PRIMARY KEY (layer, feature_id)
);

-- Features taken out of a layer, shipped ones included (and not imported again since).
CREATE TABLE edit_deleted (
    layer text COLLATE "C" NOT NULL,
    feature_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (layer, feature_id)
);

-- Every change, who, when, before and after. The JSON is kept as written (json, not jsonb):
-- a log shows fields in the order they were recorded.
CREATE TABLE audit (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at text COLLATE "C" NOT NULL,           -- UTC, ISO 8601, as the SQLite log has it
    "user" text NOT NULL,
    action text NOT NULL,                   -- add | change | delete, or a catalog action
    layer text COLLATE "C" NOT NULL,        -- a layer, or the catalog table a change concerns
    feature_id text COLLATE "C" NOT NULL,
    before json,                            -- properties + WKT geometry, NULL for an add
    after json,                             -- properties + WKT geometry, NULL for a delete
    source text,                            -- the file an import came from, a deletion's reason
    batch text COLLATE "C" NOT NULL,        -- one id per import
    details json                            -- the row, its warnings, the import's choices
);
CREATE INDEX audit_feature ON audit (layer, feature_id);
CREATE INDEX audit_batch ON audit (batch);
CREATE INDEX audit_at ON audit (at);
