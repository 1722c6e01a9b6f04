//! History lint: the commands an image was built with (`history[].created_by` in its config)
//! judged by the Dockerfile rules that still mean something once the image is built.
//!
//! Each history step becomes one instruction of a synthetic Dockerfile (`FROM scratch`, then
//! `RUN …`, `ENV …`, `ARG …`, `LABEL …` in order); the selected Dockerfile rules run over it
//! and their findings are reported against the image under the Dockerfile rule's own code,
//! severity and policy entry, with `history: ` before the message.
//!
//! ## Which rules, and why only these
//! [`HISTORY_RULES`] are the rules that judge one command (or one `ENV`/`ARG`) on its own and
//! whose finding is about what the image *is* or *carries*:
//!
//! - `DL3004` `sudo`, `PC2003` a downloaded script run unverified, `PC2001` TLS verification
//!   off, `PC2002` package signature checks off: the image's content came from an unverified
//!   source, which the finished image cannot show any other way.
//! - `PC2004`, `PC2005`, `PC2006`: a secret in an `ENV`, an `ARG` (BuildKit records a `RUN`'s
//!   build arguments as `|N NAME=value …`), a label or a command line stays readable in the
//!   history (`docker history --no-trunc`) for anyone who can pull the image.
//! - `DL3009` package lists left behind: judged per `RUN`, and the image still carries them.
//!
//! Everything else is left out on purpose:
//! - Pinning rules (`DL3008`, `DL3013`, `DL3016`, …) are about reproducing a build; the image
//!   *is* the build's output, pinned by its digest.
//! - Prompt and flag hygiene (`DL3014`, `DL3015`, `DL3047`, `DL4006`, …) matter while
//!   building; the build finished.
//! - Rules about stages, `FROM`, `WORKDIR`, `USER`, `CMD`, `HEALTHCHECK`, labels and
//!   instruction order (`DL3000`, `DL3002`, `DL3022`, `DL3025`, `DL3049`, `DL3059`, …): the
//!   history has no stages and the config records the result, which the image rules judge
//!   directly (`non-root-user`, `PC3001`–`PC3008`).
//! - `ADD` and `COPY` steps are not linted: the history records a content hash
//!   (`file:4a5b… in /`), not the source.
//!
//! An `ENV` step whose `NAME=value` is still in the config's `Env` is not linted here:
//! `secret-in-image-env` (PC3002) reports it already. One that was later overridden is: the
//! old value is still in the history.

use crate::dockerfile::DockerfileFacts;
use crate::image::ImageConfig;
use crate::rules::{Check, Diagnostics, DockerfileContext, Rule, RuleOptions};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The Dockerfile rules that judge image history (see the module docs for why these).
pub const HISTORY_RULES: &[&str] = &[
    "DL3004", "DL3009", "PC2001", "PC2002", "PC2003", "PC2004", "PC2005", "PC2006",
];

/// Whether the Dockerfile rule `rule` judges image history.
pub fn judges_history(rule: &Rule) -> bool {
    HISTORY_RULES.contains(&rule.id) && matches!(rule.check, Check::Dockerfile(_))
}

/// An image's history as a synthetic Dockerfile, ready for Dockerfile rules.
pub struct History<'a> {
    facts: DockerfileFacts,
    /// For each synthetic instruction: its first and last line, and the history step
    /// (0-based index into `config.history`).
    lines: Vec<(usize, usize, usize)>,
    config: &'a ImageConfig,
}

/// One finding of a Dockerfile rule in an image's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryFinding<'a> {
    pub message: String,
    /// 1-based, counting every history entry (empty layers too), as `docker history` lists
    /// them bottom-up.
    pub step: usize,
    /// The step's `created_by`, for fingerprints. May hold a secret: never show it.
    pub created_by: &'a str,
}

/// BuildKit's build-argument prefix of a `RUN`: `|2 A=1 B=2 `.
static ARGS_PREFIX: LazyLock<Regex> =
    LazyLock::new(|| crate::rules::constant_regex(r"^\|(\d+)\s+"));
/// A shell invocation: `/bin/sh -c `, `/bin/bash -o pipefail -c `, `sh -ec `.
static SHELL_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    crate::rules::constant_regex(
        r"^(?:/usr)?(?:/bin/)?(?:ba|da|a|z)?sh(?:\s+-o\s+\S+|\s+-[a-zA-Z]+)*?\s+-[a-zA-Z]*c\s+",
    )
});
const HEREDOC: &str = "PORTCULLIS_HISTORY_EOF";

