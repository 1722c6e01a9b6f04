//! Reporters: every output format is a view of the same [`Report`].
//!
//! The engine sorts and filters findings; a reporter only renders them, so the same input
//! always gives the same bytes. Nothing here prints or fails: [`render`] returns a string.
//!
//! Formats: [`Format::Text`] for people, [`Format::Json`] for scripts (a documented, stable
//! shape), [`Format::Sarif`] for GitHub code scanning, [`Format::Gitlab`] for GitLab Code
//! Quality, [`Format::Junit`] for CI test tabs, [`Format::Github`] for workflow annotations and
//! [`Format::Markdown`] for job summaries.

mod github;
mod gitlab;
mod json;
mod junit;
mod markdown;
mod sarif;
mod text;

#[cfg(test)]
mod fixtures;

use crate::finding::{Finding, Location, Severity, Span};
use crate::rules::Rule;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

/// Everything a reporter needs: the findings plus the context they were found in.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// portcullis's version, `env!("CARGO_PKG_VERSION")`.
    pub tool_version: &'static str,
    /// Where the policy came from: a path, or `builtin:default`.
    pub policy: String,
    /// Findings at or above this severity fail the gate.
    pub fail_on: Severity,
    /// Already filtered (exceptions, ignores) and sorted by [`Finding::sort_key`].
    pub findings: &'a [Finding],
    /// Notices that are not findings: an expired exception, a missing helper tool, …
    pub notes: &'a [Note],
    /// Every target checked, in the order they were checked, with or without findings.
    pub targets: &'a [String],
    /// The rules that were enabled, with the severity the policy gave them.
    pub rules: &'a [EnabledRule],
    /// What could not be evaluated (an unreadable file, an image that could not be fetched),
    /// with the reason. Any entry means the gate did not pass: it fails closed.
    pub unevaluated: &'a [String],
    /// Findings an inline pragma in the target silenced, as the policy allowed: not counted,
    /// never failing, but shown (SARIF `suppressions`, JSON `suppressed`, a text count).
    pub suppressed: &'a [Suppressed],
}

/// A finding an inline pragma silenced, with the pragma that did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    pub finding: Finding,
    /// The pragma as written (`hadolint ignore=DL3008 pinned upstream`), the justification.
    pub pragma: String,
}

/// A rule as the policy enabled it. The policy may change a rule's severity; SARIF rule
/// metadata (GitHub's alert severity) should show the user's severity, not the default.
#[derive(Debug, Clone, Copy)]
pub struct EnabledRule {
    pub rule: &'static Rule,
    pub severity: Severity,
}

impl EnabledRule {
    /// The rule with its default severity.
    pub fn new(rule: &'static Rule) -> Self {
        EnabledRule {
            rule,
            severity: rule.severity,
        }
    }
}

/// A notice that is not a finding and never fails the gate, e.g. "exception for DL3008
/// expired on 2024-01-01" or "shellcheck not found; RUN scripts were not checked".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    pub message: String,
    /// Where the note points, if anywhere (e.g. the policy line of an expired exception).
    pub location: Location,
}

impl Note {
    pub fn new(message: impl Into<String>) -> Self {
        Note {
            message: message.into(),
            location: Location::default(),
        }
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = location;
        self
    }
}

