//! Logs and metrics. Logs carry opaque ids only (report ids, request ids): never a name,
//! number, passcode, token or query string. Human format by default, JSON on request.

use std::sync::OnceLock;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::domain::Channel;

/// Install the global subscriber: one JSON object per line when `json`, else readable
/// lines; `filter` a tracing filter (`JUBAO_LOG_FILTER` / `[log] filter`, checked when the
/// configuration loads). Safe to call twice (the second call is ignored).
pub fn init<W>(json: bool, filter: &str, writer: W, ansi: bool)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.with_target(false).try_init()
    };
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub tips: IntCounterVec,
    pub up: IntGauge,
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// This process's metrics (each instance exports its own; Prometheus sums them).
pub fn metrics() -> &'static Metrics {
    METRICS.get_or_init(|| {
        let registry = Registry::new_custom(Some("jubao".into()), None).expect("valid prefix");
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route pattern and status",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            ),
            &["route"],
        )
        .expect("valid metric");
        let tips = IntCounterVec::new(
            Opts::new("tips_received_total", "Tips stored, by channel"),
            &["channel"],
        )
        .expect("valid metric");
        let up = IntGauge::new("up", "1 while the process serves").expect("valid metric");
        for c in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(tips.clone()),
            Box::new(up.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Metrics {
            registry,
            http_requests,
            http_duration,
            tips,
            up,
        }
    })
}

/// The calendar's figures in Prometheus text: open provisional clocks (omitted when the
/// database could not be read) and the years with a holiday notice loaded.
pub fn calendar_metrics(provisional: Option<i64>, years: &[i32]) -> String {
    let registry = Registry::new_custom(Some("jubao".into()), None).expect("valid prefix");
    if let Some(n) = provisional {
        let g = IntGauge::new(
            "calendar_provisional_open_clocks",
            "Open deadlines computed across a year with no holiday notice loaded",
        )
        .expect("valid metric");
        g.set(n);
        registry.register(Box::new(g)).expect("unique metric names");
    }
    let loaded = prometheus::IntGaugeVec::new(
        Opts::new(
            "calendar_year_loaded",
            "1 for each year whose holiday notice is loaded",
        ),
        &["year"],
    )
    .expect("valid metric");
    for y in years {
        loaded.with_label_values(&[&y.to_string()]).set(1);
    }
    registry
        .register(Box::new(loaded))
        .expect("unique metric names");
    let mut buf = Vec::new();
    TextEncoder::new()
        .encode(&registry.gather(), &mut buf)
        .expect("text encoding to a Vec cannot fail");
    String::from_utf8(buf).expect("prometheus text is utf-8")
}

/// The upload bound's occupancy at scrape time (`channels::gate`): forms with files in
/// flight and the bytes they hold.
pub fn upload_metrics(forms: usize, bytes: u64) -> String {
    gauges(&[
        (
            "uploads_in_flight",
            "Forms with files being received or processed now",
            forms as i64,
        ),
        (
            "upload_bytes_in_flight",
            "Bytes those forms hold against [evidence] upload_bytes_in_flight",
            i64::try_from(bytes).unwrap_or(i64::MAX),
        ),
    ])
}

/// The backup schedule's figures (`[backup]` on): when the newest backup in the folder was
/// made (0 when there is none, so an alert on its age fires) and this process's failures.
pub fn backup_metrics(last_success: Option<u64>, failures: u64) -> String {
    let registry = Registry::new_custom(Some("jubao".into()), None).expect("valid prefix");
    let last = IntGauge::new(
        "backup_last_success_timestamp_seconds",
        "When the newest scheduled backup was written (Unix time; 0: none yet)",
    )
    .expect("valid metric");
    last.set(last_success.map_or(0, |t| i64::try_from(t).unwrap_or(i64::MAX)));
    let failed = prometheus::IntCounter::new(
        "backup_failures_total",
        "Scheduled backups that failed in this process",
    )
    .expect("valid metric");
    failed.inc_by(failures);
    registry
        .register(Box::new(last))
        .expect("unique metric names");
    registry
        .register(Box::new(failed))
        .expect("unique metric names");
    let mut buf = Vec::new();
    TextEncoder::new()
        .encode(&registry.gather(), &mut buf)
        .expect("text encoding to a Vec cannot fail");
    String::from_utf8(buf).expect("prometheus text is utf-8")
}

/// Gauges given as (name, help, value), in Prometheus text.
pub fn gauges(items: &[(&'static str, &'static str, i64)]) -> String {
    let registry = Registry::new_custom(Some("jubao".into()), None).expect("valid prefix");
    for (name, help, value) in items {
        let g = IntGauge::new(*name, *help).expect("valid metric");
        g.set(*value);
        registry.register(Box::new(g)).expect("unique metric names");
    }
    let mut buf = Vec::new();
    TextEncoder::new()
        .encode(&registry.gather(), &mut buf)
        .expect("text encoding to a Vec cannot fail");
    String::from_utf8(buf).expect("prometheus text is utf-8")
}

impl Metrics {
    pub fn tips_received(&self, channel: Channel) {
        self.tips.with_label_values(&[channel.code()]).inc();
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding to a Vec cannot fail");
        String::from_utf8(buf).expect("prometheus text is utf-8")
    }
}
