//! Key files: hex (64 digits, pypssst's format) and PEM PKCS#8 X25519
//! private keys as `openssl genpkey -algorithm X25519` writes them; and the
//! two commands on them, `pssst keygen` and `pssst pubkey`.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use rustix::fs::{Mode, OFlags};

use pssst_core::{PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::stdout;

/// DER of a PKCS#8 v1 X25519 private key up to the 32 key bytes (RFC 8410):
/// SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.110 }, OCTET STRING {
/// OCTET STRING (32 bytes) } }. OpenSSL writes exactly this, 48 bytes.
const PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
];
/// The same as OneAsymmetricKey v2 (RFC 5958) with the public key appended
/// as `[1] BIT STRING`: 83 bytes.
const PKCS8_V2_PREFIX: [u8; 16] = [
    0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
];
const PKCS8_V2_PUBLIC_TAG: [u8; 3] = [0x81, 0x21, 0x00];
/// Where the algorithm OID's last byte sits: 0x6e X25519, 0x6f X448,
/// 0x70 Ed25519, 0x71 Ed448.
const OID_LAST_BYTE: usize = 11;

/// Largest private key file read: a PEM key is about 120 bytes.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// Largest allowlist read: 65 bytes a key, so about 16,000 keys.
const MAX_AUTHORIZED_KEYS_BYTES: u64 = 1024 * 1024;
/// Permission bits that let group or others at a file (OpenSSH's test).
const GROUP_OR_OTHERS: u32 = 0o077;
/// The flag that lets `serve` use a key file that fails that test.
pub const ALLOW_INSECURE_FLAG: &str = "--allow-insecure-key-permissions";

/// Whether a private key file may be open to group or others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPermissions {
    /// Refused unless only its owner can read or write it, as OpenSSH does.
    OwnerOnly,
    /// Not checked (`--allow-insecure-key-permissions`; reading a public
    /// key out of it with `pubkey`; a client's key in `send`/`bench`).
    Unchecked,
}

/// Reads a private key file, hex or PEM. Errors name the file and the problem.
pub fn read_private_key(path: &Path, permissions: KeyPermissions) -> Result<PrivateKey, String> {
    let name = path.display();
    let (metadata, bytes) = read_regular_file(path, MAX_KEY_FILE_BYTES)
        .map_err(|why| format!("key file {name}: {why}"))?;
    let mode = metadata.permissions().mode() & 0o7777;
    if permissions == KeyPermissions::OwnerOnly && mode & GROUP_OR_OTHERS != 0 {
        return Err(format!(
            "key file {name} has mode {mode:04o}: group or others can access it, and a private key must be readable by its owner only (chmod 600 {name}, or pass {ALLOW_INSECURE_FLAG})"
        ));
    }
    parse_private_key(&bytes).map_err(|why| format!("key file {name}: {why}"))
}

/// Opens `path` without blocking (a FIFO or a device at that path must not
/// hang the caller), refuses anything but a regular file, and reads at most
/// `limit` bytes. Returns the file's metadata, taken from the open file.
fn read_regular_file(
    path: &Path,
    limit: u64,
) -> Result<(fs::Metadata, Zeroizing<Vec<u8>>), String> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd =
        rustix::fs::open(path, flags, Mode::empty()).map_err(|e| io_reason(&io::Error::from(e)))?;
    let file = File::from(fd);
    let metadata = file.metadata().map_err(|e| io_reason(&e))?;
    let kind = metadata.file_type();
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_dir() {
            "a directory"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "a device"
        };
        return Err(format!("not a regular file ({what})"));
    }
    if metadata.len() > limit {
        return Err(format!(
            "{} bytes, more than the {limit} allowed",
            metadata.len()
        ));
    }
    // Room for the whole file, so that reading never reallocates (and
    // leaves a copy of a key behind in freed memory).
    let capacity = usize::try_from(metadata.len()).unwrap_or(0) + 1;
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_reason(&e))?;
    if bytes.len() as u64 > limit {
        return Err(format!("more than the {limit} bytes allowed"));
    }
    Ok((metadata, bytes))
}

