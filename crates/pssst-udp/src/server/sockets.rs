//! The worker sockets: one per worker on one address.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

use super::ServerConfig;

/// `workers` sockets on one address. On Linux each has `SO_REUSEPORT`, so
/// the kernel balances datagrams across them by 4-tuple (a client's
/// retransmissions reach the same worker). Elsewhere the workers share
/// clones of one socket.
///
/// The kernel puts every `SO_REUSEPORT` socket of the same user on one
/// address into one group, another process's too. Unless asked to join a
/// pool, a socket without the option is bound first, alone: it fails if
/// anyone else holds the address.
pub(super) fn bind_sockets(
    addr: SocketAddr,
    workers: usize,
    config: &ServerConfig,
) -> io::Result<Vec<UdpSocket>> {
    let linux = cfg!(any(target_os = "linux", target_os = "android"));
    let reuse_port = linux && (workers > 1 || config.reuse_port);
    if reuse_port && !config.reuse_port && addr.port() != 0 {
        drop(new_socket(addr, false, config)?);
    }
    let first = new_socket(addr, reuse_port, config)?;
    let bound = first.local_addr()?;
    let mut sockets = vec![first];
    for _ in 1..workers {
        let next = if reuse_port {
            new_socket(bound, true, config)?
        } else {
            sockets[0].try_clone()?
        };
        sockets.push(next);
    }
    Ok(sockets)
}

fn new_socket(addr: SocketAddr, reuse_port: bool, config: &ServerConfig) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    #[cfg(not(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    )))]
    let _ = reuse_port;
    // Best effort: the kernel caps it at net.core.rmem_max.
    let _ = socket.set_recv_buffer_size(config.recv_buffer_bytes);
    socket.bind(&addr.into())?;
    socket.set_read_timeout(Some(config.shutdown_poll))?;
    Ok(socket.into())
}
