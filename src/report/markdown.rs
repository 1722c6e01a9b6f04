//! A Markdown summary for people reading a CI page: GitHub's job summary
//! (`$GITHUB_STEP_SUMMARY`), a merge-request comment, a wiki page.
//!
//! ```markdown
//! ### portcullis: failed
//!
//! 2 targets checked: 2 findings (1 high, 1 medium); 1 at or above `high` fails the gate.
//!
//! | Severity | Rule | Location | Message |
//! |---|---|---|---|
//! | **high** | PC1002 no-latest-tag | Dockerfile:1:1 | image \`alpine:latest\` uses … |
//!
//! Notes:
//! - shellcheck not found; RUN scripts were not checked
//!
//! Policy: builtin:default · portcullis 0.1.0
//! ```
//! Severities at or above `fail_on` (the ones that fail the gate) are bold. Text that came
//! from the input is escaped so it renders as written: every ASCII punctuation character
//! that Markdown or HTML gives a meaning to is backslash-escaped, line breaks become
//! spaces, control characters are written as visible escapes. A Dockerfile cannot add a
//! link, an image, HTML or a table cell to the page.
//!
//! GitHub caps a step summary at 1 MiB, so at most [`MAX_ROWS`] findings are listed; the
//! rest are counted, and the JSON and SARIF reports have them all.

use super::{display_path, is_unsafe_char, normalized, plural, Report};
use crate::finding::Location;
use std::fmt::Write as _;

/// Findings listed in the table; about 200 bytes a row keeps the page far below 1 MiB.
pub const MAX_ROWS: usize = 1000;

/// `text` made inert: it renders as itself inside a table cell.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            c if is_unsafe_char(c) => out.extend(c.escape_default()),
            // Emphasis, code, links and images, HTML and entities, table cells,
            // strikethrough, headings, and GitHub's `$…$` math.
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '!' | '|' | '~' | '&' | '#' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A message with its `code` spans kept as code: rule messages quote input in backticks.
/// The spans become `<code>` elements (GitHub keeps them) with escaped contents, so the
/// quoted text still cannot add markup; an odd number of backticks (one came from the
/// input) means the spans cannot be told apart, and everything is escaped.
fn message(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return escape(text);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", escape(part))
            } else {
                escape(part)
            }
        })
        .collect()
}

/// `path:line:col`, or `(image)` for a finding without a file.
fn location_text(location: &Location) -> String {
    let Some(path) = display_path(location) else {
        return "(image)".to_string();
    };
    match location.span.map(normalized) {
        Some(span) => escape(&format!("{path}:{}:{}", span.line, span.column)),
        None => escape(&path),
    }
}

fn headline(report: &Report<'_>) -> String {
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
    let verdict = match report.failing_count() {
        0 => format!("nothing at or above `{}`", report.fail_on),
        n => format!("{n} at or above `{}` fails the gate", report.fail_on),
    };
    format!("{targets} checked: {findings}; {verdict}.")
}