impl<'a> History<'a> {
    /// Writes `config.history` out as a Dockerfile.
    pub fn new(config: &'a ImageConfig) -> History<'a> {
        let mut source = String::from("FROM scratch\n");
        let mut line = 2;
        let mut lines = Vec::new();
        for (step, entry) in config.history.iter().enumerate() {
            let Some(created_by) = entry.created_by.as_deref() else {
                continue;
            };
            for instruction in instructions(created_by, config) {
                let count = instruction.lines().count().max(1);
                lines.push((line, line + count - 1, step));
                line += count;
                source.push_str(&instruction);
                source.push('\n');
            }
        }
        let facts = DockerfileFacts::gather("(image history)", &source, &BTreeMap::new());
        History {
            facts,
            lines,
            config,
        }
    }

    /// The synthetic Dockerfile (for tests and debugging; it may hold secrets).
    #[cfg(test)]
    fn source(&self) -> &str {
        &self.facts.file.source
    }

    /// What `rule` (one of [`HISTORY_RULES`]) finds in the history, with `options`.
    pub fn lint(&self, rule: &Rule, options: &RuleOptions) -> Vec<HistoryFinding<'a>> {
        let Check::Dockerfile(check) = rule.check else {
            return Vec::new();
        };
        if !judges_history(rule) {
            return Vec::new();
        }
        let mut out = Diagnostics::default();
        check(
            &DockerfileContext {
                facts: &self.facts,
                options,
            },
            &mut out,
        );
        let mut found = Vec::new();
        for d in out.0 {
            let Some(&(_, _, step)) = self
                .lines
                .iter()
                .find(|(first, last, _)| (*first..=*last).contains(&d.span.line))
            else {
                continue;
            };
            let created_by = self.config.history[step]
                .created_by
                .as_deref()
                .unwrap_or("");
            let finding = HistoryFinding {
                message: format!("history: {}", d.message),
                step: step + 1,
                created_by,
            };
            if !found.contains(&finding) {
                found.push(finding);
            }
        }
        found
    }
}

/// The Dockerfile instructions one `created_by` stands for: `ARG`s for BuildKit's build
/// arguments, then the step itself. Steps no history rule judges give none.
fn instructions(created_by: &str, config: &ImageConfig) -> Vec<String> {
    let mut text = created_by.trim();
    text = text.strip_suffix("# buildkit").unwrap_or(text).trim_end();
    // BuildKit writes `RUN /bin/sh -c …`; the classic builder and buildah write the shell
    // command alone, and other instructions as `/bin/sh -c #(nop) ENV …`.
    let mut keyword_given = false;
    if let Some(rest) = text.strip_prefix("RUN ") {
        text = rest.trim_start();
        keyword_given = true;
    }
    let mut out = Vec::new();
    if let Some(found) = ARGS_PREFIX.captures(text) {
        let count: usize = found[1].parse().unwrap_or(0);
        let mut rest = &text[found[0].len()..];
        for _ in 0..count {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let (assignment, after) = rest.split_at(end);
            if let Some((name, value)) = assignment.split_once('=') {
                out.push(format!(
                    "ARG {name}={}",
                    super::synthetic::quoted_literal(value)
                ));
            }
            rest = after.trim_start();
        }
        text = rest;
    }
    if let Some(found) = SHELL_PREFIX.find(text) {
        text = &text[found.end()..];
    }
    let text = text.trim();
    if let Some(metadata) = text.strip_prefix("#(nop)") {
        if let Some(instruction) = metadata_instruction(metadata.trim(), config) {
            out.push(instruction);
        }
        return out;
    }
    if !keyword_given {
        if let Some(instruction) = bare_instruction(text, config) {
            out.extend(instruction);
            return out;
        }
    }
    if !text.is_empty() {
        out.push(run_instruction(text));
    }
    out
}

/// `ENV A=1`, `ARG`, `LABEL` from a `#(nop)` step; `None` for other instructions.
fn metadata_instruction(text: &str, config: &ImageConfig) -> Option<String> {
    let (keyword, rest) = text.split_once(char::is_whitespace)?;
    let keyword = keyword.to_ascii_uppercase();
    let rest = rest.trim().replace(|c: char| c.is_control(), " ");
    match keyword.as_str() {
        "ENV" if still_in_config(&rest, config) => None,
        "ENV" | "ARG" | "LABEL" => Some(format!("{keyword} {rest}")),
        _ => None,
    }
}

/// BuildKit records metadata instructions bare (`ENV A=1`, `LABEL a=b`, `USER app`). `None`
/// when `text` is not one (it is a shell command); `Some(None)` for one that is not judged.
fn bare_instruction(text: &str, config: &ImageConfig) -> Option<Option<String>> {
    const BARE: &[&str] = &[
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    ];
    let keyword = text.split_whitespace().next()?;
    BARE.contains(&keyword)
        .then(|| metadata_instruction(text, config))
}

