//! `portcullis merge-reports`: join the reports of sharded runs (`--shard I/N`) into one.
//!
//! - **JSON** reports are joined into one report of the same shape: findings concatenated,
//!   de-duplicated and sorted as `check` sorts them; `summary` and `passed` recomputed
//!   against the common `fail_on`; notes concatenated without repeats. Reports with
//!   different `fail_on` cannot be merged (whether the result passed would be undefined).
//! - **SARIF** logs are joined into one log with a *single* run: GitHub code scanning
//!   rejects a file with several runs of the same tool and category, so the runs' results
//!   are put into one run, rule descriptors united by id (and `ruleIndex` recomputed),
//!   tool notifications concatenated. Only portcullis runs are accepted.
//!
//! Inputs are checked, not trusted: a file that is not a portcullis report is an error that
//! names the file, never a silently smaller report.

use crate::finding::Severity;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::HashSet;

/// The formats that can be merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeFormat {
    Json,
    Sarif,
}

impl MergeFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeFormat::Json => "json",
            MergeFormat::Sarif => "sarif",
        }
    }
}

impl std::str::FromStr for MergeFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(MergeFormat::Json),
            "sarif" => Ok(MergeFormat::Sarif),
            _ => Err(format!(
                "cannot merge `{s}` reports; expected json or sarif"
            )),
        }
    }
}

/// One report to merge: its name (for errors) and its text.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: name at least one report")]
    NoInput,
    #[error("{name}: not valid JSON: {source}")]
    Json {
        name: String,
        source: serde_json::Error,
    },
    #[error("{name}: {reason}")]
    Invalid { name: String, reason: String },
    #[error("{first} is a {first_format} report but {other} is a {other_format} report; merge one format at a time")]
    MixedFormats {
        first: String,
        first_format: &'static str,
        other: String,
        other_format: &'static str,
    },
    #[error("{name} is a {found} report, not {wanted}")]
    WrongFormat {
        name: String,
        found: &'static str,
        wanted: &'static str,
    },
    #[error("the reports disagree on fail_on ({first}: {first_fail_on}, {other}: {other_fail_on}); merge reports made with one policy")]
    FailOnDiffers {
        first: String,
        first_fail_on: String,
        other: String,
        other_fail_on: String,
    },
}

/// Merges `inputs`. Without `format`, it is detected from the inputs (which must agree).
/// Returns the format and the merged report, pretty-printed with a trailing newline.
pub fn merge(
    inputs: &[Input],
    format: Option<MergeFormat>,
) -> Result<(MergeFormat, String), MergeError> {
    let first = inputs.first().ok_or(MergeError::NoInput)?;
    let mut parsed = Vec::with_capacity(inputs.len());
    for input in inputs {
        let value: Value =
            serde_json::from_str(&input.text).map_err(|source| MergeError::Json {
                name: input.name.clone(),
                source,
            })?;
        let found = detect(&value).ok_or_else(|| MergeError::Invalid {
            name: input.name.clone(),
            reason: "neither a portcullis JSON report nor a SARIF log".into(),
        })?;
        parsed.push((input, found, value));
    }
    let wanted = format.unwrap_or(parsed[0].1);
    for (input, found, _) in &parsed {
        if *found != wanted {
            return Err(match format {
                Some(_) => MergeError::WrongFormat {
                    name: input.name.clone(),
                    found: found.as_str(),
                    wanted: wanted.as_str(),
                },
                None => MergeError::MixedFormats {
                    first: first.name.clone(),
                    first_format: wanted.as_str(),
                    other: input.name.clone(),
                    other_format: found.as_str(),
                },
            });
        }
    }
    let values: Vec<(&str, Value)> = parsed
        .into_iter()
        .map(|(input, _, value)| (input.name.as_str(), value))
        .collect();
    let merged = match wanted {
        MergeFormat::Json => merge_json(values)?,
        MergeFormat::Sarif => merge_sarif(values)?,
    };
    let mut text = serde_json::to_string_pretty(&merged).map_err(|source| MergeError::Json {
        name: "merged report".into(),
        source,
    })?;
    text.push('\n');
    Ok((wanted, text))
}

fn detect(value: &Value) -> Option<MergeFormat> {
    if value.get("runs").is_some() && value.get("version").is_some() {
        Some(MergeFormat::Sarif)
    } else if value.get("findings").is_some() && value.get("tool").is_some() {
        Some(MergeFormat::Json)
    } else {
        None
    }
}

