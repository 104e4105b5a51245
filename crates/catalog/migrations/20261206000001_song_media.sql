-- What the media worker learned from a song's audio (issue 20): one row per
-- song, for the audio object it analysed. A job for the same object again
-- changes nothing; a job for a replaced object writes its own row over it.
CREATE TABLE song_media (
    song_id          uuid             PRIMARY KEY REFERENCES songs (id) ON DELETE CASCADE,
    audio_key        text             NOT NULL,
    status           text             NOT NULL CHECK (status IN ('ready', 'rejected')),
    -- Why a file is not a song (rejected only).
    reason           text             NULL,
    codec            text             NULL,
    container        text             NULL,
    sample_rate      integer          NULL CHECK (sample_rate > 0),
    channels         smallint         NULL CHECK (channels > 0),
    duration_seconds double precision NULL CHECK (duration_seconds > 0),
    bitrate          integer          NULL,
    integrated_lufs  double precision NULL,
    true_peak_dbtp   double precision NULL,
    track_gain_db    double precision NULL,
    -- 800 waveform peaks, 0-255.
    peaks            bytea            NULL,
    -- title, artist, album, track, disc, year as read from the file.
    tags             jsonb            NOT NULL DEFAULT '{}',
    cover_type       text             NULL,
    analysed_at      timestamptz      NOT NULL DEFAULT now(),
    CHECK ((status = 'rejected') = (reason IS NOT NULL)),
    CHECK (status = 'rejected' OR (duration_seconds IS NOT NULL AND peaks IS NOT NULL))
);
