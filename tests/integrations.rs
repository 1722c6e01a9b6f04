//! CI integrations, run for real and offline: the GitHub Action (`action.yml` and its
//! scripts in `ci/github/`) under a fake runner, the GitLab template's job script, the
//! pre-commit hooks through the real `pre-commit`, the reports CI systems read, and the
//! adoption helpers (`--baseline`, `init`, `--shard`, `merge-reports`).
//!
//! External tools: `check-jsonschema` (its builtin schemas are vendored: no network),
//! `pre-commit` (which also brings PyYAML, used here to read YAML), `shellcheck`, `bash`,
//! `curl` (for `file://` URLs only), `tar`, `git`, `cargo`. A missing tool fails the test
//! with how to install it; `tests/run.sh` installs them all.

use crate::util::{binary, require_tool, run_in, Project};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const GOOD: &str = "FROM alpine:3.20@sha256:beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d\nUSER 1000\n";
const BAD: &str = "FROM nginx\nRUN apt-get install curl\n";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn describe(output: &Output) -> String {
    format!(
        "exit status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn run_tool(command: &mut Command, what: &str) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("could not run {what}: {e}"))
}

fn check_jsonschema() -> PathBuf {
    require_tool(
        "check-jsonschema",
        "python3 -m pip install check-jsonschema",
    )
}

fn pre_commit() -> PathBuf {
    require_tool("pre-commit", "python3 -m pip install pre-commit")
}

/// Validates `file` with check-jsonschema and `args` (e.g. `--builtin-schema …`).
fn assert_schema_valid(file: &Path, args: &[&str]) {
    let output = run_tool(
        Command::new(check_jsonschema()).args(args).arg(file),
        "check-jsonschema",
    );
    assert!(
        output.status.success(),
        "{} is not valid for {args:?}:\n{}",
        file.display(),
        describe(&output)
    );
}

/// A YAML file as JSON, read by PyYAML (which `pre-commit` depends on).
fn yaml(path: &Path) -> Value {
    let python = require_tool("python3", "apt-get install python3");
    let output = run_tool(
        Command::new(python)
            .args([
                "-c",
                "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
            ])
            .arg(path),
        "python3",
    );
    assert!(
        output.status.success(),
        "cannot read {} as YAML (PyYAML comes with `python3 -m pip install pre-commit`):\n{}",
        path.display(),
        describe(&output)
    );
    serde_json::from_slice(&output.stdout).expect("PyYAML wrote JSON")
}

fn json_file(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn cargo_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

fn write_executable(path: &Path, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, content).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A `cargo` that must never run: building from source would reach the network.
fn forbidden_cargo(dir: &Path) {
    write_executable(
        &dir.join("cargo"),
        "#!/bin/sh\necho \"cargo $* must not run in this test\" >&2\nexit 97\n",
    );
}

/// `PATH` with `dir` first, and without any other `portcullis` (an installed one must
/// not stand in for the one under test).
fn path_with(dir: &Path) -> String {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(&rest).filter(|d| !d.join("portcullis").exists()));
    std::env::join_paths(dirs)
        .expect("PATH")
        .to_string_lossy()
        .into_owned()
}

/// The number of findings in a JSON report written by `check`.
fn findings_in(dir: &Path, args: &[&str]) -> usize {
    let mut full = vec!["check", "--format", "json"];
    full.extend_from_slice(args);
    run_in(dir, &full).json()["findings"]
        .as_array()
        .expect("findings")
        .len()
}

// ---------------------------------------------------------------------------------------
// The integration files are valid for the systems that read them.

#[test]
fn action_yml_is_a_valid_github_action() {
    assert_schema_valid(
        &repo().join("action.yml"),
        &["--builtin-schema", "vendor.github-actions"],
    );
}

#[test]
fn gitlab_template_is_valid_gitlab_ci() {
    assert_schema_valid(
        &repo().join("ci/gitlab/portcullis.gitlab-ci.yml"),
        &[
            "--builtin-schema",
            "vendor.gitlab-ci",
            "--data-transform",
            "gitlab-ci",
        ],
    );
}

#[test]
fn the_schemas_catch_mistakes() {
    // A validator that accepts anything proves nothing: break each file and watch it fail.
    let dir = tempfile::tempdir().expect("tmp");
    let cases = [
        (
            "action.yml",
            "using: composite",
            "using: compost",
            vec!["--builtin-schema", "vendor.github-actions"],
        ),
        (
            "ci/gitlab/portcullis.gitlab-ci.yml",
            "codequality:",
            "codequalty:",
            vec![
                "--builtin-schema",
                "vendor.gitlab-ci",
                "--data-transform",
                "gitlab-ci",
            ],
        ),
    ];
    for (file, from, to, args) in cases {
        let text = std::fs::read_to_string(repo().join(file)).expect("read");
        assert!(text.contains(from), "{file} has `{from}`");
        let broken = dir.path().join(Path::new(file).file_name().expect("name"));
        std::fs::write(&broken, text.replacen(from, to, 1)).expect("write");
        let output = run_tool(
            Command::new(check_jsonschema()).args(&args).arg(&broken),
            "check-jsonschema",
        );
        assert!(
            !output.status.success(),
            "{file} with {to}: {}",
            describe(&output)
        );
    }
}

#[test]
fn pre_commit_manifest_is_valid() {
    // check-jsonschema has no builtin schema for .pre-commit-hooks.yaml; pre-commit's own
    // validator is the reference.
    let output = run_tool(
        Command::new(pre_commit())
            .args(["validate-manifest"])
            .arg(repo().join(".pre-commit-hooks.yaml")),
        "pre-commit",
    );
    assert!(output.status.success(), "{}", describe(&output));
}

#[test]
fn pre_commit_files_pattern_matches_what_the_cli_looks_for() {
    let hooks = yaml(&repo().join(".pre-commit-hooks.yaml"));
    let hooks = hooks.as_array().expect("a list of hooks");
    let ids: Vec<&str> = hooks.iter().filter_map(|h| h["id"].as_str()).collect();
    assert_eq!(ids, ["portcullis-lint", "portcullis"]);
    let names = [
        "Dockerfile",
        "Containerfile",
        "api.Dockerfile",
        "api.dockerfile",
        ".dockerfile",
        "Dockerfile.prod",
        "Dockerfile.",
        "Containerfile.dev",
        "dockerfile",
        "Dockerfile-old",
        "Dockerfiles",
        "README.md",
        "Containerfile-x",
        "xDockerfile",
    ];
    for hook in hooks {
        let id = hook["id"].as_str().unwrap_or_default();
        assert_eq!(hook["language"], "rust", "{id}");
        let files = regex::Regex::new(hook["files"].as_str().expect("files")).expect("regex");
        let exclude = regex::Regex::new(hook["exclude"].as_str().expect("exclude")).expect("re");
        for name in names {
            for dir in ["", "svc/", "a/b.Dockerfile/"] {
                let path = format!("{dir}{name}");
                assert_eq!(
                    files.is_match(&path),
                    portcullis::engine::is_dockerfile_name(name),
                    "{id}: {path}"
                );
            }
        }
        for skipped in ["node_modules/x/Dockerfile", "a/target/Dockerfile"] {
            assert!(exclude.is_match(skipped), "{id}: {skipped}");
        }
        assert!(!exclude.is_match("targets/Dockerfile"), "{id}");
    }
    let full = &hooks[1];
    assert_eq!(full["pass_filenames"], false);
    let files = regex::Regex::new(full["files"].as_str().unwrap_or_default()).expect("regex");
    assert!(files.is_match(".portcullis.yaml") && files.is_match(".portcullis.yml"));
}

#[test]
fn ci_scripts_pass_shellcheck() {
    let shellcheck = require_tool("shellcheck", "apt-get install shellcheck");
    // `-x`: run.sh sources ci/trusted-policy.sh, which is checked through it too.
    let output = run_tool(
        Command::new(&shellcheck)
            .arg("-x")
            .arg(repo().join("ci/github/install.sh"))
            .arg(repo().join("ci/github/run.sh"))
            .arg(repo().join("ci/trusted-policy.sh")),
        "shellcheck",
    );
    assert!(output.status.success(), "{}", describe(&output));

    // The GitLab job's shell, as POSIX sh: the runner uses sh where the image has no bash.
    let template = yaml(&repo().join("ci/gitlab/portcullis.gitlab-ci.yml"));
    let lines = |key| GitlabJob::lines(&template, key).join("\n");
    let script = format!(
        "#!/bin/sh\n{}\n{}\n",
        lines("before_script"),
        lines("script")
    );
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("gitlab-job.sh");
    std::fs::write(&file, script).expect("write");
    let output = run_tool(Command::new(&shellcheck).arg(&file), "shellcheck");
    assert!(
        output.status.success(),
        "the GitLab job's script: {}",
        describe(&output)
    );
}

#[test]
fn readme_ci_recipes_are_valid() {
    // A recipe is marked `<!-- validate: COMMAND ARGS… -->` just above its code block.
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let dir = tempfile::tempdir().expect("tmp");
    let mut checked = BTreeSet::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(command) = line
            .strip_prefix("<!-- validate: ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().unwrap_or_default();
        assert!(fence.starts_with("```"), "a code block follows `{line}`");
        let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        let file = dir.path().join(format!("recipe{}.yaml", checked.len()));
        std::fs::write(&file, block.join("\n") + "\n").expect("write");
        let mut words = command.split_whitespace();
        let program = match words.next() {
            Some("check-jsonschema") => check_jsonschema(),
            Some("pre-commit") => pre_commit(),
            other => panic!("unknown validator {other:?} in `{line}`"),
        };
        let output = run_tool(Command::new(program).args(words).arg(&file), command);
        assert!(
            output.status.success(),
            "README recipe `{command}`:\n{}\n{}",
            block.join("\n"),
            describe(&output)
        );
        checked.insert(command.to_string());
    }
    for kind in [
        "vendor.github-workflows",
        "vendor.gitlab-ci",
        "validate-config",
    ] {
        assert!(
            checked.iter().any(|c| c.contains(kind)),
            "no README recipe validated with {kind}: {checked:?}"
        );
    }
}

#[test]
fn integration_files_name_the_crate_version() {
    let version = cargo_version();
    let gitlab = yaml(&repo().join("ci/gitlab/portcullis.gitlab-ci.yml"));
    assert_eq!(
        gitlab["variables"]["PORTCULLIS_VERSION"], version,
        "the GitLab template installs this version"
    );
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    assert!(
        readme.contains(&format!("portcullis-dev/portcullis@v{version}")),
        "the README's action recipe pins v{version}"
    );
    assert!(
        readme.contains(&format!("portcullis/v{version}/ci/gitlab/")),
        "the README's GitLab recipe includes v{version}"
    );
}

// ---------------------------------------------------------------------------------------
// The GitHub Action, run by a fake runner.

/// Enough of GitHub's runner to run a composite action's steps as it does: each `run` in
/// `bash --noprofile --norc -eo pipefail`, the step's `env` with `${{ … }}` expressions
/// evaluated, `GITHUB_OUTPUT` per step, one `GITHUB_STEP_SUMMARY` and `GITHUB_PATH`. Only
/// the expressions an action should need are understood (`inputs.*`,
/// `steps.*.outputs.*`, `github.action_path`); anything else fails the test.
struct FakeRunner {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

#[derive(Debug)]
struct ActionRun {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
    github_path: String,
}

impl ActionRun {
    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

impl FakeRunner {
    /// A runner whose PATH has the portcullis under test, and a `cargo` that must not run.
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        std::os::unix::fs::symlink(binary(), bin.join("portcullis")).expect("symlink");
        forbidden_cargo(&bin);
        let temp = dir.path().join("runner-temp");
        std::fs::create_dir_all(&temp).expect("mkdir");
        let env = vec![
            ("PATH".into(), path_with(&bin)),
            ("CI".into(), "true".into()),
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("GITHUB_ACTION_PATH".into(), repo().display().to_string()),
            ("RUNNER_OS".into(), "Linux".into()),
            ("RUNNER_ARCH".into(), "X64".into()),
            ("RUNNER_TEMP".into(), temp.display().to_string()),
            (
                "GITHUB_STEP_SUMMARY".into(),
                dir.path().join("summary.md").display().to_string(),
            ),
            (
                "GITHUB_PATH".into(),
                dir.path().join("path.txt").display().to_string(),
            ),
            // Nothing may leave the machine: a release download would fail here.
            (
                "PORTCULLIS_DOWNLOAD_BASE".into(),
                format!("file://{}/no-releases", dir.path().display()),
            ),
            ("NO_COLOR".into(), "1".into()),
        ];
        FakeRunner { dir, env }
    }

    fn run(&self, workspace: &Path, given: &[(&str, &str)]) -> ActionRun {
        self.run_event(workspace, given, &[])
    }

    /// Runs the action for an event: `event` holds the job's variables that describe it
    /// (`GITHUB_EVENT_NAME`, `GITHUB_BASE_REF`); none leak in from the environment.
    fn run_event(
        &self,
        workspace: &Path,
        given: &[(&str, &str)],
        event: &[(&str, &str)],
    ) -> ActionRun {
        let action = yaml(&repo().join("action.yml"));
        let declared = action["inputs"].as_object().expect("inputs");
        let mut inputs: BTreeMap<String, String> = declared
            .iter()
            .map(|(name, spec)| (name.clone(), scalar(&spec["default"])))
            .collect();
        for (name, value) in given {
            assert!(
                declared.contains_key(*name),
                "action.yml has no input `{name}`"
            );
            inputs.insert(name.to_string(), value.to_string());
        }
        let mut steps: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut run = ActionRun {
            code: 0,
            stdout: String::new(),
            stderr: String::new(),
            outputs: BTreeMap::new(),
            summary: String::new(),
            github_path: String::new(),
        };
        let workspace_env = (
            "GITHUB_WORKSPACE".to_string(),
            workspace.display().to_string(),
        );
        for (index, step) in action["runs"]["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .enumerate()
        {
            assert_eq!(step["shell"], "bash", "step {index} runs in bash");
            let id = step["id"]
                .as_str()
                .expect("every step has an id")
                .to_string();
            let script = self.dir.path().join(format!("step-{index}.sh"));
            let script_text = step["run"].as_str().expect("run");
            assert!(
                !script_text.contains("${{"),
                "step {id}: no expression in `run`"
            );
            std::fs::write(&script, script_text).expect("write");
            let output_file = self.dir.path().join(format!("output-{index}"));
            std::fs::write(&output_file, "").expect("write");
            let mut command = Command::new("bash");
            command
                .args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&script)
                .current_dir(workspace)
                .envs(self.env.iter().cloned())
                .envs([workspace_env.clone()])
                .env_remove("GITHUB_EVENT_NAME")
                .env_remove("GITHUB_BASE_REF")
                .envs(event.iter().copied())
                .env("GITHUB_OUTPUT", &output_file);
            if let Some(env) = step["env"].as_object() {
                for (name, value) in env {
                    command.env(name, expand(&scalar(value), &inputs, &steps));
                }
            }
            let output = run_tool(&mut command, &format!("action step {id}"));
            run.stdout
                .push_str(&String::from_utf8_lossy(&output.stdout));
            run.stderr
                .push_str(&String::from_utf8_lossy(&output.stderr));
            let written = std::fs::read_to_string(&output_file).expect("read outputs");
            steps.insert(id, parse_outputs(&written));
            if !output.status.success() {
                run.code = output.status.code().unwrap_or(-1);
                break;
            }
        }
        for (name, spec) in action["outputs"].as_object().expect("outputs") {
            let value = expand(&scalar(&spec["value"]), &inputs, &steps);
            run.outputs.insert(name.clone(), value);
        }
        run.summary =
            std::fs::read_to_string(self.dir.path().join("summary.md")).unwrap_or_default();
        run.github_path =
            std::fs::read_to_string(self.dir.path().join("path.txt")).unwrap_or_default();
        run
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Evaluates `${{ inputs.x }}`, `${{ steps.id.outputs.x }}` and `${{ github.action_path }}`.
fn expand(
    text: &str,
    inputs: &BTreeMap<String, String>,
    steps: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    let expression = regex::Regex::new(r"\$\{\{\s*([^}]*?)\s*\}\}").expect("regex");
    expression
        .replace_all(text, |caps: &regex::Captures<'_>| {
            let path: Vec<&str> = caps[1].split('.').collect();
            match path.as_slice() {
                ["inputs", name] => inputs
                    .get(*name)
                    .unwrap_or_else(|| panic!("`{}`: no such input", &caps[1]))
                    .clone(),
                ["steps", id, "outputs", name] => steps
                    .get(*id)
                    .and_then(|outputs| outputs.get(*name))
                    .cloned()
                    .unwrap_or_default(),
                ["github", "action_path"] => repo().display().to_string(),
                _ => panic!("action.yml uses `{}`, which the fake runner does not know; keep expressions simple", &caps[1]),
            }
        })
        .into_owned()
}

/// `name=value` lines and `name<<DELIMITER` blocks, as the runner reads `GITHUB_OUTPUT`.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_string(), value.to_string());
        }
    }
    outputs
}

