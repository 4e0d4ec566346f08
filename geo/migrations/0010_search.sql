-- What search reads (geo/store/postgis.py; which texts are found in which order is
-- geo/store/search.py), kept by the loader and by write_features in the same transaction as
-- the features. Keys are the values as geo.store.search.search_key folds them (NFKC, lower
-- case, one space), computed in Python so every store folds alike; C collation: code point
-- order, as the GeoPackage store's SQLite.
--
-- search: one row per feature and searched field, with the feature's city (region filter).
CREATE TABLE search (
    layer text NOT NULL,
    field text NOT NULL,
    fid bigint NOT NULL,
    key text COLLATE "C" NOT NULL,
    value text NOT NULL,
    city text,
    PRIMARY KEY (layer, fid, field)
);
-- search_texts: each distinct key of a layer's field once, with its first feature (`first`,
-- the smallest fid holding it) and the value as that feature has it; `after_districts` and
-- `field_rank` (SEARCH_FIELDS order) make "store order" an index order, so a search reads
-- texts in order and stops when it has enough.
CREATE TABLE search_texts (
    layer text NOT NULL,
    field text NOT NULL,
    key text COLLATE "C" NOT NULL,
    first bigint NOT NULL,
    value text NOT NULL,
    after_districts boolean NOT NULL,
    field_rank integer NOT NULL,
    PRIMARY KEY (layer, field, key)
);
-- Their other indexes are made by the loader after its COPY, far faster than kept up row by
-- row (geo/store/postgis.py _SEARCH_INDEXES).
