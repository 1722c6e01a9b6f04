//! Findings are plain data: rules produce them, exceptions filter them, reporters render them.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// How serious a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, most serious first (the order reports list them in).
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// The names accepted in policies and on the command line, for error messages.
    pub fn choices() -> &'static str {
        "critical, high, medium, low, info"
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "high" => Ok(Severity::High),
            "medium" => Ok(Severity::Medium),
            "low" => Ok(Severity::Low),
            "info" => Ok(Severity::Info),
            _ => Err(format!(
                "unknown severity `{s}`; expected one of {}",
                Severity::choices()
            )),
        }
    }
}

/// A region of a file. Lines and columns are 1-based; `end_column` is exclusive
/// (it points one past the last character), as in SARIF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct Span {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Span {
    pub fn new(line: usize, column: usize, end_line: usize, end_column: usize) -> Self {
        Span {
            line,
            column,
            end_line,
            end_column,
        }
    }

    /// A span covering a single point.
    pub fn point(line: usize, column: usize) -> Self {
        Span::new(line, column, line, column + 1)
    }
}

/// Where a finding is. Dockerfile findings have a path and a span; image findings
/// have no file of their own unless they are reported at a Dockerfile's `FROM` line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct Location {
    /// Path relative to the current directory, with `/` separators.
    pub path: Option<String>,
    pub span: Option<Span>,
}

/// One problem found by one rule in one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's code, e.g. `PC1001` or `DL3008`.
    pub rule_id: &'static str,
    /// The rule's kebab-case name, e.g. `no-latest-tag`.
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// What was checked: a Dockerfile path or an image reference.
    pub target: String,
    pub location: Location,
    /// Stable identity of this finding across runs (see [`Finding::compute_fingerprint`]).
    pub fingerprint: String,
}

impl Finding {
    /// A fingerprint that survives unrelated edits: it hashes the rule, the target, the
    /// message and the text of the offending line, not the line number.
    pub fn compute_fingerprint(&mut self, line_text: &str) {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for part in [
            self.rule_id,
            self.target.as_str(),
            self.message.as_str(),
            line_text.trim(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        let digest = hasher.finalize();
        self.fingerprint = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    }

    /// The deterministic order of findings in every report.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            &self.target,
            self.location.path.as_deref(),
            self.location.span,
            self.rule_id,
            &self.message,
        )
    }
}
