//! Cadenza user-svc: accounts, sessions with rotating refresh tokens,
//! password reset, favourites, and the only RS256 signing key.

pub mod app;
pub mod catalogue;
pub mod clock;
pub use cadenza_platform::client_ip;
pub mod config;
pub mod domain;
pub mod import;
pub mod openapi;
pub mod outbox;
pub mod ratelimit;
pub mod revocations;
pub mod routes;
pub mod store;
pub mod tokens;

pub use app::{build, App, AppState};
pub use config::Config;
pub use domain::Email;
