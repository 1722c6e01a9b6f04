//! The policy: which rules run, how severe their findings are, what fails the build, and
//! which findings are waived.
//!
//! A policy is one YAML file (`.portcullis.yaml`), read in two steps like cargo-deny's
//! config: `raw` parses it into a spanned tree (aliases, tags and duplicate keys refused,
//! size capped), then `validate` checks every value against the rule registry and collects
//! *all* errors, each with `file:line:column`. Files are layered along their `extends` chain
//! (base first) into one effective [`Policy`].
//!
//! # Format (version 1)
//! ```yaml
//! version: 1                 # required
//! extends: default           # a preset (default | strict | none) or a path relative to this
//!                            # file; omitted = default. Write `./default` for a file so named.
//! enable: all                # optional: all | none. Resets every rule to on (off) at its
//!                            # default severity, discarding rule settings inherited from
//!                            # `extends`; this file's `rules` then apply on top.
//! fail_on: high              # findings at or above this severity fail (default: high)
//! inline_ignores: true       # honour `# portcullis ignore=` / `# hadolint ignore=` (default: true)
//! resolve: false             # fetch base images (default: false)
//! on_error: fail             # fail | warn when something cannot be evaluated (default: fail)
//! label_schema:              # optional: label name → type (text, url, hash, rfc3339, semver,
//!   org.opencontainers.image.source: url   # spdx, email): the `schema` of every label
//!   maintainer: email        # rule; a rule's own `schema` option wins for that rule
//! layers:                    # limits of layer reading (rules that read image files), each
//!   max_layer_bytes: 17179869184   # at least 1; over one, the image fails closed (exit 3).
//!   max_image_bytes: 68719476736   # Uncompressed bytes of a layer, of an image; entries of a
//!   max_files_per_layer: 1000000   # layer; bytes of a file searched for secrets. Defaults:
//!   max_scan_bytes: 67108864       # these (see `image::layers::LayerLimits`)
//! rules:                     # key: rule code, name or alias; each rule at most once
//!   no-latest-tag: high      # a severity: on, at that severity
//!   require-digest: off      # off: disabled (its severity and options are kept for a later `on`)
//!   non-root-user: on        # on: enabled at its current severity
//!   allowed-registries:      # a mapping: on, with `severity` and the rule's own options
//!     severity: critical
//!     allow: ["docker.io/library/*", "ghcr.io/acme/**"]
//! exceptions:
//!   - rules: [non-root-user]           # required
//!     paths: ["legacy/**"]             # Dockerfile globs, relative to this file's directory
//!     images: ["docker.io/acme/legacy-*"]   # image reference globs; paths or images required
//!     reason: "needs root; OPS-12"     # required, non-empty
//!     expires: 2027-01-31              # optional: the last day (UTC) it applies
//!     relative_to: ..                  # optional: the directory `paths` are relative to,
//!                                      # itself relative to this file's directory
//! custom:
//!   - id: ACME001                      # [A-Z][A-Z0-9_-]*, not a built-in code or alias
//!     message: "use the internal package mirror"
//!     severity: high
//!     instruction: RUN                 # optional
//!     pattern: 'pip install (?!.*--index-url)'   # fancy-regex syntax (look-around works)
//! ```
//! Layering: scalars set later override, and so does `label_schema` (as a whole, not label
//! by label); `layers` keys override one by one; `rules` merge per rule (a later mapping replaces only the options it names);
//! `exceptions` and `custom` concatenate. Globs are described in [`glob`].
//!
//! # Presets
//! `none` enables nothing. `default` (`policies/default.yaml`) is `enable: all` with
//! `fail_on: high`. `strict` (`policies/strict.yaml`) extends `default` with
//! `fail_on: medium` and `require-digest: high`. Preset files are validated like user files.

pub mod custom;
pub mod date;
pub mod error;
pub mod exception;
pub mod glob;
pub mod hadolint;
mod load;
mod raw;
mod show;
pub mod trust;
mod validate;

#[cfg(test)]
mod test_rules;

pub use custom::CustomRule;
pub use date::Date;
pub use error::{ErrorKind, PolicyError, PolicyErrors};
pub use exception::Exception;
pub use glob::Glob;

use crate::finding::{Severity, Span};
use crate::image::layers::LayerLimits;
use crate::rules::{Rule, RuleOptions};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The built-in presets, by the name `extends` and `Policy::builtin` take.
pub const PRESETS: &[&str] = &["default", "strict", "none"];

/// The files [`Policy::discover`] looks for in the current directory.
pub const POLICY_FILE_NAMES: [&str; 2] = [".portcullis.yaml", ".portcullis.yml"];

/// The effective policy: every `extends` applied, every value validated.
#[derive(Debug, Clone)]
pub struct Policy {
    pub source: PolicySource,
    /// Findings at or above this severity fail the run.
    pub fail_on: Severity,
    /// Whether `# portcullis ignore=` / `# hadolint ignore=` pragmas are honoured. When
    /// `false`, each pragma is itself reported.
    pub inline_ignores: bool,
    /// Whether base images are fetched.
    pub resolve: bool,
    pub on_error: OnError,
    /// `label_schema`: label name → type. It is already in the options of every rule that
    /// takes a label schema and has no `schema` of its own; kept here for `to_yaml`.
    pub label_schema: Option<BTreeMap<String, String>>,
    /// `layers`: the limits of layer reading, when a rule reads image files.
    pub layers: LayerLimits,
    /// The enabled rules, in registry order.
    pub rules: Vec<EnabledRule>,
    pub exceptions: Vec<Exception>,
    pub custom: Vec<CustomRule>,
    /// Rules known when the policy was validated but disabled (shown by `to_yaml`).
    disabled: Vec<&'static Rule>,
}