fn invalid(name: &str, reason: impl Into<String>) -> MergeError {
    MergeError::Invalid {
        name: name.to_string(),
        reason: reason.into(),
    }
}

fn array<'a>(value: &'a Value, key: &str, name: &str) -> Result<&'a Vec<Value>, MergeError> {
    value
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(name, format!("no `{key}` array")))
}

/// Appends the items not seen yet, keeping first-seen order.
fn extend_unique(out: &mut Vec<Value>, seen: &mut HashSet<String>, items: &[Value]) {
    for item in items {
        if seen.insert(item.to_string()) {
            out.push(item.clone());
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON

fn merge_json(reports: Vec<(&str, Value)>) -> Result<Value, MergeError> {
    let mut fail_on: Option<(&str, Severity, String)> = None;
    let mut policies: Vec<String> = Vec::new();
    let mut findings = Vec::new();
    let mut seen_findings = HashSet::new();
    let mut notes = Vec::new();
    let mut suppressed = Vec::new();
    let mut seen_suppressed = HashSet::new();
    let mut unevaluated: Vec<Value> = Vec::new();
    let mut seen_notes = HashSet::new();
    let mut tool = Value::Null;
    for (name, report) in &reports {
        if report.pointer("/tool/name").and_then(Value::as_str) != Some("portcullis") {
            return Err(invalid(
                name,
                "not a portcullis report (no `tool.name: portcullis`)",
            ));
        }
        if tool.is_null() {
            tool = report["tool"].clone();
        }
        let text = report
            .get("fail_on")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(name, "no `fail_on`"))?;
        let level = text
            .parse::<Severity>()
            .map_err(|e| invalid(name, format!("fail_on: {e}")))?;
        match &fail_on {
            None => fail_on = Some((name, level, text.to_string())),
            Some((first, first_level, first_text)) if *first_level != level => {
                return Err(MergeError::FailOnDiffers {
                    first: first.to_string(),
                    first_fail_on: first_text.clone(),
                    other: name.to_string(),
                    other_fail_on: text.to_string(),
                })
            }
            Some(_) => {}
        }
        if let Some(policy) = report.get("policy").and_then(Value::as_str) {
            if !policies.iter().any(|p| p == policy) {
                policies.push(policy.to_string());
            }
        }
        let report_findings = array(report, "findings", name)?;
        for (index, finding) in report_findings.iter().enumerate() {
            severity_of(finding)
                .map_err(|e| invalid(name, format!("finding {}: {e}", index + 1)))?;
        }
        extend_unique(&mut findings, &mut seen_findings, report_findings);
        if let Some(report_notes) = report.get("notes").and_then(Value::as_array) {
            extend_unique(&mut notes, &mut seen_notes, report_notes);
        }
        if let Some(items) = report.get("suppressed").and_then(Value::as_array) {
            extend_unique(&mut suppressed, &mut seen_suppressed, items);
        }
        // A shard that could not evaluate something failed closed; so does the merge.
        if let Some(items) = report.get("unevaluated").and_then(Value::as_array) {
            for item in items {
                if !unevaluated.contains(item) {
                    unevaluated.push(item.clone());
                }
            }
        }
    }
    let Some((_, fail_on, fail_on_text)) = fail_on else {
        return Err(MergeError::NoInput);
    };
    findings.sort_by(compare_json_findings);
    suppressed.sort_by(compare_json_findings);

    let mut summary = Map::new();
    for severity in Severity::ALL {
        let count = findings
            .iter()
            .filter(|f| severity_of(f).ok() == Some(severity))
            .count();
        summary.insert(severity.as_str().into(), count.into());
    }
    let passed = unevaluated.is_empty()
        && !findings
            .iter()
            .any(|f| severity_of(f).is_ok_and(|s| s >= fail_on));

    let mut out = Map::new();
    out.insert("tool".into(), tool);
    out.insert("policy".into(), policies.join(", ").into());
    out.insert("fail_on".into(), fail_on_text.into());
    out.insert("passed".into(), passed.into());
    out.insert("unevaluated".into(), unevaluated.into());
    out.insert("summary".into(), summary.into());
    out.insert("findings".into(), findings.into());
    out.insert("suppressed".into(), suppressed.into());
    out.insert("notes".into(), notes.into());
    Ok(Value::Object(out))
}

fn severity_of(finding: &Value) -> Result<Severity, String> {
    finding
        .get("severity")
        .and_then(Value::as_str)
        .ok_or_else(|| "no `severity`".to_string())?
        .parse()
}

/// The order `check` gives findings: target, path, span, rule, message.
fn compare_json_findings(a: &Value, b: &Value) -> Ordering {
    fn key(f: &Value) -> (&str, Option<&str>, Option<[u64; 4]>, &str, &str) {
        fn text(v: &Value) -> &str {
            v.as_str().unwrap_or_default()
        }
        let location = &f["location"];
        let span = ["line", "column", "end_line", "end_column"]
            .iter()
            .map(|k| location[*k].as_u64())
            .collect::<Option<Vec<u64>>>()
            .and_then(|v| <[u64; 4]>::try_from(v).ok());
        (
            text(&f["target"]),
            location["path"].as_str(),
            span,
            text(&f["rule_id"]),
            text(&f["message"]),
        )
    }
    key(a).cmp(&key(b))
}

// ---------------------------------------------------------------------------------------
// SARIF

fn merge_sarif(logs: Vec<(&str, Value)>) -> Result<Value, MergeError> {
    let mut base: Option<(Value, Map<String, Value>)> = None;
    let mut rules: Vec<Value> = Vec::new();
    let mut results: Vec<Value> = Vec::new();
    let mut seen_results = HashSet::new();
    let mut notifications = Vec::new();
    let mut seen_notifications = HashSet::new();
    let mut all_successful = true;

    for (name, log) in &logs {
        if log.get("version").and_then(Value::as_str) != Some("2.1.0") {
            return Err(invalid(name, "not a SARIF 2.1.0 log"));
        }
        for run in array(log, "runs", name)? {
            let driver = run.pointer("/tool/driver").unwrap_or(&Value::Null);
            let tool = driver.get("name").and_then(Value::as_str).unwrap_or("");
            if tool != "portcullis" {
                return Err(invalid(
                    name,
                    format!("has a run of `{tool}`; only portcullis runs can be merged"),
                ));
            }
            for rule in driver
                .get("rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = rule.get("id").and_then(Value::as_str);
                if !rules
                    .iter()
                    .any(|r| r.get("id").and_then(Value::as_str) == id)
                {
                    rules.push(rule.clone());
                }
            }
            for invocation in run
                .get("invocations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                all_successful &= invocation
                    .get("executionSuccessful")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                if let Some(list) = invocation
                    .get("toolExecutionNotifications")
                    .and_then(Value::as_array)
                {
                    extend_unique(&mut notifications, &mut seen_notifications, list);
                }
            }
            let run_results = run
                .get("results")
                .and_then(Value::as_array)
                .ok_or_else(|| invalid(name, "a run has no `results` array"))?;
            for result in run_results {
                let mut result = result.clone();
                // Indexes point into this input's rule list; they are recomputed below.
                if let Some(object) = result.as_object_mut() {
                    object.shift_remove("ruleIndex");
                }
                extend_unique(&mut results, &mut seen_results, &[result]);
            }
            if base.is_none() {
                let mut run = run.as_object().cloned().unwrap_or_default();
                run.shift_remove("results");
                run.shift_remove("invocations");
                base = Some((log.clone(), run));
            }
        }
    }
    let Some((mut log, mut run)) = base else {
        return Err(MergeError::NoInput);
    };

    rules.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    for result in &mut results {
        let id = result.get("ruleId").and_then(Value::as_str);
        let index = rules
            .iter()
            .position(|r| r.get("id").and_then(Value::as_str) == id);
        if let (Some(index), Some(object)) = (index, result.as_object_mut()) {
            insert_after(object, "ruleId", "ruleIndex", index.into());
        }
    }
    results.sort_by(compare_sarif_results);

    if let Some(driver) = run
        .get_mut("tool")
        .and_then(|t| t.get_mut("driver"))
        .and_then(Value::as_object_mut)
    {
        driver.insert("rules".into(), rules.into());
    }
    let mut invocation = Map::new();
    invocation.insert("executionSuccessful".into(), all_successful.into());
    if !notifications.is_empty() {
        invocation.insert("toolExecutionNotifications".into(), notifications.into());
    }
    // Keep the reporter's key order: tool, invocations, …, results last.
    let mut ordered = Map::new();
    for (key, value) in run {
        ordered.insert(key.clone(), value);
        if key == "tool" {
            ordered.insert(
                "invocations".into(),
                vec![Value::Object(invocation.clone())].into(),
            );
        }
    }
    if !ordered.contains_key("invocations") {
        ordered.insert("invocations".into(), vec![Value::Object(invocation)].into());
    }
    ordered.insert("results".into(), results.into());
    log["runs"] = Value::Array(vec![Value::Object(ordered)]);
    Ok(log)
}

/// `map` with `key: value` placed right after `after` (serde_json keeps insertion order).
fn insert_after(map: &mut Map<String, Value>, after: &str, key: &str, value: Value) {
    let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
    for (k, v) in entries {
        let matched = k == after;
        map.insert(k, v);
        if matched {
            map.insert(key.to_string(), value.clone());
        }
    }
    if !map.contains_key(key) {
        map.insert(key.to_string(), value);
    }
}

/// Target, file, region, rule, message: the order `check` writes results in.
fn compare_sarif_results(a: &Value, b: &Value) -> Ordering {
    fn key(r: &Value) -> (&str, &str, [u64; 4], &str, &str) {
        fn text(v: Option<&Value>) -> &str {
            v.and_then(Value::as_str).unwrap_or_default()
        }
        let physical = r.pointer("/locations/0/physicalLocation");
        let region = physical.and_then(|p| p.get("region"));
        let number = |k: &str| region.and_then(|r| r.get(k)).and_then(Value::as_u64);
        (
            text(r.pointer("/properties/target")),
            text(physical.and_then(|p| p.pointer("/artifactLocation/uri"))),
            [
                number("startLine").unwrap_or(0),
                number("startColumn").unwrap_or(0),
                number("endLine").unwrap_or(0),
                number("endColumn").unwrap_or(0),
            ],
            text(r.get("ruleId")),
            text(r.pointer("/message/text")),
        )
    }
    key(a).cmp(&key(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(name: &str, value: Value) -> Input {
        Input {
            name: name.into(),
            text: value.to_string(),
        }
    }

    fn finding(target: &str, line: u64, severity: &str) -> Value {
        json!({
            "rule_id": "PC1002", "rule": "no-latest-tag", "severity": severity,
            "message": "m", "target": target,
            "location": {"path": target, "line": line, "column": 1, "end_line": line, "end_column": 5},
            "fingerprint": format!("{target}{line}")
        })
    }

    fn report(fail_on: &str, findings: Vec<Value>, notes: Vec<Value>) -> Value {
        json!({
            "tool": {"name": "portcullis", "version": "0.1.0"},
            "policy": "builtin:default", "fail_on": fail_on, "passed": true,
            "summary": {}, "findings": findings, "notes": notes
        })
    }

    fn merged(inputs: &[Input]) -> Value {
        let (_, text) = merge(inputs, None).expect("merges");
        assert!(text.ends_with("}\n"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn json_reports_join_sorted_with_summary_and_passed_recomputed() {
        let a = report(
            "high",
            vec![finding("b/Dockerfile", 1, "medium")],
            vec![json!({"message": "n"})],
        );
        let b = report(
            "high",
            vec![
                finding("a/Dockerfile", 2, "high"),
                finding("a/Dockerfile", 1, "low"),
            ],
            vec![json!({"message": "n"})],
        );
        let out = merged(&[input("a.json", a), input("b.json", b)]);
        let keys: Vec<&str> = out
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
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
        let order: Vec<(&str, u64)> = out["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["target"].as_str().unwrap(),
                    f["location"]["line"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("a/Dockerfile", 1),
                ("a/Dockerfile", 2),
                ("b/Dockerfile", 1)
            ]
        );
        assert_eq!(out["passed"], false, "a high finding fails at high");
        assert_eq!(
            out["summary"],
            json!({"critical": 0, "high": 1, "medium": 1, "low": 1, "info": 0})
        );
        assert_eq!(
            out["notes"].as_array().unwrap().len(),
            1,
            "repeated note kept once"
        );
        assert_eq!(out["policy"], "builtin:default");
    }

    #[test]
    fn json_merge_of_passing_shards_passes_and_duplicates_collapse() {
        let a = report("high", vec![finding("x", 1, "low")], vec![]);
        let out = merged(&[input("a", a.clone()), input("b", a)]);
        assert_eq!(out["passed"], true);
        assert_eq!(out["findings"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn json_reports_with_different_fail_on_are_refused() {
        let err = merge(
            &[
                input("a.json", report("high", vec![], vec![])),
                input("b.json", report("low", vec![], vec![])),
            ],
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("a.json: high") && err.contains("b.json: low"),
            "{err}"
        );
    }

    #[test]
    fn bad_inputs_are_named() {
        let cases = [
            (vec![input("x.json", json!([]))], None, "x.json: neither"),
            (
                vec![Input {
                    name: "y.json".into(),
                    text: "{".into(),
                }],
                None,
                "y.json: not valid JSON",
            ),
            (
                vec![
                    input("a", report("high", vec![], vec![])),
                    input("s", json!({"version": "2.1.0", "runs": []})),
                ],
                None,
                "a is a json report but s is a sarif report",
            ),
            (
                vec![input("a", report("high", vec![], vec![]))],
                Some(MergeFormat::Sarif),
                "a is a json report, not sarif",
            ),
            (
                vec![input(
                    "t",
                    json!({"tool": {"name": "trivy"}, "findings": []}),
                )],
                None,
                "t: not a portcullis report",
            ),
            (
                vec![input(
                    "v",
                    report("high", vec![json!({"severity": "dire"})], vec![]),
                )],
                None,
                "v: finding 1: unknown severity `dire`",
            ),
            (
                vec![input(
                    "o",
                    json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "trivy"}}, "results": []}]}),
                )],
                None,
                "o: has a run of `trivy`",
            ),
            (vec![], None, "nothing to merge"),
        ];
        for (inputs, format, expected) in cases {
            let err = merge(&inputs, format).unwrap_err().to_string();
            assert!(err.contains(expected), "expected {expected:?}: {err}");
        }
    }

    fn sarif_run(rules: &[&str], results: Vec<Value>, notes: Vec<Value>) -> Value {
        let rules: Vec<Value> = rules
            .iter()
            .map(|id| json!({"id": id, "name": id}))
            .collect();
        let mut invocation = json!({"executionSuccessful": true});
        if !notes.is_empty() {
            invocation["toolExecutionNotifications"] = notes.into();
        }
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "portcullis", "version": "0.1.0", "rules": rules}},
                "invocations": [invocation],
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "root"}}},
                "columnKind": "unicodeCodePoints",
                "results": results
            }]
        })
    }

    fn sarif_result(rule: &str, index: usize, uri: &str, line: u64) -> Value {
        json!({
            "ruleId": rule, "ruleIndex": index, "level": "error", "message": {"text": "m"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": line, "startColumn": 1, "endLine": line, "endColumn": 2}
            }}],
            "properties": {"severity": "high", "target": uri}
        })
    }

    #[test]
    fn sarif_logs_join_into_one_run_with_rules_united_and_indexes_fixed() {
        let a = sarif_run(
            &["DL3008", "PC1002"],
            vec![sarif_result("PC1002", 1, "b/Dockerfile", 1)],
            vec![json!({"message": {"text": "n"}})],
        );
        let b = sarif_run(
            &["AAA1", "PC1002"],
            vec![
                sarif_result("AAA1", 0, "a/Dockerfile", 3),
                sarif_result("PC1002", 1, "a/Dockerfile", 1),
            ],
            vec![],
        );
        let out = merged(&[input("a.sarif", a), input("b.sarif", b)]);
        let runs = out["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1, "one run for GitHub");
        let run = &runs[0];
        let keys: Vec<&str> = run
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "tool",
                "invocations",
                "originalUriBaseIds",
                "columnKind",
                "results"
            ]
        );
        let rule_ids: Vec<&str> = run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(rule_ids, ["AAA1", "DL3008", "PC1002"]);
        let results = run["results"].as_array().unwrap();
        let summary: Vec<(&str, u64, &str)> = results
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap(),
                    r["ruleIndex"].as_u64().unwrap(),
                    r["properties"]["target"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("PC1002", 2, "a/Dockerfile"),
                ("AAA1", 0, "a/Dockerfile"),
                ("PC1002", 2, "b/Dockerfile")
            ]
        );
        let result_keys: Vec<&str> = results[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(result_keys[..3], ["ruleId", "ruleIndex", "level"]);
        assert_eq!(run["invocations"][0]["executionSuccessful"], true);
        assert_eq!(
            run["invocations"][0]["toolExecutionNotifications"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn merging_one_report_changes_nothing() {
        let sarif = sarif_run(
            &["PC1002"],
            vec![sarif_result("PC1002", 0, "Dockerfile", 1)],
            vec![],
        );
        let text = serde_json::to_string_pretty(&sarif).unwrap() + "\n";
        let (format, out) = merge(
            &[Input {
                name: "a".into(),
                text: text.clone(),
            }],
            None,
        )
        .unwrap();
        assert_eq!(format, MergeFormat::Sarif);
        assert_eq!(out, text);
    }
}
