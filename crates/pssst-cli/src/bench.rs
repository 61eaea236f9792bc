//! `pssst bench`: load-test a server (see `load`) and print the report.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use pssst_udp::UdpClient;

use crate::client::{ClientArgs, client_for};
use crate::load::{self, Report};
use crate::{args, stdout};

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Transactions to send
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    requests: u64,
    /// Stop after this many seconds even if not all were sent
    #[arg(long, value_name = "SECONDS", value_parser = args::seconds_in(0.001, 86_400.0))]
    duration: Option<Duration>,
    /// Client threads, each with its own client (sockets), one transaction
    /// in flight
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    concurrency: u16,
    /// Message size in bytes
    #[arg(long, default_value_t = 64)]
    size: usize,
}

/// Runs the load, prints the report; any failed transaction is an error.
pub(crate) fn run(args: BenchArgs) -> Result<(), String> {
    let (server, client, schedule) = client_for(&args.client)?;
    let max = UdpClient::connect(server, client.clone(), schedule)
        .map_err(|e| format!("cannot open a socket to {server}: {e}"))?
        .max_message_len();
    if args.size > max {
        return Err(format!(
            "--size {}: at most {max} bytes fit in one datagram",
            args.size
        ));
    }
    let load = load::Load {
        server,
        client,
        schedule,
        requests: args.requests,
        duration: args.duration,
        concurrency: args.concurrency.into(),
        size: args.size,
        progress: true,
    };
    let report = load::run(&load, Arc::new(|m: &[u8]| m.to_vec()))?;
    print_report(&args, server, &report)?;
    if report.failed() > 0 {
        return Err(format!("bench: {} transactions failed", report.failed()));
    }
    Ok(())
}

fn print_report(args: &BenchArgs, server: SocketAddr, report: &Report) -> Result<(), String> {
    let clients = if args.client.key.is_some() {
        "client-authenticated"
    } else {
        "anonymous"
    };
    stdout::line(&format!(
        "bench: {server}, {} clients, {}-byte {clients} messages",
        args.concurrency, args.size,
    ))?;
    stdout::line(&format!(
        "transactions  {} ok, {} failed ({} timed out, {} wrong reply, {} errors), {} retransmissions",
        report.ok,
        report.failed(),
        report.timed_out,
        report.wrong,
        report.errors,
        report.retransmissions
    ))?;
    stdout::line(&format!(
        "retried       {} answered after a retransmission, {} of them on a retransmission's new source port",
        report.retried, report.answered_on_new_port
    ))?;
    if report.failed() > 0 {
        let failing: Vec<String> = report
            .failing_clients()
            .map(|(client, t)| format!("client {client}: {} of {}", t.failed, t.made))
            .collect();
        stdout::line(&format!(
            "failed by     {} of {} clients: {}",
            failing.len(),
            report.clients.len(),
            failing.join(", ")
        ))?;
    }
    if let Some(error) = &report.first_error {
        stdout::line(&format!("first error   {error}"))?;
    }
    stdout::line(&format!(
        "throughput    {} transactions/s over {:.2} s",
        load::format_count(report.throughput()),
        report.elapsed.as_secs_f64()
    ))?;
    if report.ok == 0 {
        return stdout::line("latency       none: no transaction was answered");
    }
    let failures = if report.failed() > 0 {
        format!(
            " (of the {} answered; the slowest failure took {:.1} s)",
            report.ok,
            report.slowest_failure.as_secs_f64()
        )
    } else {
        String::new()
    };
    stdout::line(&format!(
        "latency       p50 {}  p99 {}  p99.9 {}  max {}{failures}",
        load::format_us(report.percentile_us(50.0)),
        load::format_us(report.percentile_us(99.0)),
        load::format_us(report.percentile_us(99.9)),
        load::format_us(report.percentile_us(100.0))
    ))
}
