//! Copies of a backup directory in a bucket (the backup bucket in AWS):
//! `s3://BUCKET/PREFIX/<backup name>/<path in the backup>`.
//!
//! The manifest is uploaded last, so a copy whose upload was interrupted
//! has no manifest and is never taken for a backup; fetching downloads the
//! manifest first and then exactly the files it names.

use std::path::Path;

use anyhow::{bail, Context};
use futures::{StreamExt, TryStreamExt};

use crate::manifest::{self, Manifest};
use crate::media::{self, Bucket};

const PARALLEL: usize = 8;

/// `s3://bucket/some/prefix` → (`bucket`, `some/prefix`).
pub fn parse_url(url: &str) -> anyhow::Result<(String, String)> {
    let rest = url
        .strip_prefix("s3://")
        .with_context(|| format!("{url:?} is not an s3://BUCKET/PREFIX URL"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        bail!("{url:?} names no bucket");
    }
    Ok((bucket.to_owned(), prefix.trim_matches('/').to_owned()))
}

fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_owned()
    } else {
        format!("{prefix}/{rest}")
    }
}

/// Uploads the backup in `dir` under `prefix/<dir's name>/`; returns that
/// location as an s3:// URL.
pub async fn upload(bucket: &Bucket, prefix: &str, dir: &Path) -> anyhow::Result<String> {
    let m = Manifest::read(dir)?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("the backup directory has no name")?;
    let base = join(prefix, name);
    futures::stream::iter(m.files.keys())
        .map(|rel| {
            let base = &base;
            async move {
                let path = dir.join(manifest::safe_relative(rel)?);
                media::upload(bucket, &join(base, rel), &path, None).await
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<()>>()
        .await?;
    let manifest_key = join(&base, manifest::FILE);
    media::upload(bucket, &manifest_key, &dir.join(manifest::FILE), None).await?;
    Ok(format!("s3://{}/{base}", bucket.name))
}

/// Downloads the backup at `prefix` (as [`upload`] returned it) into `to`,
/// which must not exist yet or be empty. The caller verifies it.
pub async fn fetch(bucket: &Bucket, prefix: &str, to: &Path) -> anyhow::Result<Manifest> {
    let created = crate::fresh_dir(to)?;
    let fetched = fetch_into(bucket, prefix, to).await;
    if fetched.is_err() {
        crate::discard(to, created);
    }
    fetched
}

async fn fetch_into(bucket: &Bucket, prefix: &str, to: &Path) -> anyhow::Result<Manifest> {
    media::download(
        bucket,
        &join(prefix, manifest::FILE),
        &to.join(manifest::FILE),
    )
    .await?;
    let m = Manifest::read(to)?;
    futures::stream::iter(m.files.keys())
        .map(|rel| async move {
            let path = to.join(manifest::safe_relative(rel)?);
            media::download(bucket, &join(prefix, rel), &path)
                .await
                .map(drop)
        })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls() {
        assert_eq!(
            parse_url("s3://b/x/y/").unwrap(),
            ("b".to_owned(), "x/y".to_owned())
        );
        assert_eq!(
            parse_url("s3://b").unwrap(),
            ("b".to_owned(), String::new())
        );
        assert!(parse_url("https://b/x").is_err());
        assert!(parse_url("s3:///x").is_err());
    }
}
