//! A command's stderr, logged as data: each line escaped (printable ASCII
//! only, `\n`, `\x1b`, `\"` spelled out) into one field of one log event,
//! cut at a bound per line and per command. A client chooses the message a
//! command may echo to stderr: copied raw, it could forge log records or
//! send escape sequences to a terminal.

/// What a command wrote to stderr, up to [`TOTAL_LIMIT`] bytes.
#[derive(Debug, Default)]
pub struct StderrLog {
    kept: Vec<u8>,
    dropped: usize,
}

impl StderrLog {
    pub fn push(&mut self, bytes: &[u8]) {
        let room = TOTAL_LIMIT.saturating_sub(self.kept.len()).min(bytes.len());
        self.kept.extend_from_slice(&bytes[..room]);
        self.dropped += bytes.len() - room;
    }

    pub fn is_full(&self) -> bool {
        self.kept.len() >= TOTAL_LIMIT
    }

    /// One `warn` event per non-empty line, field `stderr`.
    pub fn log(&self) {
        for line in self.kept.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let (shown, cut) = line.split_at(line.len().min(LINE_LIMIT));
            let stderr = shown.escape_ascii().to_string();
            if cut.is_empty() {
                tracing::warn!(stderr = %stderr, "command wrote to stderr");
            } else {
                let cut_bytes = cut.len();
                tracing::warn!(stderr = %stderr, cut_bytes, "command wrote to stderr");
            }
        }
        if self.dropped > 0 {
            tracing::warn!(
                dropped_bytes = self.dropped,
                "command stderr not logged past {TOTAL_LIMIT} bytes"
            );
        }
    }
}

/// Bytes of one line logged; the rest of the line is counted, not shown.
pub const LINE_LIMIT: usize = 512;
/// Bytes of one command's stderr kept for the log; the rest is counted.
pub const TOTAL_LIMIT: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_is_kept_up_to_the_total_limit() {
        let mut log = StderrLog::default();
        log.push(&[b'x'; TOTAL_LIMIT - 1]);
        log.push(b"abc");
        assert_eq!(log.kept.len(), TOTAL_LIMIT);
        assert_eq!(log.dropped, 2);
    }
}
