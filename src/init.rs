//! `portcullis init`: a commented starter policy, so a repository can adopt the gate in one
//! command and then tune it. The file is a valid policy as written (a test loads it) that
//! means the same as the built-in `default` preset; every commented block is valid once
//! uncommented.

use std::path::{Path, PathBuf};

/// Where `portcullis init` writes by default: the first name `check` looks for.
pub const DEFAULT_FILE: &str = crate::policy::POLICY_FILE_NAMES[0];

/// The starter policy.
pub const STARTER_POLICY: &str = r#"# portcullis policy: what `portcullis check` enforces in this repository.
#
#   portcullis policy validate .portcullis.yaml   check this file (errors name line:column)
#   portcullis policy show                        the effective policy, every rule listed
#   portcullis rules                              every rule: code, name, severity, summary
#   portcullis explain DL3008                     what a rule checks, why, and the fix
version: 1

# Start from a preset: default (every rule at its default severity), strict (fails on
# medium and requires digests) or none (no rules: enable the ones you want below).
extends: default

# Findings at or above this severity fail the run: critical, high, medium, low or info.
fail_on: high

# Honour `# portcullis ignore=RULE` and `# hadolint ignore=RULE` comments in Dockerfiles.
# With false, each such comment is itself reported (PC0002).
inline_ignores: true

# Per-rule settings. A key is a rule code, name or alias; a value is off, on, a severity
# (critical | high | medium | low | info), or a mapping with `severity` and the rule's own
# options. The first line only restates the default, to show the form.
rules:
  no-latest-tag: high
  # require-digest: high
  # DL3059: off
  # allowed-registries:
  #   severity: critical
  #   # `# syntax=docker/dockerfile:1` names an image the builder pulls and runs too: allow
  #   # its frontend explicitly (Docker Hub's official images do not include it).
  #   allow: ["docker.io/library/*", "docker.io/docker/dockerfile", "ghcr.io/your-org/**"]
  #   deny: ["docker.io/library/ubuntu"]

# Waivers for findings you accept: each names rules and paths (globs relative to this
# file), must give a reason, and may expire (after that day it no longer applies, and a
# note says so).
# exceptions:
#   - rules: [non-root-user]
#     paths: ["legacy/**"]
#     reason: "the base image needs root; tracked in OPS-12"
#     expires: 2027-01-31

# Your own rules: a regex (look-around allowed) matched against each instruction.
# custom:
#   - id: ACME001
#     message: "install Python packages from the internal mirror"
#     severity: high
#     instruction: RUN
#     pattern: 'pip install (?!.*--index-url https://pypi\.example\.internal)'
"#;

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0} already exists; pass --force to overwrite it")]
    Exists(String),
    #[error("{existing} already exists here, and `portcullis check` refuses a directory with both {existing} and {wanted}; edit {existing}, or remove it first")]
    OtherPolicyFile { existing: String, wanted: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Writes the starter policy to `path` (refusing to replace a file unless `force`) and
/// returns the path written.
pub fn write_starter(path: Option<&Path>, force: bool) -> Result<PathBuf, InitError> {
    let path = path.map_or_else(|| PathBuf::from(DEFAULT_FILE), Path::to_path_buf);
    let shown = path.display().to_string();
    if path.exists() && !force {
        return Err(InitError::Exists(shown));
    }
    // `.portcullis.yaml` beside `.portcullis.yml` makes discovery ambiguous (exit 2).
    if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
        let names = crate::policy::POLICY_FILE_NAMES;
        if let Some(other) = names
            .iter()
            .find(|other| names.contains(&name) && **other != name)
        {
            let sibling = path.with_file_name(other);
            if sibling.exists() {
                return Err(InitError::OtherPolicyFile {
                    existing: sibling.display().to_string(),
                    wanted: shown,
                });
            }
        }
    }
    std::fs::write(&path, STARTER_POLICY).map_err(|source| InitError::Write {
        path: shown,
        source,
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn the_starter_policy_is_valid_and_means_the_default_preset() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_starter(Some(&dir.path().join(DEFAULT_FILE)), false).unwrap();
        let policy = Policy::load(&written).unwrap_or_else(|e| panic!("{e}"));
        let default = Policy::builtin("default").unwrap();
        assert_eq!(policy.fail_on, default.fail_on);
        let rules = |p: &Policy| -> Vec<(&str, crate::finding::Severity)> {
            p.rules.iter().map(|r| (r.rule.id, r.severity)).collect()
        };
        assert_eq!(rules(&policy), rules(&default));
    }

    /// The starter with every example line uncommented: a commented line whose text is a
    /// YAML key or list item (`# custom:`, `  # DL3059: off`, `#   - rules: […]`).
    fn uncommented() -> String {
        let example = regex::Regex::new(r"^(\s*)# (\s*(?:- |[A-Za-z0-9_-]+:(?: |$)).*)$").unwrap();
        STARTER_POLICY
            .lines()
            .map(|line| match example.captures(line) {
                Some(c) => format!("{}{}\n", &c[1], &c[2]),
                None => format!("{line}\n"),
            })
            .collect()
    }

    #[test]
    fn every_commented_example_is_valid_when_uncommented() {
        let text = uncommented();
        assert!(
            text.contains("\nexceptions:\n  - rules: [non-root-user]\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  allowed-registries:\n    severity: critical\n"),
            "{text}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(&path, &text).unwrap();
        let policy = Policy::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(policy.exceptions.len(), 1);
        assert_eq!(policy.custom.len(), 1);
        assert!(policy.rule("DL3059").is_none(), "DL3059: off");
    }

    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEFAULT_FILE);
        std::fs::write(&path, "mine").unwrap();
        let err = write_starter(Some(&path), false).unwrap_err().to_string();
        assert!(err.contains("already exists; pass --force"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
        write_starter(Some(&path), true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), STARTER_POLICY);
    }

    #[test]
    fn refuses_to_make_policy_discovery_ambiguous() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".portcullis.yml"), "version: 1\n").unwrap();
        let err = write_starter(Some(&dir.path().join(".portcullis.yaml")), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains(".portcullis.yml already exists"), "{err}");
    }
}
