//! `HOST:PORT` arguments (`--server`, `--listen`, `--metrics`): an IP
//! address literal, or a host name resolved once to its first address. A
//! malformed argument and a name that does not resolve are told apart.

use std::net::{SocketAddr, ToSocketAddrs};

/// Parses `text`, the `what` address (named in errors).
pub(crate) fn parse(what: &str, text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let (host, port) = host_and_port(text).ok_or_else(|| {
        format!("bad {what} address {text:?}: expected HOST:PORT, e.g. 127.0.0.1:7777")
    })?;
    let cannot_resolve = |why: String| format!("cannot resolve {what} host {host:?}: {why}");
    (host, port)
        .to_socket_addrs()
        .map_err(|e| cannot_resolve(e.to_string()))?
        .next()
        .ok_or_else(|| cannot_resolve("no address".into()))
}

/// A host name and a port number, when `text` has the shape of one that
/// is not an IP address literal (those parse as a `SocketAddr` or not at
/// all: a bracketed or colon-holding host is malformed, never looked up).
fn host_and_port(text: &str) -> Option<(&str, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let literal = host.starts_with('[') || host.contains(':');
    (!host.is_empty() && !literal).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_parse_without_a_lookup() {
        for text in ["127.0.0.1:7777", "[::1]:0", "0.0.0.0:65535"] {
            assert_eq!(parse("server", text), Ok(text.parse().unwrap()), "{text}");
        }
    }

    #[test]
    fn a_malformed_address_is_not_looked_up() {
        for text in [
            "",
            "localhost",
            "localhost:",
            ":7777",
            "host:port",
            "host:65536",
            "[::1]",
            "[zz]:9",
            "::1:80",
            "1.2.3.4:-1",
        ] {
            let error = parse("server", text).unwrap_err();
            assert!(error.contains("expected HOST:PORT"), "{text}: {error}");
        }
    }

    #[test]
    fn a_name_that_does_not_resolve_says_so() {
        // `.invalid` never resolves (RFC 2606), with or without a network.
        let error = parse("server", "no-such-host.invalid:9").unwrap_err();
        assert!(
            error.starts_with("cannot resolve server host \"no-such-host.invalid\""),
            "{error}"
        );
    }

    #[test]
    fn names_resolve_to_their_first_address() {
        let addr = parse("listen", "localhost:9").unwrap();
        assert!(addr.ip().is_loopback() && addr.port() == 9, "{addr}");
    }
}
