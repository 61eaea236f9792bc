//! The metrics endpoint's HTTP listener, built so that nobody can lock it
//! and nobody can slow the request path through it.
//!
//! - Apart from the request path: its own thread running its own
//!   single-threaded tokio runtime, at the lowest CPU priority (nice 19),
//!   so a flood of scrapes competes with the gateway for no tokio worker
//!   and loses to it for CPU (measured: nice 10 kept 71% of the gateway's
//!   rate under a flood, nice 19 84%; see docs/operations.md).
//! - Bounded: at most `MAX_CONNECTIONS` at once, one request each
//!   (no keep-alive), each connection closed after `CONNECTION_DEADLINE`
//!   whatever it does, request headers within `HEADER_TIMEOUT`.
//! - Not lockable: when a connection arrives at the bound, the oldest
//!   connection that has not yet sent a whole request is closed to make
//!   room. A scraper sends its request as soon as it connects and is
//!   answered within milliseconds, so holders that trickle or never send
//!   their headers (slowloris) are always older than it: they are the ones
//!   closed. A per-connection timeout alone would not do: holders reopened
//!   as they time out keep every slot full. A connection that has been
//!   answered is never evicted (its deadline bounds it).

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::task::AbortHandle;

/// Connections served at once.
const MAX_CONNECTIONS: usize = 64;
/// A client must send its request headers within this.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// No connection lives longer than this.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(10);
/// hyper's smallest read buffer: a request head is a few hundred bytes.
const MAX_HEAD_BYTES: usize = 8192;
/// How much lower than the server's the endpoint's CPU priority is.
const NICENESS: i32 = 19;

/// Binds `addr` now and serves every request with `respond` on a thread of
/// its own. Returns the bound address.
pub fn start<F>(addr: SocketAddr, respond: F) -> Result<SocketAddr, String>
where
    F: Fn(&Request<Incoming>) -> Response<Full<Bytes>> + Send + Sync + 'static,
{
    let reason = |e: std::io::Error| crate::keys::io_reason(&e);
    let listener = TcpListener::bind(addr).map_err(reason)?;
    listener.set_nonblocking(true).map_err(reason)?;
    let bound = listener.local_addr().map_err(reason)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start its runtime: {}", reason(e)))?;
    let respond = Arc::new(respond);
    std::thread::Builder::new()
        .name("pssst-metrics".into())
        .spawn(move || {
            // Only this thread: Linux applies a thread id's priority to
            // that thread. Failing to lower it costs nothing but isolation.
            let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), NICENESS);
            runtime.block_on(serve(listener, respond));
        })
        .map_err(|e| format!("cannot start its thread: {}", reason(e)))?;
    Ok(bound)
}

/// One open connection, oldest first in `Connections`.
struct Open {
    id: u64,
    /// Set once the whole request head has arrived.
    answered: Arc<AtomicBool>,
    abort: AbortHandle,
}

#[derive(Default)]
struct Connections(Mutex<Vec<Open>>);

impl Connections {
    /// Makes room for one more: true if there is (now) a free slot.
    fn make_room(&self) -> bool {
        let mut open = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if open.len() < MAX_CONNECTIONS {
            return true;
        }
        match open
            .iter()
            .position(|c| !c.answered.load(Ordering::Acquire))
        {
            Some(oldest) => {
                open.remove(oldest).abort.abort();
                true
            }
            None => false,
        }
    }

    fn add(&self, connection: Open) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(connection);
    }

    fn remove(&self, id: u64) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|c| c.id != id);
    }
}

/// Removes its connection from the table however the task ends (finished,
/// timed out, or aborted to make room).
struct Slot {
    connections: Arc<Connections>,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connections.remove(self.id);
    }
}

async fn serve<F>(listener: TcpListener, respond: Arc<F>)
where
    F: Fn(&Request<Incoming>) -> Response<Full<Bytes>> + Send + Sync + 'static,
{
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let connections = Arc::new(Connections::default());
    for id in 0u64.. {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if !connections.make_room() {
            continue;
        }
        let answered = Arc::new(AtomicBool::new(false));
        let slot = Slot {
            connections: Arc::clone(&connections),
            id,
        };
        let (flag, respond) = (Arc::clone(&answered), Arc::clone(&respond));
        let task = tokio::spawn(async move {
            let _slot = slot;
            let service = service_fn(move |request| {
                flag.store(true, Ordering::Release);
                let response = respond(&request);
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            let connection = http1::Builder::new()
                .keep_alive(false)
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_DEADLINE, connection).await;
        });
        // The runtime has one thread: the task cannot run (and end) before
        // it is in the table.
        connections.add(Open {
            id,
            answered,
            abort: task.abort_handle(),
        });
        // Let the new connection read its request before the next accept,
        // so that a burst of connections cannot evict it first.
        tokio::task::yield_now().await;
    }
}
