//! SARIF 2.1.0, shaped for GitHub code scanning.
//!
//! GitHub's ingestion rules (checked in the test suite with the SARIF multitool's `Sarif;Gh`
//! rules) require every result to have a file location with a full region, and every rule
//! a non-empty `shortDescription`, `fullDescription` (at most 1024 characters) and `help`.
//!
//! Choices:
//! - Paths are relative URIs against `%SRCROOT%` (the directory portcullis ran in, which in
//!   CI is the checkout), percent-encoded, with `/` separators. An absolute path becomes a
//!   `file://` URI, which GitHub makes relative to the checkout itself.
//! - An image finding with no file gets the path `image/<reference without digest>` at line
//!   1 (see `image_path`), and the full reference as its logical location.
//! - `partialFingerprints` carries our own fingerprint under `portcullis/v1`; GitHub's
//!   upload action adds its `primaryLocationLineHash` next to it.
//! - Notes (not findings) are `toolExecutionNotifications` of the one invocation.

use super::{artifact_path, display_path, normalized, to_pretty_json, Report};
use crate::finding::{Finding, Location, Severity, Span};
use crate::rules::{self, Rule};
use serde::Serialize;
use std::collections::BTreeMap;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/portcullis-dev/portcullis";
const SRCROOT: &str = "%SRCROOT%";
/// Our key in `partialFingerprints`; bump the version if the fingerprint recipe changes.
const FINGERPRINT_KEY: &str = "portcullis/v1";
/// GitHub truncates longer rule descriptions.
const MAX_DESCRIPTION_CHARS: usize = 1024;

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: [Invocation<'a>; 1],
    original_uri_base_ids: BTreeMap<&'static str, UriBase>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    id: &'static str,
    name: &'static str,
    short_description: Text,
    full_description: Help,
    help: Help,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

/// A text with its Markdown original (`help`, `fullDescription`).
#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    tags: [&'static str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
struct Notification<'a> {
    level: &'static str,
    message: MessageRef<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<SarifLocation<'a>>,
}

#[derive(Serialize)]
struct UriBase {
    description: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: MessageRef<'a>,
    locations: [SarifLocation<'a>; 1],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    partial_fingerprints: BTreeMap<&'static str, &'a str>,
    /// An inline pragma's suppression: GitHub lists the alert as dismissed in code.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression<'a>>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
struct Suppression<'a> {
    kind: &'static str,
    justification: &'a str,
}

#[derive(Serialize)]
struct MessageRef<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation<'a> {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    name: &'a str,
    fully_qualified_name: &'a str,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    severity: Severity,
    target: &'a str,
}

/// SARIF's three levels: GitHub shows `error` and `warning` prominently.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub maps these to its critical (>= 9.0), high (7.0–8.9), medium (4.0–6.9) and low
/// (0.1–3.9); 0.0 means "no security severity".
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.0",
        Severity::High => "7.0",
        Severity::Medium => "5.0",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// A rule that gets a descriptor: every enabled rule, and any rule a finding names.
struct RuleEntry {
    id: &'static str,
    name: &'static str,
    severity: Severity,
    rule: Option<&'static Rule>,
}

fn rule_entries(report: &Report<'_>) -> Vec<RuleEntry> {
    let mut entries: Vec<RuleEntry> = Vec::new();
    for enabled in report.rules {
        if !entries.iter().any(|e| e.id == enabled.rule.id) {
            entries.push(RuleEntry {
                id: enabled.rule.id,
                name: enabled.rule.name,
                severity: enabled.severity,
                rule: Some(enabled.rule),
            });
        }
    }
    let suppressed = report.suppressed.iter().map(|s| &s.finding);
    for finding in report.findings.iter().chain(suppressed) {
        if entries.iter().any(|e| e.id == finding.rule_id) {
            continue;
        }
        let rule = rules::lookup(finding.rule_id).filter(|r| r.id == finding.rule_id);
        let severity = report
            .findings
            .iter()
            .filter(|f| f.rule_id == finding.rule_id)
            .map(|f| f.severity)
            .max()
            .unwrap_or(finding.severity);
        entries.push(RuleEntry {
            id: finding.rule_id,
            name: finding.rule,
            severity,
            rule,
        });
    }
    entries.sort_by_key(|e| e.id);
    entries
}

