//! `pssst serve --metrics ADDR`: `GET /metrics` in the Prometheus text
//! format 0.0.4, or OpenMetrics when the scraper's Accept header asks for
//! it, on a TCP listener and thread of its own. The names are stable;
//! dashboards are built on them:
//!
//! - `pssst_requests_received_total`: datagrams received;
//! - `pssst_replies_sent_total{key="<first 8 hex digits>"}`: replies sent,
//!   per server key;
//! - `pssst_requests_unanswered_total{reason="..."}`: every other ending,
//!   one reason per counter of `pssst_udp::Counter` (`too_short`, `busy`,
//!   `no_reply`, `handler_timeout`, `send_failed`, ...), so that once idle,
//!   received = sent + unanswered. Not "dropped": a handler's choice not to
//!   reply and a failed send are endings without a reply too;
//! - `pssst_in_flight`: requests at a handler now;
//! - `pssst_handler_duration_seconds`: histogram of handler run times.
//!
//! The counters are read from the server at each scrape: nothing is
//! counted twice.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use pssst_udp::{Counter, HANDLER_DURATION_BOUNDS, ServerMonitor};

use super::metrics_listener;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT_004: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug)]
struct ServerCollector(ServerMonitor);

impl Collector for ServerCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self.0.stats();
        encoder
            .encode_descriptor(
                "pssst_requests_received",
                "Datagrams received",
                None,
                MetricType::Counter,
            )?
            .encode_counter::<NoLabelSet, _, u64>(&stats.received(), None)?;
        {
            let mut sent = encoder.encode_descriptor(
                "pssst_replies_sent",
                "Replies sent, by server key (first 8 hex digits)",
                None,
                MetricType::Counter,
            )?;
            for (key, replies) in self.0.replies_by_key() {
                let prefix = key.to_string()[..8].to_owned();
                sent.encode_family(&[("key", prefix)])?
                    .encode_counter::<NoLabelSet, _, u64>(&replies, None)?;
            }
        }
        {
            let mut unanswered = encoder.encode_descriptor(
                "pssst_requests_unanswered",
                "Datagrams received that got no reply sent, by reason",
                None,
                MetricType::Counter,
            )?;
            for counter in Counter::ALL {
                if matches!(counter, Counter::Received | Counter::Answered) {
                    continue;
                }
                unanswered
                    .encode_family(&[("reason", counter.name())])?
                    .encode_counter::<NoLabelSet, _, u64>(&stats.get(counter), None)?;
            }
        }
        encoder
            .encode_descriptor(
                "pssst_in_flight",
                "Requests at a handler now",
                None,
                MetricType::Gauge,
            )?
            .encode_gauge(&(self.0.in_flight() as u64))?;
        let durations = self.0.handler_durations();
        // The encoder wants each bucket's own count (it accumulates them).
        let mut buckets = Vec::with_capacity(HANDLER_DURATION_BOUNDS.len() + 1);
        let mut below = 0;
        for (bound, cumulative) in HANDLER_DURATION_BOUNDS.iter().zip(durations.buckets) {
            buckets.push((*bound, cumulative - below));
            below = cumulative;
        }
        buckets.push((f64::INFINITY, durations.count - below));
        encoder
            .encode_descriptor(
                "pssst_handler_duration",
                "Time from handing a request to the handler to its answer",
                Some(&Unit::Seconds),
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(durations.sum_seconds, durations.count, &buckets, None)
    }
}

/// Binds `addr` now (an error is a startup error) and serves `/metrics` on
/// a thread of its own (see `metrics_listener`). Returns the bound address.
pub fn start(addr: SocketAddr, monitor: ServerMonitor) -> Result<SocketAddr, String> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(ServerCollector(monitor)));
    let registry = Arc::new(registry);
    metrics_listener::start(addr, move |request| respond(request, &registry))
        .map_err(|e| format!("--metrics {addr}: {e}"))
}

