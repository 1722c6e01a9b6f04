//! The real-world corpus: every file BuildKit accepts is parsed, the ones it rejects are
//! reported, and the whole corpus is checked without a crash.

use crate::util::{corpus_dir, run_in};

/// Files BuildKit itself rejects: buildah's tests of error handling (an unknown instruction,
/// flags without `=`) and one real file with `COPY --from build`, which BuildKit reads as a
/// `--from` without a value.
const REJECTED_BY_BUILDKIT: &[&str] = &[
    "containers__buildah__tests__bud__unrecognized__Dockerfile",
    "containers__buildah__tests__bud__add-checksum__Containerfile.bad",
    "containers__buildah__tests__bud__add-chmod__Dockerfile.bad",
    "containers__buildah__tests__bud__add-chown__Dockerfile.bad",
    "containers__buildah__tests__bud__copy-chmod__Dockerfile.bad",
    "containers__buildah__tests__bud__copy-chown__Dockerfile.bad",
    "containers__buildah__tests__bud__copy-from__Dockerfile.bad",
    "containers__buildah__tests__bud__copy-multistage-paths__Dockerfile.invalid_from",
    "vimagick__dockerfiles__obs-web-arm__Dockerfile",
];

#[test]
fn every_corpus_file_parses() {
    let dir = corpus_dir();
    let mut failures = Vec::new();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if name.ends_with(".tsv") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read");
        let file = portcullis::dockerfile::parse(&String::from_utf8_lossy(&bytes));
        if REJECTED_BY_BUILDKIT.contains(&name.as_str()) {
            assert!(
                !file.errors.is_empty(),
                "{name} is rejected by BuildKit but parsed"
            );
            continue;
        }
        count += 1;
        for e in file.errors {
            failures.push(format!("{name}:{}: {}", e.span.line, e.message));
        }
    }
    assert!(count > 1000, "only {count} corpus files");
    assert!(
        failures.is_empty(),
        "{} parse failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_gate_runs_clean_over_the_corpus() {
    let dir = corpus_dir();
    let dir_text = dir.to_string_lossy().to_string();
    // The corpus has no Dockerfile-named files (they are flattened), so pass them explicitly
    // in one run, as a pre-commit hook would.
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus")
        .map(|e| e.expect("entry").path().to_string_lossy().to_string())
        .filter(|p| !p.ends_with(".tsv"))
        .collect();
    files.sort();
    let mut args = vec!["check", "--format", "json", "--policy", "strict.yaml"];
    args.extend(files.iter().map(String::as_str));
    let temp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        temp.path().join("strict.yaml"),
        "version: 1\nextends: strict\n",
    )
    .expect("policy");
    let run = run_in(temp.path(), &args);
    // The files BuildKit rejects cannot be judged as built: the run fails closed for them,
    // and for nothing else.
    assert_eq!(
        run.code, 3,
        "exit {} over {dir_text}: {}",
        run.code, run.stderr
    );
    let json = run.json();
    let unevaluated = json["unevaluated"].as_array().expect("unevaluated");
    assert!(
        unevaluated.iter().all(|u| REJECTED_BY_BUILDKIT
            .iter()
            .any(|n| u.as_str().unwrap_or("").contains(n))),
        "unexpected: {unevaluated:?}"
    );
    assert_eq!(
        unevaluated.len(),
        REJECTED_BY_BUILDKIT.len(),
        "{unevaluated:?}"
    );
    let findings = json["findings"].as_array().expect("findings");
    let syntax: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["rule_id"] == "PC0001")
        .collect();
    assert!(
        syntax.iter().all(|f| REJECTED_BY_BUILDKIT
            .iter()
            .any(|n| f["target"].as_str().unwrap_or("").ends_with(n))),
        "unexpected syntax errors: {syntax:?}"
    );
    assert!(
        findings.len() > 1000,
        "a strict policy over the corpus finds plenty"
    );
}
