-- Tsunagi PostgreSQL store, schema version 1: the same tables as the embedded store's
-- version 3 (gateway/src/store/schema_v*.sql), so one query builder serves both. Text columns
-- compare byte-wise (COLLATE "C"): prefix searches are range scans whatever the database's
-- locale, and ids, codes and URLs sort the same on every server.

-- Every version of every resource; a delete is a version with a NULL body.
CREATE TABLE resource_version (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- global write order
    res_type     TEXT COLLATE "C" NOT NULL,
    res_id       TEXT COLLATE "C" NOT NULL,
    version      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,                  -- ms since the Unix epoch, UTC
    method       TEXT NOT NULL,                    -- POST | PUT | PATCH | DELETE
    body         BYTEA,                            -- resource JSON; NULL for a delete
    -- Two replicas writing the same version of a resource: one of them fails and retries.
    UNIQUE (res_type, res_id, version)
);
CREATE INDEX resource_version_by_type ON resource_version (res_type, seq);

-- The current version of each resource.
CREATE TABLE resource_current (
    res_type TEXT COLLATE "C" NOT NULL,
    res_id   TEXT COLLATE "C" NOT NULL,
    version  BIGINT NOT NULL,
    seq      BIGINT NOT NULL,
    deleted  INTEGER NOT NULL,
    PRIMARY KEY (res_type, res_id)
);
CREATE UNIQUE INDEX resource_current_by_seq ON resource_current (res_type, deleted, seq);

-- Identifier.system/value of current, live versions (conditional create/update/delete).
CREATE TABLE identifier_index (
    res_type TEXT COLLATE "C" NOT NULL,
    res_id   TEXT COLLATE "C" NOT NULL,
    system   TEXT COLLATE "C" NOT NULL,
    value    TEXT COLLATE "C" NOT NULL
);
CREATE INDEX identifier_index_by_value ON identifier_index (res_type, value, system);
CREATE INDEX identifier_index_by_resource ON identifier_index (res_type, res_id);

-- Search index rows of current, live versions, keyed by the version's seq and a row number.
CREATE TABLE search_token (
    seq      BIGINT NOT NULL,
    n        INTEGER NOT NULL,
    res_type TEXT COLLATE "C" NOT NULL,
    param    TEXT COLLATE "C" NOT NULL,
    system   TEXT COLLATE "C",
    code     TEXT COLLATE "C",
    text     TEXT COLLATE "C",
    PRIMARY KEY (seq, n)
);
CREATE INDEX search_token_by_code ON search_token (res_type, param, code, system);

CREATE TABLE search_string (
    seq      BIGINT NOT NULL,
    n        INTEGER NOT NULL,
    res_type TEXT COLLATE "C" NOT NULL,
    param    TEXT COLLATE "C" NOT NULL,
    folded   TEXT COLLATE "C" NOT NULL,
    exact    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (seq, n)
);
CREATE INDEX search_string_by_value ON search_string (res_type, param, folded);

CREATE TABLE search_reference (
    seq         BIGINT NOT NULL,
    n           INTEGER NOT NULL,
    res_type    TEXT COLLATE "C" NOT NULL,
    param       TEXT COLLATE "C" NOT NULL,
    target_type TEXT COLLATE "C",
    target_id   TEXT COLLATE "C",
    url         TEXT COLLATE "C",
    id_system   TEXT COLLATE "C",
    id_value    TEXT COLLATE "C",
    PRIMARY KEY (seq, n)
);
CREATE INDEX search_reference_by_target ON search_reference (res_type, param, target_id, target_type);

CREATE TABLE search_date (
    seq      BIGINT NOT NULL,
    n        INTEGER NOT NULL,
    res_type TEXT COLLATE "C" NOT NULL,
    param    TEXT COLLATE "C" NOT NULL,
    low      BIGINT NOT NULL,
    high     BIGINT NOT NULL,
    PRIMARY KEY (seq, n)
);
CREATE INDEX search_date_by_value ON search_date (res_type, param, low, high);

CREATE TABLE search_number (
    seq      BIGINT NOT NULL,
    n        INTEGER NOT NULL,
    res_type TEXT COLLATE "C" NOT NULL,
    param    TEXT COLLATE "C" NOT NULL,
    value    DOUBLE PRECISION NOT NULL,
    low      DOUBLE PRECISION NOT NULL,
    high     DOUBLE PRECISION NOT NULL,
    system   TEXT COLLATE "C",
    code     TEXT COLLATE "C",
    unit     TEXT COLLATE "C",
    PRIMARY KEY (seq, n)
);
CREATE INDEX search_number_by_value ON search_number (res_type, param, value);

CREATE TABLE search_uri (
    seq      BIGINT NOT NULL,
    n        INTEGER NOT NULL,
    res_type TEXT COLLATE "C" NOT NULL,
    param    TEXT COLLATE "C" NOT NULL,
    uri      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (seq, n)
);
CREATE INDEX search_uri_by_value ON search_uri (res_type, param, uri);
