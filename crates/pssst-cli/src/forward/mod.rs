//! `pssst serve --forward URL`: a gateway to an HTTP application.
//!
//! Each decrypted request becomes `POST URL` with the message as its body
//! (`Content-Type: application/octet-stream`), `Pssst-Peer: ip:port` (the
//! unauthenticated source address) and, for client-authenticated requests
//! only, `Pssst-Client-Key: <64 lowercase hex>`. The message is only ever
//! the body, so it cannot set or change a header. A 2xx response's body is
//! the reply. Anything else gives no reply, counted by reason: another
//! status (`handler_failed`), no answer within the timeout
//! (`handler_timeout`), a connection refused or reset (`handler_unreachable`),
//! a body longer than the reply may be (`amplification` or
//! `reply_too_large`, read no further than that).
//!
//! Requests run on a tokio runtime, many at once; connections to the
//! backend are kept alive and reused (see `backend`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Body as _;
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Uri};
use pssst_udp::{DeferredHandler, HandlerFailure, Request, Responder};
use tokio::runtime::Handle;
use zeroize::Zeroizing;

mod backend;

use backend::{Backend, Connection, Post};

/// Header carrying the client's authenticated public key.
pub const CLIENT_KEY_HEADER: &str = "pssst-client-key";
/// Header carrying the request's (unauthenticated) source address.
pub const PEER_HEADER: &str = "pssst-peer";

/// Forwards every request to one HTTP URL.
#[derive(Debug)]
pub struct ForwardHandler {
    backend: Arc<Backend>,
    timeout: Duration,
    runtime: Handle,
}

impl ForwardHandler {
    /// A gateway to `url` (`http://HOST:PORT/PATH`), each exchange bounded
    /// by `timeout`, run on `runtime`.
    pub fn new(url: &str, timeout: Duration, runtime: Handle) -> Result<ForwardHandler, String> {
        let parsed = parse_url(url)?;
        let backend = Backend::new(&parsed, timeout, &runtime)
            .map_err(|e| format!("--forward {url:?}: {e}"))?;
        Ok(ForwardHandler {
            backend,
            timeout,
            runtime,
        })
    }
}

fn parse_url(url: &str) -> Result<Uri, String> {
    let parsed: Uri = url
        .parse()
        .map_err(|e| format!("--forward {url:?}: not a URL: {e}"))?;
    match parsed.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(format!(
                "--forward {url:?}: https:// backends are not supported; forward to a local http:// backend or a TLS proxy"
            ));
        }
        _ => return Err(format!("--forward {url:?}: must start with http://")),
    }
    if parsed.host().is_none_or(str::is_empty) {
        return Err(format!("--forward {url:?}: no host"));
    }
    Ok(parsed)
}

impl DeferredHandler for ForwardHandler {
    fn handle(&self, request: &Request<'_>, responder: Responder) {
        let mut post = hyper::Request::builder()
            .method(Method::POST)
            .uri(self.backend.target())
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )
            .header(PEER_HEADER, crate::peer::shown(request.peer));
        if let Some(key) = request.client_public_key {
            post = post.header(CLIENT_KEY_HEADER, key.to_string());
        }
        // Last, where hyper-util's client added it: the same bytes.
        post = post.header(HOST, self.backend.host());
        // The message's copy is wiped when hyper drops it, once written.
        let message = Bytes::from_owner(Zeroizing::new(request.message.to_vec()));
        let Ok(post) = post.body(Full::new(message)) else {
            responder.fail(HandlerFailure::Failed);
            return;
        };
        let backend = Arc::clone(&self.backend);
        let timeout = self.timeout;
        self.runtime.spawn(async move {
            let limit = responder.max_reply_len();
            match tokio::time::timeout(timeout, exchange(&backend, post, limit)).await {
                Ok(Ok((body, connection))) => {
                    responder.reply(&body.0);
                    // After the reply: the client waits on that, not on this.
                    if let Some(connection) = connection {
                        let _ = tokio::time::timeout(timeout, backend.release(connection)).await;
                    }
                }
                Ok(Err(failure)) => {
                    responder.fail(failure);
                }
                Err(_) => {
                    responder.fail(HandlerFailure::TimedOut);
                }
            }
        });
    }
}

/// Sends the request and reads a 2xx body, stopping as soon as it is
/// longer than `limit` (the responder then counts it as too large). With
/// the body comes its connection when it was read to the end (one cut
/// short is dropped, and closed).
async fn exchange(
    backend: &Backend,
    post: Post,
    limit: usize,
) -> Result<(Reply, Option<Connection>), HandlerFailure> {
    let (response, connection) = backend.send(post).await?;
    if !response.status().is_success() {
        tracing::debug!("--forward: status {}", response.status());
        return Err(HandlerFailure::Failed);
    }
    // The reply is copied into memory we own and wipe when dropped; the
    // frames it came in are hyper's (see docs/security-model.md).
    let mut body = response.into_body();
    let mut reply = Reply::with_capacity(body.size_hint().exact(), limit);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| HandlerFailure::Failed)?;
        if let Ok(data) = frame.into_data() {
            reply.push(&data);
            if reply.0.len() > limit {
                return Ok((reply, None));
            }
        }
    }
    Ok((reply, Some(connection)))
}

/// A backend's reply, wiped when dropped, including every smaller buffer
/// it outgrew on the way.
struct Reply(Zeroizing<Vec<u8>>);

impl Reply {
    /// Room for the announced length (Content-Length), never more than one
    /// byte past `limit`.
    fn with_capacity(announced: Option<u64>, limit: usize) -> Reply {
        let capacity = announced.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        Reply(Zeroizing::new(Vec::with_capacity(
            capacity.min(limit.saturating_add(1)),
        )))
    }

    /// Appends `data`; when it does not fit, moves to a larger buffer and
    /// wipes the old one (a plain `Vec` would free it unwiped).
    fn push(&mut self, data: &[u8]) {
        let needed = self.0.len() + data.len();
        if needed > self.0.capacity() {
            let mut larger = Zeroizing::new(Vec::with_capacity(needed.max(2 * self.0.capacity())));
            larger.extend_from_slice(&self.0);
            self.0 = larger;
        }
        self.0.extend_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::{Reply, parse_url};

    #[test]
    fn a_reply_grows_without_losing_bytes() {
        let mut reply = Reply::with_capacity(Some(1 << 40), 8);
        assert_eq!(reply.0.capacity(), 9);
        reply.push(b"0123456789");
        reply.push(b"ab");
        assert_eq!(&reply.0[..], b"0123456789ab");
        let mut unknown = Reply::with_capacity(None, 100);
        for _ in 0..50 {
            unknown.push(b"xy");
        }
        assert_eq!(unknown.0.len(), 100);
    }

    #[test]
    fn only_plain_http_urls_with_a_host_are_taken() {
        assert!(parse_url("http://127.0.0.1:8080/app").is_ok());
        assert!(parse_url("http://localhost:8080").is_ok());
        for bad in [
            "https://example.com/",
            "ftp://x/",
            "127.0.0.1:80",
            "http://",
            "",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
