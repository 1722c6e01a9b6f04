//! Hand-made rules and findings for the reporters' tests (the registry may be empty).

use super::{EnabledRule, Note, Report};
use crate::finding::{Finding, Location, Severity, Span};
use crate::rules::{Check, Rule};

crate::declare_rule! {
    /// Image tagged `latest` or not tagged.
    ///
    /// ## What it does
    /// Flags `FROM` lines whose image has no tag or the `latest` tag.
    ///
    /// ## Why
    /// `latest` moves: the same Dockerfile builds different images on different days.
    pub static LATEST = Rule {
        id: "PC1002",
        name: "no-latest-tag",
        severity: Severity::High,
    };
}

crate::declare_rule! {
    /// apt-get install without pinned versions.
    ///
    /// ## Why
    /// Unpinned packages make builds unreproducible and may pull a compromised version.
    pub static APT_PIN = Rule {
        id: "DL3008",
        name: "apt-pin-versions",
        severity: Severity::Medium,
    };
}

crate::declare_rule! {
    /// Image runs as root.
    ///
    /// ## Why
    /// A process running as root inside a container is one kernel bug away from the host.
    pub static ROOT_USER = Rule {
        id: "PC2001",
        name: "image-runs-as-root",
        severity: Severity::Critical,
        check: Check::Image(no_findings),
    };
}

/// An image check that finds nothing: these fixtures only need the rule's description.
fn no_findings(_: &crate::rules::ImageContext<'_>, _: &mut crate::rules::Diagnostics) {}

pub static RULES: [&Rule; 3] = [&APT_PIN, &LATEST, &ROOT_USER];

pub fn finding(
    rule: &'static Rule,
    severity: Severity,
    target: &str,
    path: Option<&str>,
    span: Option<Span>,
    message: &str,
) -> Finding {
    let mut f = Finding {
        rule_id: rule.id,
        rule: rule.name,
        severity,
        message: message.to_string(),
        target: target.to_string(),
        location: Location {
            path: path.map(str::to_string),
            span,
        },
        fingerprint: String::new(),
    };
    f.compute_fingerprint(message);
    f
}

/// Dockerfile findings in two files (one path with a space), and an image finding without
/// a file.
pub fn sample_findings() -> Vec<Finding> {
    let mut findings = vec![
        finding(
            &LATEST,
            Severity::High,
            "Dockerfile",
            Some("Dockerfile"),
            Some(Span::new(1, 1, 1, 19)),
            "image `alpine:latest` uses the `latest` tag",
        ),
        finding(
            &APT_PIN,
            Severity::Medium,
            "Dockerfile",
            Some("Dockerfile"),
            Some(Span::new(3, 5, 4, 20)),
            "pin versions in `apt-get install curl`",
        ),
        finding(
            &APT_PIN,
            Severity::Low,
            "services/web app/Dockerfile",
            Some("services/web app/Dockerfile"),
            Some(Span::new(7, 1, 7, 30)),
            "pin versions in `apt-get install git`",
        ),
        finding(
            &ROOT_USER,
            Severity::Critical,
            "registry.example.com/team/app:1.2@sha256:0123abcd",
            None,
            None,
            "image runs as root (no USER in config)",
        ),
        finding(
            &LATEST,
            Severity::Info,
            "services/web app/Dockerfile",
            Some("services/web app/Dockerfile"),
            Some(Span::new(1, 1, 1, 12)),
            "stage `build` uses `latest`",
        ),
    ];
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

/// Owns what a [`Report`] borrows.
pub struct ReportData {
    pub findings: Vec<Finding>,
    pub notes: Vec<Note>,
    pub targets: Vec<String>,
    pub rules: Vec<EnabledRule>,
    pub fail_on: Severity,
}

impl ReportData {
    /// Targets are those of the findings plus one clean Dockerfile.
    pub fn new(findings: Vec<Finding>) -> Self {
        let mut targets: Vec<String> = Vec::new();
        for f in &findings {
            if !targets.contains(&f.target) {
                targets.push(f.target.clone());
            }
        }
        targets.push("clean/Dockerfile".to_string());
        ReportData {
            findings,
            notes: vec![
                Note::new("shellcheck not found; RUN scripts were not checked"),
                Note::new("exception for DL3008 expired on 2024-01-01").at(Location {
                    path: Some("portcullis.yaml".to_string()),
                    span: Some(Span::new(12, 5, 12, 30)),
                }),
            ],
            targets,
            rules: RULES.iter().map(|r| EnabledRule::new(r)).collect(),
            fail_on: Severity::High,
        }
    }

    pub fn report(&self) -> Report<'_> {
        Report {
            tool_version: "0.1.0",
            policy: "builtin:default".to_string(),
            fail_on: self.fail_on,
            findings: &self.findings,
            notes: &self.notes,
            targets: &self.targets,
            rules: &self.rules,
            unevaluated: &[],
            suppressed: &[],
        }
    }
}

/// Characters every format must escape or neutralise.
pub const NASTY: &str = "a<b>&\"c\"'d' 100% x,y:z\r\nnext\x1b[31mred\x07\u{0}end";
