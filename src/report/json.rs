//! The JSON report: a stable shape that scripts and other tools rely on.
//!
//! ```json
//! {
//!   "tool": {"name": "portcullis", "version": "0.1.0"},
//!   "policy": "builtin:default",
//!   "fail_on": "high",
//!   "passed": false,
//!   "summary": {"critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0},
//!   "findings": [{
//!     "rule_id": "PC1002", "rule": "no-latest-tag", "severity": "high",
//!     "message": "…", "target": "Dockerfile",
//!     "location": {"path": "Dockerfile", "line": 1, "column": 1, "end_line": 1, "end_column": 19},
//!     "fingerprint": "…"
//!   }],
//!   "suppressed": [{"rule_id": "DL3059", …, "justification": "hadolint ignore=DL3059"}],
//!   "notes": [{"message": "…", "location": {"path": null, "line": null, …}}]
//! }
//! ```
//! Every key is always present. A location has all five keys; any of them is `null` when
//! unknown: an image finding has `"path": null` (and null lines unless the engine tied it
//! to a file). Lines and columns are 1-based; `end_column` is exclusive.

use super::{display_path, normalized, to_pretty_json, Report};
use crate::finding::{Location, Severity};
use serde::Serialize;

#[derive(Serialize)]
struct JsonReport<'a> {
    tool: Tool,
    policy: &'a str,
    fail_on: Severity,
    passed: bool,
    /// What could not be evaluated, with the reason (the run exits 3).
    unevaluated: &'a [String],
    summary: Summary,
    findings: Vec<JsonFinding<'a>>,
    /// Findings inline pragmas silenced (the policy allowed it), each with its pragma.
    suppressed: Vec<JsonSuppressed<'a>>,
    notes: Vec<JsonNote<'a>>,
}

#[derive(Serialize)]
struct JsonSuppressed<'a> {
    #[serde(flatten)]
    finding: JsonFinding<'a>,
    justification: &'a str,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    critical: usize,
    high: usize,
    medium: usize,
    low: usize,
    info: usize,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule_id: &'static str,
    rule: &'static str,
    severity: Severity,
    message: &'a str,
    target: &'a str,
    location: JsonLocation,
    fingerprint: &'a str,
}

impl<'a> JsonFinding<'a> {
    fn new(f: &'a crate::finding::Finding) -> Self {
        JsonFinding {
            rule_id: f.rule_id,
            rule: f.rule,
            severity: f.severity,
            message: &f.message,
            target: &f.target,
            location: JsonLocation::new(&f.location),
            fingerprint: &f.fingerprint,
        }
    }
}

#[derive(Serialize)]
struct JsonNote<'a> {
    message: &'a str,
    location: JsonLocation,
}

#[derive(Serialize)]
struct JsonLocation {
    path: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
}

impl JsonLocation {
    fn new(location: &Location) -> Self {
        let span = location.span.map(normalized);
        JsonLocation {
            path: display_path(location),
            line: span.map(|s| s.line),
            column: span.map(|s| s.column),
            end_line: span.map(|s| s.end_line),
            end_column: span.map(|s| s.end_column),
        }
    }
}

