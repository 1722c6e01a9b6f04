//! The human report: findings grouped by target, then one summary line.
//!
//! ```text
//! Dockerfile
//!   Dockerfile:1:1   high    PC1002 no-latest-tag     image `alpine:latest` uses the `latest` tag
//!   Dockerfile:3:5   medium  DL3008 apt-pin-versions  pin versions in `apt-get install curl`
//!
//! note: shellcheck not found; RUN scripts were not checked
//!
//! 2 targets checked: 2 findings (1 high, 1 medium); failed: 1 at or above high
//! ```
//! An image finding without a file shows `(image)` in the location column. Text that came
//! from the input (messages, paths) has control characters escaped, so a Dockerfile cannot
//! restyle the terminal or forge output lines. ANSI colour only when asked for.

use super::{display_path, normalized, plural, printable, Report};
use crate::finding::{Finding, Location, Severity};
use std::fmt::Write as _;

/// Location columns wider than this are not padded to; a long path just pushes its line.
const MAX_LOCATION_WIDTH: usize = 40;
const SEVERITY_WIDTH: usize = 8;

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn severity(&self, severity: Severity, padded: &str) -> String {
        let code = match severity {
            Severity::Critical => "1;35",
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.paint(code, padded)
    }
}

/// `path:line:col`, `path`, or `(image)` for a finding without a file (only image
/// findings lack one; the group header names the image).
fn location_text(location: &Location) -> String {
    let Some(path) = display_path(location) else {
        return "(image)".to_string();
    };
    let path = printable(&path);
    match location.span.map(normalized) {
        Some(span) => format!("{path}:{}:{}", span.line, span.column),
        None => path.into_owned(),
    }
}

fn rule_text(finding: &Finding) -> String {
    format!("{} {}", finding.rule_id, finding.rule)
}

fn pad(text: &str, width: usize) -> String {
    format!("{text:<width$}")
}

fn render_group(out: &mut String, group: &[Finding], style: &Style) {
    let Some(first) = group.first() else { return };
    let _ = writeln!(out, "{}", style.paint("1", &printable(&first.target)));
    let locations: Vec<String> = group.iter().map(|f| location_text(&f.location)).collect();
    let location_width = locations
        .iter()
        .map(|l| l.chars().count())
        .filter(|&w| w <= MAX_LOCATION_WIDTH)
        .max()
        .unwrap_or(0);
    let rule_width = group
        .iter()
        .map(|f| rule_text(f).chars().count())
        .max()
        .unwrap_or(0);
    for (finding, location) in group.iter().zip(&locations) {
        let severity = pad(finding.severity.as_str(), SEVERITY_WIDTH);
        let _ = writeln!(
            out,
            "  {}  {}  {}  {}",
            pad(location, location_width),
            style.severity(finding.severity, &severity),
            style.paint("2", &pad(&rule_text(finding), rule_width)),
            printable(&finding.message),
        );
    }
}

fn summary(report: &Report<'_>, style: &Style) -> String {
    let targets = plural(report.all_targets().len(), "target");
    let findings = if report.findings.is_empty() {
        "no findings".to_string()
    } else {
        let by_severity: Vec<String> = report
            .counts()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        format!(
            "{} ({})",
            plural(report.findings.len(), "finding"),
            by_severity.join(", ")
        )
    };
    let findings = match report.suppressed.len() {
        0 => findings,
        n => format!("{findings}, {n} suppressed by inline pragmas"),
    };
    let verdict = if !report.unevaluated.is_empty() {
        style.paint(
            "1;31",
            &format!(
                "failed closed: {} could not be evaluated ({})",
                plural(report.unevaluated.len(), "target"),
                report.unevaluated.join("; ")
            ),
        )
    } else if report.passed() {
        style.paint("1;32", "passed")
    } else {
        style.paint(
            "1;31",
            &format!(
                "failed: {} at or above {}",
                report.failing_count(),
                report.fail_on
            ),
        )
    };
    format!("{targets} checked: {findings}; {verdict}\n")
}

