//! The media bucket: every object's bytes and content type.
//!
//! In AWS the bucket is also versioned (infra/edge.yaml), which undoes an
//! overwrite or a deletion within the noncurrent-version window without a
//! backup; this copy is for losing the bucket, or for a store without
//! versions (SeaweedFS, MinIO).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{bail, Context};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::manifest::{self, FileEntry, MediaSection};

const INDEX: &str = "media/index.jsonl";
/// Objects copied at once.
const PARALLEL: usize = 8;

#[derive(Clone)]
pub struct Bucket {
    pub client: aws_sdk_s3::Client,
    pub name: String,
}

impl Bucket {
    /// A client like admin-svc's: endpoint from `AWS_ENDPOINT_URL_S3`,
    /// path-style addressing when asked (SeaweedFS, MinIO). `checksums`:
    /// `WhenRequired` for the media bucket; the backup bucket needs
    /// `WhenSupported` (a CRC32 on every PUT), which S3 requires of each PUT
    /// into a bucket with Object Lock default retention (infra/edge.yaml
    /// `BackupBucket`).
    pub fn new(
        sdk: &cadenza_aws::aws_config::SdkConfig,
        name: &str,
        force_path_style: bool,
        checksums: RequestChecksumCalculation,
    ) -> Self {
        // A stalled store fails the run (and the CronJob's retry) instead
        // of hanging it: no connection in 5 s, or no byte for 60 s, is an
        // error. No total limit: one object may be large.
        let timeouts = aws_sdk_s3::config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .read_timeout(std::time::Duration::from_secs(60))
            .build();
        let conf = aws_sdk_s3::config::Builder::from(sdk)
            .timeout_config(timeouts)
            .force_path_style(force_path_style)
            .request_checksum_calculation(checksums)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Self {
            client: aws_sdk_s3::Client::from_conf(conf),
            name: name.into(),
        }
    }

    async fn keys(&self) -> anyhow::Result<Vec<String>> {
        let mut keys = vec![];
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                anyhow::anyhow!("listing {}: {}", self.name, DisplayErrorContext(&e))
            })?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        Ok(keys)
    }
}

/// One line of `media/index.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Entry {
    key: String,
    file: String,
    content_type: Option<String>,
}

/// Streams `key` into a new file at `path` (its directory made if needed),
/// hashing as it goes; returns the object's content type and the file's
/// size and SHA-256.
pub(crate) async fn download(
    bucket: &Bucket,
    key: &str,
    path: &Path,
) -> anyhow::Result<(Option<String>, FileEntry)> {
    download_if_there(bucket, key, path)
        .await?
        .with_context(|| format!("reading {key}: no such object"))
}

/// As [`download`], but `None` when the object is not there (any more).
async fn download_if_there(
    bucket: &Bucket,
    key: &str,
    path: &Path,
) -> anyhow::Result<Option<(Option<String>, FileEntry)>> {
    let out = match bucket
        .client
        .get_object()
        .bucket(&bucket.name)
        .key(key)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) => bail!("reading {key}: {}", DisplayErrorContext(&e)),
    };
    let content_type = out.content_type().map(str::to_owned);
    let mut body = out.body;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::File::create(path)?;
    let mut h = Sha256::new();
    let mut bytes = 0u64;
    while let Some(chunk) = body
        .try_next()
        .await
        .with_context(|| format!("reading {key}"))?
    {
        h.update(&chunk);
        file.write_all(&chunk)?;
        bytes += chunk.len() as u64;
    }
    file.sync_all()?;
    Ok(Some((
        content_type,
        FileEntry {
            bytes,
            sha256: hex::encode(h.finalize()),
        },
    )))
}

pub async fn dump(
    bucket: &Bucket,
    dir: &Path,
    files: &mut BTreeMap<String, FileEntry>,
) -> anyhow::Result<MediaSection> {
    std::fs::create_dir_all(dir.join("media/objects"))?;
    let keys = bucket.keys().await?;
    // An object deleted (or moved to trash/) between the listing and its
    // read is not an error: it is counted and left out.
    let read: Vec<Option<(Entry, FileEntry)>> = futures::stream::iter(keys.into_iter().enumerate())
        .map(|(i, key)| async move {
            let file = format!("media/objects/{i:06}");
            let got = download_if_there(bucket, &key, &dir.join(&file)).await?;
            anyhow::Ok(got.map(|(content_type, entry)| {
                (
                    Entry {
                        key,
                        file,
                        content_type,
                    },
                    entry,
                )
            }))
        })
        .buffered(PARALLEL)
        .try_collect()
        .await?;
    let vanished = read.iter().filter(|r| r.is_none()).count();
    if vanished > 0 {
        tracing::info!(
            vanished,
            "objects deleted while the backup ran were left out"
        );
    }
    let copied: Vec<(Entry, FileEntry)> = read.into_iter().flatten().collect();
    let mut index = std::io::BufWriter::new(std::fs::File::create(dir.join(INDEX))?);
    let mut total = 0;
    for (entry, file) in &copied {
        serde_json::to_writer(&mut index, entry)?;
        index.write_all(b"\n")?;
        total += file.bytes;
        files.insert(entry.file.clone(), file.clone());
    }
    index.into_inner()?.sync_all()?;
    manifest::record(files, dir, INDEX)?;
    Ok(MediaSection {
        bucket: bucket.name.clone(),
        index_file: INDEX.into(),
        objects: copied.len() as u64,
        bytes: total,
    })
}

/// The lines of `media/index.jsonl`, checked against the section.
fn entries(section: &MediaSection, dir: &Path) -> anyhow::Result<Vec<Entry>> {
    let index = dir.join(manifest::safe_relative(&section.index_file)?);
    let mut entries = vec![];
    for (n, l) in std::io::BufReader::new(std::fs::File::open(&index)?)
        .lines()
        .enumerate()
    {
        let e: Entry = serde_json::from_str(&l?)
            .with_context(|| format!("{} line {}", section.index_file, n + 1))?;
        manifest::safe_relative(&e.file)?;
        entries.push(e);
    }
    if entries.len() as u64 != section.objects {
        bail!(
            "{} lists {} objects, the manifest says {}",
            section.index_file,
            entries.len(),
            section.objects
        );
    }
    Ok(entries)
}

/// Before any store is written: the index reads, and every file it names
/// is one the manifest checksums.
pub fn check(
    section: &MediaSection,
    dir: &Path,
    files: &BTreeMap<String, FileEntry>,
) -> anyhow::Result<()> {
    for e in entries(section, dir)? {
        if !files.contains_key(&e.file) {
            bail!(
                "{} names {}, which the manifest does not list",
                section.index_file,
                e.file
            );
        }
    }
    Ok(())
}

/// Writes every backed-up object to `bucket` (which must exist), under its
/// key and with its content type. Objects not in the backup are left alone.
pub async fn load(bucket: &Bucket, section: &MediaSection, dir: &Path) -> anyhow::Result<()> {
    futures::stream::iter(entries(section, dir)?)
        .map(|e| async move { upload(bucket, &e.key, &dir.join(&e.file), e.content_type).await })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// Writes the file at `path` to `key`.
pub(crate) async fn upload(
    bucket: &Bucket,
    key: &str,
    path: &Path,
    content_type: Option<String>,
) -> anyhow::Result<()> {
    let body = ByteStream::from_path(path)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    bucket
        .client
        .put_object()
        .bucket(&bucket.name)
        .key(key)
        .set_content_type(content_type)
        .body(body)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("writing {key}: {}", DisplayErrorContext(&e)))?;
    Ok(())
}
