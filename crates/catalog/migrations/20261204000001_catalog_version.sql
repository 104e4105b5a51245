-- A catalogue version: one number that every committed change to albums or
-- songs moves forward by exactly one, in commit order. Readers record the
-- version they read in the same snapshot as the data; events carry it; so a
-- cache can tell an entry older than a change it has heard of (song-svc's
-- cache.rs states the invariant).
--
-- Writers (admin-svc) bump it first thing in each write transaction, which
-- also serialises catalogue writes: the row lock is held until commit, so
-- versions are handed out in commit order. The trigger is the safety net for
-- any other writer (an import tool, psql): its transaction bumps the version
-- once, on its first write, and never twice.

CREATE TABLE catalog_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint  NOT NULL,
    -- The transaction that last bumped it (so a transaction bumps once).
    last_txid bigint  NOT NULL DEFAULT 0
);

INSERT INTO catalog_version (version) VALUES (0);

CREATE FUNCTION catalog_bump_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version
       SET version = version + 1, last_txid = txid_current()
     WHERE last_txid <> txid_current();
    RETURN NULL;
END
$$;

CREATE TRIGGER albums_bump_catalog_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON albums
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_bump_version();

CREATE TRIGGER songs_bump_catalog_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON songs
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_bump_version();
