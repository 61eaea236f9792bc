//! Writing to stdout: a closed stdout is an error, not a panic.

use std::io::{self, Write};

/// Prints one line.
pub(crate) fn line(line: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("writing to stdout: {e}"))
}

/// Writes `bytes` as they are.
pub(crate) fn bytes(bytes: &[u8]) -> Result<(), String> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| format!("writing to stdout: {e}"))
}
