//! Plumbing that every Cadenza service shares, so that each service's own code
//! is only its domain: configuration, telemetry, RFC 9457 errors, validated
//! extractors, probes, metrics, the standard HTTP layer stack and shutdown.

pub mod client_ip;
pub mod config;
pub mod docs;
pub mod extract;
pub mod health;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod ratelimit;
pub mod redis;
pub mod shutdown;
pub mod telemetry;

pub use problem::{chain, ApiResult, FieldError, Problem};
