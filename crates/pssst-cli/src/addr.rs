//! `HOST:PORT` arguments (`--server`, `--listen`, `--metrics`).

use std::net::{SocketAddr, ToSocketAddrs};

/// Parses `text`, the `what` address (named in errors).
pub(crate) fn parse(what: &str, text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let bad = || format!("bad {what} address {text:?}: expected HOST:PORT, e.g. 127.0.0.1:7777");
    if !text.contains(':') {
        return Err(bad());
    }
    text.to_socket_addrs()
        .map_err(|_| bad())?
        .next()
        .ok_or_else(bad)
}