impl Report<'_> {
    /// Whether the gate passes: no finding at or above [`Report::fail_on`].
    pub fn passed(&self) -> bool {
        self.failing_count() == 0 && self.unevaluated.is_empty()
    }

    /// How many findings are at or above [`Report::fail_on`].
    pub fn failing_count(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity >= self.fail_on)
            .count()
    }

    /// Findings per severity, most serious first, every severity present (possibly 0).
    pub fn counts(&self) -> [(Severity, usize); 5] {
        Severity::ALL.map(|s| (s, self.findings.iter().filter(|f| f.severity == s).count()))
    }

    /// Every target: those checked, then any that only appear in findings (defensive, so a
    /// finding is never dropped from per-target views).
    pub fn all_targets(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        let extra = self.findings.iter().map(|f| f.target.as_str());
        self.targets
            .iter()
            .map(String::as_str)
            .chain(extra)
            .filter(|target| seen.insert(*target))
            .collect()
    }
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Gitlab,
    Junit,
    Github,
    Markdown,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Text,
        Format::Json,
        Format::Sarif,
        Format::Gitlab,
        Format::Junit,
        Format::Github,
        Format::Markdown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Gitlab => "gitlab",
            Format::Junit => "junit",
            Format::Github => "github",
            Format::Markdown => "markdown",
        }
    }

    /// The accepted names, for help and error messages.
    pub fn choices() -> &'static str {
        "text, json, sarif, gitlab, junit, github, markdown"
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lowered = s.to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|format| format.as_str() == lowered)
            .ok_or_else(|| {
                format!(
                    "unknown output format `{s}`; expected one of {}",
                    Format::choices()
                )
            })
    }
}

/// Renders `report` in `format`. `color` only affects [`Format::Text`]; the caller decides
/// it (a terminal, and `NO_COLOR` unset).
pub fn render(report: &Report<'_>, format: Format, color: bool) -> String {
    match format {
        Format::Text => text::render(report, color),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Gitlab => gitlab::render(report),
        Format::Junit => junit::render(report),
        Format::Github => github::render(report),
        Format::Markdown => markdown::render(report),
    }
}

/// Serializes as pretty JSON with a trailing newline. Our types always serialize (string
/// keys, no non-finite floats); the fallback only keeps a bug from becoming a panic.
fn to_pretty_json<T: Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(mut out) => {
            out.push('\n');
            out
        }
        Err(err) => format!("{{\"error\": {:?}}}\n", err.to_string()),
    }
}

/// A span made safe to render: 1-based, and never ending before it starts. Spans come
/// from rules; a rule bug must not make a report that GitHub or GitLab rejects.
fn normalized(span: Span) -> Span {
    let line = span.line.max(1);
    let column = span.column.max(1);
    let end_line = span.end_line.max(line);
    let end_column = if end_line == line {
        span.end_column.max(column)
    } else {
        span.end_column.max(1)
    };
    Span::new(line, column, end_line, end_column)
}

/// A file path as reports show it: `/` separators, no leading `./`; `None` when empty.
fn display_path(location: &Location) -> Option<String> {
    let path = location.path.as_deref()?.replace('\\', "/");
    let mut rest = path.as_str();
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped;
    }
    (!rest.is_empty()).then(|| rest.to_string())
}

/// The path reported for a finding that has no file (an image finding that the engine
/// could not tie to a Dockerfile `FROM` line). Code scanning (SARIF) and Code Quality
/// (GitLab) both require a file path for every result, and neither rejects a path that is
/// not in the repository: the alert is shown with its path but without a source preview.
///
/// The path is `image/` + the reference without its digest. The `image/` prefix keeps it
/// from being mistaken for a repository file and groups image alerts together; the digest
/// is dropped because it changes with every rebuild, and GitHub tracks an alert by its
/// location, so a digest in the path would close and reopen the alert on each push
/// (Grype's SARIF makes the same choice). The full reference stays in the message and, in
/// SARIF, in the result's logical location.
fn image_path(target: &str) -> String {
    let without_digest = target.split('@').next().unwrap_or(target);
    let cleaned: String = without_digest
        .chars()
        .map(|c| if c.is_control() || c == '\\' { '_' } else { c })
        .collect();
    format!("image/{}", cleaned.trim_start_matches('/'))
}

/// The path every file-based format reports for a finding: its file, or [`image_path`].
fn artifact_path(finding: &Finding) -> String {
    display_path(&finding.location).unwrap_or_else(|| image_path(&finding.target))
}

