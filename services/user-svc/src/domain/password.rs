//! Password policy and hashing.
//!
//! Hashes are argon2id (m = 19 MiB, t = 2, p = 1) PHC strings. Hashing is
//! CPU-bound, so it runs on the blocking pool behind a semaphore sized to the
//! CPU count: a login burst queues instead of starving the async runtime,
//! and a request that would wait too long gets 503 instead of piling up.
//! bcrypt hashes imported from the seed verify too, and report that they need
//! a rehash.
//!
//! Each hashing slot owns one 19 MiB work area, reused for every hash it
//! runs, instead of allocating and freeing 19 MiB per login: the allocator
//! would keep those freed blocks around for a while, so RSS swung by up to
//! 20 MiB under steady load (seen in the soak).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordVerifier as _, Version};
use cadenza_platform::Problem;
use tokio::sync::Semaphore;

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

pub struct PasswordPolicy;

impl PasswordPolicy {
    /// Checks a new password; the message is meant for the user.
    pub fn check(password: &str, user_inputs: &[&str]) -> Result<(), String> {
        let len = password.chars().count();
        if len < MIN_LEN {
            return Err(format!("must be at least {MIN_LEN} characters"));
        }
        if len > MAX_LEN {
            return Err(format!("must be at most {MAX_LEN} characters"));
        }
        let entropy = zxcvbn::zxcvbn(password, user_inputs);
        if u8::from(entropy.score()) >= 2 {
            return Ok(());
        }
        let mut message = String::from("is too easy to guess");
        if let Some(feedback) = entropy.feedback() {
            if let Some(w) = feedback.warning() {
                message.push_str(&format!(": {w}"));
            }
            if let Some(s) = feedback.suggestions().first() {
                message.push_str(&format!(". {s}"));
            }
        }
        if !message.ends_with('.') {
            message.push('.');
        }
        message.push_str(" Try a longer passphrase of several unrelated words.");
        Err(message)
    }

    pub fn check_field(field: &str, password: &str, user_inputs: &[&str]) -> Result<(), Problem> {
        Self::check(password, user_inputs).map_err(|m| Problem::invalid_field(field, m))
    }
}

/// Outcome of verifying a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, but the stored hash is bcrypt or weaker argon2: rehash it.
    YesRehash,
}

/// Argon2 work areas of the contract's size, one per hashing slot.
#[derive(Default)]
struct WorkAreas(Mutex<Vec<Vec<Block>>>);

impl WorkAreas {
    fn take(&self) -> Vec<Block> {
        let reused = self.0.lock().map(|mut v| v.pop()).unwrap_or(None);
        reused.unwrap_or_else(|| vec![Block::default(); M_COST_KIB as usize])
    }

    fn give_back(&self, area: Vec<Block>) {
        if let Ok(mut v) = self.0.lock() {
            v.push(area);
        }
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    areas: Arc<WorkAreas>,
    wait: Duration,
    /// A hash of a random password, verified against when the account does
    /// not exist, so that an unknown email costs as much as a wrong password.
    dummy: Arc<String>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("static argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str, area: &mut [Block]) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(|e| e.to_string())?;
    let hasher = argon2();
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        hasher
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut *area)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(hasher.params()).map_err(|e| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Recomputes an argon2 PHC hash in `area` when it fits there; `None` when
/// the stored parameters need more memory (then the caller allocates).
fn argon2_matches_in(
    password: &str,
    parsed: &PasswordHash<'_>,
    area: &mut [Block],
) -> Option<bool> {
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .ok()?
        .unwrap_or_default();
    let expected = parsed.hash?;
    let salt = parsed.salt?;
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf).ok()?;
    let stored = Params::try_from(parsed).ok()?;
    let params = Params::new(
        stored.m_cost(),
        stored.t_cost(),
        stored.p_cost(),
        Some(expected.len()),
    )
    .ok()?;
    if params.block_count() > area.len() {
        return None;
    }
    let hasher = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    hasher
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, &mut *area)
        .ok()?;
    // Output's equality is constant-time.
    Some(Output::new(&out).ok()? == expected)
}

fn verify_blocking(password: &str, stored: &str, area: &mut [Block]) -> Verified {
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        return match bcrypt::verify(password, stored) {
            Ok(true) => Verified::YesRehash,
            _ => Verified::No,
        };
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verified::No;
    };
    let matches = match argon2_matches_in(password, &parsed, area) {
        Some(m) => m,
        None => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
    };
    if !matches {
        return Verified::No;
    }
    let current = parsed.algorithm.as_str() == "argon2id"
        && Params::try_from(&parsed).is_ok_and(|p| {
            p.m_cost() >= M_COST_KIB && p.t_cost() >= T_COST && p.p_cost() >= P_COST
        });
    if current {
        Verified::Yes
    } else {
        Verified::YesRehash
    }
}

