-- The searched texts of every layer (geo/store/postgis.py, semantics in geo/store/search.py):
-- one row per feature and searched field, `key` the value as geo.store.search.search_key
-- folds it (NFKC, lower case, one space), computed in Python so every store folds alike.
-- Kept by the loader and by write_features in the same transaction as the features.
CREATE TABLE search (
    layer text NOT NULL,
    field text NOT NULL,
    fid bigint NOT NULL,
    key text COLLATE "C" NOT NULL,
    value text NOT NULL,
    city text,                   -- for the region filter (geo.store.search.city_of)
    PRIMARY KEY (layer, fid, field)
);
-- exact and prefix hits: a range of keys (C collation: code point order, as SQLite's BINARY)
CREATE INDEX search_key ON search (key, layer, field, fid);
-- substring hits of three or more characters
CREATE INDEX search_key_trgm ON search USING gin (key gin_trgm_ops);
