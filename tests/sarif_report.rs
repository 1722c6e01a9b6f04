//! The SARIF report validated by external tools: the SARIF 2.1.0 schema and the SARIF
//! multitool's GitHub ingestion rules. See `tests/sarif/mod.rs` for how tools are found.

use crate::sarif;

use portcullis::finding::{Finding, Location, Severity, Span};
use portcullis::report::{render, EnabledRule, Format, Note, Report};
use portcullis::rules::{Check, Rule};

portcullis::declare_rule! {
    /// Image tagged `latest` or not tagged.
    ///
    /// ## Why
    /// `latest` moves: the same Dockerfile builds different images on different days.
    ///
    /// ## Fix
    /// Pin a version tag, or better a digest: `FROM alpine:3.19@sha256:…`.
    pub static LATEST = Rule {
        id: "PC1002",
        name: "no-latest-tag",
        severity: Severity::High,
    };
}

portcullis::declare_rule! {
    /// apt-get install without pinned versions.
    ///
    /// ## Why
    /// Unpinned packages make builds unreproducible.
    pub static APT_PIN = Rule {
        id: "DL3008",
        name: "apt-pin-versions",
        severity: Severity::Medium,
    };
}

portcullis::declare_rule! {
    /// Image runs as root.
    ///
    /// ## Why
    /// A process running as root in a container is one kernel bug away from the host.
    pub static ROOT_USER = Rule {
        id: "PC2001",
        name: "image-runs-as-root",
        severity: Severity::Critical,
        check: Check::Image(|_, _| {}),
    };
}

/// A rule with no documentation at all, that is not enabled: it must still get a
/// descriptor GitHub accepts.
static UNDOCUMENTED: Rule = Rule {
    id: "PC0001",
    name: "dockerfile-syntax-error",
    ..Rule::DEFAULT
};

fn finding(
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

fn findings() -> Vec<Finding> {
    let image = "registry.example.com/team/app:1.2@sha256:0123456789abcdef";
    let mut findings = vec![
        finding(
            &LATEST,
            Severity::High,
            "Dockerfile",
            Some("Dockerfile"),
            Some(Span::new(1, 1, 1, 19)),
            "image `alpine:latest` uses the `latest` tag.",
        ),
        finding(
            &APT_PIN,
            Severity::Medium,
            "Dockerfile",
            Some("./Dockerfile"),
            Some(Span::new(3, 5, 5, 12)),
            "Pin versions in `apt-get install curl`.",
        ),
        finding(
            &APT_PIN,
            Severity::Low,
            "services/web app/Dockerfile.prod",
            Some("services/web app/Dockerfile.prod"),
            Some(Span::new(7, 1, 7, 30)),
            "Pin versions in `apt-get install <git> & \"vim\"`.",
        ),
        finding(
            &UNDOCUMENTED,
            Severity::Info,
            "weird:name/Dockerfile",
            Some("weird:name/Dockerfile"),
            None,
            "Unknown instruction `FORM`.",
        ),
        // An image finding the engine tied to the FROM line that uses the image.
        finding(
            &ROOT_USER,
            Severity::Critical,
            image,
            Some("Dockerfile"),
            Some(Span::new(1, 1, 1, 19)),
            "Image runs as root (no USER in its config).",
        ),
        // An image finding with no file at all.
        finding(
            &ROOT_USER,
            Severity::Critical,
            image,
            None,
            None,
            "Image runs as root (no USER in its config).",
        ),
        // A broken span from a buggy rule must still give a valid region.
        finding(
            &LATEST,
            Severity::High,
            "Dockerfile",
            Some("Dockerfile"),
            Some(Span::new(0, 0, 0, 0)),
            "Broken span.",
        ),
    ];
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

fn render_sarif(findings: &[Finding], notes: &[Note]) -> String {
    let targets: Vec<String> = vec![
        "Dockerfile".into(),
        "services/web app/Dockerfile.prod".into(),
        "weird:name/Dockerfile".into(),
        "registry.example.com/team/app:1.2@sha256:0123456789abcdef".into(),
    ];
    let rules = [
        EnabledRule::new(&APT_PIN),
        EnabledRule::new(&LATEST),
        EnabledRule {
            rule: &ROOT_USER,
            severity: Severity::High,
        },
    ];
    let report = Report {
        tool_version: env!("CARGO_PKG_VERSION"),
        policy: "builtin:default".to_string(),
        fail_on: Severity::High,
        findings,
        notes,
        targets: &targets,
        rules: &rules,
        unevaluated: &[],
        suppressed: &[],
    };
    render(&report, Format::Sarif, false)
}

fn validate(name: &str, sarif: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, sarif).expect("write SARIF");
    sarif::assert_schema_valid(&path);
    let diagnostics = sarif::assert_github_accepts(&path);
    // Warnings are advice (notes, such as "use PascalCase rule names", are not even shown).
    for line in diagnostics {
        eprintln!("{name}: {line}");
    }
}

#[test]
fn sarif_with_dockerfile_and_image_findings_is_valid_for_github() {
    let notes = [
        Note::new("shellcheck not found; RUN scripts were not checked."),
        Note::new("Exception for DL3008 expired on 2024-01-01.").at(Location {
            path: Some("portcullis.yaml".into()),
            span: Some(Span::new(12, 5, 12, 30)),
        }),
    ];
    validate("findings.sarif", &render_sarif(&findings(), &notes));
}

#[test]
fn sarif_without_findings_is_valid_for_github() {
    validate("empty.sarif", &render_sarif(&[], &[]));
}

/// The validators are not vacuous: each rejects what GitHub would reject.
#[test]
fn validators_reject_broken_sarif() {
    let valid: serde_json::Value =
        serde_json::from_str(&render_sarif(&findings(), &[])).expect("JSON");
    let dir = tempfile::tempdir().expect("temp dir");

    let mut no_location = valid.clone();
    no_location["runs"][0]["results"][0]
        .as_object_mut()
        .expect("result object")
        .remove("locations");
    let path = dir.path().join("no-location.sarif");
    std::fs::write(&path, no_location.to_string()).expect("write");
    let rejected = std::panic::catch_unwind(|| sarif::assert_github_accepts(&path));
    assert!(
        rejected.is_err(),
        "a result without a location must be rejected"
    );

    let mut bad_region = valid;
    bad_region["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
        ["startLine"] = 0.into();
    let path = dir.path().join("bad-region.sarif");
    std::fs::write(&path, bad_region.to_string()).expect("write");
    let rejected = std::panic::catch_unwind(|| sarif::assert_schema_valid(&path));
    assert!(rejected.is_err(), "startLine 0 must fail the schema");
}
