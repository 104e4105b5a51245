//! Two verdicts settling an album's last two songs at once: the catalogue
//! version taken first in each transaction serialises them, so the second
//! sees the first's song as ready and sets the album's gain (without it,
//! each could see the other's song still processing and neither would).
//!
//! The tables' safety-net trigger (`catalog_bump_version`) takes the same
//! row lock on a transaction's first write to `songs`, so here it alone
//! would also serialise them: the test fails (B does not wait, then finds
//! song 1 still processing and leaves the gain unset) only when neither
//! transaction bumps and the triggers are dropped.

use std::time::Duration;

use cadenza_catalog::{media::refresh_album_gain, migrate, version};
use cadenza_testkit::fresh_database;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Stands in for `cadenza_media::album_gain`, which the real callers pass
/// (the media worker, admin-svc) but which is not a dependency of this
/// crate: same signature, any deterministic value will do here.
fn album_gain(readings: &[(f64, f64, f64)]) -> Option<f64> {
    (!readings.is_empty()).then(|| -(readings.len() as f64))
}

async fn processing_song(pool: &PgPool, album: Uuid, track: i32) -> (Uuid, String) {
    let key = format!("songs/{}.mp3", Uuid::new_v4());
    let id = sqlx::query_scalar(
        "INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes, \
           duration_seconds, track_number, status) \
         VALUES ($1, $2, 'Artist', $3, 'audio/mpeg', 10, 1.5, $4, 'processing') RETURNING id",
    )
    .bind(album)
    .bind(format!("t{track}"))
    .bind(&key)
    .bind(track)
    .fetch_one(pool)
    .await
    .unwrap();
    (id, key)
}

/// A verdict's writes, as the media worker makes them: the reading of the
/// song's current audio, then the song ready.
async fn ready(tx: &mut PgConnection, song: Uuid, key: &str) {
    sqlx::query(
        "INSERT INTO song_media (song_id, audio_key, status, duration_seconds, \
           integrated_lufs, true_peak_dbtp, track_gain_db, peaks) \
         VALUES ($1, $2, 'ready', 1.5, -14.0, -1.0, -4.0, $3)",
    )
    .bind(song)
    .bind(key)
    .bind(vec![0u8; 800])
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("UPDATE songs SET status = 'ready' WHERE id = $1")
        .bind(song)
        .execute(&mut *tx)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_second_of_two_overlapping_verdicts_sets_the_album_gain() {
    let db = fresh_database().await;
    migrate(&db.pool).await.unwrap();
    let pool = db.pool.clone();
    let album: Uuid = sqlx::query_scalar(
        "INSERT INTO albums (name, artist, thumbnail_key) VALUES ('A', 'Artist', $1) RETURNING id",
    )
    .bind(format!("thumbnails/{}.jpg", Uuid::new_v4()))
    .fetch_one(&pool)
    .await
    .unwrap();
    let (song1, key1) = processing_song(&pool, album, 1).await;
    let (song2, key2) = processing_song(&pool, album, 2).await;

    // Verdict A settles song 1 and stays open: song 2 is still processing.
    let mut a = pool.begin().await.unwrap();
    version::bump(&mut a).await.unwrap();
    ready(&mut a, song1, &key1).await;
    assert!(
        !refresh_album_gain(&mut a, album, album_gain).await.unwrap(),
        "song 2 is still processing"
    );

    // Verdict B settles song 2 meanwhile.
    let b = tokio::spawn({
        let pool = pool.clone();
        async move {
            let mut b = pool.begin().await.unwrap();
            version::bump(&mut b).await.unwrap();
            ready(&mut b, song2, &key2).await;
            let changed = refresh_album_gain(&mut b, album, album_gain).await.unwrap();
            b.commit().await.unwrap();
            changed
        }
    });

    // B waits for A's catalogue version...
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!b.is_finished(), "B must wait for A's catalogue version");

    // ...and once A commits, sees song 1 ready and sets the gain.
    a.commit().await.unwrap();
    let changed = tokio::time::timeout(Duration::from_secs(10), b)
        .await
        .expect("B finishes once A has committed")
        .unwrap();
    assert!(changed, "B settled the album's last song");
    let gain: Option<f64> = sqlx::query_scalar("SELECT gain_db FROM albums WHERE id = $1")
        .bind(album)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(gain, Some(-2.0), "the album's gain is set");
}
