-- Nothing is lost (issue 22). Two tables owned by admin-svc's sweeper; song-svc
-- never reads them.
--
-- upload_ledger: every object key admin-svc has issued an upload URL for,
-- written before the URL is returned. The sweeper only ever considers these
-- keys: an object in the bucket that is not in the ledger (the original
-- suite's media, `import-seed`'s catalogue keys, anything sharing the bucket)
-- is foreign and never deleted.
CREATE TABLE upload_ledger (
    key          text        PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('thumbnail', 'song')),
    issued_at    timestamptz NOT NULL DEFAULT now(),
    content_type text        NOT NULL,
    -- The length the URL was signed for; NULL when the client gave none.
    size_bytes   bigint      NULL CHECK (size_bytes > 0)
);

CREATE INDEX upload_ledger_issued_idx ON upload_ledger (issued_at);

-- trash: objects moved to `trash/<key>` instead of being deleted (by the
-- sweeper or by the purge after a catalogue delete). `key` is the original
-- key; `admin-svc restore-trash` copies the object back, `purge-trash` (and
-- every sweep) deletes entries older than TRASH_RETENTION_DAYS.
CREATE TABLE trash (
    key        text        PRIMARY KEY,
    trashed_at timestamptz NOT NULL DEFAULT now(),
    reason     text        NOT NULL CHECK (reason IN ('sweep', 'delete'))
);

CREATE INDEX trash_trashed_idx ON trash (trashed_at);