/// A rule the policy runs, with its effective severity and options.
#[derive(Debug, Clone)]
pub struct EnabledRule {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub options: RuleOptions,
}

/// Where a policy came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// A built-in preset, by name.
    Builtin(&'static str),
    /// A policy file, by its canonical absolute path.
    File(PathBuf),
}

impl fmt::Display for PolicySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicySource::Builtin(name) => write!(f, "builtin:{name}"),
            PolicySource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// What to do when something cannot be evaluated (a registry is down, an image is missing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Fail closed: exit 3.
    Fail,
    /// Report a warning and carry on.
    Warn,
}

impl OnError {
    pub fn as_str(self) -> &'static str {
        match self {
            OnError::Fail => "fail",
            OnError::Warn => "warn",
        }
    }
}

impl FromStr for OnError {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fail" => Ok(OnError::Fail),
            "warn" => Ok(OnError::Warn),
            _ => Err(format!("unknown on_error `{s}`; expected fail or warn")),
        }
    }
}

/// Where in which policy file something was declared, e.g. to report an expired exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub span: Span,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.span.line, self.span.column)
    }
}

/// The policy loader on a text, as if it were the file `fuzz.yaml` in `dir` (for the fuzzer).
pub(crate) fn load_text_for_fuzzing(text: &str, dir: &Path) -> Result<Policy, PolicyErrors> {
    load::load_text(text, "fuzz.yaml", dir, crate::rules::all())
}

impl Policy {
    /// Loads the policy file at `path` and everything it extends.
    pub fn load(path: &Path) -> Result<Policy, PolicyErrors> {
        load::load_file(path, path.display().to_string(), crate::rules::all())
    }

    /// A built-in preset: `default`, `strict` or `none`.
    pub fn builtin(name: &str) -> Result<Policy, PolicyErrors> {
        load::load_preset(name, crate::rules::all())
    }

    /// The policy for a run in `cwd`: `explicit` (`--policy`, relative to `cwd`) if given,
    /// else `.portcullis.yaml` or `.portcullis.yml` in `cwd` (both at once is an error),
    /// else the `default` preset.
    pub fn discover(cwd: &Path, explicit: Option<&Path>) -> Result<Policy, PolicyErrors> {
        if let Some(path) = explicit {
            return load::load_file(
                &cwd.join(path),
                path.display().to_string(),
                crate::rules::all(),
            );
        }
        let [yaml, yml] = POLICY_FILE_NAMES.map(|name| (name, cwd.join(name)));
        match (yaml.1.exists(), yml.1.exists()) {
            (true, true) => Err(PolicyErrors::single(yml.0, ErrorKind::AmbiguousPolicyFile)),
            (true, false) => load::load_file(&yaml.1, yaml.0.into(), crate::rules::all()),
            (false, true) => load::load_file(&yml.1, yml.0.into(), crate::rules::all()),
            (false, false) => Policy::builtin("default"),
        }
    }

    /// Re-anchors the exceptions of policy files that are copies, under `from`, of files
    /// under `to` (`--policy-remap`): `paths` anchored at `from/x` are anchored at `to/x`,
    /// where the Dockerfiles they name are. Anchors elsewhere are left alone. Both
    /// directories must be absolute and canonical, as exception anchors are.
    pub fn remap_anchors(&mut self, from: &Path, to: &Path) {
        for exception in &mut self.exceptions {
            let Some(rest) = exception
                .base_dir
                .as_deref()
                .and_then(|dir| dir.strip_prefix(from).ok())
            else {
                continue;
            };
            let moved = match rest.as_os_str().is_empty() {
                true => to.to_path_buf(),
                false => to.join(rest),
            };
            exception.base_dir = Some(moved);
        }
    }

    /// The limits to read image layers with, if an enabled rule reads them (for
    /// [`crate::image::FetchOptions::layers`]); `None` keeps a run from fetching any layer.
    pub fn layer_limits(&self) -> Option<LayerLimits> {
        crate::rules::needs_layers(self.rules.iter().map(|r| r.rule)).then_some(self.layers)
    }

    /// The enabled rule answering to `key` (a code, name or alias), if it is enabled.
    pub fn rule(&self, key: &str) -> Option<&EnabledRule> {
        self.rules.iter().find(|r| r.rule.answers_to(key))
    }

    /// The exceptions whose expiry date has passed; they no longer apply and are reported.
    pub fn expired_exceptions(&self, today: Date) -> impl Iterator<Item = &Exception> {
        self.exceptions.iter().filter(move |e| e.is_expired(today))
    }

    /// The effective policy as a self-contained YAML file (`portcullis policy show`):
    /// `extends: none`, every known rule listed on or off. Saved in the directory of the
    /// policy file it came from, it loads to the same policy (exceptions from extended files
    /// in other directories say where their `paths` are anchored with `relative_to`).
    pub fn to_yaml(&self) -> String {
        show::to_yaml(self)
    }
}
