//! JUnit XML, for CI test tabs (GitLab, Jenkins, …).
//!
//! One `<testsuite>` named `portcullis` holds one `<testcase>` per target checked (targets
//! without findings pass). Each finding at or above `fail_on` is a `<failure>` of its
//! target; findings below it do not fail the gate, so they are listed in the testcase's
//! `<system-out>`. Notes go to the suite's `<system-out>`. `failures` counts failing
//! testcases, as JUnit consumers expect, not `<failure>` elements.
//!
//! XML 1.0 cannot carry most control characters even as character references, so those
//! are written as visible escapes (`\u{1b}`); everything else is escaped as usual.

use super::{artifact_path, display_path, normalized, Report};
use crate::finding::Finding;
use std::fmt::Write as _;

/// Whether XML 1.0 can carry `c` at all (C1 controls are legal but only confuse viewers).
fn xml_safe(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || !(c.is_control() || c == '\u{fffe}' || c == '\u{ffff}')
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            // Attribute values are whitespace-normalised by parsers unless referenced.
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            // A literal CR is turned into LF by parsers, in text too.
            '\r' => out.push_str("&#13;"),
            c if !xml_safe(c) => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

fn attr(s: &str) -> String {
    escape(s, true)
}

fn text(s: &str) -> String {
    escape(s, false)
}

/// `path:line:col severity RULE rule-name`: where and what, for failure bodies.
fn headline(finding: &Finding) -> String {
    let at = match (
        display_path(&finding.location),
        finding.location.span.map(normalized),
    ) {
        (Some(path), Some(span)) => format!("{path}:{}:{}", span.line, span.column),
        (Some(path), None) => path,
        (None, _) => artifact_path(finding),
    };
    format!(
        "{at} {} {} {}",
        finding.severity, finding.rule_id, finding.rule
    )
}

fn render_testcase(out: &mut String, report: &Report<'_>, target: &str) -> bool {
    let findings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.target == target)
        .collect();
    let (failing, passing): (Vec<&Finding>, Vec<&Finding>) = findings
        .into_iter()
        .partition(|f| f.severity >= report.fail_on);
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"portcullis\"",
        attr(target)
    );
    if failing.is_empty() && passing.is_empty() {
        out.push_str("/>\n");
        return false;
    }
    out.push_str(">\n");
    for f in &failing {
        let _ = writeln!(
            out,
            "      <failure message=\"{}\" type=\"{}\">{}\n{}</failure>",
            attr(&f.message),
            attr(f.rule_id),
            text(&headline(f)),
            text(&f.message),
        );
    }
    if !passing.is_empty() {
        out.push_str("      <system-out>");
        for f in &passing {
            let _ = writeln!(out, "{}: {}", text(&headline(f)), text(&f.message));
        }
        out.push_str("</system-out>\n");
    }
    out.push_str("    </testcase>\n");
    !failing.is_empty()
}

