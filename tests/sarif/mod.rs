//! External validators for SARIF output: the SARIF 2.1.0 JSON schema (via
//! `check-jsonschema`) and the SARIF multitool's GitHub ingestion rules.
//!
//! Tools are found through environment variables, or where the install script puts them:
//! - `SARIF_MULTITOOL`: the multitool binary; default
//!   `${PORTCULLIS_TOOLS:-/opt/portcullis-tools}/npm/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool`
//! - `SARIF_SCHEMA`: the schema; default `sarif-2.1.0.json` beside that binary
//! - `CHECK_JSONSCHEMA`: the validator; default `check-jsonschema` on `PATH`
//!
//! A missing tool fails the test with the command that installs it: a validation that
//! silently does not run is worse than none.

use serde_json::Value;
use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MULTITOOL_PACKAGE: &str = "@microsoft/sarif-multitool-linux";

fn tools_prefix() -> PathBuf {
    env::var_os("PORTCULLIS_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/portcullis-tools"))
}

fn package_dir() -> PathBuf {
    tools_prefix()
        .join("npm/node_modules")
        .join(MULTITOOL_PACKAGE)
}

fn install_hint() -> String {
    format!(
        "install it with: npm install --prefix {}/npm {MULTITOOL_PACKAGE} \
         (or point SARIF_MULTITOOL / SARIF_SCHEMA at an existing install)",
        tools_prefix().display()
    )
}

/// The multitool binary, or a failure saying how to install it.
pub fn multitool() -> PathBuf {
    let path = env::var_os("SARIF_MULTITOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| package_dir().join("Sarif.Multitool"));
    assert!(
        path.is_file(),
        "SARIF multitool not found at {}; {}",
        path.display(),
        install_hint()
    );
    path
}

/// The SARIF 2.1.0 JSON schema shipped with the multitool package.
pub fn schema() -> PathBuf {
    if let Some(path) = env::var_os("SARIF_SCHEMA") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "SARIF_SCHEMA={} does not exist",
            path.display()
        );
        return path;
    }
    let dir = match env::var_os("SARIF_MULTITOOL") {
        Some(tool) => PathBuf::from(tool)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        None => package_dir(),
    };
    let candidates = ["sarif-2.1.0.json", "sarif-schema-2.1.0.json"].map(|name| dir.join(name));
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "SARIF schema not found in {}; {}",
                dir.display(),
                install_hint()
            )
        })
}

fn run(command: &mut Command, what: &str, hint: &str) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("could not run {what} ({e}); {hint}"))
}

fn describe(output: &Output) -> String {
    format!(
        "exit status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Validates `sarif` against the SARIF 2.1.0 JSON schema with `check-jsonschema`.
pub fn assert_schema_valid(sarif: &Path) {
    let program = env::var_os("CHECK_JSONSCHEMA").unwrap_or_else(|| "check-jsonschema".into());
    let output = run(
        Command::new(&program)
            .arg("--schemafile")
            .arg(schema())
            .arg(sarif),
        "check-jsonschema",
        "install it with: pip install check-jsonschema (or set CHECK_JSONSCHEMA)",
    );
    assert!(
        output.status.success(),
        "{} does not match the SARIF 2.1.0 schema:\n{}",
        sarif.display(),
        describe(&output)
    );
}

/// Runs the multitool's SARIF and GitHub (`Gh`) rules on `sarif` and fails on any
/// error-level result. Returns the warnings, for information.
pub fn assert_github_accepts(sarif: &Path) -> Vec<String> {
    let dir = sarif.parent().expect("file in a directory");
    let out = dir.join("multitool-validation.sarif");
    let output = run(
        Command::new(multitool())
            .args([
                "validate",
                "--rule-kind",
                "Sarif;Gh",
                "--level",
                "Error;Warning",
            ])
            .args(["--log", "ForceOverwrite", "-o"])
            .arg(&out)
            .arg(sarif)
            // Without ICU libraries .NET aborts at start-up; invariant mode needs none.
            .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
            .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1"),
        "the SARIF multitool",
        &install_hint(),
    );
    // The multitool exits 0 whatever it finds; only a failure to run is non-zero.
    assert!(
        output.status.success(),
        "the SARIF multitool failed:\n{}",
        describe(&output)
    );
    let text = std::fs::read_to_string(&out)
        .unwrap_or_else(|e| panic!("no multitool output at {} ({e})", out.display()));
    let log: Value = serde_json::from_str(&text).expect("multitool writes JSON");
    let run = &log["runs"][0];
    let invocation = &run["invocations"][0];
    assert_eq!(
        invocation["executionSuccessful"], true,
        "the multitool did not finish: {invocation:#}"
    );
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut errors = Vec::new();
    let mut others = Vec::new();
    for result in run["results"].as_array().into_iter().flatten() {
        // A result's level defaults to its rule's configured level, then to "warning".
        let rule_level = result["ruleIndex"]
            .as_u64()
            .and_then(|i| rules.get(i as usize))
            .and_then(|r| r["defaultConfiguration"]["level"].as_str());
        let level = result["level"].as_str().or(rule_level).unwrap_or("warning");
        let line = format!("{level} {}: {}", result["ruleId"], message(result, &rules));
        if level == "error" {
            errors.push(line);
        } else {
            others.push(line);
        }
    }
    for notification in invocation["toolExecutionNotifications"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            invocation["toolConfigurationNotifications"]
                .as_array()
                .into_iter()
                .flatten(),
        )
    {
        if notification["level"] == "error" {
            errors.push(format!("tool notification: {notification}"));
        }
    }
    assert!(
        errors.is_empty(),
        "GitHub would reject or mis-read {}:\n{}\n(other diagnostics: {others:#?})",
        sarif.display(),
        errors.join("\n")
    );
    others
}

/// The multitool writes message ids and arguments; fill in the rule's template if present.
fn message(result: &Value, rules: &[Value]) -> String {
    let message = &result["message"];
    if let Some(text) = message["text"].as_str() {
        return text.to_string();
    }
    let id = message["id"].as_str().unwrap_or("");
    let args: Vec<String> = message["arguments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| a.as_str().unwrap_or("").to_string())
        .collect();
    let template = result["ruleIndex"]
        .as_u64()
        .and_then(|i| rules.get(i as usize))
        .and_then(|r| r["messageStrings"][id]["text"].as_str());
    match template {
        Some(template) => args
            .iter()
            .enumerate()
            .fold(template.to_string(), |t, (i, a)| {
                t.replace(&format!("{{{i}}}"), a)
            }),
        None => format!("{id} {args:?}"),
    }
}