fn descriptor(entry: &RuleEntry) -> Descriptor {
    // A rule that is not in the registry still gets the registry's help address.
    let placeholder = Rule {
        id: entry.id,
        name: entry.name,
        ..Rule::DEFAULT
    };
    let rule = entry.rule.unwrap_or(&placeholder);
    let fallback = if entry.name.is_empty() {
        entry.id
    } else {
        entry.name
    };
    let short = non_empty(rule.summary(), fallback);
    let full = non_empty(&rule.full_description(), &short);
    let help_uri = rule.help_uri();
    let help = if rule.docs.trim().is_empty() {
        format!("{short}\n\nSee {help_uri}\n")
    } else {
        rule.documentation()
    };
    Descriptor {
        id: entry.id,
        name: entry.name,
        short_description: Text {
            text: truncate(&short, MAX_DESCRIPTION_CHARS),
        },
        full_description: Help {
            text: truncate(&plain_text(&full), MAX_DESCRIPTION_CHARS),
            markdown: truncate(&full, MAX_DESCRIPTION_CHARS),
        },
        help: Help {
            text: help.clone(),
            markdown: help,
        },
        help_uri,
        default_configuration: Configuration {
            level: level(entry.severity),
        },
        properties: RuleProperties {
            security_severity: security_severity(entry.severity),
            tags: ["security"],
        },
    }
}

fn non_empty(text: &str, fallback: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        fallback.to_string()
    } else {
        text.to_string()
    }
}

/// Markdown made readable as plain text (GitHub shows `fullDescription.text` as is):
/// heading and code-fence lines go, code and prose stay, blank runs become one.
fn plain_text(markdown: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut in_code = false;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let heading = trimmed.starts_with('#') && trimmed.trim_start_matches('#').starts_with(' ');
        let repeated_blank =
            line.trim().is_empty() && out.last().is_none_or(|l| l.trim().is_empty());
        if (heading && !in_code) || repeated_blank {
            continue;
        }
        out.push(line);
    }
    out.join("\n").trim().to_string()
}

/// At most `max` characters, ending in `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// `path` (already with `/` separators) as an artifact location: relative to `%SRCROOT%`,
/// or a `file://` URI when absolute.
fn artifact_location(path: &str) -> ArtifactLocation {
    let bytes = path.as_bytes();
    let windows_drive =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/';
    if path.starts_with('/') {
        ArtifactLocation {
            uri: format!("file://{}", percent_encode(path)),
            uri_base_id: None,
        }
    } else if windows_drive {
        ArtifactLocation {
            uri: format!("file:///{}:{}", &path[..1], percent_encode(&path[2..])),
            uri_base_id: None,
        }
    } else {
        ArtifactLocation {
            uri: percent_encode(path),
            uri_base_id: Some(SRCROOT),
        }
    }
}

/// Percent-encodes everything but unreserved characters, `/` and `@`. `:` is encoded so a
/// relative path is never read as a scheme (`a:b/Dockerfile`).
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &byte in path.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn region(span: Option<Span>) -> Region {
    // A finding with no span (a whole-file or image finding) points at the first line.
    let span = normalized(span.unwrap_or(Span::point(1, 1)));
    Region {
        start_line: span.line,
        start_column: span.column,
        end_line: span.end_line,
        end_column: span.end_column,
    }
}

fn finding_location(finding: &Finding) -> SarifLocation<'_> {
    let logical_locations = if display_path(&finding.location).is_none() {
        vec![LogicalLocation {
            name: &finding.target,
            fully_qualified_name: &finding.target,
        }]
    } else {
        Vec::new()
    };
    SarifLocation {
        physical_location: PhysicalLocation {
            artifact_location: artifact_location(&artifact_path(finding)),
            region: region(finding.location.span),
        },
        logical_locations,
    }
}

fn note_locations(location: &Location) -> Vec<SarifLocation<'static>> {
    display_path(location)
        .map(|path| SarifLocation {
            physical_location: PhysicalLocation {
                artifact_location: artifact_location(&path),
                region: region(location.span),
            },
            logical_locations: Vec::new(),
        })
        .into_iter()
        .collect()
}

fn result<'a>(finding: &'a Finding, rule_index: usize, fallback_text: &'a str) -> SarifResult<'a> {
    let text = if finding.message.trim().is_empty() {
        fallback_text
    } else {
        finding.message.as_str()
    };
    let mut partial_fingerprints = BTreeMap::new();
    if !finding.fingerprint.is_empty() {
        partial_fingerprints.insert(FINGERPRINT_KEY, finding.fingerprint.as_str());
    }
    SarifResult {
        rule_id: finding.rule_id,
        rule_index,
        level: level(finding.severity),
        message: MessageRef { text },
        locations: [finding_location(finding)],
        partial_fingerprints,
        suppressions: Vec::new(),
        properties: ResultProperties {
            severity: finding.severity,
            target: &finding.target,
        },
    }
}