pub(super) fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    let verdict = if report.passed() { "passed" } else { "failed" };
    let _ = writeln!(out, "### portcullis: {verdict}\n");
    let _ = writeln!(out, "{}\n", headline(report));

    if !report.findings.is_empty() {
        out.push_str("| Severity | Rule | Location | Message |\n|---|---|---|---|\n");
        for finding in report.findings.iter().take(MAX_ROWS) {
            let severity = if finding.severity >= report.fail_on {
                format!("**{}**", finding.severity)
            } else {
                finding.severity.to_string()
            };
            let message = if finding.location.path.is_some() {
                message(&finding.message)
            } else {
                format!("{}: {}", escape(&finding.target), message(&finding.message))
            };
            let _ = writeln!(
                out,
                "| {severity} | {} {} | {} | {message} |",
                escape(finding.rule_id),
                escape(finding.rule),
                location_text(&finding.location),
            );
        }
        if report.findings.len() > MAX_ROWS {
            let _ = writeln!(
                out,
                "\n{} not listed here; the JSON and SARIF reports have them all.",
                plural(report.findings.len() - MAX_ROWS, "more finding")
            );
        }
        out.push('\n');
    }

    if !report.notes.is_empty() {
        out.push_str("Notes:\n");
        for note in report.notes {
            let at = match display_path(&note.location) {
                Some(_) => format!("{}: ", location_text(&note.location)),
                None => String::new(),
            };
            let _ = writeln!(out, "- {at}{}", message(&note.message));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "Policy: {} · portcullis {}",
        escape(&report.policy),
        report.tool_version
    );
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::{render, Format};
    use super::*;
    use crate::finding::Severity;

    fn markdown(data: &ReportData) -> String {
        render(&data.report(), Format::Markdown, false)
    }

    fn table_rows(out: &str) -> Vec<&str> {
        out.lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| Severity"))
            .collect()
    }

    #[test]
    fn one_row_per_finding_in_report_order_failing_ones_bold() {
        let data = ReportData::new(sample_findings());
        let out = markdown(&data);
        assert!(out.starts_with("### portcullis: failed\n"), "{out}");
        let rows = table_rows(&out);
        assert_eq!(rows.len(), data.findings.len(), "{out}");
        for (row, f) in rows.iter().zip(&data.findings) {
            let bold = f.severity >= data.fail_on;
            assert_eq!(
                row.starts_with(&format!("| **{}** |", f.severity)),
                bold,
                "{row}"
            );
            assert!(row.contains(&escape(f.rule)), "{row}");
        }
        assert!(out.contains("| Dockerfile:1:1 |"), "{out}");
        assert!(
            out.contains("(image) | registry.example.com/team/app:1.2@sha256:0123abcd: image runs"),
            "{out}"
        );
        assert!(out.contains("2 at or above `high` fails the gate"), "{out}");
        assert!(out.contains("\n- portcullis.yaml:12:5: exception"), "{out}");
    }

    #[test]
    fn a_clean_run_says_passed_without_a_table() {
        let data = ReportData::new(vec![]);
        let out = markdown(&data);
        assert!(out.starts_with("### portcullis: passed\n"), "{out}");
        assert!(!out.contains("| Severity"), "{out}");
        assert!(out.contains("1 target checked: no findings"), "{out}");
    }

    #[test]
    fn input_cannot_add_markup_cells_or_lines() {
        let hostile = "x | y <img src=x> [a](http://e) ![i](u) `c` **b**\n# h\r\n\x1b[31m";
        let f = finding(
            &LATEST,
            Severity::High,
            "Dockerfile",
            Some("Docker|file"),
            None,
            hostile,
        );
        let out = markdown(&ReportData::new(vec![f]));
        let row = table_rows(&out)[0];
        assert_eq!(row.matches(" | ").count(), 3, "four cells exactly: {row}");
        for escaped in [
            "x \\| y",
            "\\<img",
            "\\[a\\](",
            "\\!\\[i\\]",
            "<code>c</code>",
            "\\*\\*b",
        ] {
            assert!(row.contains(escaped), "{escaped:?} missing: {row}");
        }
        assert!(!row.contains('\x1b') && !out.contains("\n# h"), "{row}");
        assert!(row.contains("Docker\\|file"), "{row}");
    }

    #[test]
    fn code_spans_stay_code_with_their_contents_escaped() {
        assert_eq!(
            message("image `a|<b>` uses `latest`"),
            "image <code>a\\|\\<b\\></code> uses <code>latest</code>"
        );
        assert_eq!(message("odd ` one"), "odd \\` one");
        assert_eq!(message("no code"), "no code");
    }

    #[test]
    fn long_reports_are_capped_and_say_how_many_are_missing() {
        let findings: Vec<_> = (1..=MAX_ROWS + 5)
            .map(|line| {
                finding(
                    &APT_PIN,
                    Severity::Medium,
                    "Dockerfile",
                    Some("Dockerfile"),
                    Some(crate::finding::Span::point(line, 1)),
                    "pin it",
                )
            })
            .collect();
        let out = markdown(&ReportData::new(findings));
        assert_eq!(table_rows(&out).len(), MAX_ROWS);
        assert!(out.contains("\n5 more findings not listed here"), "{out}");
    }
}
