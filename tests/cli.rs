//! The command-line contract: exit codes, targets, policies, reports.

use crate::util::{run_in, Project};

const GOOD: &str = "FROM alpine:3.20@sha256:beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d\nUSER app\n";

#[test]
fn exit_0_when_nothing_reaches_fail_on() {
    let p = Project::new().file("Dockerfile", GOOD);
    let run = p.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["passed"], true);
}

#[test]
fn exit_1_when_a_finding_reaches_fail_on() {
    let p = Project::new().file("Dockerfile", "FROM nginx\nUSER app\n");
    let run = p.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.rule_ids().contains(&"PC1002".to_string()), "{run:?}");
    assert_eq!(run.json()["passed"], false);
}

#[test]
fn fail_on_flag_overrides_the_policy() {
    let p = Project::new().file("Dockerfile", "FROM nginx\nUSER app\n");
    assert_eq!(p.run(&["check", "--fail-on", "critical"]).code, 0);
    let bad = p.run(&["check", "--fail-on", "severe"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("critical, high, medium, low, info"),
        "{bad:?}"
    );
}

#[test]
fn exit_2_on_usage_errors() {
    let p = Project::new().file("Dockerfile", GOOD);
    for args in [
        vec!["check", "--no-such-flag"],
        vec!["check", "--format", "xml"],
        vec!["check", "missing/Dockerfile"],
        vec!["check", "--report", "sarif"],
        vec!["check", "--build-arg", "=x"],
        vec!["explain", "no-such-rule"],
        vec!["frobnicate"],
    ] {
        let run = p.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(!run.stderr.is_empty(), "{args:?} must say why");
    }
}

#[test]
fn an_image_like_argument_suggests_docker_transport() {
    let run = Project::new().run(&["check", "nginx:1.27"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("docker://nginx:1.27"), "{run:?}");
}

#[test]
fn exit_3_when_a_target_cannot_be_read() {
    // /proc/self/mem is a regular file that cannot be read from offset 0, even by root.
    let run = Project::new().run(&["check", "/proc/self/mem", "--format", "json"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("could not evaluate"), "{run:?}");
    // Every view agrees with the exit code: a consumer reading the report must not pass it.
    let json = run.json();
    assert_eq!(json["passed"], false, "{json}");
    assert_eq!(
        json["unevaluated"].as_array().map(Vec::len),
        Some(1),
        "{json}"
    );
}

#[test]
fn unparseable_dockerfile_is_a_finding_and_the_run_goes_on() {
    let p = Project::new()
        .file("a/Dockerfile", "FROM alpine:3.20\nRUNN echo\nUSER app\n")
        .file("b/Dockerfile", "FROM nginx\nUSER app\n");
    let run = p.run(&["check", "--format", "json"]);
    // Reported, the rest linted, and the run fails closed.
    assert_eq!(run.code, 3, "{run:?}");
    let findings = run.findings();
    assert!(findings.contains(&("PC0001".into(), 2)), "{findings:?}");
    assert!(
        findings.iter().any(|(id, _)| id == "PC1002"),
        "b/ was checked too: {findings:?}"
    );
}

#[test]
fn directories_are_searched_for_dockerfile_names() {
    let p = Project::new()
        .file("svc/api.Dockerfile", GOOD)
        .file("svc/Dockerfile.prod", GOOD)
        .file("svc/Containerfile", GOOD)
        .file("node_modules/x/Dockerfile", "FROM nginx\n")
        .file("target/Dockerfile", "FROM nginx\n")
        .file("README.md", "FROM nginx\n");
    let run = p.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let junit = p.run(&["check", "--format", "junit"]);
    assert_eq!(
        junit.stdout.matches("<testcase").count(),
        3,
        "{}",
        junit.stdout
    );
}

#[test]
fn build_args_resolve_references() {
    let p = Project::new().file("Dockerfile", "ARG TAG\nFROM alpine:${TAG}\nUSER app\n");
    let unresolved = p.run(&["check", "--format", "json"]);
    assert!(
        unresolved.rule_ids().contains(&"PC1005".to_string()),
        "{unresolved:?}"
    );
    let resolved = p.run(&["check", "--format", "json", "--build-arg", "TAG=3.20"]);
    assert!(
        !resolved.rule_ids().contains(&"PC1005".to_string()),
        "{resolved:?}"
    );
}

#[test]
fn target_judges_the_stage_the_build_stops_at() {
    // The shipped stage `prod` runs as root; the `test` stage after it does not.
    let p = Project::new().file(
        "Dockerfile",
        "FROM alpine:3.20 AS prod\nUSER root\nFROM prod AS test\nUSER 1000\n",
    );
    let last = p.run(&["check", "--format", "json"]);
    assert_eq!(last.code, 0, "{last:?}");
    let prod = p.run(&["check", "--format", "json", "--target", "prod"]);
    assert_eq!(prod.code, 1, "{prod:?}");
    assert!(prod.rule_ids().contains(&"PC1004".to_string()), "{prod:?}");
    // A stage the file lacks cannot be built: reported, never judged as another stage.
    let missing = p.run(&["check", "--format", "json", "--target", "release"]);
    assert_eq!(missing.code, 3, "fails closed: {missing:?}");
    assert!(
        missing
            .stdout
            .contains("target stage `release` is not in this Dockerfile"),
        "{missing:?}"
    );
}

#[test]
fn several_reports_in_one_run() {
    let p = Project::new().file("Dockerfile", "FROM nginx\n");
    let run = p.run(&[
        "check",
        "--output",
        "out.json",
        "--format",
        "json",
        "--report",
        "sarif=out.sarif",
        "--report",
        "text=out.txt",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.is_empty(),
        "the report went to --output: {}",
        run.stdout
    );
    let json: serde_json::Value = serde_json::from_str(&p.read("out.json")).expect("json");
    let sarif: serde_json::Value = serde_json::from_str(&p.read("out.sarif")).expect("sarif");
    let results = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .len();
    assert_eq!(
        results,
        json["findings"].as_array().expect("findings").len()
    );
    assert!(p.read("out.txt").contains("Dockerfile:1"));
}

#[test]
fn json_report_shape() {
    let p = Project::new().file("Dockerfile", "FROM nginx\n");
    let json = p.run(&["check", "--format", "json"]).json();
    assert_eq!(json["tool"]["name"], "portcullis");
    assert_eq!(json["fail_on"], "high");
    let f = &json["findings"][0];
    for key in [
        "rule_id",
        "rule",
        "severity",
        "message",
        "target",
        "location",
        "fingerprint",
    ] {
        assert!(!f[key].is_null(), "finding lacks {key}: {f}");
    }
    assert_eq!(f["location"]["path"], "Dockerfile");
    for sev in ["critical", "high", "medium", "low", "info"] {
        assert!(json["summary"][sev].is_u64(), "summary lacks {sev}");
    }
}

#[test]
fn output_is_deterministic() {
    let p = Project::new()
        .file("a/Dockerfile", "FROM nginx\nRUN apt-get install curl\n")
        .file("b/Dockerfile", "FROM ubuntu\nRUN cd /x\n");
    let first = p.run(&["check", "--format", "sarif"]).stdout;
    for _ in 0..3 {
        assert_eq!(p.run(&["check", "--format", "sarif"]).stdout, first);
    }
}

#[test]
fn explicit_policy_and_discovered_policy() {
    let p = Project::new()
        .file("Dockerfile", "FROM nginx\nUSER app\n")
        .file(
            ".portcullis.yaml",
            "version: 1\nrules:\n  no-latest-tag: off\n  require-digest: off\n",
        )
        .file("strict.yaml", "version: 1\nextends: strict\n");
    let discovered = p.run(&["check", "--format", "json"]);
    assert!(
        !discovered.rule_ids().contains(&"PC1002".to_string()),
        "{discovered:?}"
    );
    let explicit = p.run(&["check", "--format", "json", "--policy", "strict.yaml"]);
    assert!(
        explicit.rule_ids().contains(&"PC1002".to_string()),
        "{explicit:?}"
    );
}

#[test]
fn a_policy_can_come_from_a_pipe() {
    // `--policy /dev/stdin` (or `<(…)`) has no canonical path: it is read as given, and a
    // relative `extends` in it is read from the working directory.
    let p = Project::new()
        .file("Dockerfile", "FROM nginx\nUSER app\n")
        .file("base.yaml", "version: 1\nrules:\n  no-latest-tag: off\n");
    let run = |policy: &str| {
        let mut child = std::process::Command::new(crate::util::binary())
            .args(["check", "--format", "json", "--policy", "/dev/stdin"])
            .current_dir(p.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run portcullis");
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(policy.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let strict = run("version: 1\nextends: strict\n");
    assert_eq!(strict.status.code(), Some(1), "{strict:?}");
    assert!(String::from_utf8_lossy(&strict.stdout).contains("\"PC1002\""));
    let relaxed = run("version: 1\nextends: base.yaml\n");
    assert!(
        !String::from_utf8_lossy(&relaxed.stdout).contains("\"PC1002\""),
        "{relaxed:?}"
    );
    let bad = run("version: 1\nrules:\n  nope: high\n");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("/dev/stdin:3:3: unknown rule `nope`"),
        "{bad:?}"
    );
}

#[test]
fn bad_policies_name_file_line_column_and_choices() {
    let cases: &[(&str, &str, &str)] = &[
        ("version: 1\nrulez: {}\n", "p.yaml:2:1", "rules"),
        (
            "version: 1\nrules:\n  no-latst-tag: high\n",
            "p.yaml:3:3",
            "no-latest-tag",
        ),
        (
            "version: 1\nrules:\n  no-latest-tag: severe\n",
            "p.yaml:3:18",
            "critical, high, medium, low, info",
        ),
        (
            "version: 1\nfail_on: hgh\n",
            "p.yaml:2:10",
            "critical, high, medium, low, info",
        ),
        ("version: 2\n", "p.yaml:1:10", "1"),
        (
            "version: 1\nrules:\n  allowed-registries:\n    allow: [\"a/[b\"]\n",
            "p.yaml:4:13",
            "glob",
        ),
        (
            "version: 1\nexceptions:\n  - rules: [non-root-user]\n    paths: [\"x/**\"]\n",
            "p.yaml:3:5",
            "reason",
        ),
        ("version: 1\nextends: nope\n", "p.yaml:2:10", "default"),
        ("version: 1\nrules: [\n", "p.yaml:", ""),
    ];
    for (policy, location, hint) in cases {
        let p = Project::new()
            .file("Dockerfile", GOOD)
            .file("p.yaml", policy);
        for args in [
            vec!["check", "--policy", "p.yaml"],
            vec!["policy", "validate", "p.yaml"],
        ] {
            let run = p.run(&args);
            assert_eq!(run.code, 2, "{policy:?} {args:?}: {run:?}");
            assert!(
                run.stderr.contains(location),
                "{policy:?}: expected {location} in {}",
                run.stderr
            );
            assert!(
                run.stderr.contains(hint),
                "{policy:?}: expected {hint:?} in {}",
                run.stderr
            );
        }
    }
}

#[test]
fn policy_validate_and_show() {
    let p = Project::new().file(
        "p.yaml",
        "version: 1\nextends: strict\nfail_on: low\nrules:\n  require-digest: off\n",
    );
    let valid = p.run(&["policy", "validate", "p.yaml"]);
    assert_eq!(valid.code, 0, "{valid:?}");
    let shown = p.run(&["policy", "show", "p.yaml"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    assert!(shown.stdout.contains("fail_on: low"), "{}", shown.stdout);
    // The effective policy is itself a valid policy that means the same.
    let again = Project::new().file("shown.yaml", &shown.stdout);
    let reshown = again.run(&["policy", "show", "shown.yaml"]);
    assert_eq!(reshown.stdout, shown.stdout);
}

#[test]
fn exceptions_apply_by_path_and_expire() {
    let p = Project::new()
        .file("legacy/Dockerfile", "FROM alpine:3.20@sha256:beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d\n")
        .file("new/Dockerfile", "FROM alpine:3.20@sha256:beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d\n")
        .file(
            ".portcullis.yaml",
            "version: 1\nexceptions:\n  - rules: [non-root-user]\n    paths: [\"legacy/**\"]\n    reason: \"base image needs root\"\n",
        );
    let run = p.run(&["check", "--format", "json"]);
    let targets: Vec<String> = run.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule_id"] == "PC1004")
        .map(|f| f["target"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(targets, vec!["new/Dockerfile"], "{run:?}");

    let expired = Project::new()
        .file("legacy/Dockerfile", "FROM alpine:3.20@sha256:beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d\n")
        .file(
            ".portcullis.yaml",
            "version: 1\nexceptions:\n  - rules: [DL3002]\n    paths: [\"legacy/**\"]\n    reason: \"base image needs root\"\n    expires: 2020-01-31\n",
        );
    let run = expired.run(&["check", "--format", "json"]);
    assert!(run.rule_ids().contains(&"PC1004".to_string()), "{run:?}");
    let notes = run.json()["notes"].to_string();
    assert!(notes.contains("expired"), "{notes}");
}

#[test]
fn exception_paths_are_relative_to_the_policy_file() {
    let p = Project::new()
        .file("repo/legacy/Dockerfile", "FROM nginx:1.27\n")
        .file(
            "repo/policy/gate.yaml",
            "version: 1\nexceptions:\n  - rules: [non-root-user]\n    paths: [\"../legacy/**\"]\n    reason: \"tracked in OPS-12\"\n",
        );
    let run = run_in(
        &p.path().join("repo"),
        &["check", "--format", "json", "--policy", "policy/gate.yaml"],
    );
    assert!(!run.rule_ids().contains(&"PC1004".to_string()), "{run:?}");
}

#[test]
fn policy_remap_anchors_a_copied_policy_in_the_checkout() {
    // CI exports the target branch's policy to a temporary directory; its exceptions must
    // still name the checkout's Dockerfiles.
    let p = Project::new()
        .file("repo/legacy/Dockerfile", "FROM nginx:1.27\n")
        .file(
            "copy/policy/gate.yaml",
            "version: 1\nexceptions:\n  - rules: [non-root-user]\n    paths: [\"../legacy/**\"]\n    reason: \"tracked in OPS-12\"\n",
        );
    let repo = p.path().join("repo");
    let copy = p.path().join("copy");
    let policy = copy.join("policy/gate.yaml");
    let policy = policy.to_str().expect("UTF-8");
    let plain = run_in(&repo, &["check", "--format", "json", "--policy", policy]);
    assert!(
        plain.rule_ids().contains(&"PC1004".to_string()),
        "{plain:?}"
    );
    let remap = format!("{}={}", copy.display(), repo.display());
    let args = ["check", "--format", "json", "--policy", policy];
    let remapped = run_in(&repo, &[&args[..], &["--policy-remap", &remap]].concat());
    assert!(
        !remapped.rule_ids().contains(&"PC1004".to_string()),
        "{remapped:?}"
    );
    for bad in [
        "nothing",
        "=x",
        format!("{}=missing", copy.display()).as_str(),
    ] {
        let run = run_in(&repo, &[&args[..], &["--policy-remap", bad]].concat());
        assert_eq!(run.code, 2, "{bad}: {run:?}");
        assert!(run.stderr.contains("--policy-remap"), "{bad}: {run:?}");
    }
}

#[test]
fn inline_ignores_are_honoured_unless_the_policy_forbids_them() {
    let dockerfile =
        "FROM nginx:1.27\nUSER app\n# hadolint ignore=DL3027\nRUN apt install -y curl\n";
    let p = Project::new().file("Dockerfile", dockerfile);
    let run = p.run(&["check", "--format", "json"]);
    assert!(!run.rule_ids().contains(&"DL3027".to_string()), "{run:?}");

    let p = Project::new()
        .file("Dockerfile", "FROM nginx:1.27\nUSER app\n# portcullis ignore=apt-instead-of-apt-get reason: tiny\nRUN apt install -y curl\n")
        .file(".portcullis.yaml", "version: 1\ninline_ignores: false\n");
    let run = p.run(&["check", "--format", "json"]);
    let ids = run.rule_ids();
    assert!(ids.contains(&"DL3027".to_string()), "{run:?}");
    assert!(ids.contains(&"PC0002".to_string()), "{run:?}");
}

#[test]
fn rules_and_explain() {
    let p = Project::new();
    let list = p.run(&["rules", "--format", "json"]);
    assert_eq!(list.code, 0);
    let rules: serde_json::Value = serde_json::from_str(&list.stdout).expect("json");
    assert!(rules.as_array().expect("array").len() >= 5);
    let by_alias = p.run(&["explain", "DL3007"]);
    assert_eq!(by_alias.code, 0);
    assert!(
        by_alias.stdout.contains("no-latest-tag"),
        "{}",
        by_alias.stdout
    );
    let suggestion = p.run(&["explain", "no-latest-tags"]);
    assert!(
        suggestion.stderr.contains("did you mean `no-latest-tag`"),
        "{suggestion:?}"
    );
}

#[test]
fn readme_rule_table_matches_the_registry() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let table = Project::new()
        .run(&["rules", "--format", "markdown"])
        .stdout;
    assert!(
        readme.contains(&table),
        "README.md's rule table is out of date: regenerate it with `portcullis rules --format markdown`"
    );
}

#[test]
fn sarif_from_real_rules_is_valid_and_accepted_by_github() {
    let p = Project::new()
        .file(
            "svc/Dockerfile",
            "# escape=`\nFROM ubuntu\nRUN apt-get update && apt-get install curl `\n  && cd /tmp\nRUNN x\nUSER root\n",
        )
        .file("Containerfile", "FROM nginx:latest AS web\nCOPY --from=busybox /bin/sh /sh\n");
    let run = p.run(&[
        "check",
        "--format",
        "sarif",
        "--output",
        "out.sarif",
        "--fail-on",
        "info",
    ]);
    // `RUNN` cannot be parsed: the run fails closed, and the report is written all the same.
    assert_eq!(run.code, 3, "{run:?}");
    let path = p.path().join("out.sarif");
    crate::sarif::assert_schema_valid(&path);
    crate::sarif::assert_github_accepts(&path);
    let sarif: serde_json::Value = serde_json::from_str(&p.read("out.sarif")).expect("sarif");
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .expect("results")
            .len()
            >= 6
    );
}

#[test]
fn rule_docs_match_the_registry() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md"))
        .expect("docs/rules.md");
    let generated = Project::new().run(&["rules", "--format", "docs"]).stdout;
    assert!(
        docs == generated,
        "docs/rules.md is out of date: regenerate it with `portcullis rules --format docs > docs/rules.md`"
    );
}

/// Every difference from hadolint is pinned by a test: each test the document names in
/// brackets (`[`name`]`) must exist in the rule sources, so a renamed or deleted test cannot
/// leave a difference unpinned.
#[test]
fn hadolint_differences_name_tests_that_exist() {
    let root = env!("CARGO_MANIFEST_DIR");
    let doc = std::fs::read_to_string(format!("{root}/docs/hadolint-differences.md"))
        .expect("docs/hadolint-differences.md");
    let mut sources = String::new();
    for dir in ["src/rules/dockerfile", "src/dockerfile"] {
        for entry in std::fs::read_dir(format!("{root}/{dir}")).expect("source dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "rs") {
                sources.push_str(&std::fs::read_to_string(&path).expect("source"));
            }
        }
    }
    let mut named = 0;
    for bracket in doc.split('[').skip(1) {
        let Some((inside, _)) = bracket.split_once(']') else {
            continue;
        };
        for name in inside
            .split(", ")
            .filter_map(|n| n.strip_prefix('`')?.strip_suffix('`'))
        {
            named += 1;
            assert!(
                sources.contains(&format!("fn {name}()")),
                "docs/hadolint-differences.md names test `{name}`, which does not exist"
            );
        }
    }
    assert!(
        named > 50,
        "only {named} tests named; is the document's format still `[`test`]`?"
    );
}

#[test]
fn import_hadolint_prints_a_policy_that_checks_like_the_hadolint_config() {
    let p = Project::new()
        .file(
            ".hadolint.yaml",
            "ignored: [DL3007]\nfailure-threshold: warning\n",
        )
        .file("Dockerfile", "FROM nginx:latest\nUSER app\n");
    let imported = p.run(&["policy", "import-hadolint", ".hadolint.yaml"]);
    assert_eq!(imported.code, 0, "{imported:?}");
    let p = p.file("imported.yaml", &imported.stdout);
    let run = p.run(&["check", "--format", "json", "--policy", "imported.yaml"]);
    assert!(
        !run.rule_ids().contains(&"PC1002".to_string()),
        "DL3007 was ignored: {run:?}"
    );
    assert_eq!(run.json()["fail_on"], "medium");
    let bad = p
        .file(
            "bad.yaml",
            "ignored: DL3007\nfailure-threshold: sometimes\n",
        )
        .run(&["policy", "import-hadolint", "bad.yaml"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("bad.yaml:2:20"), "{bad:?}");
}

#[test]
fn an_imported_label_schema_reaches_every_label_rule() {
    let p = Project::new()
        .file(
            ".hadolint.yaml",
            "label-schema:\n  org.opencontainers.image.source: url\n  org.opencontainers.image.revision: hash\nstrict-labels: true\n",
        )
        .file(
            "Dockerfile",
            "FROM alpine:3.20@sha256:beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d\nLABEL org.opencontainers.image.source=github.com/acme/app team=payments\nUSER app\n",
        );
    let imported = p.run(&["policy", "import-hadolint", ".hadolint.yaml"]);
    assert_eq!(imported.code, 0, "{imported:?}");
    assert_eq!(
        imported.stdout.matches("label_schema:").count(),
        1,
        "{imported:?}"
    );
    let p = p.file("imported.yaml", &imported.stdout);
    let run = p.run(&["check", "--format", "json", "--policy", "imported.yaml"]);
    let ids = run.rule_ids();
    for id in ["DL3049", "DL3050", "DL3052"] {
        assert!(ids.contains(&id.to_string()), "{id}: {run:?}");
    }
}