#[test]
fn action_fails_the_gate_and_still_leaves_sarif_annotations_and_summary() {
    let p = Project::new()
        .file("Dockerfile", BAD)
        .file("ok/Dockerfile", GOOD);
    let expected = findings_in(p.path(), &[]);
    let runner = FakeRunner::new();
    let run = runner.run(p.path(), &[]);

    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.output("exit-code"), "1");
    assert_eq!(run.output("findings"), expected.to_string());
    assert_eq!(run.output("version"), cargo_version());
    // The binary on PATH was used: nothing was downloaded or built.
    assert!(
        run.stdout
            .contains(&format!("portcullis {}: ", cargo_version())),
        "{run:#?}"
    );
    assert!(run.github_path.contains("/bin"), "{run:#?}");

    let sarif_path = PathBuf::from(run.output("sarif-file"));
    assert!(sarif_path.is_absolute(), "{run:#?}");
    assert_eq!(sarif_path, p.path().join("portcullis.sarif"));
    let sarif = json_file(&sarif_path);
    assert_eq!(
        sarif["runs"][0]["results"]
            .as_array()
            .expect("results")
            .len(),
        expected
    );
    crate::sarif::assert_schema_valid(&sarif_path);
    let json = json_file(Path::new(run.output("json-file")));
    assert_eq!(json["passed"], false);

    // Annotations on the diff, once each.
    let annotations: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error file=") || l.starts_with("::warning file="))
        .collect();
    assert_eq!(annotations.len(), expected, "{}", run.stdout);
    assert!(
        run.stdout.contains("::error file=Dockerfile,line=1,"),
        "{}",
        run.stdout
    );
    // The human log is text, grouped in the log.
    assert!(
        run.stdout
            .contains("::group::portcullis check . --format text"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("failed: "), "{}", run.stdout);

    assert!(
        run.summary.starts_with("### portcullis: failed"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("| PC1002 no-latest-tag | Dockerfile:1:1 |"),
        "{}",
        run.summary
    );
}

#[test]
fn action_passes_with_its_inputs() {
    let p = Project::new()
        .file("svc/Dockerfile", GOOD)
        .file("legacy/Dockerfile", BAD)
        .file(
            "healthcheck.yaml",
            "version: 1\nrules:\n  missing-healthcheck: low\n",
        );
    let runner = FakeRunner::new();

    let run = runner.run(
        p.path(),
        &[
            ("targets", "svc"),
            ("sarif-file", "reports/out.sarif"),
            ("format", "github"),
            ("summary", "false"),
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.output("exit-code"), "0");
    assert_eq!(
        run.output("findings"),
        findings_in(p.path(), &["svc"]).to_string()
    );
    assert_eq!(
        PathBuf::from(run.output("sarif-file")),
        p.path().join("reports/out.sarif")
    );
    assert!(run.summary.is_empty(), "summary: false: {}", run.summary);
    assert!(
        !run.stdout.contains("legacy/"),
        "only the target: {}",
        run.stdout
    );

    // fail-on, policy and extra arguments reach portcullis.
    let lenient = runner.run(
        p.path(),
        &[
            ("targets", "svc legacy"),
            ("fail-on", "critical"),
            ("annotations", "false"),
        ],
    );
    assert_eq!(lenient.code, 0, "{lenient:#?}");
    assert!(!lenient.stdout.contains("::error"), "{}", lenient.stdout);
    let strict = runner.run(
        p.path(),
        &[
            ("targets", "svc"),
            ("policy", "healthcheck.yaml"),
            ("args", "--fail-on low"),
        ],
    );
    assert_eq!(strict.code, 1, "no HEALTHCHECK, at low: {strict:#?}");
    assert!(strict.stdout.contains("DL3057"), "{strict:#?}");
    let sharded = runner.run(
        p.path(),
        &[("targets", "svc\nlegacy"), ("args", "--shard 2/2")],
    );
    assert!(
        sharded.stdout.contains("shard 2/2: checked 1 of 2"),
        "{sharded:#?}"
    );
}

#[test]
fn action_reports_a_usage_error_without_a_stale_sarif() {
    let p = Project::new()
        .file("Dockerfile", GOOD)
        .file("portcullis.sarif", "{\"stale\": true}");
    let run = FakeRunner::new().run(p.path(), &[("policy", "missing.yaml")]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(run.output("exit-code"), "2");
    assert_eq!(
        run.output("sarif-file"),
        "",
        "an empty SARIF would close open alerts"
    );
    assert!(
        !p.path().join("portcullis.sarif").exists(),
        "the stale SARIF is gone"
    );
    assert!(run.stderr.contains("missing.yaml"), "{run:#?}");
    assert!(
        run.stdout
            .contains("::error title=portcullis::portcullis could not run"),
        "{run:#?}"
    );
    assert!(run.summary.contains("could not run"), "{}", run.summary);
}

#[test]
fn action_can_only_install_for_later_steps() {
    let p = Project::new().file("Dockerfile", BAD);
    let run = FakeRunner::new().run(p.path(), &[("install-only", "true")]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.output("version"), cargo_version());
    assert_eq!(run.output("exit-code"), "", "nothing was checked");
    assert!(!p.path().join("portcullis.sarif").exists());
    assert!(
        run.github_path.contains("/bin"),
        "on PATH for later steps: {run:#?}"
    );
}

#[test]
fn action_says_why_it_failed_closed() {
    // /proc/self/mem is a file that cannot be read: exit 3, with nothing else wrong.
    let p = Project::new().file("Dockerfile", GOOD);
    let run = FakeRunner::new().run(p.path(), &[("targets", "Dockerfile /proc/self/mem")]);
    assert_eq!(run.code, 3, "{run:#?}");
    assert_eq!(run.output("exit-code"), "3");
    assert!(
        p.path().join("portcullis.sarif").is_file(),
        "the gate ran: SARIF is there"
    );
    assert!(
        run.summary.starts_with("**portcullis could not evaluate"),
        "{}",
        run.summary
    );
}

// ---------------------------------------------------------------------------------------
// Installing from a release: checksum verified, cargo as the fallback.

/// A release directory `v{version}/portcullis-{target}.tar.gz` (+ `.sha256`) holding
/// `portcullis`, and the checksum written.
fn make_release(dir: &Path, version: &str, target: &str, binary: &Path, checksum: Option<&str>) {
    use sha2::{Digest, Sha256};
    // The install scripts fetch releases with curl (here from file:// URLs).
    require_tool("curl", "apt-get install curl");
    let stage = dir.join("stage").join(format!("portcullis-{version}"));
    std::fs::create_dir_all(&stage).expect("mkdir");
    std::fs::copy(binary, stage.join("portcullis")).expect("copy");
    let release = dir.join(format!("v{version}"));
    std::fs::create_dir_all(&release).expect("mkdir");
    let tarball = release.join(format!("portcullis-{target}.tar.gz"));
    let output = run_tool(
        Command::new("tar")
            .arg("-czf")
            .arg(&tarball)
            .arg("-C")
            .arg(dir.join("stage"))
            .arg(format!("portcullis-{version}")),
        "tar",
    );
    assert!(output.status.success(), "{}", describe(&output));
    let digest = Sha256::digest(std::fs::read(&tarball).expect("read"));
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let line = format!("{}  portcullis-{target}.tar.gz\n", checksum.unwrap_or(&hex));
    std::fs::write(
        release.join(format!("portcullis-{target}.tar.gz.sha256")),
        line,
    )
    .expect("write");
}

struct Install {
    code: i32,
    stdout: String,
    outputs: BTreeMap<String, String>,
    cargo_log: String,
}

/// Runs `ci/github/install.sh` for `version` with releases from `releases` (file://)
/// and a fake `cargo` that records its arguments and installs a stand-in binary.
fn install(dir: &Path, releases: &Path, version: &str) -> Install {
    let bin = dir.join("fake-bin");
    let cargo_log = dir.join("cargo.log");
    write_executable(
        &bin.join("cargo"),
        &format!(
            "#!/bin/sh\necho \"$*\" >> '{log}'\nwhile [ \"$1\" != --root ]; do shift; done\n\
             mkdir -p \"$2/bin\"\nprintf '#!/bin/sh\\necho \"portcullis {version}\"\\n' > \"$2/bin/portcullis\"\n\
             chmod +x \"$2/bin/portcullis\"\n",
            log = cargo_log.display()
        ),
    );
    let outputs = dir.join("outputs");
    std::fs::write(&outputs, "").expect("write");
    let output = run_tool(
        Command::new("bash")
            .arg(repo().join("ci/github/install.sh"))
            .env("PATH", path_with(&bin))
            .env("PORTCULLIS_VERSION", version)
            .env(
                "PORTCULLIS_DOWNLOAD_BASE",
                format!("file://{}", releases.display()),
            )
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TEMP", dir.join("temp"))
            .env("GITHUB_OUTPUT", &outputs)
            .env_remove("GITHUB_PATH"),
        "install.sh",
    );
    Install {
        code: output.status.code().unwrap_or(-1),
        stdout: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        outputs: parse_outputs(&std::fs::read_to_string(&outputs).unwrap_or_default()),
        cargo_log: std::fs::read_to_string(&cargo_log).unwrap_or_default(),
    }
}

/// A stand-in release binary that reports `version`.
fn fake_binary(dir: &Path, version: &str) -> PathBuf {
    let path = dir.join(format!("fake-portcullis-{version}"));
    write_executable(
        &path,
        &format!("#!/bin/sh\necho \"portcullis {version}\"\n"),
    );
    path
}

#[test]
fn install_verifies_the_release_checksum() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("temp")).expect("mkdir");
    let releases = dir.path().join("releases");
    let target = "x86_64-unknown-linux-musl";
    make_release(
        &releases,
        "9.9.9",
        target,
        &fake_binary(dir.path(), "9.9.9"),
        None,
    );

    let installed = install(dir.path(), &releases, "v9.9.9");
    assert_eq!(installed.code, 0, "{}", installed.stdout);
    let path = dir.path().join("temp/portcullis-9.9.9/bin/portcullis");
    assert_eq!(
        installed.outputs.get("path"),
        Some(&path.display().to_string())
    );
    assert_eq!(
        installed.outputs.get("version").map(String::as_str),
        Some("9.9.9")
    );
    assert!(
        installed.stdout.contains("installed the release binary"),
        "{}",
        installed.stdout
    );
    assert!(
        installed.cargo_log.is_empty(),
        "no build: {}",
        installed.cargo_log
    );

    // Installed once, reused: the release may even be gone.
    std::fs::remove_dir_all(&releases).expect("rm");
    let again = install(dir.path(), &releases, "9.9.9");
    assert_eq!(again.code, 0, "{}", again.stdout);
    assert!(
        !again.stdout.contains("installed the release"),
        "{}",
        again.stdout
    );
}

#[test]
fn install_refuses_a_tampered_release_and_does_not_fall_back() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("temp")).expect("mkdir");
    let releases = dir.path().join("releases");
    let wrong = "0".repeat(64);
    make_release(
        &releases,
        "9.9.9",
        "x86_64-unknown-linux-musl",
        &fake_binary(dir.path(), "9.9.9"),
        Some(&wrong),
    );
    let installed = install(dir.path(), &releases, "9.9.9");
    assert_eq!(installed.code, 1, "{}", installed.stdout);
    assert!(
        installed.stdout.contains("checksum mismatch") && installed.stdout.contains("refusing"),
        "{}",
        installed.stdout
    );
    assert!(
        installed.cargo_log.is_empty(),
        "no fallback build: {}",
        installed.cargo_log
    );
    assert!(!dir
        .path()
        .join("temp/portcullis-9.9.9/bin/portcullis")
        .exists());
}

