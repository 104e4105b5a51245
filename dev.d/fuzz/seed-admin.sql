-- A small catalogue for the admin-svc fuzzing instance's private database, so
-- that lists, PATCH and DELETE meet real rows (and their response schemas are
-- checked on real data). The keys name no object in the fuzzing bucket:
-- deleting these rows only asks S3 to delete objects that are not there.
INSERT INTO albums (id, name, artist, thumbnail_key, created_at)
SELECT ('00000000-0000-4000-8000-00000000000' || a)::uuid, 'Fuzz Album ' || a, 'Fuzz Artist ' || a,
       'thumbnails/00000000-0000-4000-8000-00000000000' || a || '.jpg', now() - (a || ' minutes')::interval
FROM generate_series(1, 3) AS a;

INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes,
                   duration_seconds, track_number, image_key)
SELECT ('00000000-0000-4000-8000-00000000000' || a)::uuid, 'Fuzz Song ' || a || '.' || t, 'Fuzz Artist ' || a,
       'songs/00000000-0000-4000-8000-00000000' || a || '0' || t || '0.mp3', 'audio/mpeg', 4096,
       30.5 * t, t, CASE WHEN t = 2 THEN 'thumbnails/00000000-0000-4000-8000-00000000000' || a || '.jpg' END
FROM generate_series(1, 3) AS a, generate_series(1, 3) AS t;
