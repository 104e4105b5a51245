//! The orphan sweeper: moves to the trash the media objects that admin-svc
//! issued an upload URL for but that no row references (uploads whose album
//! or song was never created, leftovers of failed purges). Run it
//! periodically (`admin-svc sweep`, the chart's sweeper CronJob).
//!
//! The rules (README "The sweeper"):
//! - Only objects under `thumbnails/` and `songs/` are looked at (scanned).
//! - An object is an **orphan** only if its key is in the upload ledger,
//!   both the ledger entry and the object are older than the grace period,
//!   and no album or song references it. Orphans are moved to `trash/`.
//! - An object whose key is not in the ledger (the original suite's media,
//!   keys brought in by `import-seed`, anything sharing the bucket) is never
//!   touched, whatever its age. Unreferenced ones are counted as
//!   **foreign**; referenced ones belong to the catalogue.
//! - The move re-checks under the key's exclusive lock (see `orphans`), so
//!   a create that references the key meanwhile keeps it.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::db;
use crate::domain::media::MediaKind;
use crate::objects::MediaStore;
use crate::orphans::KeyLocks;
use crate::trash::Reason;

/// Rows are created right after the upload; a day is plenty.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);

const BATCH: usize = 500;

/// The `result` label values of `admin_sweep_objects_total`.
pub const RESULTS: [&str; 5] = ["scanned", "orphaned", "foreign", "trashed", "failed"];

/// Registers the sweep counters at zero (so dashboards see the series
/// before the first sweep).
pub fn describe_metrics() {
    for result in RESULTS {
        cadenza_platform::metrics::counter(
            "admin_sweep_objects_total",
            "Media objects the sweeper looked at, by outcome.",
            &[("result", result)],
        );
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Objects looked at (under the media prefixes).
    pub scanned: usize,
    /// Unreferenced ledger objects older than the grace period (trashed
    /// unless dry run).
    pub orphaned: Vec<String>,
    /// Unreferenced objects admin-svc never issued: never touched.
    pub foreign: usize,
    /// Orphans moved to `trash/`.
    pub trashed: usize,
    /// Orphans whose move failed.
    pub failed: Vec<String>,
}

pub async fn sweep(
    db: &PgPool,
    media: &MediaStore,
    grace: Duration,
    dry_run: bool,
) -> anyhow::Result<SweepReport> {
    let cutoff =
        Utc::now() - chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::days(36_500));
    let locks = KeyLocks::new(db.clone());
    let mut report = SweepReport::default();
    for kind in [MediaKind::Cover, MediaKind::Audio] {
        let objects = media.list(kind.prefix()).await?;
        report.scanned += objects.len();
        metrics::counter!("admin_sweep_objects_total", "result" => "scanned")
            .increment(objects.len() as u64);
        for chunk in objects.chunks(BATCH) {
            let keys: Vec<String> = chunk.iter().map(|(k, _)| k.clone()).collect();
            let issued: HashMap<String, DateTime<Utc>> =
                sqlx::query_as("SELECT key, issued_at FROM upload_ledger WHERE key = ANY($1)")
                    .bind(&keys)
                    .fetch_all(db)
                    .await?
                    .into_iter()
                    .collect();
            let unreferenced = db::unreferenced_keys(db, keys).await?;
            let modified: HashMap<&str, i64> =
                chunk.iter().map(|(k, at)| (k.as_str(), *at)).collect();
            for key in unreferenced {
                let Some(issued_at) = issued.get(&key) else {
                    report.foreign += 1;
                    metrics::counter!("admin_sweep_objects_total", "result" => "foreign")
                        .increment(1);
                    continue;
                };
                let old = *issued_at <= cutoff
                    && modified
                        .get(key.as_str())
                        .is_some_and(|at| *at <= cutoff.timestamp());
                if !old {
                    continue;
                }
                if !dry_run {
                    match locks
                        .trash_if_unreferenced(media, &key, Reason::Sweep)
                        .await
                    {
                        Ok(true) => {
                            report.trashed += 1;
                            metrics::counter!("admin_sweep_objects_total", "result" => "trashed")
                                .increment(1);
                        }
                        // Referenced again since the candidate query.
                        Ok(false) => continue,
                        Err(e) => {
                            tracing::warn!(key, error = %e, "sweep: moving to trash failed");
                            metrics::counter!("admin_sweep_objects_total", "result" => "failed")
                                .increment(1);
                            report.failed.push(key.clone());
                        }
                    }
                }
                metrics::counter!("admin_sweep_objects_total", "result" => "orphaned").increment(1);
                report.orphaned.push(key);
            }
        }
    }
    tracing::info!(
        scanned = report.scanned,
        orphaned = report.orphaned.len(),
        foreign = report.foreign,
        trashed = report.trashed,
        failed = report.failed.len(),
        dry_run,
        "sweep finished"
    );
    Ok(report)
}
