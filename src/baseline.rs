//! `--baseline FILE`: adopt portcullis on a repository with existing findings without
//! fixing them all first, and without letting new ones in.
//!
//! A baseline is a previous JSON report (`portcullis check --format json -o baseline.json`).
//! A finding whose fingerprint is in the baseline is dropped from this run's reports and
//! does not fail the gate; a note says how many were dropped. Everything else is reported
//! and gated as usual. Like checkov's `--baseline`, the baseline is matched by identity,
//! not by line: fingerprints hash the rule, the target, the message and the offending
//! line's text, so unrelated edits that move a line do not resurface it, while changing
//! the offending line does.
//!
//! Matching counts: a baseline with one finding of a fingerprint absorbs one finding of
//! that fingerprint, so a second identical line added later is still reported.

use crate::finding::Finding;
use crate::report::Note;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// Why a baseline could not be used. Each is a usage error (exit 2): a gate that silently
/// ran without its baseline would fail on every old finding, or worse, one that read the
/// wrong file could pass findings it should not.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline {path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("baseline {path}: not valid JSON ({source}); a baseline is a report written by `portcullis check --format json`")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("baseline {path}: {reason}; a baseline is a report written by `portcullis check --format json`")]
    Shape { path: String, reason: String },
}

/// The fingerprints of a previous report, with how often each occurred.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// The path as given, for notes.
    shown: String,
    /// Fingerprint → how often it occurs, and the target it is in (fingerprints hash the
    /// target, so each has one).
    counts: HashMap<String, (usize, Option<String>)>,
    total: usize,
}

impl Baseline {
    /// Reads a JSON report from `path`.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: shown.clone(),
            source,
        })?;
        Baseline::parse(&text, &shown)
    }

    /// Parses a JSON report; `shown` names it in errors and notes.
    pub fn parse(text: &str, shown: &str) -> Result<Baseline, BaselineError> {
        let shape = |reason: &str| BaselineError::Shape {
            path: shown.to_string(),
            reason: reason.to_string(),
        };
        let value: Value = serde_json::from_str(text).map_err(|source| BaselineError::Json {
            path: shown.to_string(),
            source,
        })?;
        if value.get("runs").is_some() && value.get("version").is_some() {
            return Err(shape("this is a SARIF log, not a portcullis JSON report"));
        }
        if value.pointer("/tool/name").and_then(Value::as_str) != Some("portcullis") {
            return Err(shape(
                "not a portcullis report (no `tool.name: portcullis`)",
            ));
        }
        let findings = value
            .get("findings")
            .and_then(Value::as_array)
            .ok_or_else(|| shape("no `findings` array"))?;
        let mut baseline = Baseline {
            shown: shown.to_string(),
            ..Baseline::default()
        };
        for (index, finding) in findings.iter().enumerate() {
            let fingerprint = finding
                .get("fingerprint")
                .and_then(Value::as_str)
                .filter(|f| !f.is_empty())
                .ok_or_else(|| shape(&format!("finding {} has no `fingerprint`", index + 1)))?;
            let target = finding.get("target").and_then(Value::as_str);
            let entry = baseline
                .counts
                .entry(fingerprint.to_string())
                .or_insert((0, target.map(str::to_string)));
            entry.0 += 1;
            baseline.total += 1;
        }
        Ok(baseline)
    }

    /// How many findings the baseline holds.
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Removes the findings the baseline accepts, each baseline entry absorbing one
    /// finding, and returns the notes that say what happened. `checked` are the targets
    /// this run checked: only their baseline entries can be found stale (a `--shard` or a
    /// narrower target list leaves the others alone).
    pub fn apply(&self, findings: &mut Vec<Finding>, checked: &[String]) -> Vec<Note> {
        let mut left = self.counts.clone();
        let before = findings.len();
        findings.retain(|finding| match left.get_mut(&finding.fingerprint) {
            Some((n, _)) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        });
        let matched = before - findings.len();
        let stale: usize = left
            .values()
            .filter(|(_, target)| target.as_ref().is_none_or(|t| checked.contains(t)))
            .map(|(n, _)| n)
            .sum();
        let mut notes = vec![Note::new(format!(
            "{} the baseline {} and {} not reported",
            plural(matched, "finding matched", "findings matched"),
            self.shown,
            if matched == 1 { "is" } else { "are" }
        ))];
        if stale > 0 {
            notes.push(Note::new(format!(
                "{stale} of the baseline's {} no longer {} (fixed or changed); write a new \
                 baseline to drop {}",
                plural(self.total, "finding", "findings"),
                if stale == 1 { "occurs" } else { "occur" },
                if stale == 1 { "it" } else { "them" }
            )));
        }
        notes
    }
}

