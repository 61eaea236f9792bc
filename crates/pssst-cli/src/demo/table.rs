//! The demo's summary: a table with one row per group of transactions,
//! then the servers' counters.

use pssst_udp::{Counter, Stats};

use crate::load::{Report, format_count, format_us};

/// One line of the table.
pub struct Row {
    pub name: &'static str,
    pub attempted: u64,
    pub outcome: Outcome,
}

/// How a row's transactions went.
pub enum Outcome {
    /// Valid transactions: how many verified, how fast.
    Verified(Report),
    /// Transactions the server must refuse: how many it did.
    Refused(u64),
}

impl Row {
    /// Retransmissions the client made (none for refusals).
    pub fn retransmissions(&self) -> u64 {
        match &self.outcome {
            Outcome::Verified(report) => report.retransmissions,
            Outcome::Refused(_) => 0,
        }
    }
}

/// Prints the header line, then one line per row.
pub fn print(rows: &[Row]) {
    say!();
    say!(
        "{:<38} {:>6} {:>9} {:>11} {:>9} {:>9}",
        "transactions",
        "sent",
        "verified",
        "per second",
        "p50",
        "p99"
    );
    for row in rows {
        match &row.outcome {
            Outcome::Verified(r) => say!(
                "{:<38} {:>6} {:>9} {:>11} {:>9} {:>9}",
                row.name,
                row.attempted,
                r.ok,
                format_count(r.throughput()),
                format_us(r.percentile_us(50.0)),
                format_us(r.percentile_us(99.0)),
            ),
            Outcome::Refused(refused) => say!(
                "{:<38} {:>6} {:>9}   {} of {} refused, as they must be",
                row.name,
                row.attempted,
                "-",
                refused,
                row.attempted
            ),
        }
    }
}

/// Prints the servers' totals and every drop reason that occurred.
pub fn print_counters(total: &Stats) {
    say!(
        "server counters (both servers): received {}, answered {}, dropped {}",
        total.received(),
        total.answered(),
        total.dropped()
    );
    for counter in Counter::DROPS {
        if total.get(counter) > 0 {
            say!("  dropped {:<20} {:>6}", counter.name(), total.get(counter));
        }
    }
}
