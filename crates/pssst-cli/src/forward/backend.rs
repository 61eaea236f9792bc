//! The gateway's HTTP/1 client: keep-alive connections to its one backend,
//! reused last in, first out, each driven by a task on the handler runtime.
//!
//! In place of hyper-util's pooled `Client`: with one backend there is no
//! pool key to hash, no `Host` header to format per request, no lazy
//! connect raced against the checkout and no task to return a connection
//! (see docs/benchmarks.md for what that saved). What the backend is sent
//! is the same: the request in origin form, `Host` last.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::HeaderValue;
use hyper::{Response, Uri};
use hyper_util::rt::TokioIo;
use pssst_udp::HandlerFailure;
use tokio::net::TcpStream;
use tokio::runtime::Handle;

/// One request to the backend.
pub(super) type Post = hyper::Request<Full<Bytes>>;
/// One connection's sending half, lent to one exchange at a time.
pub(super) type Connection = SendRequest<Full<Bytes>>;

/// How long a connection may wait unused before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// One HTTP backend and its idle keep-alive connections.
#[derive(Debug)]
pub(super) struct Backend {
    /// `host:port`, what is connected to.
    address: String,
    /// The request target in origin form (`/path?query`).
    target: Uri,
    /// The `Host` header: `host`, or `host:port` for a port other than 80.
    host: HeaderValue,
    connect_timeout: Duration,
    /// Newest last: connections are taken from the end.
    idle: Mutex<Vec<Idle>>,
}

#[derive(Debug)]
struct Idle {
    connection: Connection,
    since: Instant,
}

impl Backend {
    /// The backend at `url` (an `http://` URL with a host), connections
    /// made within `connect_timeout`, idle ones closed by a task on
    /// `runtime` while the backend lives.
    pub(super) fn new(
        url: &Uri,
        connect_timeout: Duration,
        runtime: &Handle,
    ) -> Result<Arc<Backend>, String> {
        let host = url.host().ok_or("no host")?;
        let port = url.port_u16().unwrap_or(80);
        let host_header = match url.port_u16() {
            Some(port) if port != 80 => format!("{host}:{port}"),
            _ => host.to_owned(),
        };
        let target = match url.path_and_query() {
            Some(path) if path.as_str() != "/" => Uri::builder()
                .path_and_query(path.clone())
                .build()
                .map_err(|e| e.to_string())?,
            _ => Uri::from_static("/"),
        };
        let backend = Arc::new(Backend {
            address: format!("{host}:{port}"),
            target,
            host: HeaderValue::from_str(&host_header).map_err(|e| e.to_string())?,
            connect_timeout,
            idle: Mutex::new(Vec::new()),
        });
        runtime.spawn(close_idle(Arc::downgrade(&backend)));
        Ok(backend)
    }

    /// The request target, in origin form.
    pub(super) fn target(&self) -> Uri {
        self.target.clone()
    }

    /// The `Host` header's value.
    pub(super) fn host(&self) -> HeaderValue {
        self.host.clone()
    }

    /// Sends `post` on the newest idle connection, or a new one. Returns
    /// the response and the connection, for [`release`](Self::release)
    /// once the response is read. A connection that closed while idle
    /// hands the request back unsent: the next one takes it.
    pub(super) async fn send(
        &self,
        mut post: Post,
    ) -> Result<(Response<Incoming>, Connection), HandlerFailure> {
        let failed = |e: hyper::Error| {
            // Per request, so at debug level only (RUST_LOG=debug shows them).
            tracing::debug!("--forward: {e}");
            HandlerFailure::Failed
        };
        while let Some(mut connection) = self.take_idle() {
            match connection.try_send_request(post).await {
                Ok(response) => return Ok((response, connection)),
                Err(mut error) => match error.take_message() {
                    Some(unsent) => post = unsent,
                    None => return Err(failed(error.into_error())),
                },
            }
        }
        let mut connection = self.connect().await?;
        match connection.send_request(post).await {
            Ok(response) => Ok((response, connection)),
            Err(e) => Err(failed(e)),
        }
    }

    /// Puts a connection whose response was read to the end back among
    /// the idle ones, once it takes another request.
    pub(super) async fn release(&self, mut connection: Connection) {
        if connection.ready().await.is_ok() {
            self.idle().push(Idle {
                connection,
                since: Instant::now(),
            });
        }
    }

    /// The newest idle connection that can take a request; older ones than
    /// an expired one are expired too, and closed with it.
    fn take_idle(&self) -> Option<Connection> {
        let mut idle = self.idle();
        while let Some(Idle { connection, since }) = idle.pop() {
            if since.elapsed() < IDLE_TIMEOUT && connection.is_ready() {
                return Some(connection);
            }
        }
        None
    }

    /// A new connection, its task spawned; refused, unresolvable or too
    /// slow to connect is unreachable.
    async fn connect(&self) -> Result<Connection, HandlerFailure> {
        let unreachable = |e: &dyn std::fmt::Display| {
            tracing::debug!("--forward: cannot connect to {}: {e}", self.address);
            HandlerFailure::Unreachable
        };
        let stream = tokio::time::timeout(self.connect_timeout, TcpStream::connect(&self.address))
            .await
            .map_err(|e| unreachable(&e))?
            .map_err(|e| unreachable(&e))?;
        stream.set_nodelay(true).map_err(|e| unreachable(&e))?;
        let (connection, driver) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| unreachable(&e))?;
        tokio::spawn(async move {
            if let Err(e) = driver.await {
                tracing::debug!("--forward: connection: {e}");
            }
        });
        Ok(connection)
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Closes the connections idle for longer than [`IDLE_TIMEOUT`] (or closed
/// by the backend), checking as often, until the backend is dropped.
async fn close_idle(backend: Weak<Backend>) {
    let mut every = tokio::time::interval(IDLE_TIMEOUT);
    loop {
        every.tick().await;
        let Some(backend) = backend.upgrade() else {
            return;
        };
        backend
            .idle()
            .retain(|idle| idle.since.elapsed() < IDLE_TIMEOUT && !idle.connection.is_closed());
    }
}

#[cfg(test)]
mod tests {
    use super::Backend;
    use std::time::Duration;

    fn backend(url: &str) -> (String, String, String) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let backend = Backend::new(
            &url.parse().unwrap(),
            Duration::from_secs(1),
            runtime.handle(),
        )
        .unwrap();
        (
            backend.address.clone(),
            backend.target().to_string(),
            backend.host().to_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn the_request_is_in_origin_form_with_the_host_hyper_util_would_send() {
        let expect = |a: &str, t: &str, h: &str| (a.to_owned(), t.to_owned(), h.to_owned());
        assert_eq!(
            backend("http://127.0.0.1:8080/app?x=1"),
            expect("127.0.0.1:8080", "/app?x=1", "127.0.0.1:8080")
        );
        assert_eq!(
            backend("http://localhost"),
            expect("localhost:80", "/", "localhost")
        );
        assert_eq!(
            backend("http://example.com:80/"),
            expect("example.com:80", "/", "example.com")
        );
        assert_eq!(
            backend("http://[::1]:9000/a/b"),
            expect("[::1]:9000", "/a/b", "[::1]:9000")
        );
    }
}
