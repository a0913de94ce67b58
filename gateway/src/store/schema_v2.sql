-- Tsunagi embedded store, schema version 2: search indexes of current, live versions, one
-- table per search parameter type, written in the same transaction as the version
-- (gateway/src/fhir/indexing.rs computes the rows from the SearchParameter definitions).
CREATE TABLE search_token (
    res_type TEXT NOT NULL,
    res_id   TEXT NOT NULL,
    param    TEXT NOT NULL,
    system   TEXT,             -- NULL when the value has no system
    code     TEXT,
    text     TEXT              -- folded display/text, for :text
);
CREATE INDEX search_token_by_code ON search_token (res_type, param, code, system);
CREATE INDEX search_token_by_resource ON search_token (res_type, res_id);

CREATE TABLE search_string (
    res_type TEXT NOT NULL,
    res_id   TEXT NOT NULL,
    param    TEXT NOT NULL,
    folded   TEXT NOT NULL,    -- case- and accent-insensitive form (prefix and :contains)
    exact    TEXT NOT NULL     -- as written (:exact)
);
CREATE INDEX search_string_by_value ON search_string (res_type, param, folded);
CREATE INDEX search_string_by_resource ON search_string (res_type, res_id);

CREATE TABLE search_reference (
    res_type    TEXT NOT NULL,
    res_id      TEXT NOT NULL,
    param       TEXT NOT NULL,
    target_type TEXT,
    target_id   TEXT,
    url         TEXT,
    id_system   TEXT,          -- Reference.identifier, for :identifier
    id_value    TEXT
);
CREATE INDEX search_reference_by_target ON search_reference (res_type, param, target_id, target_type);
CREATE INDEX search_reference_by_resource ON search_reference (res_type, res_id);

CREATE TABLE search_date (
    res_type TEXT NOT NULL,
    res_id   TEXT NOT NULL,
    param    TEXT NOT NULL,
    low      INTEGER NOT NULL, -- first ms covered (UTC)
    high     INTEGER NOT NULL  -- last ms covered
);
CREATE INDEX search_date_by_value ON search_date (res_type, param, low, high);
CREATE INDEX search_date_by_resource ON search_date (res_type, res_id);

CREATE TABLE search_number (
    res_type TEXT NOT NULL,
    res_id   TEXT NOT NULL,
    param    TEXT NOT NULL,
    value    REAL NOT NULL,
    low      REAL NOT NULL,
    high     REAL NOT NULL,
    system   TEXT,             -- quantities: unit system and code
    code     TEXT,
    unit     TEXT
);
CREATE INDEX search_number_by_value ON search_number (res_type, param, value);
CREATE INDEX search_number_by_resource ON search_number (res_type, res_id);

CREATE TABLE search_uri (
    res_type TEXT NOT NULL,
    res_id   TEXT NOT NULL,
    param    TEXT NOT NULL,
    uri      TEXT NOT NULL
);
CREATE INDEX search_uri_by_value ON search_uri (res_type, param, uri);
CREATE INDEX search_uri_by_resource ON search_uri (res_type, res_id);
