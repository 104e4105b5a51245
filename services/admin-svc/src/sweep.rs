//! The orphan sweeper: deletes media objects that no row references, such
//! as uploads whose album or song was never created, or objects a failed
//! post-commit purge left behind. Run it periodically (`admin-svc sweep`,
//! a CronJob in Kubernetes).
//!
//! Only keys under `thumbnails/` and `songs/` are considered, and only once
//! they are older than a grace period, so an upload whose row is about to be
//! created is never swept from under the admin.

use std::time::Duration;

use sqlx::PgPool;

use crate::media::MediaKind;
use crate::orphans::KeyLocks;
use crate::storage::MediaStore;
use crate::store;

/// Rows are created right after the upload; a day is plenty.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);

const BATCH: usize = 500;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Objects looked at (under the media prefixes).
    pub scanned: usize,
    /// Unreferenced objects older than the grace period (deleted unless dry run).
    pub orphans: Vec<String>,
    /// Orphans whose deletion failed.
    pub failed: Vec<String>,
}

pub async fn sweep(
    db: &PgPool,
    media: &MediaStore,
    grace: Duration,
    dry_run: bool,
) -> anyhow::Result<SweepReport> {
    let cutoff = chrono::Utc::now().timestamp() - grace.as_secs() as i64;
    let locks = KeyLocks::new(db.clone());
    let mut report = SweepReport::default();
    for kind in [MediaKind::Cover, MediaKind::Audio] {
        let objects = media
            .list(kind.prefix())
            .await
            .map_err(anyhow::Error::msg)?;
        report.scanned += objects.len();
        let old: Vec<String> = objects
            .into_iter()
            .filter(|(_, modified)| *modified <= cutoff)
            .map(|(key, _)| key)
            .collect();
        for chunk in old.chunks(BATCH) {
            let orphans = store::unreferenced_keys(db, chunk.to_vec())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for key in orphans {
                if !dry_run {
                    // Re-checked and deleted under the key's lock: a create
                    // that reuses the object meanwhile keeps it (see `orphans`).
                    match locks.delete_if_unreferenced(media, &key).await {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(e) => {
                            tracing::warn!(key, error = %e, "sweep: delete failed");
                            report.failed.push(key.clone());
                        }
                    }
                }
                report.orphans.push(key);
            }
        }
    }
    tracing::info!(
        scanned = report.scanned,
        orphans = report.orphans.len(),
        failed = report.failed.len(),
        dry_run,
        "sweep finished"
    );
    Ok(report)
}
