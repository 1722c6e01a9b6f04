//! Every way evaluation can fail, each under the narrowest policy that could let it slip
//! (README, "When the gate cannot decide"), and the inline pragmas the author of a Dockerfile
//! may and may not use.

use crate::util::{http_response, http_server, run_in, Project};
use std::net::TcpListener;

/// A policy that turns on only `rules` (YAML lines under `rules:`).
fn only(rules: &str) -> String {
    format!("version: 1\nextends: none\nrules:\n{rules}")
}

fn with_policy(dockerfile: &str, policy: &str) -> Project {
    Project::new()
        .file("Dockerfile", dockerfile)
        .file(".portcullis.yaml", policy)
}

#[test]
fn a_parse_error_fails_closed_under_any_policy() {
    let p = with_policy("FROM nginx:1.27\nUSR app\n", &only("  no-latest-tag: on\n"));
    let run = p.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.findings(), [("PC0001".to_string(), 2)], "{run:?}");
    assert!(run.stderr.contains("USR"), "{run:?}");
    // `enable: none` does not turn it off either, and neither does a high fail_on.
    let p = with_policy(
        "FROM nginx:1.27\nUSR app\n",
        "version: 1\nenable: none\nfail_on: critical\n",
    );
    assert_eq!(p.run(&["check"]).code, 3);
    // Only an explicit `off` does.
    let p = with_policy(
        "FROM nginx:1.27\nUSR app\n",
        &only("  no-latest-tag: on\n  PC0001: off\n"),
    );
    let run = p.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.findings().is_empty(), "{run:?}");
}

#[test]
fn an_exception_waives_a_parse_error_for_the_files_it_names() {
    let policy = format!(
        "{}exceptions:\n  - rules: [PC0001]\n    paths: [\"Dockerfile\"]\n    reason: buildah-only syntax\n",
        only("  no-latest-tag: on\n")
    );
    let run = with_policy("FROM nginx:1.27\nUSR app\n", &policy).run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn an_unresolved_reference_fails_the_rule_that_cannot_judge_it() {
    let allow = only("  allowed-registries:\n    allow: [\"ghcr.io/acme/**\"]\n");
    let run = with_policy("FROM ${REGISTRY}/app:1.2\n", &allow).run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.rule_ids(), ["PC1001"], "{run:?}");
    let message = run.json()["findings"][0]["message"].to_string();
    assert!(message.contains("`REGISTRY` has no value"), "{message}");
    // Given a value, it is judged.
    let declared = "ARG REGISTRY\nFROM ${REGISTRY}/app:1.2\n";
    let run = with_policy(declared, &allow).run(&["check", "--build-arg", "REGISTRY=ghcr.io/acme"]);
    assert_eq!(run.code, 0, "{run:?}");

    let tag = only("  no-latest-tag: on\n");
    let run = with_policy("ARG TAG\nFROM ghcr.io/acme/app:$TAG\n", &tag).run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
}

#[test]
fn a_malformed_reference_fails_require_digest() {
    let digest = only("  require-digest: high\n");
    let run = with_policy("FROM nginx@sha256:beef\n", &digest).run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.rule_ids(), ["PC1003"], "{run:?}");
}

#[test]
fn the_frontend_and_trigger_images_are_judged_like_from() {
    let allow = only("  allowed-registries:\n    allow: [\"docker.io/library/*\"]\n");
    let file = "#!/usr/bin/env docker-build\n# syntax=evil.example/frontend:1\nFROM nginx:1.27\nONBUILD COPY --from=evil.example/tools:1 /t /t\n";
    let run = with_policy(file, &allow).run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.findings(),
        [("PC1001".to_string(), 2), ("PC1001".to_string(), 4)],
        "{run:?}"
    );
    let allowed = only(
        "  allowed-registries:\n    allow: [\"docker.io/library/*\", \"docker.io/docker/dockerfile\"]\n",
    );
    let run =
        with_policy("# syntax=docker/dockerfile:1\nFROM nginx:1.27\n", &allowed).run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn an_unreadable_target_fails_closed_with_no_rule_on() {
    let p = Project::new().file(".portcullis.yaml", "version: 1\nextends: none\n");
    let run = p.run(&["check", "/proc/self/mem"]);
    assert_eq!(run.code, 3, "{run:?}");
}

#[test]
fn an_expired_exception_no_longer_waives() {
    let policy = format!(
        "{}exceptions:\n  - rules: [non-root-user]\n    paths: [\"Dockerfile\"]\n    reason: legacy\n    expires: 2020-01-31\n",
        only("  non-root-user: on\n")
    );
    let run = with_policy("FROM nginx:1.27\n", &policy).run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.json()["notes"].to_string().contains("expired"),
        "{run:?}"
    );
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind")
}

