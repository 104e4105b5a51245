//! song-svc: the read side of the catalogue (CONTRACTS §4, `/api/song`).
//!
//! PostgreSQL is the source of truth; responses are cached as serialized
//! JSON in process and in Redis and invalidated by admin-svc's events
//! ([`cache`]). Stream URLs are CloudFront canned-policy URLs ([`stream`]).
//! [`app`] builds the state and the router, [`routes`] holds the handlers
//! (one file per resource), [`store`] the read queries (one file per table).

pub mod app;
pub mod cache;
pub mod config;
pub mod encoding;
pub mod openapi;
pub mod routes;
pub mod store;
pub mod stream;

pub use crate::app::{build, build_app, App, AppState, PREFIX, REJECTED_METRIC};
pub use crate::cache::CatalogCache;
pub use crate::config::Config;
