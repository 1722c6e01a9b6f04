//! The rule registry: every rule portcullis knows, in one explicit list.
//!
//! A rule lives in its own file (`rules/dockerfile/pc1002_no_latest_tag.rs`) and is declared
//! with [`declare_rule!`]; its doc comment is its documentation (used by `explain`, SARIF and
//! the README table). Adding a rule touches its file and one line of [`ALL`].

pub mod dockerfile;
pub mod image;
pub mod options;
pub mod trust;

use crate::dockerfile::DockerfileFacts;
use crate::finding::{Severity, Span};
use crate::image::{ImageFacts, ImageReference, PlatformImage};
pub use options::{OptionKind, OptionSpec, OptionValue, RuleOptions, INLINE_IGNORE};

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Dockerfile,
    Image,
}

/// Everything a Dockerfile rule may look at. Rules are pure: no I/O, no printing.
pub struct DockerfileContext<'a> {
    pub facts: &'a DockerfileFacts,
    pub options: &'a RuleOptions,
}

/// Everything an image rule may look at: one platform's image of one image target (or of a
/// base image fetched with `--resolve`). Image rules judge each platform separately; the
/// engine names the platform and its digest in every finding. Rules are pure.
pub struct ImageContext<'a> {
    pub image: &'a ImageFacts,
    pub platform: &'a PlatformImage,
    pub options: &'a RuleOptions,
    /// When the run started: rules read no clock, so a run judges every image at one time.
    pub now: std::time::SystemTime,
}

/// Everything a reference rule may look at: a registry reference exactly as the user wrote
/// it (`docker://app:1` is judged as `app:1`, though it was resolved to a digest), and the
/// image it resolved to. Judged once per target, not per platform.
pub struct ReferenceContext<'a> {
    pub reference: &'a ImageReference,
    pub image: &'a ImageFacts,
    pub options: &'a RuleOptions,
}

/// Everything a trust rule may look at: one image target, its normalised name (registry
/// targets), and the verdicts on its signatures under the `verify` entry that matches it
/// (verified by the engine with `crate::trust` before rules run). Rules are pure.
pub struct TrustContext<'a> {
    pub image: &'a ImageFacts,
    pub name: Option<&'a str>,
    pub options: &'a RuleOptions,
    pub verdicts: &'a [crate::trust::Verdict],
    /// The verdicts on the image's attestations, verified the same way.
    pub attestations: &'a [crate::trust::AttestationVerdict],
}

/// What a rule reports: where and why. The engine adds the rule, severity, target and
/// fingerprint to make a [`crate::finding::Finding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
}

/// The findings a rule check pushes, and its notes (see [`Diagnostics::note`]).
#[derive(Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>, Vec<String>);

impl Diagnostics {
    pub fn push(&mut self, span: Span, message: impl Into<String>) {
        self.0.push(Diagnostic {
            span,
            message: message.into(),
        });
    }

    /// Records a note: a remark about how the check ran rather than a problem in the target
    /// (e.g. "shellcheck is not installed; RUN scripts were not checked"). A note is not a
    /// finding and never fails a policy; the same note is recorded once.
    pub fn note(&mut self, message: impl Into<String>) {
        let message = message.into();
        if !self.1.contains(&message) {
            self.1.push(message);
        }
    }

    /// The notes recorded by [`Diagnostics::note`], in order.
    pub fn notes(&self) -> &[String] {
        &self.1
    }
}