#[test]
fn an_image_that_cannot_be_fetched_fails_closed_under_a_one_rule_policy() {
    let port = closed_port();
    let p = Project::new().file(".portcullis.yaml", &only("  non-root-user: on\n"));
    let insecure = format!("127.0.0.1:{port}");
    let target = format!("docker://127.0.0.1:{port}/app:1");
    let run = p.run(&["check", "--insecure-registry", &insecure, &target]);
    assert_eq!(run.code, 3, "{run:?}");
    let warn = Project::new().file(
        ".portcullis.yaml",
        "version: 1\nextends: none\non_error: warn\nrules:\n  non-root-user: on\n",
    );
    let run = warn.run(&["check", "--insecure-registry", &insecure, &target]);
    assert_eq!(run.code, 0, "on_error: warn spelled out: {run:?}");
}

/// A registry that lies: its manifest is not the one its `Docker-Content-Digest` names. A
/// real registry cannot be made to do this.
fn lying_registry() -> u16 {
    http_server(|request| {
        if request.starts_with("GET /v2/ ") {
            return http_response("200 OK", &[], b"");
        }
        let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
        let headers = [
            "Content-Type: application/vnd.oci.image.manifest.v1+json".to_string(),
            format!("Docker-Content-Digest: sha256:{}", "0".repeat(64)),
        ];
        http_response("200 OK", &headers, body)
    })
}

#[test]
fn a_registry_that_lies_fails_closed_under_a_one_rule_policy() {
    let port = lying_registry();
    let p = Project::new().file(".portcullis.yaml", &only("  non-root-user: on\n"));
    let insecure = format!("127.0.0.1:{port}");
    let target = format!("docker://127.0.0.1:{port}/app:1");
    let run = p.run(&["check", "--insecure-registry", &insecure, &target]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("digest"), "{run:?}");
}

#[test]
fn the_author_of_a_dockerfile_cannot_waive_a_policy_rule_inline() {
    let allow = "version: 1\nrules:\n  allowed-registries:\n    allow: [\"docker.io/library/*\"]\n";
    for pragma in [
        "# hadolint ignore=DL3026\n",
        "# portcullis ignore=allowed-registries\n",
        "# portcullis global ignore=PC1001\n",
    ] {
        let file = format!("{pragma}FROM untrusted.example/app:1\nUSER app\n");
        let run = with_policy(&file, allow).run(&["check", "--format", "json"]);
        assert_eq!(run.code, 1, "{pragma}: {run:?}");
        let ids = run.rule_ids();
        assert!(ids.contains(&"PC1001".to_string()), "{pragma}: {run:?}");
        let refusal = run.json()["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["rule_id"] == "PC0002")
            .map(|f| (f["location"]["line"].as_u64(), f["message"].to_string()))
            .expect("the refused pragma is reported");
        assert_eq!(refusal.0, Some(1), "{refusal:?}");
        assert!(refusal.1.contains("inline_ignore: true"), "{refusal:?}");
    }
    // The policy may allow it, per rule.
    let allowing = "version: 1\nrules:\n  allowed-registries:\n    allow: [\"docker.io/library/*\"]\n    inline_ignore: true\n";
    let file = "# hadolint ignore=DL3026\nFROM untrusted.example/app:1\nUSER app\n";
    let run = with_policy(file, allowing).run(&["check", "--format", "json"]);
    assert!(!run.rule_ids().contains(&"PC1001".to_string()), "{run:?}");
    // `inline_ignore` is an option of policy rules only.
    let lint = "version: 1\nrules:\n  DL3059:\n    inline_ignore: true\n";
    let run = with_policy("FROM nginx:1.27\n", lint).run(&["check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("inline_ignore"), "{run:?}");
}

#[test]
fn an_honoured_pragma_is_shown_as_suppressed() {
    let file = "FROM nginx:1.27\nUSER app\nRUN echo a\n# hadolint ignore=DL3059 kept apart on purpose\nRUN echo b\n";
    let p = Project::new().file("Dockerfile", file);
    let json = p.run(&["check", "--format", "json"]);
    let suppressed = json.json()["suppressed"].clone();
    assert_eq!(suppressed[0]["rule_id"], "DL3059", "{suppressed}");
    assert_eq!(
        suppressed[0]["justification"], "hadolint ignore=DL3059",
        "{suppressed}"
    );
    assert!(!json.rule_ids().contains(&"DL3059".to_string()));
    // A lint pragma is allowed: nothing reports it as refused.
    assert!(!json.rule_ids().contains(&"PC0002".to_string()), "{json:?}");

    let sarif: serde_json::Value =
        serde_json::from_str(&p.run(&["check", "--format", "sarif"]).stdout).expect("sarif");
    let result = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "DL3059")
        .cloned()
        .expect("the suppressed result is in the log");
    assert_eq!(result["suppressions"][0]["kind"], "inSource", "{result}");

    let text = run_in(p.path(), &["check"]).stdout;
    assert!(text.contains("1 suppressed by inline pragmas"), "{text}");
}

/// A credential written into a reference is never echoed, in any message.
#[test]
fn userinfo_in_a_reference_is_never_echoed() {
    let p = Project::new().file(
        "Dockerfile",
        "FROM user:s3cret@registry.example.com/app:1\n",
    );
    let run = p.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        !run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"),
        "{run:?}"
    );
    let run = p.run(&["check", "docker://user:s3cret@registry.example.com/app:1"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        !run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"),
        "{run:?}"
    );
    assert!(run.stderr.contains("***@registry.example.com"), "{run:?}");
}
