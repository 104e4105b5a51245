//! Cadenza's system tests live in `tests/`: they build user-svc, admin-svc
//! and song-svc together (in process, and as real binaries) and check what
//! no single service's tests can: one token contract for all of them,
//! behaviour under real dependency faults (private PostgreSQL, Redis,
//! SecantusDB and moto processes that are stopped, killed and restarted),
//! and security properties through the HTTP surface. See the README section
//! "What we test and how".
//!
//! This library only locates the services' binaries.

use std::path::PathBuf;

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
    bin
}