pub type DockerfileCheck = fn(&DockerfileContext<'_>, &mut Diagnostics);

/// An image rule's check. Image diagnostics have no place in a file: checks push them with
/// [`Span::default`], and the engine ignores the span (a finding about an image target has
/// no location; one about a `--resolve`d base image is placed at the Dockerfile's `FROM`).
pub type ImageCheck = fn(&ImageContext<'_>, &mut Diagnostics);

/// A reference rule's check (see [`ReferenceContext`]); diagnostics as for [`ImageCheck`].
pub type ReferenceCheck = fn(&ReferenceContext<'_>, &mut Diagnostics);

/// A trust rule's check (see [`TrustContext`]); diagnostics as for [`ImageCheck`].
pub type TrustCheck = fn(&TrustContext<'_>, &mut Diagnostics);

/// The check a rule runs.
#[derive(Clone, Copy)]
pub enum Check {
    Dockerfile(DockerfileCheck),
    /// A rule about images only (`PC3xxx`), judged per platform.
    Image(ImageCheck),
    /// A rule about an image's signatures (`PC4xxx`), judged once per image target.
    Trust(TrustCheck),
    /// Findings the engine itself produces (e.g. a forbidden inline-ignore pragma), because
    /// they depend on the policy rather than on the target's facts.
    Engine,
}

/// A rule's static description. Declared with [`declare_rule!`].
pub struct Rule {
    /// Stable code, e.g. `PC1002` or `DL3008`.
    pub id: &'static str,
    /// Stable kebab-case name, e.g. `no-latest-tag`.
    pub name: &'static str,
    pub severity: Severity,
    /// Whether `enable: all` (and so the `default` preset) turns the rule on. A few rules are
    /// off unless a policy names them, as in hadolint (DL1001, DL3057) or because they need
    /// a tool or configuration (shellcheck).
    pub enabled_by_default: bool,
    /// Other codes that mean this rule in policies and pragmas (e.g. hadolint's `DL3007`).
    pub aliases: &'static [&'static str],
    /// Options the rule accepts in a policy mapping, besides `severity`.
    pub options: &'static [OptionSpec],
    /// Markdown documentation: the first line is the summary.
    pub docs: &'static str,
    pub check: Check,
    /// A Dockerfile rule's judgement of images too, under the same code, name and policy
    /// entry: `non-root-user` judges an image's `config.User` as well as the final `USER`.
    pub image_check: Option<ImageCheck>,
    /// A Dockerfile rule's judgement of an image target's registry reference, as written
    /// (`no-latest-tag`, `require-digest`, `allowed-registries` on `docker://REF`).
    pub reference_check: Option<ReferenceCheck>,
    /// On in every policy, whatever `extends` or `enable` say, unless a policy turns it
    /// `off` by name: it reports what the gate could not evaluate (a file it cannot parse),
    /// which must never pass by omission.
    pub fail_closed: bool,
    /// A policy rule (registries, tags, digests, user, secrets, parse errors): whoever writes
    /// the Dockerfile may not waive it with an inline pragma unless the policy allows it
    /// (`inline_ignore: true` on the rule). Lint rules may be silenced inline.
    pub policy_rule: bool,
    /// Whether the rule reads an image's files ([`PlatformImage::filesystem`]): image
    /// layers are downloaded and read only when an enabled rule says so (see [`needs_layers`]).
    pub needs_layers: bool,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish()
    }
}

impl Rule {
    /// Field defaults for [`declare_rule!`].
    pub const DEFAULT: Rule = Rule {
        id: "",
        name: "",
        severity: Severity::Medium,
        enabled_by_default: true,
        aliases: &[],
        options: &[],
        docs: "",
        check: Check::Engine,
        image_check: None,
        reference_check: None,
        fail_closed: false,
        policy_rule: false,
        needs_layers: false,
    };

    /// The first line of the docs.
    pub fn summary(&self) -> &'static str {
        self.docs
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
    }

    /// The docs with the one leading space of each doc-comment line removed.
    pub fn documentation(&self) -> String {
        let mut out = String::new();
        for line in self.docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out.trim().to_string() + "\n"
    }

    /// Everything after the summary line.
    pub fn full_description(&self) -> String {
        let doc = self.documentation();
        let mut lines = doc.lines().skip_while(|l| l.trim().is_empty());
        lines.next();
        lines.collect::<Vec<_>>().join("\n").trim().to_string()
    }

    /// The options a policy may give the rule: its own, and `inline_ignore` for a policy rule.
    pub fn all_options(&self) -> impl Iterator<Item = &'static OptionSpec> {
        self.options
            .iter()
            .chain(self.policy_rule.then_some(&INLINE_IGNORE))
    }

    pub fn target(&self) -> Target {
        match self.check {
            Check::Dockerfile(_) | Check::Engine => Target::Dockerfile,
            Check::Image(_) | Check::Trust(_) => Target::Image,
        }
    }

    /// Whether the rule judges image targets: an image rule, or a Dockerfile rule with an
    /// image or reference check.
    pub fn judges_images(&self) -> bool {
        matches!(self.check, Check::Image(_) | Check::Trust(_))
            || self.image_check.is_some()
            || self.reference_check.is_some()
    }

    /// Whether `key` (a code, name or alias, case-insensitive for codes) means this rule.
    pub fn answers_to(&self, key: &str) -> bool {
        self.name == key
            || self.id.eq_ignore_ascii_case(key)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(key))
    }

    /// Where the rule's documentation is published.
    pub fn help_uri(&self) -> String {
        format!(
            "https://github.com/portcullis-dev/portcullis/blob/main/docs/rules.md#{}",
            self.id.to_ascii_lowercase()
        )
    }
}

