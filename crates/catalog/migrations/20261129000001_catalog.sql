-- Catalogue schema (CONTRACTS §7). Shared by admin-svc (writes) and song-svc
-- (reads). Columns are frozen: change them only through a new migration that
-- both services are ready for.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE albums (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text        NOT NULL,
    artist        text        NOT NULL,
    thumbnail_key text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE songs (
    id               uuid             PRIMARY KEY DEFAULT gen_random_uuid(),
    album_id         uuid             NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    title            text             NOT NULL,
    artist           text             NOT NULL,
    audio_key        text             NOT NULL UNIQUE,
    content_type     text             NOT NULL,
    size_bytes       bigint           NOT NULL CHECK (size_bytes > 0),
    duration_seconds double precision NOT NULL CHECK (duration_seconds >= 0),
    track_number     integer          NOT NULL CHECK (track_number >= 1),
    image_key        text             NULL,
    created_at       timestamptz      NOT NULL DEFAULT now(),
    updated_at       timestamptz      NOT NULL DEFAULT now()
);

-- An album's tracks in order (and the FK's cascade lookups).
CREATE INDEX songs_album_track_idx ON songs (album_id, track_number);

-- Keyset pagination: albums newest first, songs oldest first.
CREATE INDEX albums_created_idx ON albums (created_at DESC, id DESC);
CREATE INDEX songs_created_idx ON songs (created_at, id);

-- Substring / fuzzy search: use `lower(col) LIKE '%' || lower($1) || '%'`
-- or `lower(col) % lower($1)` to hit these.
CREATE INDEX songs_title_trgm_idx   ON songs  USING gin (lower(title)  gin_trgm_ops);
CREATE INDEX songs_artist_trgm_idx  ON songs  USING gin (lower(artist) gin_trgm_ops);
CREATE INDEX albums_name_trgm_idx   ON albums USING gin (lower(name)   gin_trgm_ops);
CREATE INDEX albums_artist_trgm_idx ON albums USING gin (lower(artist) gin_trgm_ops);

-- Word search: use `to_tsvector('simple', col) @@ plainto_tsquery('simple', $1)`
-- (the expression must match exactly for the planner to use the index).
CREATE INDEX songs_title_fts_idx   ON songs  USING gin (to_tsvector('simple', title));
CREATE INDEX songs_artist_fts_idx  ON songs  USING gin (to_tsvector('simple', artist));
CREATE INDEX albums_name_fts_idx   ON albums USING gin (to_tsvector('simple', name));
CREATE INDEX albums_artist_fts_idx ON albums USING gin (to_tsvector('simple', artist));
