//! Secrets in layer files, found as the bytes stream by: a file is fed in windows of
//! [`WINDOW`] bytes, each starting with the last [`OVERLAP`] bytes of the one before, so
//! memory stays bounded whatever the file's size and a secret across a window boundary is
//! still seen whole. A hit is kept once per kind and line.

use crate::secrets::Hit;

/// New bytes per window: large, so that the detector's one pass runs over long stretches.
const WINDOW: usize = 1024 * 1024;
/// Bytes each window repeats from the end of the one before: longer than any credential the
/// detector knows and the line of key material it looks for after a private key header.
const OVERLAP: usize = 4096;
/// A file whose first this many bytes hold a NUL is binary: not searched.
const BINARY_SNIFF: usize = 8192;
/// The most secrets kept for one file (a file of thousands of tokens is reported by its first).
pub(super) const MAX_HITS_PER_FILE: usize = 100;

/// The one place layer files meet the secret detector, which also knows credential files by
/// their path (.aws/credentials, .docker/config.json, .netrc, …).
fn detect(path: &str, bytes: &[u8]) -> Vec<Hit> {
    crate::secrets::scan_file(path, bytes)
}

/// What the scanner found in a file: kind and line, never the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Found {
    pub kind: &'static str,
    pub line: usize,
}

/// Scans one file at a time, reusing its window buffer.
pub(super) struct Scanner {
    window: Vec<u8>,
    /// Bytes at the front of `window` repeated from the window before.
    kept: usize,
    /// Newlines before `window`'s first byte.
    lines_before: usize,
    /// Bytes of the file fed so far (up to the scan limit).
    fed: u64,
    limit: u64,
    /// `None` until the first bytes were judged text or binary.
    binary: Option<bool>,
    found: Vec<Found>,
}

impl Scanner {
    pub(super) fn new() -> Scanner {
        Scanner {
            window: Vec::with_capacity(WINDOW + OVERLAP),
            kept: 0,
            lines_before: 0,
            fed: 0,
            limit: 0,
            binary: None,
            found: Vec::new(),
        }
    }

    /// Starts a file: at most `limit` bytes of it are searched.
    pub(super) fn start(&mut self, limit: u64) {
        self.window.clear();
        self.kept = 0;
        self.lines_before = 0;
        self.fed = 0;
        self.limit = limit;
        self.binary = None;
        self.found.clear();
    }

    /// Whether more bytes of the current file would be looked at.
    pub(super) fn wants_more(&self) -> bool {
        self.binary != Some(true) && self.fed < self.limit && self.found.len() < MAX_HITS_PER_FILE
    }

    /// Feeds the file's next bytes.
    pub(super) fn feed(&mut self, path: &str, mut bytes: &[u8]) {
        while !bytes.is_empty() && self.wants_more() {
            let room = (WINDOW + self.kept - self.window.len())
                .min(usize::try_from(self.limit - self.fed).unwrap_or(usize::MAX));
            let n = room.min(bytes.len());
            self.window.extend_from_slice(&bytes[..n]);
            self.fed += n as u64;
            bytes = &bytes[n..];
            if self.binary.is_none() && self.window.len() >= BINARY_SNIFF {
                self.judge_binary();
            }
            if self.window.len() == WINDOW + self.kept && self.binary == Some(false) {
                self.scan(path);
                self.shift();
            }
        }
    }

    /// Ends the file: scans what is left, returns what was found.
    pub(super) fn finish(&mut self, path: &str) -> &[Found] {
        if self.binary.is_none() {
            self.judge_binary();
        }
        if self.binary == Some(false) && self.window.len() > self.kept {
            self.scan(path);
        }
        &self.found
    }

    fn judge_binary(&mut self) {
        let head = &self.window[..self.window.len().min(BINARY_SNIFF)];
        self.binary = Some(head.contains(&0));
    }

    fn scan(&mut self, path: &str) {
        for hit in detect(path, &self.window) {
            let found = Found {
                kind: hit.kind,
                line: self.lines_before + hit.line,
            };
            // The overlap is searched twice; a secret in it is kept once.
            if !self.found.contains(&found) && self.found.len() < MAX_HITS_PER_FILE {
                self.found.push(found);
            }
        }
    }

    /// Keeps the window's last [`OVERLAP`] bytes as the start of the next.
    fn shift(&mut self) {
        let keep_from = self.window.len() - OVERLAP.min(self.window.len());
        self.lines_before += count_newlines(&self.window[..keep_from]);
        self.window.copy_within(keep_from.., 0);
        self.window.truncate(self.window.len() - keep_from);
        self.kept = self.window.len();
    }
}

fn count_newlines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

    fn scan_in_pieces(text: &[u8], piece: usize, limit: u64) -> Vec<Found> {
        let mut scanner = Scanner::new();
        scanner.start(limit);
        for chunk in text.chunks(piece) {
            scanner.feed("/f", chunk);
        }
        scanner.finish("/f").to_vec()
    }

    #[test]
    fn finds_a_secret_across_every_window_boundary_once_with_its_line() {
        let filler = "x".repeat(99) + "\n";
        let mut text = filler.repeat(WINDOW / 100 - 1).into_bytes();
        let before = count_newlines(&text);
        // The token straddles the first window's end.
        text.extend_from_slice(&b"y".repeat(WINDOW - text.len() - 10));
        text.extend_from_slice(format!(" {TOKEN}\n").as_bytes());
        text.extend_from_slice(filler.repeat(20_000).as_bytes());
        for piece in [1000, 65_536, WINDOW + 7] {
            let found = scan_in_pieces(&text, piece, u64::MAX);
            assert_eq!(
                found,
                [Found {
                    kind: "a GitHub token",
                    line: before + 1
                }],
                "{piece}"
            );
        }
    }

    #[test]
    fn skips_binary_files_and_stops_at_the_limit() {
        let mut binary = vec![0u8; 10];
        binary.extend_from_slice(TOKEN.as_bytes());
        assert!(scan_in_pieces(&binary, 3, u64::MAX).is_empty());
        let mut late = b"\n".repeat(100);
        late.extend_from_slice(TOKEN.as_bytes());
        assert_eq!(scan_in_pieces(&late, 7, u64::MAX).len(), 1);
        assert!(scan_in_pieces(&late, 7, 100).is_empty());
    }

    #[test]
    fn keeps_a_bounded_number_of_hits_per_file() {
        let text = format!("{TOKEN}\n").repeat(MAX_HITS_PER_FILE * 2);
        assert_eq!(
            scan_in_pieces(text.as_bytes(), 4096, u64::MAX).len(),
            MAX_HITS_PER_FILE
        );
    }
}
