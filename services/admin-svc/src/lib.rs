//! admin-svc: the catalogue's write side (CONTRACTS §4, §5).
//!
//! Admins ask for a presigned PUT, upload a cover or audio file straight to
//! S3, then create the album or song that names it. Rows live in PostgreSQL
//! (schema in `cadenza-catalog`); each committed change is announced on
//! Redis for song-svc's caches, and deleted rows take their media with them.

pub mod after_commit;
pub mod app;
pub mod cdn;
pub mod config;
pub mod db;
pub mod domain;
pub mod import;
pub mod media_jobs;
pub mod objects;
pub mod openapi;
pub mod orphans;
pub mod routes;
pub mod sweep;
pub mod trash;

pub use app::{build, App, AppState};
pub use config::Config;
