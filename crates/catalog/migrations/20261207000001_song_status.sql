-- A song's state as the media worker sees it (issue 20, docs/media.md):
-- `processing` until the worker has read its audio, then `ready` or
-- `rejected` (with the reason). Listeners see only `ready` songs. Songs that
-- exist when this runs stay `ready`: a deployment does not hide the
-- catalogue while the worker's backfill reads it.
ALTER TABLE songs
    ADD COLUMN status text NOT NULL DEFAULT 'ready'
        CHECK (status IN ('processing', 'ready', 'rejected')),
    ADD COLUMN status_reason text NULL,
    ADD CONSTRAINT songs_status_reason_rejected_only
        CHECK ((status = 'rejected') = (status_reason IS NOT NULL));

-- The album's gain to the loudness reference, set by the worker once every
-- song of the album is ready and measured (NULL until then).
ALTER TABLE albums ADD COLUMN gain_db double precision NULL;
