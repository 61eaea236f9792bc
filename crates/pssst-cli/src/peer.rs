//! How a request's source address is shown to a handler: `PSSST_PEER` for
//! `--exec`, `Pssst-Peer` for `--forward`.

use std::net::SocketAddr;

/// `ip:port`, with an IPv4 client of a dual-stack (`[::]`) listener shown
/// as the IPv4 address it is (`127.0.0.1:port`, not
/// `[::ffff:127.0.0.1]:port`).
pub fn shown(peer: SocketAddr) -> String {
    SocketAddr::new(peer.ip().to_canonical(), peer.port()).to_string()
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn ipv4_mapped_peers_are_shown_as_ipv4() {
        for (peer, expected) in [
            ("[::ffff:127.0.0.1]:4000", "127.0.0.1:4000"),
            ("127.0.0.1:4000", "127.0.0.1:4000"),
            ("[::1]:4000", "[::1]:4000"),
            ("[2001:db8::1]:53", "[2001:db8::1]:53"),
        ] {
            assert_eq!(shown(peer.parse().unwrap()), expected);
        }
    }
}
