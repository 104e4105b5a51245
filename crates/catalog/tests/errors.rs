//! The platform's classification of real PostgreSQL errors, as the
//! catalogue services meet them (`?` on a sqlx result in a handler).

use cadenza_platform::Problem;
use cadenza_testkit::fresh_database;

#[tokio::test]
async fn real_database_errors_get_the_status_a_client_can_act_on() {
    let db = fresh_database().await;
    cadenza_catalog::migrate(&db.pool).await.expect("migrate");
    let mut conn = db.pool.acquire().await.unwrap();

    // A statement timeout: the database is too busy; retry.
    sqlx::query("SET statement_timeout = 50")
        .execute(&mut *conn)
        .await
        .unwrap();
    let slow = sqlx::query("SELECT pg_sleep(2)")
        .execute(&mut *conn)
        .await
        .unwrap_err();
    let p = Problem::from(slow);
    assert_eq!(p.status.as_u16(), 503);
    assert_eq!(p.retry_after, Some(2));
    assert!(
        p.cause().unwrap().contains("statement timeout"),
        "{:?}",
        p.cause()
    );

    // A unique key taken twice: a conflict.
    let album: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO albums (name, artist, thumbnail_key) VALUES ('A', 'B', 'thumbnails/a.jpg') RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let insert = "INSERT INTO songs (album_id, title, artist, audio_key, content_type, size_bytes, duration_seconds, track_number) \
                  VALUES ($1, 'T', 'B', 'songs/same.mp3', 'audio/mpeg', 10, 1.5, $2)";
    sqlx::query(insert)
        .bind(album)
        .bind(1)
        .execute(&db.pool)
        .await
        .unwrap();
    let twice = sqlx::query(insert)
        .bind(album)
        .bind(2)
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(Problem::from(twice).status.as_u16(), 409);

    // A broken query is ours: a 500 that says nothing about it.
    let broken = sqlx::query("SELECT no_such_column FROM albums")
        .execute(&db.pool)
        .await
        .unwrap_err();
    let p = Problem::from(broken);
    assert_eq!(p.status.as_u16(), 500);
    assert!(!p.detail.contains("no_such_column"));
}
