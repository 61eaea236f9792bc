//! [`ServerConfig`]: how a [`UdpServer`](crate::UdpServer) runs.

use std::collections::HashSet;
use std::time::Duration;

use pssst_core::{CipherSuites, PublicKey};

/// How a [`UdpServer`](crate::UdpServer) runs. Build it with the methods, starting from
/// [`ServerConfig::default()`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub(super) workers: usize,
    pub(super) allow_amplification: bool,
    pub(super) authorized_clients: Option<HashSet<PublicKey>>,
    pub(super) suites: CipherSuites,
    pub(super) reply_cache: Option<(usize, Duration)>,
    pub(super) reply_cache_ids: Option<usize>,
    pub(super) reuse_port: bool,
    pub(super) recv_buffer_bytes: usize,
    pub(super) shutdown_poll: Duration,
    pub(super) max_in_flight: usize,
    pub(super) drain_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            workers: 0,
            allow_amplification: false,
            authorized_clients: None,
            suites: CipherSuites::ALL,
            reply_cache: None,
            reply_cache_ids: None,
            reuse_port: false,
            recv_buffer_bytes: 4 << 20,
            shutdown_poll: Duration::from_millis(50),
            max_in_flight: 256,
            drain_timeout: Duration::from_secs(5),
        }
    }
}

impl ServerConfig {
    /// Worker threads (each with its own socket); 0, the default, means one
    /// per available core.
    pub fn workers(mut self, workers: usize) -> ServerConfig {
        self.workers = workers;
        self
    }

    /// Anti-amplification. By default no reply may be larger than the
    /// request that caused it, client-authenticated or not: a source
    /// address is not authenticated, and a recorded request (anyone's) can
    /// be replayed from a spoofed one, so the server must not turn into an
    /// amplifier. `true` lifts the limit.
    pub fn allow_amplification(mut self, allow: bool) -> ServerConfig {
        self.allow_amplification = allow;
        self
    }

    /// The cipher suites to accept (default: every suite pssst-core
    /// implements). Requests of other suites are dropped before any
    /// cryptography and counted as an unknown suite. Each reply uses the
    /// suite of its request.
    pub fn suites(mut self, suites: CipherSuites) -> ServerConfig {
        self.suites = suites;
        self
    }

    /// Closed service: answer only client-authenticated requests from these
    /// keys. Anonymous requests are dropped before any cryptography,
    /// requests from other keys after decryption, before the handler.
    pub fn authorized_clients(mut self, keys: impl IntoIterator<Item = PublicKey>) -> ServerConfig {
        self.authorized_clients = Some(keys.into_iter().collect());
        self
    }

    /// Never run a request twice within `ttl`, and send copies the same
    /// bytes: needed for handlers whose output varies, since a retry is
    /// answered under the same AES-GCM key and nonce. The ids of answered
    /// requests are kept at least `ttl` (a few bits each; see
    /// [`reply_cache_ids`](Self::reply_cache_ids)); the sealed replies are
    /// kept in `budget_bytes`, oldest evicted first, and a copy whose reply
    /// was evicted gets none ([`Counter::DroppedReplyForgotten`](crate::Counter)).
    /// `ttl` must be at least [`pssst_core::MIN_REPLY_MEMORY`];
    /// [`UdpServer::bind`](crate::UdpServer::bind) refuses a shorter one.
    pub fn reply_cache(mut self, budget_bytes: usize, ttl: Duration) -> ServerConfig {
        self.reply_cache = Some((budget_bytes, ttl));
        self
    }

    /// Room for the ids of this many new requests per reply-cache TTL
    /// (default: [`DEFAULT_IDS_PER_SECOND`](crate::DEFAULT_IDS_PER_SECOND)
    /// per second of TTL); about 2.5 bytes each. Past it, new requests are
    /// dropped ([`Counter::DroppedCacheFull`](crate::Counter)): size it above
    /// the server's peak request rate times the TTL.
    pub fn reply_cache_ids(mut self, ids: usize) -> ServerConfig {
        self.reply_cache_ids = Some(ids);
        self
    }

    /// Join a pool of processes serving the same address on this host (all
    /// of them with this set): the kernel spreads datagrams over them by
    /// flow. Off by default: [`UdpServer::bind`](crate::UdpServer::bind) then fails with
    /// `AddrInUse` when another process already serves the address, instead
    /// of silently taking a share of its traffic.
    pub fn reuse_port(mut self, join_pool: bool) -> ServerConfig {
        self.reuse_port = join_pool;
        self
    }

    /// `SO_RCVBUF` asked for each socket (the kernel may cap it); default 4 MiB.
    pub fn recv_buffer_bytes(mut self, bytes: usize) -> ServerConfig {
        self.recv_buffer_bytes = bytes;
        self
    }

    /// The most requests handed to the handler and not answered yet; past
    /// it new requests are dropped ([`Counter::DroppedBusy`](crate::Counter)),
    /// before any X25519 work when possible, never queued. Default 256. A
    /// blocking [`Handler`](crate::Handler) never has more in flight than
    /// there are workers.
    pub fn max_in_flight(mut self, requests: usize) -> ServerConfig {
        self.max_in_flight = requests;
        self
    }

    /// How long [`UdpServer::shutdown`](crate::UdpServer::shutdown) waits for
    /// the requests in flight to be answered; default 5 s.
    pub fn drain_timeout(mut self, timeout: Duration) -> ServerConfig {
        self.drain_timeout = timeout;
        self
    }

    /// How often idle workers look for a shutdown request; default 50 ms.
    pub fn shutdown_poll(mut self, interval: Duration) -> ServerConfig {
        self.shutdown_poll = interval;
        self
    }
}
