//! The catalogue: `pg_dump --format=custom` and `pg_restore`.
//!
//! The dump is one consistent snapshot (pg_dump reads in one repeatable-read
//! transaction). The client tools come from `$PATH`, or from the directory
//! in `PG_BIN_DIR`; pg_dump must be at least the server's major version.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use tokio::process::Command;

use crate::manifest::{self, FileEntry, PostgresSection};

const FILE: &str = "postgres/catalog.pgdump";

fn tool(name: &str) -> PathBuf {
    match std::env::var_os("PG_BIN_DIR") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => PathBuf::from(name),
    }
}

async fn run(cmd: &mut Command, what: &str) -> anyhow::Result<String> {
    let out = cmd
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("running {what} (is it installed? PG_BIN_DIR)"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub async fn dump(
    database_url: &str,
    dir: &Path,
    files: &mut BTreeMap<String, FileEntry>,
) -> anyhow::Result<PostgresSection> {
    std::fs::create_dir_all(dir.join("postgres"))?;
    let version = run(Command::new(tool("pg_dump")).arg("--version"), "pg_dump").await?;
    run(
        Command::new(tool("pg_dump"))
            .args(["--format=custom", "--no-owner", "--no-privileges"])
            .arg("--file")
            .arg(dir.join(FILE))
            .arg("--dbname")
            .arg(database_url),
        "pg_dump",
    )
    .await?;
    manifest::record(files, dir, FILE)?;
    Ok(PostgresSection {
        file: FILE.into(),
        pg_dump: version,
    })
}

/// Replaces the catalogue's tables with the dump's, in one transaction: a
/// failure leaves the database as it was.
pub async fn load(database_url: &str, section: &PostgresSection, dir: &Path) -> anyhow::Result<()> {
    let file = dir.join(manifest::safe_relative(&section.file)?);
    run(
        Command::new(tool("pg_restore"))
            .args([
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
            ])
            .arg("--dbname")
            .arg(database_url)
            .arg(&file),
        "pg_restore",
    )
    .await?;
    Ok(())
}
