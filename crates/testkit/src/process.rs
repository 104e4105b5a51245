//! Private server processes for fault-injection tests: a test that stops
//! Redis must not stop the Redis every other test shares.
//!
//! One type, [`Process`], starts, restarts, stops and cleans up any of
//! them; a [`Server`] says only what is particular to one kind: its
//! command line, how long it takes to start, how it is stopped and what it
//! leaves on disk. [`RedisProcess`], [`PostgresProcess`], [`MongoProcess`]
//! and [`MotoProcess`] are the four kinds the tests use.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (racy in theory, fine for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_port(port: u16, up: bool, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let open = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        if open == up {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "port {port} did not become {}",
        if up { "open" } else { "closed" }
    );
}

/// What is particular to one kind of server.
pub trait Server {
    /// The command that serves on `port`.
    fn command(&self, port: u16) -> Command;
    /// How long it may take to accept connections.
    fn startup(&self) -> Duration {
        Duration::from_secs(10)
    }
    /// Stops it; by default a SIGKILL, as a crash would.
    fn halt(&self, child: &mut Child) {
        let _ = child.kill();
        let _ = child.wait();
    }
    /// Removes what it keeps on disk (on drop).
    fn clean_up(&self) {}
}

/// A server of our own on a free loopback port: started by the kind's
/// `start`, [`Process::stop`]ped and [`Process::restart`]ed on the same
/// port (and data), killed and cleaned up on drop.
pub struct Process<S: Server> {
    pub port: u16,
    server: S,
    child: Option<Child>,
}

impl<S: Server> Process<S> {
    fn launch(server: S) -> Self {
        let mut p = Self {
            port: free_port(),
            server,
            child: None,
        };
        p.restart();
        p
    }

    /// Starts (again) on the same port, and waits until it accepts TCP
    /// connections.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = self
            .server
            .command(self.port)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting a test server on port {}: {e}", self.port));
        self.child = Some(child);
        wait_port(self.port, true, self.server.startup());
    }

    /// Stops the server (see [`Server::halt`]) and waits until its port
    /// is closed.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            self.server.halt(&mut c);
            wait_port(self.port, false, Duration::from_secs(10));
        }
    }
}

impl<S: Server> Drop for Process<S> {
    fn drop(&mut self) {
        self.stop();
        self.server.clean_up();
    }
}

/// redis-server, without persistence.
pub struct Redis;
pub type RedisProcess = Process<Redis>;

impl Server for Redis {
    fn command(&self, port: u16) -> Command {
        let mut cmd = Command::new("redis-server");
        cmd.args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ]);
        cmd
    }
}

impl RedisProcess {
    pub fn start() -> Self {
        Self::launch(Redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

fn temp_dir(prefix: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(crate::unique_name(prefix));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    dir
}

/// Waits up to `timeout` for a child to exit; SIGKILLs it after that.
fn wait_or_kill(child: &mut Child, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The numeric uid and gid of a local account, from `/etc/passwd`.
fn account_ids(name: &str) -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    passwd
        .lines()
        .find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() > 3 && f[0] == name).then(|| (f[2].parse().ok(), f[3].parse().ok()))
        })
        .and_then(|(u, g)| Some((u?, g?)))
        .unwrap_or_else(|| panic!("no local account {name}"))
}

/// The newest `/usr/lib/postgresql/<version>/bin`.
fn postgres_bin_dir() -> std::path::PathBuf {
    let mut versions: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL installation").1
}

/// A PostgreSQL cluster: `initdb` into a temporary directory (as the
/// `postgres` account, since initdb refuses root), trust authentication.
/// `stop()` is an immediate shutdown (no checkpoint, crash recovery on the
/// next start); `restart()` reuses the data directory.
pub struct Postgres {
    dir: std::path::PathBuf,
}
pub type PostgresProcess = Process<Postgres>;