fn respond(request: &Request<hyper::body::Incoming>, registry: &Registry) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => {
            let format = Format::negotiate(request.headers().get(ACCEPT));
            match format.encode(registry) {
                Ok(text) => (StatusCode::OK, format.content_type(), text),
                Err(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    String::new(),
                ),
            }
        }
        (_, "/metrics") => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        ),
        _ => (StatusCode::NOT_FOUND, "text/plain", "see /metrics\n".into()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The two exposition formats, negotiated as Prometheus' own client
/// libraries do: OpenMetrics only for a scraper that asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `text/plain; version=0.0.4`, the classic format every scraper reads.
    Text004,
    OpenMetrics,
}

impl Format {
    /// OpenMetrics when a media range of the Accept header is
    /// `application/openmetrics-text` (not refused with `q=0`).
    fn negotiate(accept: Option<&HeaderValue>) -> Format {
        let Some(accept) = accept.and_then(|value| value.to_str().ok()) else {
            return Format::Text004;
        };
        let asks = accept.split(',').any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
        });
        if asks {
            Format::OpenMetrics
        } else {
            Format::Text004
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Text004 => TEXT_004,
            Format::OpenMetrics => OPENMETRICS,
        }
    }

    fn encode(self, registry: &Registry) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, registry)?;
        Ok(match self {
            Format::OpenMetrics => text,
            Format::Text004 => openmetrics_to_text_004(&text),
        })
    }
}

/// prometheus-client writes OpenMetrics only. For our families the classic
/// format differs in three ways: a counter's HELP and TYPE lines name the
/// sample (`x_total`, not the family `x`), and there is no `# UNIT` line and
/// no `# EOF`. Sample lines are the same in both.
fn openmetrics_to_text_004(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(openmetrics.len() + 8 * counters.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let descriptor = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|prefix| Some((prefix, line.strip_prefix(prefix)?)));
        match descriptor {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let total = if counters.contains(&name) {
                    "_total"
                } else {
                    ""
                };
                text.push_str(&format!("{prefix}{name}{total} {tail}\n"));
            }
            None => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ending_but_a_reply_is_an_unanswered_reason() {
        let (key, _) = pssst_core::generate_key_pair().unwrap();
        let config = pssst_udp::ServerConfig::default().workers(1);
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let server = pssst_udp::UdpServer::bind(loopback, key, config, pssst_udp::Echo).unwrap();
        let mut registry = Registry::default();
        registry.register_collector(Box::new(ServerCollector(server.monitor())));
        let text = Format::Text004.encode(&registry).unwrap();
        server.shutdown();
        let reasons: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("pssst_requests_unanswered_total{reason=\""))
            .filter_map(|rest| rest.strip_suffix("\"} 0"))
            .collect();
        let expected: Vec<&str> = Counter::ALL
            .into_iter()
            .filter(|c| !matches!(c, Counter::Received | Counter::Answered))
            .map(Counter::name)
            .collect();
        assert_eq!(reasons, expected, "{text}");
        assert!(text.contains("# TYPE pssst_requests_unanswered_total counter\n"));
        assert!(!text.contains("dropped"), "{text}");
    }

    #[test]
    fn openmetrics_only_when_asked_for() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        for (accept, expected) in [
            (None, Format::Text004),
            (Some("*/*"), Format::Text004),
            (Some("text/plain"), Format::Text004),
            (Some(prometheus), Format::OpenMetrics),
            (Some("Application/OpenMetrics-Text"), Format::OpenMetrics),
            (Some("application/openmetrics-text; q=0"), Format::Text004),
        ] {
            let header = accept.map(|a| HeaderValue::from_str(a).unwrap());
            assert_eq!(Format::negotiate(header.as_ref()), expected, "{accept:?}");
        }
    }

    #[test]
    fn the_classic_format_names_counters_by_their_sample() {
        let openmetrics = "# HELP a_seconds Time.\n# TYPE a_seconds histogram\n# UNIT a_seconds seconds\na_seconds_sum 1.0\n# HELP b Things.\n# TYPE b counter\nb_total{r=\"x\"} 2\n# EOF\n";
        assert_eq!(
            openmetrics_to_text_004(openmetrics),
            "# HELP a_seconds Time.\n# TYPE a_seconds histogram\na_seconds_sum 1.0\n# HELP b_total Things.\n# TYPE b_total counter\nb_total{r=\"x\"} 2\n"
        );
    }
}