/// `ENV NAME=value` whose pair is still in the config's `Env` (PC3002 judges those).
fn still_in_config(rest: &str, config: &ImageConfig) -> bool {
    let Some((name, value)) = rest.split_once('=') else {
        return false;
    };
    if name.contains(char::is_whitespace) || value.contains(char::is_whitespace) {
        return false;
    }
    config.env_var(name) == Some(value)
}

/// `RUN script` on one line, or as a heredoc when the script has several lines (or ends
/// with a backslash, which would join the next line).
fn run_instruction(script: &str) -> String {
    let multi_line = script.contains('\n') || script.ends_with('\\');
    if multi_line && !script.lines().any(|l| l.trim() == HEREDOC) {
        format!("RUN <<'{HEREDOC}'\n{script}\n{HEREDOC}")
    } else {
        format!("RUN {}", script.replace(|c: char| c.is_control(), " "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::HistoryEntry;

    fn config(created_by: &[&str]) -> ImageConfig {
        ImageConfig {
            history: created_by
                .iter()
                .map(|c| HistoryEntry {
                    created_by: Some(c.to_string()),
                    ..HistoryEntry::default()
                })
                .collect(),
            ..ImageConfig::default()
        }
    }

    fn lint(rule: &str, created_by: &[&str]) -> Vec<(usize, String)> {
        let config = config(created_by);
        let history = History::new(&config);
        let rule = crate::rules::lookup(rule).unwrap();
        history
            .lint(rule, &RuleOptions::default())
            .into_iter()
            .map(|f| (f.step, f.message))
            .collect()
    }

    #[test]
    fn writes_history_as_a_dockerfile() {
        let config = config(&[
            "/bin/sh -c #(nop) ADD file:4a5b in / ",
            "/bin/sh -c #(nop)  CMD [\"bash\"]",
            "/bin/sh -c apt-get update && apt-get install -y curl",
            "/bin/sh -c #(nop)  ENV APP_TOKEN=abc",
            "RUN |2 NPM_TOKEN=s3cr3t V=1 /bin/sh -c npm ci # buildkit",
            "USER app",
            "RUN /bin/bash -o pipefail -c curl -s https://x | sh # buildkit",
            "ENV A=1",
            "/bin/sh -c set -e\napt-get update",
        ]);
        let history = History::new(&config);
        assert_eq!(
            history.source(),
            "FROM scratch\n\
             RUN apt-get update && apt-get install -y curl\n\
             ENV APP_TOKEN=abc\n\
             ARG NPM_TOKEN=\"s3cr3t\"\n\
             ARG V=\"1\"\n\
             RUN npm ci\n\
             RUN curl -s https://x | sh\n\
             ENV A=1\n\
             RUN <<'PORTCULLIS_HISTORY_EOF'\nset -e\napt-get update\nPORTCULLIS_HISTORY_EOF\n"
        );
    }

    #[test]
    fn catches_commands_the_dockerfile_rules_catch() {
        let found = lint(
            "DL3004",
            &[
                "/bin/sh -c #(nop) ADD file:1 in /",
                "/bin/sh -c sudo apt-get update",
            ],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 2);
        assert!(found[0].1.starts_with("history: "), "{found:?}");
        assert_eq!(
            lint(
                "PC2003",
                &["RUN /bin/sh -c curl -fsSL https://get.example.com | sh # buildkit"]
            )
            .len(),
            1
        );
        assert_eq!(
            lint(
                "PC2004",
                &["RUN |1 NPM_TOKEN=s3cr3tvalue /bin/sh -c npm ci # buildkit"]
            )
            .len(),
            1
        );
        assert_eq!(
            lint("PC2001", &["/bin/sh -c curl -k https://x -o /x"]).len(),
            1
        );
        // The step inside a multi-line script is found.
        assert_eq!(lint("DL3004", &["/bin/sh -c set -e\nsudo true"])[0].0, 1);
    }

    #[test]
    fn does_not_catch_clean_history_or_judge_other_rules() {
        assert!(lint(
            "DL3004",
            &["/bin/sh -c apt-get update && rm -rf /var/lib/apt/lists/*"]
        )
        .is_empty());
        assert!(lint(
            "PC2003",
            &["/bin/sh -c #(nop)  CMD [\"curl https://x | sh\"]"]
        )
        .is_empty());
        // Not a history rule: pinning is about reproducing the build.
        assert!(lint("DL3008", &["/bin/sh -c apt-get install -y curl"]).is_empty());
    }

    #[test]
    fn env_still_in_the_config_is_left_to_pc3002() {
        let mut c = config(&[
            "/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter22",
            "ENV API_TOKEN=abcdef123",
        ]);
        c.env = vec!["DB_PASSWORD=hunter22".into(), "API_TOKEN=other".into()];
        let history = History::new(&c);
        let rule = crate::rules::lookup("PC2004").unwrap();
        let found = history.lint(rule, &RuleOptions::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].step, 2);
    }
}
