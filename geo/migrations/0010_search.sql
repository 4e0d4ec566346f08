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
-- Its indexes (a key b-tree for exact and prefix hits, a trigram GIN for substrings) are made
-- by the loader after its COPY, far faster than kept up row by row (geo/store/postgis.py).
