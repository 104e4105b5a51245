//! The mailer's metrics, the same in both runtimes:
//!
//! - the local poller serves them as Prometheus text on `/metrics`
//!   (`METRICS_ADDR`, default `127.0.0.1:9105`): `mailer_jobs_total{outcome}`
//!   and `mailer_batch_duration_seconds`, plus `cadenza_build_info` and
//!   `process_*`;
//! - on Lambda there is nothing to scrape, so each batch writes one line in
//!   CloudWatch's embedded metric format (EMF) to stdout, which CloudWatch
//!   Logs turns into the metrics `Cadenza/Mailer` `Sent`, `Duplicate`,
//!   `Dropped`, `Retried` and `BatchMilliseconds` without an API call.

use std::time::Duration;

use crate::handler::Outcome;

/// Every outcome label, registered at zero.
pub const OUTCOMES: [&str; 4] = ["sent", "duplicate", "dropped", "retry"];

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Sent { .. } => "sent",
            Outcome::Duplicate => "duplicate",
            Outcome::Dropped(_) => "dropped",
            Outcome::Retry(_) => "retry",
        }
    }
}

/// How many records of a batch ended each way.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub sent: u64,
    pub duplicate: u64,
    pub dropped: u64,
    pub retry: u64,
}

impl Tally {
    pub fn of(outcomes: &[Outcome]) -> Self {
        let mut t = Self::default();
        for o in outcomes {
            match o {
                Outcome::Sent { .. } => t.sent += 1,
                Outcome::Duplicate => t.duplicate += 1,
                Outcome::Dropped(_) => t.dropped += 1,
                Outcome::Retry(_) => t.retry += 1,
            }
        }
        t
    }
}

/// Registers the series at zero (a fresh poller's `/metrics` has them all).
pub fn register() {
    for outcome in OUTCOMES {
        cadenza_platform::metrics::counter(
            "mailer_jobs_total",
            "Email jobs handled, by outcome (sent, duplicate: already sent per the ledger, dropped: malformed, retry: redelivered by SQS).",
            &[("outcome", outcome)],
        );
    }
    metrics::describe_histogram!(
        "mailer_batch_duration_seconds",
        metrics::Unit::Seconds,
        "Time to handle one SQS batch."
    );
}

/// Counts a batch into the process's metrics.
pub fn record(outcomes: &[Outcome], took: Duration) {
    for o in outcomes {
        metrics::counter!("mailer_jobs_total", "outcome" => o.label()).increment(1);
    }
    metrics::histogram!("mailer_batch_duration_seconds").record(took.as_secs_f64());
}

/// One EMF document for a batch (a single line of JSON).
pub fn emf_line(tally: Tally, took: Duration, now_ms: i64) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": "Cadenza/Mailer",
                "Dimensions": [[]],
                "Metrics": [
                    {"Name": "Sent", "Unit": "Count"},
                    {"Name": "Duplicate", "Unit": "Count"},
                    {"Name": "Dropped", "Unit": "Count"},
                    {"Name": "Retried", "Unit": "Count"},
                    {"Name": "BatchMilliseconds", "Unit": "Milliseconds"},
                ],
            }],
        },
        "Sent": tally.sent,
        "Duplicate": tally.duplicate,
        "Dropped": tally.dropped,
        "Retried": tally.retry,
        "BatchMilliseconds": took.as_secs_f64() * 1000.0,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_line_names_every_metric_it_carries() {
        let t = Tally {
            sent: 3,
            duplicate: 1,
            dropped: 0,
            retry: 2,
        };
        let line = emf_line(t, Duration::from_millis(250), 1_800_000_000_000);
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let meta = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(meta["Namespace"], "Cadenza/Mailer");
        assert_eq!(v["_aws"]["Timestamp"], 1_800_000_000_000_i64);
        // EMF: every declared metric has a top-level value of that name.
        for m in meta["Metrics"].as_array().unwrap() {
            let name = m["Name"].as_str().unwrap();
            assert!(v[name].is_number(), "{name} has no value");
        }
        assert_eq!(
            (v["Sent"].as_u64(), v["Retried"].as_u64()),
            (Some(3), Some(2))
        );
        assert_eq!(v["BatchMilliseconds"].as_f64(), Some(250.0));
    }
}