/// Characters that could change what a terminal or log viewer shows: control characters
/// (ANSI escapes, carriage returns) and bidirectional overrides ("Trojan Source").
fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with unsafe characters written as Rust escapes (`\u{1b}`), so text taken from a
/// Dockerfile or an image label cannot restyle a terminal or forge a line of output.
fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `n thing` / `n things`.
fn plural(n: usize, singular: &str) -> String {
    if n == 1 {
        format!("{n} {singular}")
    } else {
        format!("{n} {singular}s")
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn format_parses_every_name_and_rejects_others_with_the_choices() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
            assert!(Format::choices().contains(format.as_str()));
        }
        assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
        let err = "xml".parse::<Format>().unwrap_err();
        assert!(
            err.contains("`xml`") && err.contains(Format::choices()),
            "{err}"
        );
    }

    #[test]
    fn passed_means_nothing_at_or_above_fail_on() {
        let findings = sample_findings();
        let mut data = ReportData::new(findings);
        data.fail_on = Severity::Critical;
        assert!(!data.report().passed(), "a critical finding is present");
        let only_low: Vec<Finding> = data
            .findings
            .iter()
            .filter(|f| f.severity <= Severity::Low)
            .cloned()
            .collect();
        let mut low = ReportData::new(only_low);
        low.fail_on = Severity::Medium;
        assert!(low.report().passed());
        low.fail_on = Severity::Low;
        assert!(!low.report().passed());
    }

    #[test]
    fn counts_cover_every_severity() {
        let data = ReportData::new(sample_findings());
        let counts = data.report().counts();
        assert_eq!(counts.map(|(s, _)| s), Severity::ALL);
        let total: usize = counts.iter().map(|(_, n)| n).sum();
        assert_eq!(total, data.findings.len());
    }

    #[test]
    fn all_targets_keeps_checked_order_then_adds_finding_targets() {
        let mut data = ReportData::new(sample_findings());
        data.targets = vec!["clean/Dockerfile".into(), "Dockerfile".into()];
        let report = data.report();
        let targets = report.all_targets();
        assert_eq!(
            targets,
            [
                "clean/Dockerfile",
                "Dockerfile",
                "registry.example.com/team/app:1.2@sha256:0123abcd",
                "services/web app/Dockerfile"
            ]
        );
    }

    #[test]
    fn spans_are_made_renderable() {
        assert_eq!(normalized(Span::default()), Span::new(1, 1, 1, 1));
        assert_eq!(normalized(Span::new(5, 3, 2, 1)), Span::new(5, 3, 5, 3));
        assert_eq!(normalized(Span::new(2, 9, 4, 0)), Span::new(2, 9, 4, 1));
        assert_eq!(normalized(Span::new(2, 3, 2, 8)), Span::new(2, 3, 2, 8));
    }

    #[test]
    fn image_paths_drop_the_digest_and_stay_paths() {
        assert_eq!(
            image_path("docker.io/library/alpine:3.19@sha256:abcd"),
            "image/docker.io/library/alpine:3.19"
        );
        assert_eq!(image_path("alpine"), "image/alpine");
        assert_eq!(image_path("/weird\\ref\n"), "image/weird_ref_");
    }

    #[test]
    fn display_paths_use_forward_slashes_without_dot_prefix() {
        let at = |p: &str| Location {
            path: Some(p.to_string()),
            span: None,
        };
        assert_eq!(
            display_path(&at("./a\\b/Dockerfile")).as_deref(),
            Some("a/b/Dockerfile")
        );
        assert_eq!(display_path(&at("")), None);
        assert_eq!(display_path(&Location::default()), None);
    }

    #[test]
    fn printable_escapes_terminal_controls() {
        assert_eq!(printable("plain"), "plain");
        assert_eq!(printable("a\x1b[31mb\nc"), "a\\u{1b}[31mb\\nc");
        assert_eq!(printable("x\u{202e}y"), "x\\u{202e}y");
    }
}
