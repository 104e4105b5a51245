//! `manifest.json`: what a backup holds and the checksum of every file.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path};

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest's own format; a reader refuses any other.
pub const FORMAT: u32 = 1;
pub const FILE: &str = "manifest.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub started_at: DateTime<Utc>,
    /// Unset while the backup is being written: a backup without it was
    /// interrupted and is refused.
    pub finished_at: Option<DateTime<Utc>>,
    pub mongo: Option<MongoSection>,
    pub postgres: Option<PostgresSection>,
    pub media: Option<MediaSection>,
    /// Every file of the backup by its path relative to the backup directory.
    pub files: BTreeMap<String, FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileEntry {
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MongoSection {
    pub database: String,
    pub collections: Vec<CollectionEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectionEntry {
    pub name: String,
    /// Documents, one per line.
    pub file: String,
    /// The index specifications (`listIndexes`), `_id_` left out.
    pub indexes_file: String,
    pub documents: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostgresSection {
    pub file: String,
    /// `pg_dump --version` as it answered.
    pub pg_dump: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaSection {
    pub bucket: String,
    pub index_file: String,
    pub objects: u64,
    pub bytes: u64,
}

impl Manifest {
    pub fn new(started_at: DateTime<Utc>) -> Self {
        Self {
            format: FORMAT,
            started_at,
            finished_at: None,
            mongo: None,
            postgres: None,
            media: None,
            files: BTreeMap::new(),
        }
    }

    /// The stores this backup holds.
    pub fn parts(&self) -> Vec<crate::Part> {
        let mut v = vec![];
        if self.mongo.is_some() {
            v.push(crate::Part::Mongo);
        }
        if self.postgres.is_some() {
            v.push(crate::Part::Postgres);
        }
        if self.media.is_some() {
            v.push(crate::Part::Media);
        }
        v
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let tmp = dir.join(format!("{FILE}.tmp"));
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, dir.join(FILE))?;
        Ok(())
    }

    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(FILE);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let m: Self = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a backup manifest", path.display()))?;
        if m.format != FORMAT {
            bail!("backup format {} (this tool reads {FORMAT})", m.format);
        }
        if m.finished_at.is_none() {
            bail!("the backup in {} never finished", dir.display());
        }
        Ok(m)
    }

    /// Every file the manifest names is there, whole and unchanged, and
    /// every file a section names is in the manifest.
    pub fn verify(&self, dir: &Path) -> anyhow::Result<()> {
        let mut named: Vec<&str> = vec![];
        if let Some(p) = &self.postgres {
            named.push(&p.file);
        }
        if let Some(m) = &self.mongo {
            for c in &m.collections {
                named.push(&c.file);
                named.push(&c.indexes_file);
            }
        }
        if let Some(m) = &self.media {
            named.push(&m.index_file);
        }
        for f in named {
            if !self.files.contains_key(f) {
                bail!("the manifest has no checksum for {f}");
            }
        }
        for (rel, want) in &self.files {
            let path = dir.join(safe_relative(rel)?);
            let got = hash_file(&path)?;
            if &got != want {
                bail!(
                    "{rel} does not match the manifest ({} bytes, sha256 {}; expected {} bytes, sha256 {})",
                    got.bytes,
                    got.sha256,
                    want.bytes,
                    want.sha256
                );
            }
        }
        Ok(())
    }
}

/// A path inside the backup directory: relative, with no `..`.
pub fn safe_relative(rel: &str) -> anyhow::Result<&Path> {
    let p = Path::new(rel);
    if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        bail!("{rel:?} is not a path inside the backup");
    }
    Ok(p)
}

/// Records `rel` (already written under `dir`) in `files`.
pub fn record(
    files: &mut BTreeMap<String, FileEntry>,
    dir: &Path,
    rel: &str,
) -> anyhow::Result<()> {
    let entry = hash_file(&dir.join(rel))?;
    files.insert(rel.to_owned(), entry);
    Ok(())
}

pub fn hash_file(path: &Path) -> anyhow::Result<FileEntry> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(FileEntry {
        bytes,
        sha256: hex::encode(h.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_backup_are_refused() {
        for bad in ["", "/etc/passwd", "../x", "media/../../x", "./x"] {
            assert!(safe_relative(bad).is_err(), "{bad:?}");
        }
        assert!(safe_relative("media/objects/000001").is_ok());
    }
}
