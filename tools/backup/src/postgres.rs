//! The catalogue: `pg_dump --format=custom` and `pg_restore`.
//!
//! The dump is one consistent snapshot (pg_dump reads in one repeatable-read
//! transaction). The client tools come from `$PATH`, or from the directory
//! in `PG_BIN_DIR`; pg_dump must be at least the server's major version.
//! The password is taken out of the URL and handed over in `PGPASSWORD`, so
//! it never shows in a process listing.

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

/// `postgres://user:secret@host/db` → (`postgres://user@host/db`,
/// `Some("secret")`), the password percent-decoded.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (url.to_owned(), None);
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (url.to_owned(), None);
    };
    let Some(colon) = rest[..at].find(':') else {
        return (url.to_owned(), None);
    };
    let password = percent_decode(&rest[colon + 1..at]);
    let stripped = format!("{}{}{}", &url[..scheme_end], &rest[..colon], &rest[at..]);
    (stripped, Some(password))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A client tool pointed at `database_url`, the password in its environment.
fn client(name: &str, database_url: &str) -> Command {
    let (url, password) = split_password(database_url);
    let mut cmd = Command::new(tool(name));
    // Never wait for a password prompt: a missing password is an error.
    cmd.arg("--no-password").arg("--dbname").arg(url);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    cmd
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
        client("pg_dump", database_url)
            .args(["--format=custom", "--no-owner", "--no-privileges"])
            .arg("--file")
            .arg(dir.join(FILE)),
        "pg_dump",
    )
    .await?;
    manifest::record(files, dir, FILE)?;
    Ok(PostgresSection {
        file: FILE.into(),
        pg_dump: version,
    })
}

/// Before any store is written: this pg_restore can read the archive.
pub async fn check(section: &PostgresSection, dir: &Path) -> anyhow::Result<()> {
    let file = dir.join(manifest::safe_relative(&section.file)?);
    run(
        Command::new(tool("pg_restore")).arg("--list").arg(&file),
        "pg_restore --list (is pg_restore older than the pg_dump that wrote it?)",
    )
    .await
    .map(drop)
}

/// The catalogue version (`catalog_version`, crates/catalog), if the table
/// is there.
async fn catalog_version(database_url: &str) -> anyhow::Result<Option<i64>> {
    let sql = |q: &str| {
        let mut cmd = client("psql", database_url);
        cmd.args(["-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", q]);
        cmd
    };
    let exists = run(
        &mut sql("SELECT to_regclass('public.catalog_version') IS NOT NULL"),
        "psql",
    )
    .await?;
    if exists.trim() != "t" {
        return Ok(None);
    }
    let v = run(&mut sql("SELECT version FROM catalog_version"), "psql").await?;
    Ok(v.trim().parse().ok())
}

/// Replaces the catalogue's tables with the dump's, in one transaction: a
/// failure leaves the database as it was. Then moves the catalogue version
/// past both the restored one and the one the database had, so that every
/// song-svc replica treats the restored catalogue as a change newer than
/// anything it cached (its entries carry the versions they were read at).
pub async fn load(database_url: &str, section: &PostgresSection, dir: &Path) -> anyhow::Result<()> {
    let file = dir.join(manifest::safe_relative(&section.file)?);
    let before = catalog_version(database_url).await?.unwrap_or(0);
    run(
        client("pg_restore", database_url)
            .args([
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
            ])
            .arg(&file),
        "pg_restore",
    )
    .await?;
    if catalog_version(database_url).await?.is_some() {
        run(
            client("psql", database_url).args([
                "-X",
                "-qAt",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                &format!("UPDATE catalog_version SET version = GREATEST(version, {before}) + 1"),
            ]),
            "psql",
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url() {
        assert_eq!(
            split_password("postgres://app:s%40cr%3At@db.internal:5432/catalog?sslmode=require"),
            (
                "postgres://app@db.internal:5432/catalog?sslmode=require".to_owned(),
                Some("s@cr:t".to_owned())
            )
        );
        assert_eq!(
            split_password("postgres://postgres@127.0.0.1:5432/x"),
            ("postgres://postgres@127.0.0.1:5432/x".to_owned(), None)
        );
        assert_eq!(
            split_password("postgres://127.0.0.1/x"),
            ("postgres://127.0.0.1/x".to_owned(), None)
        );
    }
}
