-- Tsunagi embedded store, schema version 1.
-- Every version of every resource; a delete is a version with a NULL body.
CREATE TABLE resource_version (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,  -- global write order (history paging)
    res_type     TEXT    NOT NULL,
    res_id       TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,                   -- ms since the Unix epoch, UTC
    method       TEXT    NOT NULL,                   -- POST | PUT | PATCH | DELETE
    body         BLOB,                               -- resource JSON; NULL for a delete
    UNIQUE (res_type, res_id, version)
);
CREATE INDEX resource_version_by_type ON resource_version (res_type, seq);

-- The current version of each resource.
CREATE TABLE resource_current (
    res_type TEXT    NOT NULL,
    res_id   TEXT    NOT NULL,
    version  INTEGER NOT NULL,
    seq      INTEGER NOT NULL REFERENCES resource_version (seq),
    deleted  INTEGER NOT NULL,
    PRIMARY KEY (res_type, res_id)
) WITHOUT ROWID;

-- Identifier.system/value of current, live versions (conditional create/update/delete).
CREATE TABLE identifier_index (
    res_type TEXT NOT NULL,
    res_id   TEXT NOT NULL,
    system   TEXT NOT NULL,
    value    TEXT NOT NULL
);
CREATE INDEX identifier_index_by_value ON identifier_index (res_type, value, system);
CREATE INDEX identifier_index_by_resource ON identifier_index (res_type, res_id);
