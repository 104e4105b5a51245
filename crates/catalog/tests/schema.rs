//! The migrations and read queries against a real PostgreSQL.

use cadenza_catalog::{migrate, queries, Cursor, SongRow};
use cadenza_testkit::fresh_database;
use sqlx::PgPool;
use uuid::Uuid;

async fn migrated() -> PgPool {
    let db = fresh_database().await;
    migrate(&db.pool).await.expect("migrate");
    db.pool
}

async fn insert_album(pool: &PgPool, name: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO albums (name, artist, thumbnail_key) VALUES ($1, 'Artist', $2) RETURNING id",
    )
    .bind(name)
    .bind(format!("thumbnails/{}.jpg", Uuid::new_v4()))
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn insert_song(pool: &PgPool, album: Uuid, title: &str, track: i32) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes, duration_seconds, track_number) \
         VALUES ($1, $2, 'Artist', $3, 'audio/mpeg', 10, 1.5, $4) RETURNING id",
    )
    .bind(album)
    .bind(title)
    .bind(format!("songs/{}.mp3", Uuid::new_v4()))
    .bind(track)
    .fetch_one(pool)
    .await
}

#[tokio::test]
async fn migrate_is_idempotent_and_creates_the_search_indexes() {
    let pool = migrated().await;
    migrate(&pool).await.expect("second run is a no-op");

    let indexes: Vec<String> =
        sqlx::query_scalar("SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'")
            .fetch_all(&pool)
            .await
            .unwrap();
    for want in [
        "songs_album_track_idx",
        "songs_title_trgm_idx",
        "songs_artist_trgm_idx",
        "albums_name_trgm_idx",
        "albums_artist_trgm_idx",
        "songs_title_fts_idx",
        "songs_artist_fts_idx",
        "albums_name_fts_idx",
        "albums_artist_fts_idx",
    ] {
        assert!(
            indexes.iter().any(|i| i == want),
            "missing {want} in {indexes:?}"
        );
    }
    let trgm: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(trgm, 1);
}

#[tokio::test]
async fn constraints_hold() {
    let pool = migrated().await;
    let album = insert_album(&pool, "A").await;
    assert!(
        insert_song(&pool, album, "zero track", 0).await.is_err(),
        "track_number >= 1"
    );
    assert!(
        insert_song(&pool, Uuid::new_v4(), "orphan", 1)
            .await
            .is_err(),
        "album fk"
    );
    let bad_size = sqlx::query(
        "INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes, duration_seconds, track_number) \
         VALUES ($1, 't', 'a', 'songs/s.mp3', 'audio/mpeg', 0, 1, 1)",
    )
    .bind(album)
    .execute(&pool)
    .await;
    assert!(bad_size.is_err(), "size_bytes > 0");
    let negative = sqlx::query(
        "INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes, duration_seconds, track_number) \
         VALUES ($1, 't', 'a', 'songs/n.mp3', 'audio/mpeg', 5, -1, 1)",
    )
    .bind(album)
    .execute(&pool)
    .await;
    assert!(negative.is_err(), "duration_seconds >= 0");
    // audio_key is unique
    let dup = "songs/dup.mp3";
    for (i, expect_ok) in [(1, true), (2, false)] {
        let r = sqlx::query(
            "INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes, duration_seconds, track_number) \
             VALUES ($1, 't', 'a', $2, 'audio/mpeg', 5, 1, $3)",
        )
        .bind(album)
        .bind(dup)
        .bind(i)
        .execute(&pool)
        .await;
        assert_eq!(r.is_ok(), expect_ok, "insert #{i}");
    }
}

#[tokio::test]
async fn read_queries_order_paginate_and_cascade() {
    let pool = migrated().await;
    let first = insert_album(&pool, "first").await;
    let second = insert_album(&pool, "second").await;
    let third = insert_album(&pool, "third").await;

    let all = queries::all_albums(&pool).await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![third, second, first]
    );

    let page1 = queries::albums_page(&pool, 2, None).await.unwrap();
    assert_eq!(
        page1.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![third, second]
    );
    let last = page1.last().unwrap();
    let page2 = queries::albums_page(&pool, 2, Some(Cursor::new(last.created_at, last.id)))
        .await
        .unwrap();
    assert_eq!(page2.iter().map(|a| a.id).collect::<Vec<_>>(), vec![first]);
    assert_eq!(
        queries::album(&pool, second).await.unwrap().unwrap().name,
        "second"
    );
    assert!(queries::album(&pool, Uuid::new_v4())
        .await
        .unwrap()
        .is_none());

    let s3 = insert_song(&pool, first, "three", 3).await.unwrap();
    let s1 = insert_song(&pool, first, "one", 1).await.unwrap();
    let s2 = insert_song(&pool, first, "two", 2).await.unwrap();
    let other = insert_song(&pool, second, "other", 1).await.unwrap();

    let tracks: Vec<Uuid> = queries::album_songs(&pool, first)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(tracks, vec![s1, s2, s3]);
    let all: Vec<Uuid> = queries::all_songs(&pool)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(all, vec![other, s2, s1, s3], "newest first, as the seed");

    let p1: Vec<SongRow> = queries::songs_page(&pool, 3, None).await.unwrap();
    assert_eq!(
        p1.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![other, s2, s1]
    );
    let after = p1.last().unwrap();
    let p2 = queries::songs_page(&pool, 3, Some(Cursor::new(after.created_at, after.id)))
        .await
        .unwrap();
    assert_eq!(p2.iter().map(|s| s.id).collect::<Vec<_>>(), vec![s3]);

    let song = queries::song(&pool, s2).await.unwrap().unwrap();
    assert_eq!(
        (song.title.as_str(), song.track_number, song.size_bytes),
        ("two", 2, 10)
    );

    sqlx::query("DELETE FROM albums WHERE id = $1")
        .bind(first)
        .execute(&pool)
        .await
        .unwrap();
    assert!(queries::song(&pool, s1).await.unwrap().is_none(), "cascade");
    assert!(queries::album_songs(&pool, first).await.unwrap().is_empty());
    assert!(queries::song(&pool, other).await.unwrap().is_some());
}

#[tokio::test]
async fn search_expressions_match_the_indexes() {
    let pool = migrated().await;
    let album = insert_album(&pool, "Blue Train").await;
    insert_song(&pool, album, "Moment's Notice", 1)
        .await
        .unwrap();
    let hits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM songs WHERE to_tsvector('simple', title) @@ plainto_tsquery('simple', $1) \
         OR lower(title) LIKE '%' || lower($1) || '%'",
    )
    .bind("notice")
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(hits, 1);
    // The planner can use the trigram index for the LIKE (forced, as the table is tiny).
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    let plan: Vec<String> =
        sqlx::query_scalar("EXPLAIN SELECT id FROM albums WHERE lower(name) LIKE '%train%'")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    assert!(plan.join("\n").contains("albums_name_trgm_idx"), "{plan:?}");
}