/// Declares a rule: its doc comment becomes its documentation.
///
/// ```ignore
/// declare_rule! {
///     /// Image tagged `latest` or not tagged.
///     ///
///     /// ## Why
///     /// ...
///     pub static RULE = Rule {
///         id: "PC1002",
///         name: "no-latest-tag",
///         severity: Severity::High,
///         check: Check::Dockerfile(check),
///     };
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis static $ident:ident = Rule { $($field:ident : $value:expr),* $(,)? };
    ) => {
        $vis static $ident: $crate::rules::Rule = $crate::rules::Rule {
            docs: concat!($($doc, "\n"),*),
            $($field: $value,)*
            ..$crate::rules::Rule::DEFAULT
        };
    };
}

/// A regular expression written in this source (never one from input): the one place a bad
/// pattern may panic, as it is a bug the tests catch (each rule's tests run its patterns).
#[allow(clippy::panic)]
pub fn constant_regex(pattern: &str) -> regex::Regex {
    regex::Regex::new(pattern).unwrap_or_else(|e| panic!("bad constant pattern {pattern}: {e}"))
}

/// Every rule, in a fixed order (by code).
pub fn all() -> &'static [&'static Rule] {
    static ALL: std::sync::LazyLock<Vec<&'static Rule>> = std::sync::LazyLock::new(|| {
        let mut rules: Vec<&'static Rule> = dockerfile::ALL
            .iter()
            .chain(image::ALL)
            .chain(trust::ALL)
            .copied()
            .collect();
        rules.sort_by_key(|r| r.id);
        rules
    });
    &ALL
}

/// Whether any of `rules` reads image layers: the engine asks for layers
/// ([`crate::image::FetchOptions::layers`]) only then, so a run without such rules makes no
/// request more than without layer reading at all.
pub fn needs_layers<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> bool {
    rules.into_iter().any(|rule| rule.needs_layers)
}

/// The rules that read image layers.
pub fn layer_rules() -> impl Iterator<Item = &'static Rule> {
    all().iter().copied().filter(|rule| rule.needs_layers)
}

/// Finds a rule by code, kebab name or alias.
pub fn lookup(key: &str) -> Option<&'static Rule> {
    all().iter().copied().find(|r| r.answers_to(key))
}

/// The known rule name or code nearest to `key`, for "did you mean" hints.
pub fn suggest(key: &str) -> Option<&'static str> {
    nearest(key, keys(all()))
}

/// Every key that names one of `rules`: codes, names and aliases.
pub fn keys<'a>(rules: &'a [&'static Rule]) -> impl Iterator<Item = &'static str> + 'a {
    rules
        .iter()
        .flat_map(|r| [r.name, r.id].into_iter().chain(r.aliases.iter().copied()))
}

/// The candidate nearest to `key` (case-insensitive), if near enough to be a likely typo.
/// Every "did you mean" of portcullis comes from here.
pub fn nearest<'a>(key: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lowered = key.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lowered, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min()
        .map(|(_, c)| c)
}