#[test]
fn install_builds_with_cargo_when_there_is_no_release() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("temp")).expect("mkdir");
    let installed = install(dir.path(), &dir.path().join("releases"), "9.9.8");
    assert_eq!(installed.code, 0, "{}", installed.stdout);
    assert!(
        installed.stdout.contains("building from source"),
        "{}",
        installed.stdout
    );
    let root = dir.path().join("temp/portcullis-9.9.8");
    assert_eq!(
        installed.cargo_log.trim(),
        format!(
            "install --locked --root {} --git https://github.com/portcullis-dev/portcullis --tag v9.9.8 portcullis",
            root.display()
        )
    );

    // The action's own version builds from the action's checkout.
    let own = install(dir.path(), &dir.path().join("releases"), &cargo_version());
    assert_eq!(own.code, 0, "{}", own.stdout);
    assert!(
        own.cargo_log
            .contains(&format!("--path {}", repo().display())),
        "{}",
        own.cargo_log
    );
}

#[test]
fn install_rejects_what_is_not_a_version() {
    let dir = tempfile::tempdir().expect("tmp");
    for bad in ["latest", "1.0; rm -rf /", "../1.0.0", "1.0"] {
        let installed = install(dir.path(), &dir.path().join("releases"), bad);
        assert_eq!(installed.code, 1, "{bad}: {}", installed.stdout);
        assert!(
            installed.stdout.contains("is not a version"),
            "{}",
            installed.stdout
        );
        assert!(installed.cargo_log.is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// The GitLab template's job, run as GitLab's runner runs it.

/// The template's job, run as GitLab's runner runs it: `before_script` and `script` in one
/// shell that stops at the first failure, with the template's variables, installing a
/// verified release (a stand-in that runs the binary under test) from a `file://` mirror,
/// beside a `cargo` that must not run.
struct GitlabJob {
    runner: tempfile::TempDir,
    releases: PathBuf,
    bin: PathBuf,
    template: Value,
    script: String,
    version: String,
    target: String,
}

impl GitlabJob {
    fn new() -> Self {
        let template = yaml(&repo().join("ci/gitlab/portcullis.gitlab-ci.yml"));
        let version = scalar(&template["variables"]["PORTCULLIS_VERSION"]);
        let target = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
        let runner = tempfile::tempdir().expect("tmp");
        let releases = runner.path().join("releases");
        // The release holds a stand-in that runs the binary under test (it is large to pack).
        let stand_in = runner.path().join("portcullis");
        write_executable(
            &stand_in,
            &format!("#!/bin/sh\nexec '{}' \"$@\"\n", binary().display()),
        );
        make_release(&releases, &version, &target, &stand_in, None);
        let bin = runner.path().join("bin");
        forbidden_cargo(&bin);
        let script = format!(
            "set -eo pipefail\n{}\n{}\n",
            Self::lines(&template, "before_script").join("\n"),
            Self::lines(&template, "script").join("\n")
        );
        GitlabJob {
            runner,
            releases,
            bin,
            template,
            script,
            version,
            target,
        }
    }

    fn job(&self) -> &Value {
        &self.template["portcullis"]
    }

    fn lines(template: &Value, key: &str) -> Vec<String> {
        template["portcullis"][key]
            .as_array()
            .map(|a| a.iter().map(scalar).collect())
            .unwrap_or_default()
    }

    /// Runs the job in `project` with the template's variables and `extra` (the
    /// pipeline's, e.g. `CI_MERGE_REQUEST_TARGET_BRANCH_NAME`; none leak in from the
    /// environment).
    fn run(&self, project: &Path, extra: &[(&str, &str)]) -> Output {
        let mut command = Command::new("bash");
        command
            .args(["-c", &self.script])
            .current_dir(project)
            .env("PATH", path_with(&self.bin))
            .env("TMPDIR", self.runner.path())
            .env("CI", "true")
            .env("CI_PROJECT_DIR", project);
        for name in [
            "CI_PIPELINE_SOURCE",
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA",
            "CI_NODE_INDEX",
            "CI_NODE_TOTAL",
        ] {
            command.env_remove(name);
        }
        let variables = self.template["variables"].as_object().expect("variables");
        for (name, value) in variables {
            command.env(name, scalar(value));
        }
        command.env(
            "PORTCULLIS_DOWNLOAD_BASE",
            format!("file://{}", self.releases.display()),
        );
        command.envs(extra.iter().copied());
        run_tool(&mut command, "the GitLab job")
    }
}

#[test]
fn gitlab_job_installs_a_verified_release_and_leaves_every_report() {
    let gitlab = GitlabJob::new();
    let job = gitlab.job();
    let version = &gitlab.version;
    let p = Project::new()
        .file("Dockerfile", BAD)
        .file("ok/Dockerfile", GOOD);
    let output = gitlab.run(p.path(), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let log = describe(&output);
    assert!(log.contains(&format!("portcullis {version}")), "{log}");

    // Every artifact is there after a failed gate (`when: always` uploads them).
    assert_eq!(job["artifacts"]["when"], "always");
    let paths: Vec<String> = job["artifacts"]["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .map(scalar)
        .collect();
    for report in ["codequality", "junit"] {
        let file = scalar(&job["artifacts"]["reports"][report]);
        assert!(
            paths.contains(&file),
            "{report} report {file} is kept as a file too"
        );
    }
    for path in &paths {
        assert!(
            p.path().join(path).is_file(),
            "{path} was not written: {log}"
        );
    }

    let expected = findings_in(p.path(), &[]);
    let quality = json_file(
        &p.path()
            .join(scalar(&job["artifacts"]["reports"]["codequality"])),
    );
    assert_code_quality(&quality, expected);
    let junit =
        std::fs::read_to_string(p.path().join(scalar(&job["artifacts"]["reports"]["junit"])))
            .expect("junit");
    assert_junit(&junit, &["Dockerfile", "ok/Dockerfile"], &["Dockerfile"]);
    crate::sarif::assert_schema_valid(&p.path().join("portcullis.sarif"));

    // `parallel: N` shards by itself.
    let sharded = gitlab.run(p.path(), &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "2")]);
    let json = json_file(&p.path().join("portcullis.json"));
    assert!(
        json["notes"]
            .to_string()
            .contains("shard 2/2: checked 1 of 2"),
        "{}",
        describe(&sharded)
    );

    // A tampered release fails the job before anything runs.
    let sha = gitlab.releases.join(format!(
        "v{version}/portcullis-{}.tar.gz.sha256",
        gitlab.target
    ));
    std::fs::write(&sha, format!("{}  x\n", "1".repeat(64))).expect("write");
    std::fs::remove_dir_all(gitlab.runner.path().join(format!("portcullis-{version}")))
        .expect("rm");
    let tampered = gitlab.run(p.path(), &[]);
    assert_eq!(tampered.status.code(), Some(1));
    assert!(
        describe(&tampered).contains("checksum mismatch"),
        "{}",
        describe(&tampered)
    );
}

// ---------------------------------------------------------------------------------------
// Who writes the policy: in a pull request, the target branch (ci/trusted-policy.sh).

/// A pinned image without a USER: only `non-root-user` fires, at high.
const ROOT: &str =
    "FROM alpine:3.20@sha256:beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d\n";
/// The target branch's policy: the default preset through a file it extends, and an
/// exception for the legacy Dockerfile that runs as root.
const BASE_POLICY: &str = "version: 1\nextends: policies/base.yaml\nexceptions:\n  - rules: [non-root-user]\n    paths: [\"legacy/**\"]\n    reason: runs as root until OPS-12\n";
const BASE_EXTENDED: &str = "version: 1\nfail_on: high\n";
/// What a pull request would like instead: nothing fails, nothing runs.
const WEAK_POLICY: &str = "version: 1\nextends: policies/base.yaml\nfail_on: critical\n";
const WEAK_EXTENDED: &str = "version: 1\nextends: none\n";

fn base_files() -> Vec<(&'static str, String)> {
    vec![
        (".portcullis.yaml", BASE_POLICY.into()),
        ("policies/base.yaml", BASE_EXTENDED.into()),
        ("legacy/Dockerfile", ROOT.into()),
        ("ok/Dockerfile", GOOD.into()),
    ]
}

/// A pull request as CI sees it. `origin` is a repository whose `main` holds the base
/// files and whose `pr` branch changes them; `checkout` is a depth-1 clone of `pr` alone,
/// as actions/checkout leaves a pull request, so the target branch must be fetched. A tag
/// named `main` points at the pull request: only the branch's full name reads the target
/// branch.
struct PullRequest {
    _dir: tempfile::TempDir,
    checkout: PathBuf,
    /// `main`'s commit, abbreviated as the logs write it.
    base: String,
    base_full: String,
}

impl PullRequest {
    fn new(base: &[(&str, String)], change: &[(&str, String)]) -> Self {
        require_tool("git", "apt-get install git");
        let dir = tempfile::tempdir().expect("tmp");
        let origin = dir.path().join("origin");
        std::fs::create_dir_all(&origin).expect("mkdir");
        git(&origin, &["init", "-q", "-b", "main"]);
        let commit = |files: &[(&str, String)], message: &str| {
            for (name, content) in files {
                let path = origin.join(name);
                std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                std::fs::write(&path, content).expect("write");
            }
            git(&origin, &["add", "-A"]);
            git(
                &origin,
                &[
                    "-c",
                    "user.name=portcullis",
                    "-c",
                    "user.email=tests@portcullis.invalid",
                    "-c",
                    "commit.gpgsign=false",
                    "commit",
                    "-q",
                    "-m",
                    message,
                ],
            );
        };
        commit(base, "the target branch");
        let base_full = git_stdout(&origin, &["rev-parse", "HEAD"]);
        git(&origin, &["checkout", "-q", "-b", "pr"]);
        commit(change, "the pull request");
        git(&origin, &["tag", "main"]);
        let url = format!("file://{}", origin.display());
        git(
            dir.path(),
            &[
                "clone",
                "-q",
                "--depth=1",
                "--single-branch",
                "--branch",
                "pr",
                &url,
                "checkout",
            ],
        );
        PullRequest {
            checkout: dir.path().join("checkout"),
            base: base_full[..12].to_string(),
            base_full,
            _dir: dir,
        }
    }
}

fn git_stdout(dir: &Path, args: &[&str]) -> String {
    let output = run_tool(Command::new("git").args(args).current_dir(dir), "git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        describe(&output)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The JSON report portcullis writes for `files`: a baseline of their findings.
fn baseline_of(files: &[(&str, &str)]) -> String {
    let p = files
        .iter()
        .fold(Project::new(), |p, (name, content)| p.file(name, content));
    p.run(&["check", "--format", "json"]).stdout
}

fn targets_of(report: &Path) -> BTreeSet<String> {
    finding_targets(&json_file(report))
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const PULL_REQUEST: [(&str, &str); 2] = [
    ("GITHUB_EVENT_NAME", "pull_request"),
    ("GITHUB_BASE_REF", "main"),
];

#[test]
fn action_judges_a_pull_request_by_the_target_branchs_policy() {
    let pr = PullRequest::new(
        &base_files(),
        &[
            (".portcullis.yaml", WEAK_POLICY.into()),
            ("policies/base.yaml", WEAK_EXTENDED.into()),
            ("app/Dockerfile", BAD.into()),
        ],
    );
    let runner = FakeRunner::new();
    let run = runner.run_event(&pr.checkout, &[], &PULL_REQUEST);
    assert_eq!(
        run.code, 1,
        "the target branch's policy fails app/: {run:#?}"
    );
    // The base's exception still names the checkout's legacy/Dockerfile.
    assert_eq!(
        targets_of(Path::new(run.output("json-file"))),
        set(&["app/Dockerfile"]),
        "{run:#?}"
    );
    let base = &pr.base;
    assert!(
        run.stdout.contains(&format!(
            "portcullis: policy .portcullis.yaml from the target branch `main`, commit {base}\n"
        )),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains(&format!(
            "::notice file=.portcullis.yaml,title=portcullis::This pull request changes \
             .portcullis.yaml, but the gate used its version on the target branch `main` \
             (commit {base}): the change applies once the pull request is merged.\n"
        )),
        "{run:#?}"
    );

    // Turned off, the pull request's own policy applies (and passes it).
    let own = runner.run_event(
        &pr.checkout,
        &[("policy-from-base", "false")],
        &PULL_REQUEST,
    );
    assert_eq!(own.code, 0, "{own:#?}");
    assert!(
        own.stdout.contains(
            "portcullis: policy and baseline from the checkout: policy-from-base: false, so \
             this pull request's own apply\n"
        ),
        "{own:#?}"
    );
    assert!(!own.stdout.contains("::notice"), "{own:#?}");

    // A push is the branch's own history: its checkout's policy applies.
    let push = runner.run_event(&pr.checkout, &[], &[("GITHUB_EVENT_NAME", "push")]);
    assert_eq!(push.code, 0, "{push:#?}");
    assert!(
        push.stdout.contains(
            "portcullis: policy and baseline from the checkout (not a pull request pipeline)\n"
        ),
        "{push:#?}"
    );

    // policy-ref reads the policy from that ref in every event.
    let pinned = runner.run_event(
        &pr.checkout,
        &[("policy-ref", "origin/main")],
        &[("GITHUB_EVENT_NAME", "push")],
    );
    assert_eq!(pinned.code, 1, "{pinned:#?}");
    assert!(
        pinned.stdout.contains(&format!(
            "portcullis: policy .portcullis.yaml from `origin/main` (policy-ref), commit {base}\n"
        )),
        "{pinned:#?}"
    );
    assert!(
        pinned.stdout.contains(&format!(
            "::notice file=.portcullis.yaml,title=portcullis::.portcullis.yaml in this checkout \
             is not what the gate used: it used its version on `origin/main` (policy-ref) \
             (commit {base}).\n"
        )),
        "{pinned:#?}"
    );
    let by_commit = runner.run_event(&pr.checkout, &[("policy-ref", &pr.base_full)], &[]);
    assert_eq!(by_commit.code, 1, "{by_commit:#?}");
}

#[test]
fn action_reads_what_the_policy_extends_from_the_target_branch() {
    // The pull request leaves .portcullis.yaml alone and weakens the file it extends.
    let pr = PullRequest::new(
        &base_files(),
        &[
            ("policies/base.yaml", WEAK_EXTENDED.into()),
            ("app/Dockerfile", BAD.into()),
        ],
    );
    let runner = FakeRunner::new();
    let run = runner.run_event(&pr.checkout, &[], &PULL_REQUEST);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(
        targets_of(Path::new(run.output("json-file"))),
        set(&["app/Dockerfile"])
    );
    let own = runner.run_event(
        &pr.checkout,
        &[("policy-from-base", "false")],
        &PULL_REQUEST,
    );
    assert_eq!(own.code, 0, "`extends: none` in the checkout: {own:#?}");
}

#[test]
fn action_falls_back_to_the_default_policy_not_the_pull_requests() {
    let lenient = "version: 1\nextends: none\n";
    let pr = PullRequest::new(
        &[("ok/Dockerfile", GOOD.into())],
        &[
            (".portcullis.yaml", lenient.into()),
            ("gate/policy.yaml", lenient.into()),
            ("app/Dockerfile", BAD.into()),
        ],
    );
    let base = &pr.base;
    let runner = FakeRunner::new();
    let run = runner.run_event(&pr.checkout, &[], &PULL_REQUEST);
    assert_eq!(run.code, 1, "the default policy fails app/: {run:#?}");
    assert!(
        run.stdout.contains(&format!(
            "portcullis: policy: the built-in default policy, as the target branch `main` \
             (commit {base}) has no .portcullis.yaml or .portcullis.yml\n"
        )),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains(&format!(
            "::notice file=.portcullis.yaml,title=portcullis::This pull request changes \
             .portcullis.yaml, but the gate used the built-in default policy, as the target \
             branch `main` (commit {base}) has none: the change applies once the pull \
             request is merged.\n"
        )),
        "{run:#?}"
    );
    let named = runner.run_event(
        &pr.checkout,
        &[("policy", "gate/policy.yaml")],
        &PULL_REQUEST,
    );
    assert_eq!(named.code, 1, "{named:#?}");
    assert!(
        named.stdout.contains("has no gate/policy.yaml\n"),
        "{named:#?}"
    );

    // A policy the repository does not track, put there by an earlier step (a central
    // policy), is used as it is.
    std::fs::create_dir_all(pr.checkout.join("central")).expect("mkdir");
    std::fs::write(pr.checkout.join("central/gate.yaml"), lenient).expect("write");
    let central = runner.run_event(
        &pr.checkout,
        &[("policy", "central/gate.yaml")],
        &PULL_REQUEST,
    );
    assert_eq!(central.code, 0, "{central:#?}");
    assert!(
        central.stdout.contains(
            "portcullis: policy central/gate.yaml: not a file of this repository (a central \
             policy?), used as it is\n"
        ),
        "{central:#?}"
    );
}

#[test]
fn action_reads_the_baseline_from_the_target_branch() {
    let known = baseline_of(&[("legacy/Dockerfile", BAD)]);
    let waived = baseline_of(&[("legacy/Dockerfile", BAD), ("app/Dockerfile", BAD)]);
    let pr = PullRequest::new(
        &[
            ("legacy/Dockerfile", BAD.into()),
            (".portcullis-baseline.json", known),
        ],
        &[
            ("app/Dockerfile", BAD.into()),
            (".portcullis-baseline.json", waived.clone()),
        ],
    );
    let base = &pr.base;
    let runner = FakeRunner::new();
    let args = [("args", "--baseline .portcullis-baseline.json")];
    let run = runner.run_event(&pr.checkout, &args, &PULL_REQUEST);
    assert_eq!(run.code, 1, "app/ is new to the target branch: {run:#?}");
    assert_eq!(
        targets_of(Path::new(run.output("json-file"))),
        set(&["app/Dockerfile"])
    );
    assert!(
        run.stdout.contains(&format!(
            "portcullis: baseline .portcullis-baseline.json from the target branch `main`, \
             commit {base}\n"
        )),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains(&format!(
            "::notice file=.portcullis-baseline.json,title=portcullis::This pull request \
             changes .portcullis-baseline.json, but the gate used its version on the target \
             branch `main` (commit {base}): the change applies once the pull request is \
             merged.\n"
        )),
        "{run:#?}"
    );
    let joined = runner.run_event(
        &pr.checkout,
        &[("args", "--baseline=.portcullis-baseline.json")],
        &PULL_REQUEST,
    );
    assert_eq!(joined.code, 1, "{joined:#?}");
    let own = runner.run_event(
        &pr.checkout,
        &[args[0], ("policy-from-base", "false")],
        &PULL_REQUEST,
    );
    assert_eq!(own.code, 0, "the pull request's baseline: {own:#?}");
    let push = runner.run_event(&pr.checkout, &args, &[("GITHUB_EVENT_NAME", "push")]);
    assert_eq!(push.code, 0, "{push:#?}");

    // A baseline the pull request brings along is no baseline yet.
    let pr = PullRequest::new(
        &[("legacy/Dockerfile", BAD.into())],
        &[
            ("app/Dockerfile", BAD.into()),
            (".portcullis-baseline.json", waived),
        ],
    );
    let run = runner.run_event(&pr.checkout, &args, &PULL_REQUEST);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(
        targets_of(Path::new(run.output("json-file"))),
        set(&["app/Dockerfile", "legacy/Dockerfile"])
    );
    assert!(
        run.stdout.contains(&format!(
            "portcullis: no baseline: the target branch `main` (commit {}) has no \
             .portcullis-baseline.json, so every finding counts\n",
            pr.base
        )),
        "{run:#?}"
    );
}

#[test]
fn action_fails_closed_when_the_target_branch_cannot_be_read() {
    let pr = PullRequest::new(
        &base_files(),
        &[
            (".portcullis.yaml", WEAK_POLICY.into()),
            ("app/Dockerfile", BAD.into()),
        ],
    );
    let runner = FakeRunner::new();
    let gone = runner.run_event(
        &pr.checkout,
        &[],
        &[
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_BASE_REF", "gone"),
        ],
    );
    assert_eq!(gone.code, 2, "{gone:#?}");
    assert_eq!(gone.output("exit-code"), "2");
    assert_eq!(gone.output("sarif-file"), "");
    assert!(
        gone.stdout
            .contains("::error title=portcullis::cannot read the target branch `gone`"),
        "{gone:#?}"
    );
    assert!(gone.summary.contains("could not run"), "{}", gone.summary);
    let unsafe_ref = runner.run_event(&pr.checkout, &[("policy-ref", "--upload-pack=x")], &[]);
    assert_eq!(unsafe_ref.code, 2, "{unsafe_ref:#?}");
    assert!(
        unsafe_ref
            .stdout
            .contains("is not a ref git can read safely"),
        "{unsafe_ref:#?}"
    );
    let not_git = Project::new().file("Dockerfile", BAD);
    let run = runner.run_event(not_git.path(), &[], &PULL_REQUEST);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stdout.contains("is not a git checkout"), "{run:#?}");
}

fn merge_request(pr: &PullRequest) -> [(&str, &str); 3] {
    [
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main"),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", &pr.base_full),
    ]
}

#[test]
fn gitlab_merge_requests_use_the_target_branchs_policy_and_baseline() {
    // legacy/ needs the target branch's exception, old/ its baseline.
    let mut base = base_files();
    base.push(("old/Dockerfile", BAD.into()));
    base.push((
        ".portcullis-baseline.json",
        baseline_of(&[("old/Dockerfile", BAD)]),
    ));
    let pr = PullRequest::new(
        &base,
        &[
            (".portcullis.yaml", WEAK_POLICY.into()),
            ("policies/base.yaml", WEAK_EXTENDED.into()),
            ("app/Dockerfile", BAD.into()),
            (
                ".portcullis-baseline.json",
                baseline_of(&[("old/Dockerfile", BAD), ("app/Dockerfile", BAD)]),
            ),
        ],
    );
    let gitlab = GitlabJob::new();
    let args = ("PORTCULLIS_ARGS", "--baseline .portcullis-baseline.json");
    let mut variables = merge_request(&pr).to_vec();
    variables.push(args);
    let output = gitlab.run(&pr.checkout, &variables);
    let log = describe(&output);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert_eq!(
        targets_of(&pr.checkout.join("portcullis.json")),
        set(&["app/Dockerfile"]),
        "{log}"
    );
    let base = &pr.base;
    for line in [
        format!("portcullis: policy .portcullis.yaml from the target branch `main`, commit {base}\n"),
        format!("portcullis: baseline .portcullis-baseline.json from the target branch `main`, commit {base}\n"),
        format!(
            "portcullis: notice: This merge request changes .portcullis.yaml, but the gate used \
             its version on the target branch `main` (commit {base}): the change applies once \
             the merge request is merged.\n"
        ),
    ] {
        assert!(log.contains(&line), "{line}\n{log}");
    }

    variables.push(("PORTCULLIS_POLICY_FROM_BASE", "false"));
    let own = gitlab.run(&pr.checkout, &variables);
    assert_eq!(own.status.code(), Some(0), "{}", describe(&own));
    assert!(
        describe(&own)
            .contains("PORTCULLIS_POLICY_FROM_BASE: \"false\", so this merge request's own apply"),
        "{}",
        describe(&own)
    );
    let branch = gitlab.run(&pr.checkout, &[args]);
    assert_eq!(branch.status.code(), Some(0), "{}", describe(&branch));
    assert!(
        describe(&branch).contains("(not a merge request pipeline)"),
        "{}",
        describe(&branch)
    );
}

#[test]
fn gitlab_merge_requests_fall_back_to_the_diff_base_commit() {
    // The target branch cannot be fetched (here: its name is not in the clone's origin),
    // but the commit GitLab names is in the clone.
    let pr = PullRequest::new(
        &base_files(),
        &[
            (".portcullis.yaml", WEAK_POLICY.into()),
            ("app/Dockerfile", BAD.into()),
        ],
    );
    git(
        &pr.checkout,
        &["fetch", "-q", "--depth=1", "origin", &pr.base_full],
    );
    let gitlab = GitlabJob::new();
    let mut variables = merge_request(&pr);
    variables[1].1 = "renamed";
    let output = gitlab.run(&pr.checkout, &variables);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    variables[2].1 = "0000000000000000000000000000000000000000";
    let closed = gitlab.run(&pr.checkout, &variables);
    assert_eq!(closed.status.code(), Some(2), "{}", describe(&closed));
    assert!(
        describe(&closed).contains("portcullis: error: cannot read the target branch `renamed`"),
        "{}",
        describe(&closed)
    );
}

#[test]
fn gitlab_template_holds_the_shared_trusted_policy_script() {
    // GitLab includes only the YAML, so the template carries ci/trusted-policy.sh itself.
    let gitlab = GitlabJob::new();
    let script = GitlabJob::lines(&gitlab.template, "script");
    let shared = std::fs::read_to_string(repo().join("ci/trusted-policy.sh")).expect("read");
    assert!(
        script.get(1) == Some(&shared),
        "the second `script` entry of ci/gitlab/portcullis.gitlab-ci.yml must be \
         ci/trusted-policy.sh verbatim (indented six spaces); copy it there"
    );
}

// ---------------------------------------------------------------------------------------
// Reports that CI systems read, through the CLI.

/// GitLab Code Quality: an array of issues with the fields GitLab requires.
fn assert_code_quality(report: &Value, expected: usize) {
    let issues = report.as_array().expect("an array of issues");
    assert_eq!(issues.len(), expected);
    let mut fingerprints = BTreeSet::new();
    for issue in issues {
        for key in ["description", "check_name", "fingerprint"] {
            assert!(
                issue[key].as_str().is_some_and(|s| !s.is_empty()),
                "{key}: {issue}"
            );
        }
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&issue["severity"].as_str().unwrap_or_default()),
            "{issue}"
        );
        assert!(issue["location"]["path"].as_str().is_some(), "{issue}");
        assert!(
            issue["location"]["lines"]["begin"].as_u64() >= Some(1),
            "{issue}"
        );
        assert!(
            fingerprints.insert(issue["fingerprint"].to_string()),
            "unique: {issue}"
        );
    }
}

/// JUnit: one test case per target; the failing ones have `<failure>`.
fn assert_junit(xml: &str, targets: &[&str], failing: &[&str]) {
    let doc = roxmltree::Document::parse(xml).expect("JUnit is XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    assert_eq!(names, targets);
    for case in cases {
        let failed = case.children().any(|c| c.has_tag_name("failure"));
        let name = case.attribute("name").unwrap_or_default();
        assert_eq!(failed, failing.contains(&name), "{name}");
    }
}

#[test]
fn ci_report_formats_work_end_to_end() {
    let p = Project::new()
        .file("Dockerfile", BAD)
        .file("ok/Dockerfile", GOOD);
    let expected = findings_in(p.path(), &[]);
    let formats = ["gitlab", "junit", "github", "markdown"];
    let mut outputs = BTreeMap::new();
    for format in formats {
        let run = p.run(&["check", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {run:?}");
        outputs.insert(format, run.stdout);
    }
    assert_code_quality(
        &serde_json::from_str(&outputs["gitlab"]).expect("JSON"),
        expected,
    );
    assert_junit(
        &outputs["junit"],
        &["Dockerfile", "ok/Dockerfile"],
        &["Dockerfile"],
    );
    let commands: Vec<&str> = outputs["github"].lines().collect();
    assert_eq!(commands.len(), expected);
    for line in commands {
        assert!(
            ["::error file=", "::warning file=", "::notice file="]
                .iter()
                .any(|p| line.starts_with(p)),
            "{line}"
        );
        assert!(line.contains(",line="), "{line}");
    }
    assert!(outputs["markdown"].starts_with("### portcullis: failed\n"));

    // The same reports, all from one run with --report, are the same bytes.
    let mut args = vec!["check".to_string()];
    for format in formats {
        args.push("--report".into());
        args.push(format!("{format}={format}.out"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(p.run(&args).code, 1);
    for format in formats {
        assert_eq!(
            p.read(&format!("{format}.out")),
            outputs[format],
            "{format}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Adoption helpers.

#[test]
fn baseline_hides_known_findings_and_fails_on_new_ones() {
    let p = Project::new().file("a/Dockerfile", BAD);
    let base = p.run(&["check", "--format", "json", "-o", "baseline.json"]);
    assert_eq!(base.code, 1);
    let known = findings_in(p.path(), &[]);

    let run = p.run(&["check", "--format", "json", "--baseline", "baseline.json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let json = run.json();
    assert_eq!(json["passed"], true);
    assert_eq!(json["findings"].as_array().expect("findings").len(), 0);
    assert!(
        json["notes"].to_string().contains(&format!(
            "{known} findings matched the baseline baseline.json"
        )),
        "{json}"
    );

    // Moving the lines does not resurface them; a new problem fails.
    let moved = format!("# a comment\n\n{BAD}");
    let p = p
        .file("a/Dockerfile", &moved)
        .file("b/Dockerfile", "FROM ubuntu:latest\nUSER 1000\n");
    let run = p.run(&["check", "--format", "json", "--baseline", "baseline.json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let targets: BTreeSet<String> = run.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| scalar(&f["target"]))
        .collect();
    assert_eq!(targets, BTreeSet::from(["b/Dockerfile".to_string()]));

    // Fixed findings are counted, so the baseline can be refreshed.
    let p = p.file("a/Dockerfile", GOOD);
    let run = p.run(&["check", "--format", "json", "--baseline", "baseline.json"]);
    assert!(
        run.json()["notes"].to_string().contains("no longer occur"),
        "{run:?}"
    );
}

#[test]
fn a_missing_or_invalid_baseline_is_a_usage_error() {
    let p = Project::new()
        .file("Dockerfile", GOOD)
        .file("broken.json", "{\"findings\": ")
        .file(
            "other.json",
            "{\"tool\": {\"name\": \"trivy\"}, \"findings\": []}",
        );
    p.run(&["check", "--format", "sarif", "-o", "log.sarif"]);
    for (file, message) in [
        ("missing.json", "baseline missing.json: cannot read"),
        ("broken.json", "baseline broken.json: not valid JSON"),
        ("other.json", "not a portcullis report"),
        ("log.sarif", "this is a SARIF log"),
    ] {
        let run = p.run(&["check", "--baseline", file]);
        assert_eq!(run.code, 2, "{file}: {run:?}");
        assert!(run.stderr.contains(message), "{file}: {}", run.stderr);
        assert!(
            run.stdout.is_empty(),
            "no report without its baseline: {}",
            run.stdout
        );
    }
}

#[test]
fn no_resolve_keeps_linting_offline_whatever_the_policy_says() {
    // 127.0.0.1:1 refuses connections: a fetch fails at once, and stays on this machine.
    let p = Project::new()
        .file("Dockerfile", "FROM 127.0.0.1:1/app:1\nUSER 1000\n")
        .file(".portcullis.yaml", "version: 1\nresolve: true\n");
    let resolving = p.run(&["check"]);
    assert_eq!(resolving.code, 3, "the policy resolves: {resolving:?}");
    let offline = p.run(&["check", "--no-resolve"]);
    assert_eq!(offline.code, 0, "{offline:?}");
    assert_eq!(p.run(&["check", "--no-resolve", "--resolve"]).code, 2);
    let hooks = yaml(&repo().join(".pre-commit-hooks.yaml"));
    assert_eq!(
        hooks[0]["entry"], "portcullis check --no-resolve",
        "the lint hook"
    );
}

#[test]
fn init_writes_a_valid_starter_policy_once() {
    let p = Project::new().file("Dockerfile", BAD);
    let before = p.run(&["check", "--format", "json"]);
    let run = p.run(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("wrote .portcullis.yaml"), "{run:?}");
    let written = p.read(".portcullis.yaml");
    assert!(written.starts_with("# portcullis policy"), "{written}");
    let valid = p.run(&["policy", "validate", ".portcullis.yaml"]);
    assert_eq!(valid.code, 0, "{valid:?}");
    // It is the policy `check` now finds, and it means what the default preset means.
    let after = p.run(&["check", "--format", "json"]);
    assert_eq!(after.json()["policy"], ".portcullis.yaml");
    assert_eq!(after.json()["findings"], before.json()["findings"]);

    let p = p.file(".portcullis.yaml", "version: 1\nfail_on: low\n");
    let again = p.run(&["init"]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(
        again.stderr.contains("already exists; pass --force"),
        "{again:?}"
    );
    assert_eq!(p.read(".portcullis.yaml"), "version: 1\nfail_on: low\n");
    assert_eq!(p.run(&["init", "--force"]).code, 0);
    assert_eq!(p.read(".portcullis.yaml"), written);

    let elsewhere = p.run(&["init", "policies/gate.yaml"]);
    assert_eq!(elsewhere.code, 2, "no such directory: {elsewhere:?}");
    let p = p.file("policies/.keep", "");
    assert_eq!(p.run(&["init", "policies/gate.yaml"]).code, 0);
    assert_eq!(p.run(&["policy", "validate", "policies/gate.yaml"]).code, 0);
}

/// Seven Dockerfiles, each with findings, so every target shows up in the report.
fn seven_services() -> Project {
    (1..=7).fold(Project::new(), |p, i| {
        p.file(
            &format!("svc{i}/Dockerfile"),
            &format!("FROM nginx:1.{i}\n"),
        )
    })
}

fn finding_targets(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| scalar(&f["target"]))
        .collect()
}

#[test]
fn shards_cover_every_target_exactly_once() {
    let p = seven_services();
    let all = finding_targets(&p.run(&["check", "--format", "json"]).json());
    assert_eq!(all.len(), 7);
    for total in 1..=8 {
        let mut union = BTreeSet::new();
        for index in 1..=total {
            let shard = format!("{index}/{total}");
            let run = p.run(&["check", "--format", "json", "--shard", &shard]);
            assert!(run.code == 0 || run.code == 1, "{shard}: {run:?}");
            for target in finding_targets(&run.json()) {
                assert!(
                    union.insert(target.clone()),
                    "{target} is in two shards of {total}"
                );
            }
        }
        assert_eq!(union, all, "shards of {total}");
    }
    for bad in ["0/2", "3/2", "1/0", "x", "1-2"] {
        let run = p.run(&["check", "--shard", bad]);
        assert_eq!(run.code, 2, "{bad}: {run:?}");
        assert!(run.stderr.contains("--shard"), "{run:?}");
    }
}

#[test]
fn a_shard_with_a_baseline_leaves_other_shards_entries_alone() {
    let p = seven_services();
    assert_eq!(
        p.run(&["check", "--format", "json", "-o", "base.json"])
            .code,
        1
    );
    let run = p.run(&[
        "check",
        "--format",
        "json",
        "--baseline",
        "base.json",
        "--shard",
        "1/3",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let notes = run.json()["notes"].to_string();
    assert!(notes.contains("matched the baseline"), "{notes}");
    assert!(
        !notes.contains("no longer occur"),
        "not stale, just elsewhere: {notes}"
    );
}

#[test]
fn merged_shard_reports_equal_the_unsharded_report() {
    let p = seven_services();
    let full_json = p.run(&["check", "--format", "json"]).json();
    let full_sarif: Value =
        serde_json::from_str(&p.run(&["check", "--format", "sarif"]).stdout).expect("sarif");
    for i in 1..=3 {
        let shard = format!("{i}/3");
        p.run(&[
            "check",
            "--shard",
            &shard,
            "--report",
            &format!("json=s{i}.json"),
            "--report",
            &format!("sarif=s{i}.sarif"),
        ]);
    }

    let merged = p.run(&[
        "merge-reports",
        "-o",
        "merged.json",
        "s3.json",
        "s1.json",
        "s2.json",
    ]);
    assert_eq!(merged.code, 0, "{merged:?}");
    let merged = json_file(&p.path().join("merged.json"));
    for key in ["tool", "policy", "fail_on", "passed", "summary", "findings"] {
        assert_eq!(merged[key], full_json[key], "{key}");
    }
    let notes: Vec<&Value> = merged["notes"].as_array().expect("notes").iter().collect();
    let shard_notes = notes
        .iter()
        .filter(|n| {
            n["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("shard "))
        })
        .count();
    assert_eq!(shard_notes, 3, "one note per shard: {notes:?}");
    let full_notes = full_json["notes"].as_array().expect("notes");
    assert_eq!(notes.len() - shard_notes, full_notes.len(), "{notes:?}");

    let run = p.run(&[
        "merge-reports",
        "--format",
        "sarif",
        "s2.sarif",
        "s1.sarif",
        "s3.sarif",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let sarif: Value = serde_json::from_str(&run.stdout).expect("sarif");
    assert_eq!(
        sarif["runs"].as_array().map(Vec::len),
        Some(1),
        "one run for GitHub"
    );
    assert_eq!(
        sarif["runs"][0]["results"],
        full_sarif["runs"][0]["results"]
    );
    assert_eq!(sarif["runs"][0]["tool"], full_sarif["runs"][0]["tool"]);
    let file = p.path().join("merged.sarif");
    std::fs::write(&file, &run.stdout).expect("write");
    crate::sarif::assert_schema_valid(&file);
}

#[test]
fn merge_reports_refuses_what_it_cannot_merge() {
    let p = Project::new()
        .file("Dockerfile", BAD)
        .file("policy-low.yaml", "version: 1\nfail_on: low\n");
    p.run(&[
        "check",
        "--report",
        "json=a.json",
        "--report",
        "sarif=a.sarif",
    ]);
    p.run(&[
        "check",
        "--policy",
        "policy-low.yaml",
        "--report",
        "json=low.json",
    ]);
    for (args, message) in [
        (
            vec!["merge-reports", "a.json", "a.sarif"],
            "merge one format at a time",
        ),
        (
            vec!["merge-reports", "--format", "sarif", "a.json"],
            "not sarif",
        ),
        (
            vec!["merge-reports", "a.json", "low.json"],
            "disagree on fail_on",
        ),
        (
            vec!["merge-reports", "a.json", "nope.json"],
            "cannot read nope.json",
        ),
        (
            vec!["merge-reports", "--format", "xml", "a.json"],
            "expected json or sarif",
        ),
        (vec!["merge-reports"], "REPORT"),
    ] {
        let run = p.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
}

// ---------------------------------------------------------------------------------------
// pre-commit, for real.

/// Runs `pre-commit try-repo` on this repository's committed HEAD (`--ref`: uncommitted
/// work in the checkout is not what users get), in `dir`, with `files`.
///
/// Cost: pre-commit builds the hook with `cargo install --path <clone>` in release mode, a
/// few minutes on two cores. Dependencies are compiled once into `target/pre-commit` and
/// reused; the crate itself is rebuilt for every try-repo, as each clones to a new path.
/// `CARGO_NET_OFFLINE` keeps cargo (which resolves without the lock file there) on the
/// crates already downloaded for this build.
fn try_repo(dir: &Path, files: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("tmp");
    let head = run_tool(
        Command::new("git")
            .args(["-C"])
            .arg(repo())
            .args(["rev-parse", "HEAD"]),
        "git",
    );
    assert!(
        head.status.success(),
        "this test needs the repository's git history: {}",
        describe(&head)
    );
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    run_tool(
        Command::new(pre_commit())
            .arg("try-repo")
            .arg(repo())
            .args(["--ref", &head, "--files"])
            .args(files)
            .current_dir(dir)
            .env("PRE_COMMIT_HOME", home.path())
            .env("CARGO_TARGET_DIR", repo().join("target/pre-commit"))
            .env("CARGO_NET_OFFLINE", "true")
            .env("NO_COLOR", "1")
            .env_remove("RUSTFLAGS"),
        "pre-commit try-repo",
    )
}

fn git(dir: &Path, args: &[&str]) {
    let output = run_tool(Command::new("git").args(args).current_dir(dir), "git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        describe(&output)
    );
}

#[test]
fn pre_commit_hooks_pass_good_and_fail_bad_dockerfiles() {
    pre_commit();
    require_tool("cargo", "https://rustup.rs");
    // One try-repo (one release build) shows both outcomes: the lint hook is handed only
    // the good Dockerfile (and README.md, which its `files` pattern must filter out, or
    // portcullis would report it as an unparseable Dockerfile) and passes; the full hook
    // checks the whole repository, finds the bad Dockerfile and fails.
    let p = Project::new()
        .file("good/Dockerfile", GOOD)
        .file("README.md", "FROM nginx\n")
        .file("legacy/app.Dockerfile", BAD);
    git(p.path(), &["init", "-q"]);
    let output = try_repo(p.path(), &["good/Dockerfile", "README.md"]);
    let log = describe(&output);
    assert_eq!(output.status.code(), Some(1), "{log}");
    let verdict = |name: &str| -> &str {
        log.lines()
            .find(|l| l.starts_with(&format!("{name}.")))
            .map(|l| l.rsplit('.').next().unwrap_or_default())
            .unwrap_or_else(|| panic!("hook `{name}` did not run: {log}"))
    };
    assert_eq!(verdict("portcullis lint"), "Passed", "{log}");
    assert_eq!(verdict("portcullis"), "Failed", "{log}");
    assert!(log.contains("- hook id: portcullis\n"), "{log}");
    assert!(log.contains("legacy/app.Dockerfile:1:1"), "{log}");
    assert!(log.contains("PC1002 no-latest-tag"), "{log}");
    assert!(
        !log.contains("README.md"),
        "README.md reached portcullis: {log}"
    );
}
