//! Metrics that are there from the first scrape (issue 17).
//!
//! metrics-rs creates a series on its first use, so a fresh process used to
//! answer `/metrics` with an empty body. [`init`] installs the recorder and
//! exports `cadenza_build_info` and the `process_*` families; each service
//! then [`counter`]s its domain metrics with their known labels at zero, and
//! adds [`on_scrape`] samplers for gauges read from live state (pool sizes,
//! subscription flags).

use std::sync::{Mutex, OnceLock};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The process-wide Prometheus recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
            .expect("static buckets are valid");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder may exist in tests that embed several services; the
        // handle still renders ours.
        let _ = metrics::set_global_recorder(recorder);
        // Histogram samples wait in a buffer until they are folded into the
        // buckets; without this, a process nobody scrapes keeps every sample
        // (8 bytes a request: tens of MiB in a benchmark minute).
        let upkeep = handle.clone();
        let _ = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(std::time::Duration::from_secs(5));
                upkeep.run_upkeep();
            });
        handle
    })
}

/// The commit the binary was built from (`CADENZA_GIT_COMMIT` at build time,
/// set by CI), else "unknown".
pub const COMMIT: &str = match option_env!("CADENZA_GIT_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

/// Installs the recorder; exports `cadenza_build_info{service,version,commit}`
/// (always 1) and the `process_*` families (CPU, memory, fds, threads, start
/// time), sampled at every scrape.
pub fn init(service: &'static str, version: &'static str) {
    handle();
    metrics::describe_gauge!(
        "cadenza_build_info",
        "Always 1; the labels say which build of which service this is."
    );
    metrics::gauge!(
        "cadenza_build_info",
        "service" => service,
        "version" => version,
        "commit" => COMMIT
    )
    .set(1.0);
    process_collector().describe();
    process_collector().collect();
}

fn process_collector() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(metrics_process::Collector::default)
}

/// Registers a counter series at zero, so dashboards and alerts see it
/// before its first event.
pub fn counter(name: &'static str, help: &'static str, labels: &[(&'static str, &'static str)]) {
    metrics::describe_counter!(name, help);
    let labels: Vec<metrics::Label> = labels
        .iter()
        .map(|(k, v)| metrics::Label::new(*k, *v))
        .collect();
    metrics::counter!(name, labels).increment(0);
}

type Sampler = Box<dyn Fn() -> bool + Send + Sync>;

fn samplers() -> &'static Mutex<Vec<Sampler>> {
    static SAMPLERS: OnceLock<Mutex<Vec<Sampler>>> = OnceLock::new();
    SAMPLERS.get_or_init(Default::default)
}

/// Runs `sample` before every scrape, to set gauges from live state. It
/// returns false once what it samples is gone (hold a `Weak`), and is then
/// dropped.
pub fn on_scrape(sample: impl Fn() -> bool + Send + Sync + 'static) {
    samplers()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Box::new(sample));
}

/// The Prometheus text of everything, samplers run first.
pub fn render() -> String {
    let handle = handle();
    process_collector().collect();
    samplers()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|sample| sample());
    handle.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_process_exports_build_info_process_metrics_and_zero_counters() {
        init("test-svc", "9.9.9");
        counter(
            "cadenza_test_zero_total",
            "A counter never incremented.",
            &[("kind", "a")],
        );
        let text = render();
        assert!(
            text.contains(&format!(
                "cadenza_build_info{{service=\"test-svc\",version=\"9.9.9\",commit=\"{COMMIT}\"}} 1"
            )),
            "{text}"
        );
        assert!(text.contains("# TYPE process_start_time_seconds"), "{text}");
        assert!(text.contains("process_resident_memory_bytes"), "{text}");
        assert!(
            text.contains("cadenza_test_zero_total{kind=\"a\"} 0"),
            "{text}"
        );
    }

    #[test]
    fn samplers_run_at_each_scrape_until_they_say_they_are_done() {
        use std::sync::atomic::{AtomicU32, Ordering};
        use std::sync::Arc;
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        on_scrape(move || {
            metrics::gauge!("cadenza_test_sampled").set(7.0);
            r.fetch_add(1, Ordering::SeqCst) < 1
        });
        assert!(render().contains("cadenza_test_sampled 7"));
        render();
        render();
        assert_eq!(runs.load(Ordering::SeqCst), 2, "dropped after saying false");
    }
}