/// A private key from the contents of a key file.
pub fn parse_private_key(bytes: &[u8]) -> Result<PrivateKey, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "not a text file (expected 64 hex digits or a PEM private key)".to_string())?
        .trim();
    if text.starts_with("-----BEGIN") {
        return parse_pem(text);
    }
    if text.is_empty() {
        return Err("empty (expected 64 hex digits or a PEM private key)".into());
    }
    PrivateKey::from_hex(text).map_err(|_| {
        "not a key: expected 64 hex digits or a PEM (PKCS#8) X25519 private key".to_string()
    })
}

fn parse_pem(text: &str) -> Result<PrivateKey, String> {
    let (label, der) =
        pem_rfc7468::decode_vec(text.as_bytes()).map_err(|e| format!("malformed PEM ({e})"))?;
    let der = Zeroizing::new(der);
    if label != "PRIVATE KEY" {
        return Err(format!(
            "PEM holds a \"{label}\", expected a \"PRIVATE KEY\" (PKCS#8 X25519)"
        ));
    }
    parse_pkcs8(&der)
}

/// The two fixed layouts of an X25519 PKCS#8 key; anything else is refused
/// with the reason (another algorithm, or an unexpected encoding).
pub fn parse_pkcs8(der: &[u8]) -> Result<PrivateKey, String> {
    let algorithm_is = |last: u8| {
        der.len() > OID_LAST_BYTE
            && der[OID_LAST_BYTE - 2..OID_LAST_BYTE] == [0x2b, 0x65]
            && der[OID_LAST_BYTE] == last
    };
    for (last, name) in [(0x6f, "X448"), (0x70, "Ed25519"), (0x71, "Ed448")] {
        if algorithm_is(last) {
            return Err(format!("an {name} key, not X25519"));
        }
    }
    if der.len() == 48 && der[..16] == PKCS8_V1_PREFIX {
        return PrivateKey::try_from_slice(&der[16..48]).map_err(|e| e.to_string());
    }
    if der.len() == 83 && der[..16] == PKCS8_V2_PREFIX && der[48..51] == PKCS8_V2_PUBLIC_TAG {
        let key = PrivateKey::try_from_slice(&der[16..48]).map_err(|e| e.to_string())?;
        if key.public_key().as_bytes()[..] != der[51..83] {
            return Err("PKCS#8 public key does not match its private key".into());
        }
        return Ok(key);
    }
    Err("not a PKCS#8 X25519 private key (unexpected DER layout)".into())
}

/// A public key given on the command line: 64 hex digits.
pub fn parse_public_key(what: &str, hex: &str) -> Result<PublicKey, String> {
    PublicKey::from_hex(hex).map_err(|_| format!("{what}: expected 64 hex digits, got {hex:?}"))
}

/// Writes `key` as hex to a new file with mode 0600. Refuses to overwrite
/// unless `force`.
pub fn write_private_key(path: &Path, key: &PrivateKey, force: bool) -> Result<(), String> {
    let name = path.display();
    if force {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("key file {name}: {}", io_reason(&e))),
        }
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => {
                format!("key file {name} already exists (use --force to replace it)")
            }
            _ => format!("key file {name}: {}", io_reason(&e)),
        })?;
    let mut hex = Zeroizing::new(base16ct::lower::encode_string(key.as_bytes()));
    hex.push('\n');
    file.write_all(hex.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("key file {name}: {}", io_reason(&e)))
}