/// `1 finding` / `2 findings`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Location, Severity};

    fn finding(fingerprint: &str) -> Finding {
        Finding {
            rule_id: "PC1002",
            rule: "no-latest-tag",
            severity: Severity::High,
            message: "m".into(),
            target: "Dockerfile".into(),
            location: Location::default(),
            fingerprint: fingerprint.into(),
        }
    }

    fn report(fingerprints: &[&str]) -> String {
        let findings: Vec<Value> = fingerprints
            .iter()
            .map(|f| serde_json::json!({"rule_id": "PC1002", "target": "Dockerfile", "fingerprint": f}))
            .collect();
        serde_json::json!({"tool": {"name": "portcullis"}, "findings": findings}).to_string()
    }

    #[test]
    fn matched_findings_are_dropped_once_per_baseline_entry() {
        let baseline = Baseline::parse(&report(&["a", "b", "b"]), "base.json").unwrap();
        assert_eq!(baseline.len(), 3);
        let mut findings = vec![finding("a"), finding("b"), finding("b"), finding("b")];
        findings.push(finding("new"));
        let notes = baseline.apply(&mut findings, &["Dockerfile".to_string()]);
        let left: Vec<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
        assert_eq!(left, ["b", "new"], "the third `b` is new");
        assert_eq!(notes.len(), 1);
        assert_eq!(
            notes[0].message,
            "3 findings matched the baseline base.json and are not reported"
        );
    }

    #[test]
    fn stale_entries_are_counted() {
        let baseline = Baseline::parse(&report(&["a", "gone"]), "b.json").unwrap();
        let mut findings = vec![finding("a")];
        let notes = baseline.apply(&mut findings, &["Dockerfile".to_string()]);
        assert!(findings.is_empty());
        assert_eq!(
            notes[0].message,
            "1 finding matched the baseline b.json and is not reported"
        );
        assert_eq!(
            notes[1].message,
            "1 of the baseline's 2 findings no longer occurs (fixed or changed); write a new baseline to drop it"
        );
    }

    #[test]
    fn entries_of_targets_not_checked_are_not_stale() {
        let baseline = Baseline::parse(&report(&["a", "gone"]), "b.json").unwrap();
        let mut findings = vec![finding("a")];
        let notes = baseline.apply(&mut findings, &["other/Dockerfile".to_string()]);
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn an_empty_report_is_a_valid_baseline() {
        let baseline = Baseline::parse(&report(&[]), "b.json").unwrap();
        assert!(baseline.is_empty());
        let mut findings = vec![finding("a")];
        baseline.apply(&mut findings, &[]);
        assert_eq!(findings.len(), 1);
    }

    #[test]
    fn what_is_not_a_json_report_is_refused_with_the_reason() {
        let cases = [
            ("{", "not valid JSON"),
            ("[]", "not a portcullis report"),
            (r#"{"version": "2.1.0", "runs": []}"#, "SARIF"),
            (
                r#"{"tool": {"name": "trivy"}, "findings": []}"#,
                "not a portcullis",
            ),
            (r#"{"tool": {"name": "portcullis"}}"#, "no `findings` array"),
            (
                r#"{"tool": {"name": "portcullis"}, "findings": [{"rule_id": "X"}]}"#,
                "finding 1 has no `fingerprint`",
            ),
        ];
        for (text, expected) in cases {
            let err = Baseline::parse(text, "b.json").unwrap_err().to_string();
            assert!(err.starts_with("baseline b.json: "), "{err}");
            assert!(err.contains(expected), "{text}: {err}");
            assert!(err.contains("--format json"), "{err}");
        }
    }
}