/// Whether `key` is a ShellCheck code (`SC2086`): pragmas and hadolint configurations name
/// ShellCheck findings by these.
pub fn is_shellcheck_code(key: &str) -> bool {
    key.len() > 2 && key.starts_with("SC") && key[2..].bytes().all(|b| b.is_ascii_digit())
}

/// The rule table of the README, generated from the registry (`portcullis rules --format
/// markdown`). A test keeps the README's copy in step.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Code | Name | Default severity | On by default | Aliases | Summary |\n|---|---|---|---|---|---|\n",
    );
    for r in all() {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {} |\n",
            r.id,
            r.name,
            r.severity,
            if r.enabled_by_default { "yes" } else { "no" },
            r.aliases.join(", "),
            r.summary().replace('|', "\\|")
        ));
    }
    out
}

/// `docs/rules.md`: every rule's documentation, generated from the registry (`portcullis rules
/// --format docs`); SARIF `helpUri`s point into it. A test keeps the file in step.
pub fn markdown_docs() -> String {
    let mut out = String::from(
        "# portcullis rules\n\nGenerated by `portcullis rules --format docs`; do not edit by hand.\n",
    );
    for r in all() {
        // The heading's anchor is the lower-cased code, as `Rule::help_uri` links it.
        out.push_str(&format!("\n## {}\n\n", r.id));
        out.push_str(&format!(
            "`{}` · default severity **{}**{}{}\n\n",
            r.name,
            r.severity,
            if r.enabled_by_default {
                ""
            } else {
                " · off unless a policy enables it"
            },
            if r.aliases.is_empty() {
                String::new()
            } else {
                format!(" · aliases: {}", r.aliases.join(", "))
            }
        ));
        // Demote the rule's own headings below the rule's heading (not `#` lines of code).
        let mut in_code = false;
        for line in r.documentation().lines() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            } else if !in_code && line.starts_with('#') {
                out.push_str("##");
            }
            out.push_str(line);
            out.push('\n');
        }
        if r.all_options().next().is_some() {
            out.push_str("\n#### Options\n\n");
            for o in r.all_options() {
                out.push_str(&format!(
                    "- `{}` ({}): {}\n",
                    o.name,
                    o.kind.describe(),
                    o.doc
                ));
            }
        }
    }
    out
}

/// Levenshtein distance, for suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_names_and_aliases_are_unique() {
        let mut seen = HashSet::new();
        for rule in all() {
            for key in std::iter::once(rule.id)
                .chain(std::iter::once(rule.name))
                .chain(rule.aliases.iter().copied())
            {
                assert!(
                    seen.insert(key.to_ascii_lowercase()),
                    "duplicate rule key {key}"
                );
            }
        }
    }

    #[test]
    fn every_rule_is_documented() {
        for rule in all() {
            assert!(!rule.summary().is_empty(), "{} has no summary", rule.id);
            assert!(
                rule.full_description().len() > 40,
                "{} needs docs beyond its summary",
                rule.id
            );
            assert!(
                rule.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} name must be kebab-case",
                rule.id
            );
        }
    }

    #[test]
    fn options_are_documented_once_from_their_specs() {
        // The generated docs list a rule's options from its `OptionSpec`s; a hand-written
        // "Options" section in the doc comment would repeat them and drift from the specs.
        for rule in all() {
            let doc = rule.documentation();
            assert!(
                !doc.lines()
                    .any(|l| l.starts_with('#') && l.contains("Options")),
                "{} writes its options by hand; document them in its OptionSpecs",
                rule.id
            );
            for option in rule.options {
                assert!(!option.doc.is_empty(), "{} option {}", rule.id, option.name);
            }
        }
        let docs = markdown_docs();
        for rule in all().iter().filter(|r| !r.options.is_empty()) {
            let section = docs.split(&format!("## {}\n", rule.id)).nth(1).unwrap();
            let section = section.split("\n## ").next().unwrap();
            assert_eq!(section.matches("#### Options").count(), 1, "{}", rule.id);
        }
    }

    #[test]
    fn suggests_nearest_rule() {
        assert_eq!(suggest("no-latest-tags"), Some("no-latest-tag"));
        assert_eq!(suggest("completely-different-thing-xyz"), None);
    }
}
