-- Tsunagi embedded store, schema version 3: the search index rows are keyed by the global
-- write sequence of the version they index (resource_version.seq) and a row number, instead of
-- by type and id. Sequence numbers only grow, so a write appends its rows at the end of each
-- table's B-tree instead of inserting them between random UUIDs, and one B-tree (the table)
-- serves both "this resource's rows" and storage; the by-value indexes carry the key. Rows
-- exist only for current, live versions: an update or delete removes those of the version it
-- replaces. The tables are rebuilt by a reindex when an older file is opened.
DROP TABLE IF EXISTS search_token;
DROP TABLE IF EXISTS search_string;
DROP TABLE IF EXISTS search_reference;
DROP TABLE IF EXISTS search_date;
DROP TABLE IF EXISTS search_number;
DROP TABLE IF EXISTS search_uri;

-- The current versions of a type by sequence number: index rows → resource (`seq IN (…)`),
-- and a type's live resources newest first without a sort (the default search order).
CREATE UNIQUE INDEX resource_current_by_seq ON resource_current (res_type, deleted, seq);

CREATE TABLE search_token (
    seq      INTEGER NOT NULL, -- resource_version.seq of the indexed version
    n        INTEGER NOT NULL, -- row number within the version
    res_type TEXT NOT NULL,
    param    TEXT NOT NULL,
    system   TEXT,             -- NULL when the value has no system
    code     TEXT,
    text     TEXT,             -- folded display/text, for :text
    PRIMARY KEY (seq, n)
) WITHOUT ROWID;
CREATE INDEX search_token_by_code ON search_token (res_type, param, code, system);

CREATE TABLE search_string (
    seq      INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    res_type TEXT NOT NULL,
    param    TEXT NOT NULL,
    folded   TEXT NOT NULL,    -- case- and accent-insensitive form (prefix and :contains)
    exact    TEXT NOT NULL,    -- as written (:exact)
    PRIMARY KEY (seq, n)
) WITHOUT ROWID;
CREATE INDEX search_string_by_value ON search_string (res_type, param, folded);

CREATE TABLE search_reference (
    seq         INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    res_type    TEXT NOT NULL,
    param       TEXT NOT NULL,
    target_type TEXT,
    target_id   TEXT,
    url         TEXT,
    id_system   TEXT,          -- Reference.identifier, for :identifier
    id_value    TEXT,
    PRIMARY KEY (seq, n)
) WITHOUT ROWID;
CREATE INDEX search_reference_by_target ON search_reference (res_type, param, target_id, target_type);

CREATE TABLE search_date (
    seq      INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    res_type TEXT NOT NULL,
    param    TEXT NOT NULL,
    low      INTEGER NOT NULL, -- first ms covered (UTC)
    high     INTEGER NOT NULL, -- last ms covered
    PRIMARY KEY (seq, n)
) WITHOUT ROWID;
CREATE INDEX search_date_by_value ON search_date (res_type, param, low, high);

CREATE TABLE search_number (
    seq      INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    res_type TEXT NOT NULL,
    param    TEXT NOT NULL,
    value    REAL NOT NULL,
    low      REAL NOT NULL,
    high     REAL NOT NULL,
    system   TEXT,             -- quantities: unit system and code
    code     TEXT,
    unit     TEXT,
    PRIMARY KEY (seq, n)
) WITHOUT ROWID;
CREATE INDEX search_number_by_value ON search_number (res_type, param, value);

CREATE TABLE search_uri (
    seq      INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    res_type TEXT NOT NULL,
    param    TEXT NOT NULL,
    uri      TEXT NOT NULL,
    PRIMARY KEY (seq, n)
) WITHOUT ROWID;
CREATE INDEX search_uri_by_value ON search_uri (res_type, param, uri);
