//! Range-checked parsing of duration, size and cipher suite arguments, and
//! one `error:` line (exit status 1) for every bad command line.

use std::process::ExitCode;
use std::time::Duration;

use clap::error::{Error, ErrorKind};
use pssst_core::{CipherSuite, CipherSuites};

/// Parses seconds (a decimal number) into a `Duration` within
/// `min..=max` seconds: an out-of-range value is an error, never a panic.
pub(crate) fn seconds_in(
    min: f64,
    max: f64,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let value: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not a number of seconds"))?;
        if !(min..=max).contains(&value) {
            return Err(format!("{text} seconds is out of range ({min}..={max})"));
        }
        Duration::try_from_secs_f64(value).map_err(|e| format!("{text} seconds: {e}"))
    }
}

/// The largest `--reply-cache-bytes`: 1 TiB, or all a 32-bit address space
/// holds (armv7: `1 << 40` does not fit its `usize`).
pub(crate) const REPLY_CACHE_BYTES_MAX: usize = {
    const TIB: u64 = 1 << 40;
    if TIB > usize::MAX as u64 {
        usize::MAX
    } else {
        TIB as usize
    }
};

/// Parses a byte count with an optional K, M or G suffix (powers of 1024)
/// within `min..=max`.
pub(crate) fn bytes_in(
    min: usize,
    max: usize,
) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let trimmed = text.trim();
        let (digits, shift) = match trimmed.char_indices().last() {
            Some((at, 'K' | 'k')) => (&trimmed[..at], 10),
            Some((at, 'M' | 'm')) => (&trimmed[..at], 20),
            Some((at, 'G' | 'g')) => (&trimmed[..at], 30),
            _ => (trimmed, 0),
        };
        let bad = || format!("{text:?} is not a byte count (e.g. 65536, 64K, 64M, 1G)");
        let value = digits
            .parse::<usize>()
            .map_err(|_| bad())?
            .checked_mul(1 << shift)
            .ok_or_else(bad)?;
        if !(min..=max).contains(&value) {
            return Err(format!("{text} bytes is out of range ({min}..={max})"));
        }
        Ok(value)
    }
}

/// Parses a cipher suite by one of pssst-core's spellings of it.
pub(crate) fn suite(text: &str) -> Result<CipherSuite, String> {
    text.parse().map_err(|_| {
        let names: Vec<String> = CipherSuite::ALL
            .iter()
            .map(|suite| suite.spellings().join(" or "))
            .collect();
        format!("{text:?} is not a cipher suite ({})", names.join("; "))
    })
}

/// The set of `suites`, or every suite when none is named.
pub(crate) fn suite_set(suites: &[CipherSuite]) -> CipherSuites {
    CipherSuites::from_suites(suites.iter().copied()).unwrap_or(CipherSuites::ALL)
}

/// `--help` and `--version` print and exit 0; anything else is one
/// `error:` line on stderr and exit status 1.
pub(crate) fn exit_on_parse_error(e: &Error) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.to_string();
    let first = rendered.lines().next().unwrap_or("bad command line");
    let message = first.strip_prefix("error: ").unwrap_or(first);
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_range_checked() {
        let parse = seconds_in(0.001, 3600.0);
        assert_eq!(parse("1.5"), Ok(Duration::from_millis(1500)));
        for bad in ["1e19", "0", "-1", "inf", "NaN", "x", "3600.1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn suites_have_names_and_numbers() {
        for (text, expected) in [
            ("1", CipherSuite::X25519Aes128Gcm),
            ("AES-GCM", CipherSuite::X25519Aes128Gcm),
            ("gcm-siv", CipherSuite::X25519Aes128GcmSiv),
            ("0xFF01", CipherSuite::X25519Aes128GcmSiv),
        ] {
            assert_eq!(suite(text), Ok(expected), "{text}");
        }
        for bad in ["", "2", "0x0001", "siv", "gcm"] {
            assert!(suite(bad).is_err(), "{bad}");
        }
        assert_eq!(suite_set(&[]), CipherSuites::ALL);
        let siv = CipherSuite::X25519Aes128GcmSiv;
        assert_eq!(suite_set(&[siv, siv]), CipherSuites::only(siv));
    }

    #[test]
    fn bytes_take_suffixes_and_are_range_checked() {
        let parse = bytes_in(4096, REPLY_CACHE_BYTES_MAX);
        assert_eq!(parse("64M"), Ok(64 << 20));
        assert_eq!(parse("8k"), Ok(8192));
        assert_eq!(parse("65536"), Ok(65536));
        for bad in ["1", "1T", "M", "-5K", "99999999999999999999G", "2000G"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