pub(super) fn render(report: &Report<'_>) -> String {
    let count = |severity: Severity| {
        report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    };
    let json = JsonReport {
        tool: Tool {
            name: "portcullis",
            version: report.tool_version,
        },
        policy: &report.policy,
        fail_on: report.fail_on,
        passed: report.passed(),
        unevaluated: report.unevaluated,
        summary: Summary {
            critical: count(Severity::Critical),
            high: count(Severity::High),
            medium: count(Severity::Medium),
            low: count(Severity::Low),
            info: count(Severity::Info),
        },
        findings: report.findings.iter().map(JsonFinding::new).collect(),
        suppressed: report
            .suppressed
            .iter()
            .map(|s| JsonSuppressed {
                finding: JsonFinding::new(&s.finding),
                justification: &s.pragma,
            })
            .collect(),
        notes: report
            .notes
            .iter()
            .map(|n| JsonNote {
                message: &n.message,
                location: JsonLocation::new(&n.location),
            })
            .collect(),
    };
    to_pretty_json(&json)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::{render, Format};
    use crate::finding::Severity;
    use serde_json::Value;

    fn parse(data: &ReportData) -> (String, Value) {
        let out = render(&data.report(), Format::Json, false);
        let value = serde_json::from_str(&out).expect("valid JSON");
        (out, value)
    }

    #[test]
    fn has_the_documented_shape_in_order() {
        let data = ReportData::new(sample_findings());
        let (out, v) = parse(&data);
        assert!(
            out.ends_with("}\n") && out.contains("\n  \"tool\""),
            "pretty + newline"
        );
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "tool",
                "policy",
                "fail_on",
                "passed",
                "unevaluated",
                "summary",
                "findings",
                "suppressed",
                "notes"
            ]
        );
        assert_eq!(v["tool"]["name"], "portcullis");
        assert_eq!(v["tool"]["version"], "0.1.0");
        assert_eq!(v["policy"], "builtin:default");
        assert_eq!(v["fail_on"], "high");
        assert_eq!(v["passed"], false);
        let summary_keys: Vec<&str> = v["summary"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(summary_keys, ["critical", "high", "medium", "low", "info"]);
        for severity in Severity::ALL {
            let expected = data
                .findings
                .iter()
                .filter(|f| f.severity == severity)
                .count();
            assert_eq!(v["summary"][severity.as_str()], expected, "{severity}");
        }
    }

    #[test]
    fn findings_keep_order_and_every_field() {
        let data = ReportData::new(sample_findings());
        let (_, v) = parse(&data);
        let findings = v["findings"].as_array().unwrap();
        assert_eq!(findings.len(), data.findings.len());
        for (json, f) in findings.iter().zip(&data.findings) {
            let keys: Vec<&str> = json
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                [
                    "rule_id",
                    "rule",
                    "severity",
                    "message",
                    "target",
                    "location",
                    "fingerprint"
                ]
            );
            assert_eq!(json["rule_id"], f.rule_id);
            assert_eq!(json["rule"], f.rule);
            assert_eq!(json["severity"], f.severity.as_str());
            assert_eq!(json["message"], f.message.as_str());
            assert_eq!(json["target"], f.target.as_str());
            assert_eq!(json["fingerprint"], f.fingerprint.as_str());
            assert_eq!(
                json["location"]["path"].as_str(),
                f.location.path.as_deref()
            );
            match f.location.span {
                Some(span) => {
                    assert_eq!(json["location"]["line"], span.line);
                    assert_eq!(json["location"]["column"], span.column);
                    assert_eq!(json["location"]["end_line"], span.end_line);
                    assert_eq!(json["location"]["end_column"], span.end_column);
                }
                None => {
                    for key in ["line", "column", "end_line", "end_column"] {
                        assert!(json["location"][key].is_null(), "{key}");
                    }
                }
            }
        }
    }

    #[test]
    fn image_findings_have_null_path_and_lines() {
        let data = ReportData::new(sample_findings());
        let (_, v) = parse(&data);
        let image = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == "PC2001")
            .unwrap();
        let location = image["location"].as_object().unwrap();
        assert_eq!(location.len(), 5, "all keys present");
        assert!(location.values().all(|v| v.is_null()));
    }

    #[test]
    fn notes_have_message_and_location() {
        let data = ReportData::new(vec![]);
        let (_, v) = parse(&data);
        assert_eq!(v["passed"], true);
        assert_eq!(v["findings"].as_array().unwrap().len(), 0);
        let notes = v["notes"].as_array().unwrap();
        assert_eq!(notes.len(), 2);
        assert!(notes[0]["location"]["path"].is_null());
        assert_eq!(notes[1]["location"]["path"], "portcullis.yaml");
        assert_eq!(notes[1]["location"]["line"], 12);
    }

    #[test]
    fn strings_round_trip_exactly() {
        let f = finding(
            &LATEST,
            Severity::High,
            NASTY,
            Some("a b/Dockerfile"),
            None,
            NASTY,
        );
        let data = ReportData::new(vec![f]);
        let (_, v) = parse(&data);
        assert_eq!(v["findings"][0]["message"], NASTY);
        assert_eq!(v["findings"][0]["target"], NASTY);
        assert_eq!(v["findings"][0]["location"]["path"], "a b/Dockerfile");
    }

    #[test]
    fn same_input_same_bytes() {
        let data = ReportData::new(sample_findings());
        let report = data.report();
        assert_eq!(
            render(&report, Format::Json, false),
            render(&report, Format::Json, true)
        );
    }
}