impl PasswordHasher {
    pub async fn new() -> anyhow::Result<Self> {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let dummy = tokio::task::spawn_blocking(|| {
            use rand::RngCore;
            let mut bytes = [0u8; 24];
            rand::thread_rng().fill_bytes(&mut bytes);
            let mut area = vec![Block::default(); M_COST_KIB as usize];
            hash_blocking(
                &base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes),
                &mut area,
            )
        })
        .await?
        .map_err(anyhow::Error::msg)?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(cpus)),
            areas: Arc::new(WorkAreas::default()),
            wait: Duration::from_secs(10),
            dummy: Arc::new(dummy),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Problem> {
        let queued = std::time::Instant::now();
        let depth = metrics::gauge!("user_argon2_queue_depth");
        depth.increment(1.0);
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await;
        depth.decrement(1.0);
        metrics::histogram!("user_argon2_wait_seconds").record(queued.elapsed().as_secs_f64());
        let permit = permit
            .map_err(|_| Problem::unavailable("password hashing", "hashing queue is full"))?
            .map_err(Problem::internal)?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(f)
        })
        .await
        .map_err(Problem::internal)
    }

    /// Runs `f` with a work area; at most one area per permit exists.
    async fn with_area<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, Problem> {
        let areas = self.areas.clone();
        self.run(move || {
            let mut area = areas.take();
            let result = f(&mut area);
            areas.give_back(area);
            result
        })
        .await
    }

    pub async fn hash(&self, password: &str) -> Result<String, Problem> {
        let password = password.to_owned();
        self.with_area(move |area| hash_blocking(&password, area))
            .await?
            .map_err(Problem::internal)
    }

    pub async fn verify(&self, password: &str, stored: &str) -> Result<Verified, Problem> {
        let password = password.to_owned();
        let stored = stored.to_owned();
        self.with_area(move |area| verify_blocking(&password, &stored, area))
            .await
    }

    /// Burns the time of one verification; always "no".
    pub async fn verify_dummy(&self, password: &str) -> Result<Verified, Problem> {
        let stored = self.dummy.as_str().to_owned();
        self.verify(password, &stored).await.map(|_| Verified::No)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_rejects_short_long_and_common_passwords() {
        assert!(PasswordPolicy::check("short", &[])
            .unwrap_err()
            .contains("at least 8"));
        assert!(PasswordPolicy::check(&"x".repeat(129), &[])
            .unwrap_err()
            .contains("at most 128"));
        let common = PasswordPolicy::check("password1", &[]).unwrap_err();
        assert!(common.contains("too easy"), "{common}");
        // The user's own email does not make a good password.
        assert!(PasswordPolicy::check("alice@example.com", &["alice@example.com"]).is_err());
        assert!(PasswordPolicy::check("correct horse battery staple", &[]).is_ok());
        assert!(PasswordPolicy::check("Tr0mbone-Quasar-Lantern", &[]).is_ok());
    }

    fn area() -> Vec<Block> {
        vec![Block::default(); M_COST_KIB as usize]
    }

    #[test]
    fn argon2id_hashes_are_phc_strings_with_the_contract_params() {
        let mut a = area();
        let h = hash_blocking("Tr0mbone-Quasar-Lantern", &mut a).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_eq!(
            verify_blocking("Tr0mbone-Quasar-Lantern", &h, &mut a),
            Verified::Yes
        );
        assert_eq!(verify_blocking("wrong", &h, &mut a), Verified::No);
        assert_eq!(verify_blocking("x", "not a hash", &mut a), Verified::No);
        // The reference implementation agrees with the pooled one both ways.
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(argon2()
            .verify_password(b"Tr0mbone-Quasar-Lantern", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let reference =
            argon2::PasswordHasher::hash_password(&argon2(), b"Lute-Orbit-Canyon-77", &salt)
                .unwrap()
                .to_string();
        assert_eq!(
            verify_blocking("Lute-Orbit-Canyon-77", &reference, &mut a),
            Verified::Yes
        );
    }

    #[test]
    fn hashes_needing_more_memory_than_the_area_still_verify() {
        let strong = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(M_COST_KIB * 2, T_COST, P_COST, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let h = argon2::PasswordHasher::hash_password(&strong, b"pw-pw-pw-pw", &salt)
            .unwrap()
            .to_string();
        assert_eq!(
            verify_blocking("pw-pw-pw-pw", &h, &mut area()),
            Verified::Yes
        );
        assert_eq!(
            verify_blocking("pw-pw-pw-px", &h, &mut area()),
            Verified::No
        );
    }

    #[test]
    fn seed_bcrypt_hashes_verify_and_ask_for_a_rehash() {
        let seed = bcrypt::hash("hunter2-but-longer", 4).unwrap();
        assert!(seed.starts_with("$2b$"));
        assert_eq!(
            verify_blocking("hunter2-but-longer", &seed, &mut area()),
            Verified::YesRehash
        );
        let a = seed.replacen("$2b$", "$2a$", 1);
        assert_eq!(
            verify_blocking("hunter2-but-longer", &a, &mut area()),
            Verified::YesRehash
        );
        assert_eq!(verify_blocking("nope", &seed, &mut area()), Verified::No);
    }

    #[test]
    fn weaker_argon2_params_ask_for_a_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let h = argon2::PasswordHasher::hash_password(&weak, b"pw-pw-pw-pw", &salt)
            .unwrap()
            .to_string();
        assert_eq!(
            verify_blocking("pw-pw-pw-pw", &h, &mut area()),
            Verified::YesRehash
        );
    }

    #[tokio::test]
    async fn hashing_runs_off_the_runtime_and_costs_tens_of_milliseconds() {
        let hasher = PasswordHasher::new().await.unwrap();
        let t = std::time::Instant::now();
        let h = hasher.hash("Tr0mbone-Quasar-Lantern").await.unwrap();
        let hash_time = t.elapsed();
        let t = std::time::Instant::now();
        assert_eq!(
            hasher.verify("Tr0mbone-Quasar-Lantern", &h).await.unwrap(),
            Verified::Yes
        );
        let verify_time = t.elapsed();
        let t = std::time::Instant::now();
        assert_eq!(hasher.verify_dummy("anything").await.unwrap(), Verified::No);
        let dummy_time = t.elapsed();
        println!("argon2id m=19456 t=2 p=1: hash {hash_time:?}, verify {verify_time:?}, dummy verify {dummy_time:?}");
        // A hash that costs nothing would mean the parameters were not applied.
        assert!(
            verify_time > std::time::Duration::from_millis(5),
            "{verify_time:?}"
        );
        assert!(
            dummy_time > verify_time / 3,
            "dummy {dummy_time:?} vs real {verify_time:?}"
        );
    }

    /// A measurement, not a test (bench/user-svc.sh runs it and sets the
    /// login figures against it):
    /// `cargo test --release -p user-svc --lib argon2_cost -- --ignored --nocapture`.
    #[test]
    #[ignore = "measurement; run with --ignored --nocapture"]
    fn argon2_cost_of_one_verification() {
        let mut work = area();
        let stored = hash_blocking("Tr0mbone-Quasar-Lantern", &mut work).unwrap();
        const N: u32 = 20;
        let start = std::time::Instant::now();
        for _ in 0..N {
            assert_eq!(
                verify_blocking("Tr0mbone-Quasar-Lantern", &stored, &mut work),
                Verified::Yes
            );
        }
        let each = start.elapsed() / N;
        // One line the benchmark script reads.
        println!(
            "argon2-verify-us {} per-core-per-second {:.1}",
            each.as_micros(),
            1.0 / each.as_secs_f64()
        );
    }
}