impl Server for Postgres {
    fn command(&self, port: u16) -> Command {
        use std::os::unix::process::CommandExt;
        let (uid, gid) = account_ids("postgres");
        // Run the postmaster itself as `postgres` (no runuser in between), so
        // that the pid we hold is the server's. fsync=off is safe when only
        // the process dies (the OS keeps its pages); synchronous_commit stays
        // on, so a commit that was acknowledged survives stop().
        let mut cmd = Command::new(postgres_bin_dir().join("postgres"));
        cmd.uid(uid).gid(gid);
        cmd.arg("-D")
            .arg(&self.dir)
            .args(["-p", &port.to_string(), "-k"])
            .arg(&self.dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=50",
            ]);
        cmd
    }

    fn startup(&self) -> Duration {
        Duration::from_secs(30)
    }

    /// Immediate shutdown (SIGQUIT: the postmaster and its backends quit
    /// without a checkpoint, as after a crash); SIGKILL if that hangs.
    fn halt(&self, child: &mut Child) {
        let _ = Command::new("kill")
            .args(["-QUIT", &child.id().to_string()])
            .status();
        wait_or_kill(child, Duration::from_secs(10));
    }

    fn clean_up(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl PostgresProcess {
    pub fn start() -> Self {
        let bin = postgres_bin_dir();
        let dir = temp_dir("cadenza-pg-");
        let (uid, gid) = account_ids("postgres");
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown the data directory");
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("initdb"))
            .args([
                "--auth=trust",
                "--username=postgres",
                "--no-sync",
                "--encoding=UTF8",
            ])
            .arg("--pgdata")
            .arg(&dir)
            .output()
            .expect("runuser initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self::launch(Postgres { dir })
    }

    /// The `postgres` database as the `postgres` superuser.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

/// A SecantusDB (MongoDB wire protocol) server, from
/// `$CADENZA_VENV/bin/secantusd-py`. [`MongoProcess::start`] keeps its data
/// in a temporary directory and syncs every commit, so a restart finds
/// everything that was acknowledged before the kill;
/// [`MongoProcess::in_memory`] (`--storage-path :memory:`) keeps nothing.
pub struct Mongo {
    storage: Option<std::path::PathBuf>,
}
pub type MongoProcess = Process<Mongo>;

fn venv_bin(name: &str) -> std::path::PathBuf {
    crate::infra()
        .venv
        .clone()
        .expect("CADENZA_VENV (run ./dev infra up)")
        .join("bin")
        .join(name)
}

impl Server for Mongo {
    fn command(&self, port: u16) -> Command {
        let mut cmd = Command::new(venv_bin("secantusd-py"));
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--storage-path");
        match &self.storage {
            // Without --sync-on-commit a SIGKILL loses recently acknowledged
            // commits (measured: 0 to 46 of 51 quick inserts survived), which
            // a MongoDB replica set with its default majority write concern
            // does not; with it, every acknowledged commit survives.
            Some(dir) => cmd.arg(dir).arg("--sync-on-commit"),
            None => cmd.arg(":memory:"),
        };
        cmd
    }

    fn startup(&self) -> Duration {
        Duration::from_secs(60)
    }

    fn clean_up(&self) {
        if let Some(dir) = &self.storage {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl MongoProcess {
    pub fn start() -> Self {
        Self::launch(Mongo {
            storage: Some(temp_dir("cadenza-mongo-")),
        })
    }

    pub fn in_memory() -> Self {
        Self::launch(Mongo { storage: None })
    }

    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
    }
}

/// A moto server (SQS, SES v2, CloudFront API), from
/// `$CADENZA_VENV/bin/moto_server`. It keeps its state in memory: after a
/// restart, queues must be created again.
pub struct Moto;
pub type MotoProcess = Process<Moto>;

impl Server for Moto {
    fn command(&self, port: u16) -> Command {
        let mut cmd = Command::new(venv_bin("moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        cmd
    }

    fn startup(&self) -> Duration {
        Duration::from_secs(60)
    }
}

impl MotoProcess {
    pub fn start() -> Self {
        Self::launch(Moto)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