pub(super) fn render(report: &Report<'_>) -> String {
    let targets = report.all_targets();
    let mut cases = String::new();
    let mut failures = 0;
    for target in &targets {
        if render_testcase(&mut cases, report, target) {
            failures += 1;
        }
    }
    let counts = format!(
        "tests=\"{}\" failures=\"{failures}\" errors=\"0\"",
        targets.len()
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"portcullis\" {counts}>");
    let _ = writeln!(
        out,
        "  <testsuite name=\"portcullis\" {counts} skipped=\"0\">"
    );
    out.push_str("    <properties>\n");
    for (name, value) in [
        ("version", report.tool_version),
        ("policy", report.policy.as_str()),
        ("fail_on", report.fail_on.as_str()),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            attr(value)
        );
    }
    out.push_str("    </properties>\n");
    out.push_str(&cases);
    if !report.notes.is_empty() {
        out.push_str("    <system-out>");
        for note in report.notes {
            let at = display_path(&note.location)
                .map(|path| match note.location.span.map(normalized) {
                    Some(span) => format!("{path}:{}:{}: ", span.line, span.column),
                    None => format!("{path}: "),
                })
                .unwrap_or_default();
            let _ = writeln!(out, "note: {}{}", text(&at), text(&note.message));
        }
        out.push_str("</system-out>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::{render, Format};
    use super::*;
    use crate::finding::Severity;

    fn xml(data: &ReportData) -> String {
        render(&data.report(), Format::Junit, false)
    }

    fn with_doc<T>(out: &str, check: impl FnOnce(roxmltree::Document<'_>) -> T) -> T {
        let doc =
            roxmltree::Document::parse(out).unwrap_or_else(|e| panic!("invalid XML ({e}):\n{out}"));
        check(doc)
    }

    #[test]
    fn one_testcase_per_target_and_a_failure_per_failing_finding() {
        let data = ReportData::new(sample_findings());
        let out = xml(&data);
        with_doc(&out, |doc| {
            let root = doc.root_element();
            assert_eq!(root.tag_name().name(), "testsuites");
            let suites: Vec<_> = root
                .children()
                .filter(|n| n.has_tag_name("testsuite"))
                .collect();
            assert_eq!(suites.len(), 1);
            let suite = suites[0];
            let cases: Vec<_> = suite
                .children()
                .filter(|n| n.has_tag_name("testcase"))
                .collect();
            let names: Vec<&str> = cases.iter().filter_map(|c| c.attribute("name")).collect();
            assert_eq!(
                names,
                data.targets.iter().map(String::as_str).collect::<Vec<_>>()
            );
            assert!(cases
                .iter()
                .all(|c| c.attribute("classname") == Some("portcullis")));
            assert_eq!(suite.attribute("tests"), Some("4"));
            for case in &cases {
                let target = case.attribute("name").unwrap();
                let failing = data
                    .findings
                    .iter()
                    .filter(|f| f.target == target && f.severity >= data.fail_on)
                    .count();
                let failures = case
                    .children()
                    .filter(|n| n.has_tag_name("failure"))
                    .count();
                assert_eq!(failures, failing, "{target}");
            }
            // Dockerfile (high) and the image (critical) fail; the others pass.
            assert_eq!(suite.attribute("failures"), Some("2"));
            assert_eq!(root.attribute("failures"), Some("2"));
            let clean = cases
                .iter()
                .find(|c| c.attribute("name") == Some("clean/Dockerfile"));
            assert_eq!(clean.unwrap().children().count(), 0);
        });
    }

    #[test]
    fn findings_below_fail_on_are_listed_not_failed() {
        let data = ReportData::new(sample_findings());
        let out = xml(&data);
        with_doc(&out, |doc| {
            let case = doc
                .descendants()
                .find(|n| n.attribute("name") == Some("services/web app/Dockerfile"))
                .unwrap();
            assert_eq!(
                case.children()
                    .filter(|n| n.has_tag_name("failure"))
                    .count(),
                0
            );
            let system_out = case
                .children()
                .find(|n| n.has_tag_name("system-out"))
                .unwrap();
            let lines: Vec<&str> = system_out.text().unwrap().lines().collect();
            assert_eq!(lines.len(), 2);
            assert!(
                lines[0].contains(" info PC1002 no-latest-tag: stage"),
                "{lines:?}"
            );
            assert!(
                lines[1].contains(":7:1 low DL3008 apt-pin-versions: "),
                "{lines:?}"
            );
        });
    }

    #[test]
    fn suite_records_policy_and_notes() {
        let out = xml(&ReportData::new(vec![]));
        with_doc(&out, |doc| {
            let property = |name: &str| {
                doc.descendants()
                    .find(|n| n.has_tag_name("property") && n.attribute("name") == Some(name))
                    .and_then(|n| n.attribute("value"))
                    .map(str::to_string)
            };
            assert_eq!(property("policy").as_deref(), Some("builtin:default"));
            assert_eq!(property("fail_on").as_deref(), Some("high"));
            let suite = doc
                .descendants()
                .find(|n| n.has_tag_name("testsuite"))
                .unwrap();
            let notes = suite
                .children()
                .find(|n| n.has_tag_name("system-out"))
                .unwrap();
            assert!(notes
                .text()
                .unwrap()
                .contains("note: portcullis.yaml:12:5: exception"));
        });
    }

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        let f = finding(
            &LATEST,
            Severity::Critical,
            NASTY,
            Some("Dockerfile"),
            None,
            NASTY,
        );
        let data = ReportData::new(vec![f]);
        let out = xml(&data);
        with_doc(&out, |doc| {
            let case = doc
                .descendants()
                .find(|n| n.has_tag_name("testcase"))
                .unwrap();
            let name = case.attribute("name").unwrap();
            // Markup, quotes, CR and LF survive exactly; unrepresentable controls are
            // visible escapes.
            let expected = "a<b>&\"c\"'d' 100% x,y:z\r\nnext\\u{1b}[31mred\\u{7}\\u{0}end";
            assert_eq!(name, expected);
            let failure = case.children().find(|n| n.has_tag_name("failure")).unwrap();
            assert_eq!(failure.attribute("message"), Some(expected));
            assert!(failure.text().unwrap().ends_with(expected));
        });
        assert!(!out.contains('\x1b') && !out.contains('\u{0}'));
    }

    #[test]
    fn attribute_whitespace_is_preserved() {
        assert_eq!(attr("a\tb\nc"), "a&#9;b&#10;c");
        assert_eq!(text("a\tb\nc"), "a\tb\nc");
        assert_eq!(text("\u{fffe}"), "\\u{fffe}");
    }
}