pub(super) fn render(report: &Report<'_>) -> String {
    let entries = rule_entries(report);
    let rules: Vec<Descriptor> = entries.iter().map(descriptor).collect();
    let one = |finding: &'_ Finding| {
        // Every finding's rule has an entry (rule_entries adds missing ones).
        let index = entries
            .iter()
            .position(|e| e.id == finding.rule_id)
            .unwrap_or_default();
        let fallback = entries.get(index).map_or(finding.rule_id, |e| e.name);
        (index, fallback)
    };
    let mut results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|finding| {
            let (index, fallback) = one(finding);
            result(finding, index, fallback)
        })
        .collect();
    results.extend(report.suppressed.iter().map(|s| {
        let (index, fallback) = one(&s.finding);
        let mut suppressed = result(&s.finding, index, fallback);
        suppressed.suppressions.push(Suppression {
            kind: "inSource",
            justification: &s.pragma,
        });
        suppressed
    }));
    let notifications = report
        .notes
        .iter()
        .map(|note| Notification {
            level: "warning",
            message: MessageRef {
                text: &note.message,
            },
            locations: note_locations(&note.location),
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "portcullis",
                    version: report.tool_version,
                    semantic_version: report.tool_version,
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            invocations: [Invocation {
                execution_successful: report.unevaluated.is_empty(),
                tool_execution_notifications: notifications,
            }],
            original_uri_base_ids: BTreeMap::from([(
                SRCROOT,
                UriBase {
                    description: Text {
                        text: "The directory portcullis ran in; relative paths start there."
                            .to_string(),
                    },
                },
            )]),
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    to_pretty_json(&log)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::{render, EnabledRule, Format};
    use super::*;
    use serde_json::Value;

    fn sarif(data: &ReportData) -> Value {
        serde_json::from_str(&render(&data.report(), Format::Sarif, false)).expect("valid JSON")
    }

    #[test]
    fn has_github_required_top_level_fields() {
        let v = sarif(&ReportData::new(sample_findings()));
        assert_eq!(v["version"], "2.1.0");
        assert!(v["$schema"].as_str().unwrap().starts_with("https://"));
        assert_eq!(v["runs"].as_array().unwrap().len(), 1);
        let driver = &v["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "portcullis");
        assert_eq!(driver["version"], "0.1.0");
        assert!(driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://"));
        assert!(v["runs"][0]["originalUriBaseIds"][SRCROOT].is_object());
    }

    #[test]
    fn every_enabled_rule_and_every_result_rule_has_a_descriptor() {
        let mut data = ReportData::new(sample_findings());
        // ROOT_USER only appears in results; LATEST is enabled with a policy severity.
        data.rules = vec![
            EnabledRule::new(&APT_PIN),
            EnabledRule {
                rule: &LATEST,
                severity: Severity::Critical,
            },
        ];
        let v = sarif(&data);
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["DL3008", "PC1002", "PC2001"], "sorted, no duplicates");
        let latest = &rules[1];
        assert_eq!(latest["name"], "no-latest-tag");
        assert_eq!(latest["shortDescription"]["text"], LATEST.summary());
        let full = latest["fullDescription"]["text"].as_str().unwrap();
        assert!(
            full.contains("`latest` moves") && !full.contains("## Why"),
            "{full}"
        );
        assert!(latest["fullDescription"]["markdown"]
            .as_str()
            .unwrap()
            .contains("## Why"));
        assert_eq!(latest["help"]["markdown"], LATEST.documentation());
        assert_eq!(latest["helpUri"], LATEST.help_uri());
        assert_eq!(
            latest["properties"]["security-severity"], "9.0",
            "policy severity"
        );
        assert_eq!(latest["defaultConfiguration"]["level"], "error");
        assert_eq!(latest["properties"]["tags"][0], "security");
        assert_eq!(rules[2]["properties"]["security-severity"], "9.0");

        for result in v["runs"][0]["results"].as_array().unwrap() {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
        }
    }

    #[test]
    fn unknown_rules_get_non_empty_descriptions() {
        static UNDOCUMENTED: Rule = Rule {
            id: "PC9999",
            name: "internal-error",
            ..Rule::DEFAULT
        };
        let f = finding(&UNDOCUMENTED, Severity::Low, "Dockerfile", None, None, "");
        let mut data = ReportData::new(vec![f]);
        data.rules.clear();
        let v = sarif(&data);
        let rule = &v["runs"][0]["tool"]["driver"]["rules"][0];
        for field in ["shortDescription", "fullDescription", "help"] {
            assert!(
                !rule[field]["text"].as_str().unwrap().trim().is_empty(),
                "{field}"
            );
        }
        assert_eq!(rule["properties"]["security-severity"], "3.0");
        let result = &v["runs"][0]["results"][0];
        assert_eq!(
            result["message"]["text"], "internal-error",
            "empty message replaced"
        );
    }

    #[test]
    fn results_map_severity_location_and_fingerprint() {
        let data = ReportData::new(sample_findings());
        let v = sarif(&data);
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), data.findings.len());
        for (r, f) in results.iter().zip(&data.findings) {
            assert_eq!(r["ruleId"], f.rule_id);
            assert_eq!(r["message"]["text"], f.message.as_str());
            assert_eq!(
                r["partialFingerprints"][FINGERPRINT_KEY],
                f.fingerprint.as_str()
            );
            let expected = match f.severity {
                Severity::Critical | Severity::High => "error",
                Severity::Medium => "warning",
                _ => "note",
            };
            assert_eq!(r["level"], expected);
            let locations = r["locations"].as_array().unwrap();
            assert_eq!(locations.len(), 1);
            let physical = &locations[0]["physicalLocation"];
            for key in ["startLine", "startColumn", "endLine", "endColumn"] {
                assert!(physical["region"][key].as_u64().unwrap() >= 1, "{key}");
            }
            let uri = physical["artifactLocation"]["uri"].as_str().unwrap();
            assert!(!uri.contains(' ') && !uri.contains('\\') && !uri.starts_with('/'));
            assert_eq!(physical["artifactLocation"]["uriBaseId"], SRCROOT);
        }
        let spaced = results
            .iter()
            .find(|r| r["properties"]["target"] == "services/web app/Dockerfile")
            .unwrap();
        assert_eq!(
            spaced["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "services/web%20app/Dockerfile"
        );
        let multi_line = results.iter().find(|r| r["ruleId"] == "DL3008").unwrap();
        let region = &multi_line["locations"][0]["physicalLocation"]["region"];
        assert_eq!(
            (region["startLine"].as_u64(), region["endLine"].as_u64()),
            (Some(3), Some(4))
        );
    }

    #[test]
    fn image_finding_gets_a_synthetic_path_and_logical_location() {
        let data = ReportData::new(sample_findings());
        let v = sarif(&data);
        let image = v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == "PC2001")
            .unwrap();
        let location = &image["locations"][0];
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"],
            "image/registry.example.com/team/app%3A1.2"
        );
        assert_eq!(location["physicalLocation"]["region"]["startLine"], 1);
        assert_eq!(
            location["logicalLocations"][0]["fullyQualifiedName"],
            "registry.example.com/team/app:1.2@sha256:0123abcd"
        );
    }

    #[test]
    fn notes_become_tool_notifications() {
        let v = sarif(&ReportData::new(vec![]));
        let invocation = &v["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], true);
        let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
        assert_eq!(notes.len(), 2);
        assert!(notes[0].get("locations").is_none());
        assert_eq!(
            notes[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "portcullis.yaml"
        );
        assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn uris_are_encoded_relative_or_file_uris() {
        let uri = |p: &str| artifact_location(p).uri;
        assert_eq!(uri("a b/ü%#?.txt"), "a%20b/%C3%BC%25%23%3F.txt");
        assert_eq!(uri("a:b/Dockerfile"), "a%3Ab/Dockerfile");
        assert_eq!(uri("/abs/Docker file"), "file:///abs/Docker%20file");
        assert_eq!(uri("C:/src/Dockerfile"), "file:///C:/src/Dockerfile");
        assert!(artifact_location("/x").uri_base_id.is_none());
        assert_eq!(artifact_location("x").uri_base_id, Some(SRCROOT));
    }

    #[test]
    fn full_description_text_drops_markdown_structure_but_keeps_code() {
        let markdown =
            "## Why\nBecause.\n\n\n## Example\n```dockerfile\n# a comment\nFROM x\n```\n";
        assert_eq!(plain_text(markdown), "Because.\n\n# a comment\nFROM x");
    }

    #[test]
    fn long_descriptions_are_cut_to_github_limit() {
        let long = "é".repeat(3000);
        let cut = truncate(&long, MAX_DESCRIPTION_CHARS);
        assert_eq!(cut.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short", MAX_DESCRIPTION_CHARS), "short");
    }

    #[test]
    fn messages_are_escaped_json() {
        let f = finding(
            &LATEST,
            Severity::High,
            "Dockerfile",
            Some("Dockerfile"),
            None,
            NASTY,
        );
        let v = sarif(&ReportData::new(vec![f]));
        assert_eq!(v["runs"][0]["results"][0]["message"]["text"], NASTY);
    }
}
