//! The UDP sockets open on this machine, as the kernel lists them in
//! /proc/net/udp and /proc/net/udp6 (Linux), and which belong to this
//! process. They tell whether a socket is closed without binding its port
//! again: a bind races with every process that may take the freed port
//! first, and fails by chance.

use std::collections::HashSet;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One open UDP socket: its local address, the peer it is connected to
/// (the unspecified address, port 0, if none) and its inode number, which
/// names it uniquely while it is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSocket {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub inode: u64,
}

/// Every UDP socket open in this network namespace.
pub fn udp_sockets() -> Vec<KernelSocket> {
    let mut sockets = Vec::new();
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        let text = match fs::read_to_string(table) {
            Ok(text) => text,
            // No IPv6 in this kernel: no IPv6 sockets either.
            Err(_) if table.ends_with('6') => continue,
            Err(e) => panic!("cannot read {table} (Linux only): {e}"),
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let parsed = (|| {
                Some(KernelSocket {
                    local: parse_address(fields.get(1)?)?,
                    remote: parse_address(fields.get(2)?)?,
                    inode: fields.get(9)?.parse().ok()?,
                })
            })();
            sockets.push(parsed.unwrap_or_else(|| panic!("{table}: cannot parse {line:?}")));
        }
    }
    sockets
}

/// The inode numbers of this process's open sockets (its file descriptors).
pub fn own_sockets() -> HashSet<u64> {
    let entries = fs::read_dir("/proc/self/fd").expect("/proc/self/fd (Linux only)");
    entries
        .filter_map(|entry| {
            let target = fs::read_link(entry.ok()?.path()).ok()?;
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

/// "0100007F:1F90" (IPv4) or 32 hex digits and a port (IPv6): each 32-bit
/// word of the address in the kernel's byte order, the port in hex.
fn parse_address(text: &str) -> Option<SocketAddr> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for word in address.as_bytes().chunks(8) {
        let word = u32::from_str_radix(std::str::from_utf8(word).ok()?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}