/// Reads an allowlist: one hex public key per line; `#` comments and blank
/// lines are ignored.
pub fn read_authorized_keys(path: &Path) -> Result<Vec<PublicKey>, String> {
    let name = path.display();
    let (_, bytes) = read_regular_file(path, MAX_AUTHORIZED_KEYS_BYTES)
        .map_err(|why| format!("authorized keys file {name}: {why}"))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| format!("authorized keys file {name}: not a text file"))?;
    let mut keys = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let key = PublicKey::from_hex(line).map_err(|_| {
            format!(
                "authorized keys file {name}, line {}: expected 64 hex digits",
                number + 1
            )
        })?;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(format!("authorized keys file {name}: no keys in it"));
    }
    Ok(keys)
}

/// The OS error text without Rust's " (os error N)" suffix.
pub fn io_reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// `pssst keygen FILE`: writes a new private key file (refusing to
/// replace one unless `force`) and prints its public key.
pub fn keygen(file: &Path, force: bool) -> Result<(), String> {
    let key = pssst_core::generate_key_pair()
        .map(|(key, _)| key)
        .map_err(|e| format!("cannot generate a key: {e}"))?;
    write_private_key(file, &key, force)?;
    stdout::line(&key.public_key().to_string())
}

/// `pssst pubkey FILE`: prints the public key of a private key file.
pub fn pubkey(file: &Path) -> Result<(), String> {
    let key = read_private_key(file, KeyPermissions::Unchecked)?;
    stdout::line(&key.public_key().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made with `openssl genpkey -algorithm X25519`; its public key from
    /// `openssl pkey -pubout -outform DER | tail -c 32 | xxd -p -c 32`.
    const OPENSSL_PEM: &str = include_str!("../tests/fixtures/openssl-x25519.pem");
    const OPENSSL_PUBLIC: &str = include_str!("../tests/fixtures/openssl-x25519.pub.hex");

    #[test]
    fn reads_an_openssl_pem_key() {
        let key = parse_private_key(OPENSSL_PEM.as_bytes()).unwrap();
        assert_eq!(key.public_key().to_string(), OPENSSL_PUBLIC.trim());
    }

    #[test]
    fn reads_hex_keys_with_whitespace() {
        let key = pssst_core::generate_key_pair().unwrap().0;
        let hex = format!("  {}\n", base16ct::upper::encode_string(key.as_bytes()));
        let parsed = parse_private_key(hex.as_bytes()).unwrap();
        assert_eq!(parsed.as_bytes(), key.as_bytes());
    }

    #[test]
    fn reads_the_v2_layout_and_checks_its_public_key() {
        let key = pssst_core::generate_key_pair().unwrap().0;
        let mut der = PKCS8_V2_PREFIX.to_vec();
        der.extend_from_slice(key.as_bytes());
        der.extend_from_slice(&PKCS8_V2_PUBLIC_TAG);
        der.extend_from_slice(key.public_key().as_bytes());
        assert_eq!(parse_pkcs8(&der).unwrap().as_bytes(), key.as_bytes());
        der[82] ^= 1;
        assert!(parse_pkcs8(&der).unwrap_err().contains("does not match"));
    }

    #[test]
    fn refuses_other_algorithms_by_name() {
        let mut der = PKCS8_V1_PREFIX.to_vec();
        der.extend_from_slice(&[1; 32]);
        der[OID_LAST_BYTE] = 0x70;
        assert_eq!(parse_pkcs8(&der).unwrap_err(), "an Ed25519 key, not X25519");
    }

    #[test]
    fn refuses_bad_contents_with_a_reason() {
        let cases: [(&[u8], &str); 6] = [
            (b"", "empty"),
            (b"abcd", "expected 64 hex digits"),
            (&[0xff, 0xfe, 0x00], "not a text file"),
            (b"-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n", "malformed PEM"),
            (
                b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEA\n-----END PUBLIC KEY-----\n",
                "expected a \"PRIVATE KEY\"",
            ),
            (
                b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIA==\n-----END PRIVATE KEY-----\n",
                "unexpected DER layout",
            ),
        ];
        for (contents, expected) in cases {
            let error = parse_private_key(contents).err().unwrap();
            assert!(error.contains(expected), "{error:?} lacks {expected:?}");
        }
    }
}
