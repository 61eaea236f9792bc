//! `pssst serve --metrics ADDR`: `GET /metrics` in the Prometheus
//! (OpenMetrics) text format, on a TCP listener of its own. The names are
//! stable; dashboards are built on them:
//!
//! - `pssst_requests_received_total`: datagrams received;
//! - `pssst_replies_sent_total{key="<first 8 hex digits>"}`: replies sent,
//!   per server key;
//! - `pssst_requests_dropped_total{reason="..."}`: every other ending, one
//!   reason per counter of `pssst_udp::Counter` (`too_short`, `busy`,
//!   `handler_timeout`, ...), so received = sent + dropped once idle;
//! - `pssst_in_flight`: requests at a handler now;
//! - `pssst_handler_duration_seconds`: histogram of handler run times.
//!
//! The counters are read from the server at each scrape: nothing is
//! counted twice.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use pssst_udp::{Counter, HANDLER_DURATION_BOUNDS, ServerMonitor};

/// Connections served at once; more are closed at once.
const MAX_CONNECTIONS: usize = 64;
/// A client must send its request headers within this.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

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
            let mut dropped = encoder.encode_descriptor(
                "pssst_requests_dropped",
                "Datagrams that got no reply, by reason",
                None,
                MetricType::Counter,
            )?;
            for counter in Counter::ALL {
                if matches!(counter, Counter::Received | Counter::Answered) {
                    continue;
                }
                dropped
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
/// `runtime`. Returns the bound address.
pub fn start(
    addr: SocketAddr,
    monitor: ServerMonitor,
    runtime: &tokio::runtime::Runtime,
) -> Result<SocketAddr, String> {
    let cannot = |e: std::io::Error| format!("--metrics {addr}: {}", crate::keys::io_reason(&e));
    let listener = std::net::TcpListener::bind(addr).map_err(cannot)?;
    listener.set_nonblocking(true).map_err(cannot)?;
    let bound = listener.local_addr().map_err(cannot)?;
    let listener = {
        let _inside = runtime.enter();
        tokio::net::TcpListener::from_std(listener).map_err(cannot)?
    };
    let mut registry = Registry::default();
    registry.register_collector(Box::new(ServerCollector(monitor)));
    let registry = Arc::new(registry);
    let open = Arc::new(AtomicUsize::new(0));
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            if open.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
                open.fetch_sub(1, Ordering::AcqRel);
                continue;
            }
            let (registry, open) = (Arc::clone(&registry), Arc::clone(&open));
            tokio::spawn(async move {
                let service = service_fn(move |request| respond(request, Arc::clone(&registry)));
                let _ = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
                open.fetch_sub(1, Ordering::AcqRel);
            });
        }
    });
    Ok(bound)
}

async fn respond(
    request: Request<hyper::body::Incoming>,
    registry: Arc<Registry>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => {
            let mut text = String::new();
            match prometheus_client::encoding::text::encode(&mut text, &registry) {
                Ok(()) => (StatusCode::OK, OPENMETRICS, text),
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
    Ok(response)
}
