//! The catalogue version: one step per committed change, in commit order,
//! and a snapshot that sees exactly the changes up to its version.

use cadenza_catalog::{migrate, version, Snapshot};
use cadenza_testkit::fresh_database;
use sqlx::PgPool;
use uuid::Uuid;

async fn album(pool: &PgPool, name: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO albums (name, artist, thumbnail_key) VALUES ($1, 'A', $2) RETURNING id",
    )
    .bind(name)
    .bind(format!("thumbnails/{}.jpg", Uuid::new_v4()))
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn every_writer_moves_the_version_once_per_transaction() {
    let db = fresh_database().await;
    migrate(&db.pool).await.unwrap();
    let pool = &db.pool;
    assert_eq!(version::current(pool).await.unwrap(), 0);

    // A writer that knows nothing of versions (psql, an import): the
    // trigger bumps it.
    let a = album(pool, "One").await;
    assert_eq!(version::current(pool).await.unwrap(), 1);

    // Many statements in one transaction: one step.
    let mut tx = pool.begin().await.unwrap();
    for name in ["x", "y", "z"] {
        sqlx::query("UPDATE albums SET name = $2 WHERE id = $1")
            .bind(a)
            .bind(name)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(version::current(pool).await.unwrap(), 2);

    // admin-svc's way: bump first; the trigger then adds nothing.
    let mut tx = pool.begin().await.unwrap();
    assert_eq!(version::bump(&mut tx).await.unwrap(), 3);
    sqlx::query("DELETE FROM albums WHERE id = $1")
        .bind(a)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(version::current(pool).await.unwrap(), 3);

    // A rolled-back change leaves no step behind.
    let mut tx = pool.begin().await.unwrap();
    version::bump(&mut tx).await.unwrap();
    sqlx::query("INSERT INTO albums (name, artist, thumbnail_key) VALUES ('r', 'r', 'r')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(version::current(pool).await.unwrap(), 3);
}

#[tokio::test]
async fn concurrent_writers_get_dense_versions_in_commit_order() {
    let db = fresh_database().await;
    migrate(&db.pool).await.unwrap();
    let writers = 24;
    let tasks: Vec<_> = (0..writers)
        .map(|i| {
            let pool = db.pool.clone();
            tokio::spawn(async move {
                let mut tx = pool.begin().await.unwrap();
                let v = version::bump(&mut tx).await.unwrap();
                // Versions follow commit order: holding version v, every
                // writer of a lower version has committed and none of a
                // higher one can have.
                let committed: i64 = sqlx::query_scalar("SELECT count(*) FROM albums")
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
                sqlx::query(
                    "INSERT INTO albums (name, artist, thumbnail_key) VALUES ($1, 'W', 'k')",
                )
                .bind(format!("w{i}"))
                .execute(&mut *tx)
                .await
                .unwrap();
                tx.commit().await.unwrap();
                (v, committed)
            })
        })
        .collect();
    let mut got = vec![];
    for t in tasks {
        let (v, committed) = t.await.unwrap();
        assert_eq!(
            committed,
            v - 1,
            "version {v} saw {committed} earlier commits"
        );
        got.push(v);
    }
    got.sort();
    assert_eq!(
        got,
        (1..=writers as i64).collect::<Vec<_>>(),
        "no gap, no repeat"
    );
    assert_eq!(version::current(&db.pool).await.unwrap(), writers as i64);
}

#[tokio::test]
async fn a_snapshot_sees_exactly_the_changes_up_to_its_version() {
    let db = fresh_database().await;
    migrate(&db.pool).await.unwrap();
    let pool = &db.pool;
    album(pool, "Before").await;
    let mut snap = Snapshot::begin(pool).await.unwrap();
    assert_eq!(snap.version, 1);
    // A change commits while the snapshot is open...
    album(pool, "After").await;
    assert_eq!(version::current(pool).await.unwrap(), 2);
    // ...and the snapshot sees neither it nor its version.
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM albums ORDER BY name")
        .fetch_all(&mut *snap.tx)
        .await
        .unwrap();
    assert_eq!(names, ["Before"]);
    assert_eq!(version::current(&mut *snap.tx).await.unwrap(), 1);
    // It is read-only.
    let write = sqlx::query("DELETE FROM albums")
        .execute(&mut *snap.tx)
        .await;
    assert!(write.is_err(), "a snapshot cannot write");
}
