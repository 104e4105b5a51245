-- A rejected reading says whether its object is to be deleted: only a file
-- shown not to be audio is; audio that is too large, too long or in a codec
-- the worker cannot decode is kept. A retried job finishes a delete that
-- failed after the reading was recorded.
ALTER TABLE song_media ADD COLUMN delete_object boolean NOT NULL DEFAULT false;
ALTER TABLE song_media ADD CONSTRAINT song_media_delete_rejected_only
    CHECK (NOT delete_object OR status = 'rejected');