pub(super) fn render(report: &Report<'_>, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    // The engine sorts by target first, so a target's findings are consecutive.
    for group in report.findings.chunk_by(|a, b| a.target == b.target) {
        render_group(&mut out, group, &style);
        out.push('\n');
    }
    for note in report.notes {
        let at = match display_path(&note.location) {
            Some(_) => format!("{}: ", location_text(&note.location)),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{} {at}{}",
            style.paint("1;36", "note:"),
            printable(&note.message)
        );
    }
    if !report.notes.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary(report, &style));
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::{render, Format};
    use crate::finding::Severity;

    fn text(data: &ReportData, color: bool) -> String {
        render(&data.report(), Format::Text, color)
    }

    #[test]
    fn groups_by_target_with_one_line_per_finding() {
        let data = ReportData::new(sample_findings());
        let out = text(&data, false);
        let finding_lines: Vec<&str> = out.lines().filter(|l| l.starts_with("  ")).collect();
        assert_eq!(finding_lines.len(), data.findings.len());
        for (line, f) in finding_lines.iter().zip(&data.findings) {
            assert!(line.contains(f.severity.as_str()), "{line}");
            assert!(
                line.contains(&format!("{} {}", f.rule_id, f.rule)),
                "{line}"
            );
            assert!(line.ends_with(&f.message), "{line}");
        }
        // Each target is a header exactly once.
        for target in ["Dockerfile", "services/web app/Dockerfile"] {
            assert_eq!(out.lines().filter(|l| *l == target).count(), 1, "{target}");
        }
        assert!(out.contains("  Dockerfile:1:1  "), "{out}");
        assert!(out.contains("  services/web app/Dockerfile:7:1  "), "{out}");
        assert!(out.contains(
            "\nregistry.example.com/team/app:1.2@sha256:0123abcd\n  (image)  critical  PC2001"
        ));
    }

    #[test]
    fn columns_align_within_a_group() {
        let data = ReportData::new(sample_findings());
        let out = text(&data, false);
        let lines: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("  Dockerfile:"))
            .collect();
        assert_eq!(lines.len(), 2);
        let rule_column = |l: &str| l.find("PC1002").or_else(|| l.find("DL3008"));
        assert_eq!(rule_column(lines[0]), rule_column(lines[1]));
        let message_column = |l: &str| l.find("image `").or_else(|| l.find("pin versions"));
        assert_eq!(message_column(lines[0]), message_column(lines[1]));
    }

    #[test]
    fn summary_counts_and_verdict() {
        let data = ReportData::new(sample_findings());
        let out = text(&data, false);
        assert_eq!(
            out.lines().last().unwrap(),
            "4 targets checked: 5 findings (1 critical, 1 high, 1 medium, 1 low, 1 info); \
             failed: 2 at or above high"
        );
        let mut clean = ReportData::new(vec![]);
        clean.notes.clear();
        assert_eq!(
            text(&clean, false),
            "1 target checked: no findings; passed\n"
        );
        let mut below = ReportData::new(sample_findings());
        below.fail_on = Severity::Critical;
        assert!(text(&below, false).ends_with("; failed: 1 at or above critical\n"));
    }

    #[test]
    fn notes_are_listed_with_their_location() {
        let out = text(&ReportData::new(vec![]), false);
        assert!(out.contains("note: shellcheck not found; RUN scripts were not checked\n"));
        assert!(out.contains("note: portcullis.yaml:12:5: exception for DL3008 expired"));
    }

    #[test]
    fn colour_only_when_asked() {
        let data = ReportData::new(sample_findings());
        let plain = text(&data, false);
        assert!(!plain.contains('\x1b'));
        let colored = text(&data, true);
        assert!(colored.contains("\x1b[1;31mhigh"));
        assert!(colored.contains("\x1b[1;31mfailed"));
        let stripped = strip_ansi(&colored);
        assert_eq!(stripped, plain, "colour changes nothing but colour");
    }

    #[test]
    fn input_cannot_inject_terminal_sequences_or_lines() {
        let f = finding(
            &LATEST,
            Severity::High,
            NASTY,
            Some("Docker\nfile"),
            None,
            NASTY,
        );
        let data = ReportData::new(vec![f]);
        let out = text(&data, false);
        assert!(!out.contains('\x1b') && !out.contains('\r') && !out.contains('\u{0}'));
        assert!(out.contains("\\u{1b}[31mred"));
        assert!(out.contains("  Docker\\nfile  "));
        assert_eq!(
            strip_ansi(&text(&data, true)),
            out,
            "only our styling is ANSI"
        );
    }

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
