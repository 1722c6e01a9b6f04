//! GitLab Code Quality: a JSON array of issues (a subset of the Code Climate format).
//!
//! Every issue needs a path: an image finding without a file uses `image/<reference
//! without digest>` (see `image_path`) at line 1; GitLab shows it in the merge request
//! widget without a working file link. GitLab identifies issues by `fingerprint`, so
//! repeated fingerprints (two identical findings) get `:2`, `:3`, … appended in report
//! order, and a missing one is derived from the finding. Notes have no place here.

use super::{artifact_path, normalized, to_pretty_json, Report};
use crate::finding::{Finding, Severity};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

#[derive(Serialize)]
struct Issue {
    #[serde(rename = "type")]
    kind: &'static str,
    check_name: &'static str,
    description: String,
    categories: [&'static str; 1],
    fingerprint: String,
    severity: &'static str,
    location: IssueLocation,
}

#[derive(Serialize)]
struct IssueLocation {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Low => "minor",
        Severity::Medium => "major",
        Severity::High => "critical",
        Severity::Critical => "blocker",
    }
}

/// For a finding the engine gave no fingerprint (should not happen; GitLab needs one).
fn derived_fingerprint(finding: &Finding) -> String {
    let mut hasher = Sha256::new();
    for part in [
        finding.rule_id,
        finding.target.as_str(),
        finding.message.as_str(),
        finding.location.path.as_deref().unwrap_or(""),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn render(report: &Report<'_>) -> String {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let issues: Vec<Issue> = report
        .findings
        .iter()
        .map(|f| {
            let base = if f.fingerprint.is_empty() {
                derived_fingerprint(f)
            } else {
                f.fingerprint.clone()
            };
            let count = seen.entry(base.clone()).or_insert(0);
            *count += 1;
            let fingerprint = if *count == 1 {
                base
            } else {
                format!("{base}:{count}")
            };
            Issue {
                kind: "issue",
                check_name: f.rule_id,
                description: format!("{} {}: {}", f.rule_id, f.rule, f.message),
                categories: ["Security"],
                fingerprint,
                severity: severity(f.severity),
                location: IssueLocation {
                    path: artifact_path(f),
                    lines: Lines {
                        begin: f.location.span.map_or(1, |s| normalized(s).line),
                    },
                },
            }
        })
        .collect();
    to_pretty_json(&issues)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::{render, Format};
    use crate::finding::Severity;
    use serde_json::Value;
    use std::collections::HashSet;

    fn issues(data: &ReportData) -> Vec<Value> {
        let out = render(&data.report(), Format::Gitlab, false);
        assert!(out.ends_with('\n'));
        match serde_json::from_str(&out).expect("valid JSON") {
            Value::Array(items) => items,
            other => panic!("not an array: {other}"),
        }
    }

    #[test]
    fn one_issue_per_finding_with_required_fields() {
        let data = ReportData::new(sample_findings());
        let issues = issues(&data);
        assert_eq!(issues.len(), data.findings.len());
        for (issue, f) in issues.iter().zip(&data.findings) {
            assert_eq!(issue["check_name"], f.rule_id);
            assert_eq!(issue["fingerprint"], f.fingerprint.as_str());
            assert!(issue["description"].as_str().unwrap().ends_with(&f.message));
            let expected = match f.severity {
                Severity::Info => "info",
                Severity::Low => "minor",
                Severity::Medium => "major",
                Severity::High => "critical",
                Severity::Critical => "blocker",
            };
            assert_eq!(issue["severity"], expected);
            let path = issue["location"]["path"].as_str().unwrap();
            assert!(!path.is_empty());
            assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
            if let Some(p) = &f.location.path {
                assert_eq!(path, p);
            }
        }
    }

    #[test]
    fn image_findings_get_a_path() {
        let data = ReportData::new(sample_findings());
        let image = issues(&data)
            .into_iter()
            .find(|i| i["check_name"] == "PC2001")
            .unwrap();
        assert_eq!(
            image["location"]["path"],
            "image/registry.example.com/team/app:1.2"
        );
        assert_eq!(image["location"]["lines"]["begin"], 1);
    }

    #[test]
    fn fingerprints_are_unique_and_never_empty() {
        let f = finding(
            &LATEST,
            Severity::High,
            "Dockerfile",
            Some("Dockerfile"),
            None,
            "x",
        );
        let mut no_print = f.clone();
        no_print.fingerprint.clear();
        let data = ReportData::new(vec![f.clone(), f.clone(), f, no_print]);
        let issues = issues(&data);
        let prints: HashSet<&str> = issues
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap())
            .collect();
        assert_eq!(prints.len(), 4);
        assert!(prints.iter().all(|p| !p.is_empty()));
        assert!(prints.contains(format!("{}:3", data.findings[0].fingerprint).as_str()));
    }

    #[test]
    fn empty_report_is_an_empty_array() {
        assert!(issues(&ReportData::new(vec![])).is_empty());
    }
}
