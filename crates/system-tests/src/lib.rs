//! Cadenza's system tests live in `tests/`: they build user-svc, admin-svc
//! and song-svc together (in process, and as real binaries) and check what
//! no single service's tests can: one token contract for all of them,
//! behaviour under real dependency faults (private PostgreSQL, Redis,
//! SecantusDB and moto processes that are stopped, killed and restarted),
//! and security properties through the HTTP surface. See the README section
//! "What we test and how".
//!
//! This library only locates the services' binaries (and warns when one is
//! older than its sources).

use std::path::{Path, PathBuf};

/// The cargo-built binary `name` in the same target directory as the running
/// test (`<target>/debug/<name>`). Build it first with
/// `cargo build -p user-svc -p admin-svc -p song-svc -p mailer`.
pub fn service_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    // <target>/debug/deps/<test>-<hash>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target profile directory");
    let bin = profile_dir.join(name);
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p {name}` first (same CARGO_TARGET_DIR)",
        bin.display()
    );
    if let Some(newer) = newer_source(&bin, name) {
        eprintln!(
            "warning: {} is older than {} (run `cargo build -p {name}`)",
            bin.display(),
            newer.display()
        );
    }
    bin
}

/// A source file of the service or of a shared crate changed after `bin`
/// was built, if any.
fn newer_source(bin: &Path, name: &str) -> Option<PathBuf> {
    let built = std::fs::metadata(bin).and_then(|m| m.modified()).ok()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut dirs = vec![
        root.join("services").join(name).join("src"),
        root.join("lambdas").join(name).join("src"),
    ];
    for krate in std::fs::read_dir(root.join("crates")).ok()?.flatten() {
        dirs.push(krate.path().join("src"));
    }
    let mut stack = dirs;
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t > built)
            {
                return Some(path);
            }
        }
    }
    None
}
