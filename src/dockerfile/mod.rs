//! Dockerfile parsing and the facts rules read.
//!
//! [`parse`] turns text into a [`Dockerfile`] syntax tree; [`DockerfileFacts::gather`] adds what
//! rules need beyond syntax: every image the file uses, with ARGs resolved.

pub mod ast;
pub mod expand;
pub mod lex;
mod parser;
pub mod pragma;
pub mod shell;

pub use ast::*;
pub use parser::{detect_syntax, parse};

use crate::finding::Span;
use std::collections::BTreeMap;

/// Where a Dockerfile uses an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageUseKind {
    /// `FROM image`
    From,
    /// `COPY --from=image` (or ADD)
    CopyFrom,
    /// `RUN --mount=...,from=image`
    MountFrom,
    /// The BuildKit frontend the `# syntax=` directive (or `--build-arg BUILDKIT_SYNTAX`)
    /// names: the builder pulls this image and runs it with the build's privileges.
    Syntax,
    /// `ONBUILD COPY --from=image` (or ADD): pulled by every build `FROM` this image (and by
    /// later stages of this file built from the stage).
    OnbuildCopyFrom,
    /// `ONBUILD RUN --mount=...,from=image`.
    OnbuildMountFrom,
}

impl ImageUseKind {
    /// How a message names where the image is used.
    pub fn describe(self) -> &'static str {
        match self {
            ImageUseKind::From => "FROM",
            ImageUseKind::CopyFrom => "COPY --from",
            ImageUseKind::MountFrom => "RUN --mount=from",
            ImageUseKind::Syntax => "the syntax directive's frontend",
            ImageUseKind::OnbuildCopyFrom => "ONBUILD COPY --from",
            ImageUseKind::OnbuildMountFrom => "ONBUILD RUN --mount=from",
        }
    }
}

/// One image reference used by a Dockerfile (stage names and `scratch` are not images).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUse {
    pub kind: ImageUseKind,
    /// The reference as written, before ARG expansion.
    pub written: String,
    /// The reference after ARG expansion, or the variables that had no value.
    pub resolved: Result<String, Unresolved>,
    /// Index into [`Dockerfile::instructions`] (`None` for the syntax directive).
    pub instruction: Option<usize>,
    /// Index into [`Dockerfile::stages`].
    pub stage: usize,
    pub span: Span,
}

/// A reference that could not be resolved: these variables had no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub variables: Vec<String>,
}

impl Unresolved {
    /// Unresolved because of one variable.
    pub fn variable(name: &str) -> Unresolved {
        Unresolved {
            variables: vec![name.to_string()],
        }
    }
}

/// Everything known about one Dockerfile, gathered before rules run.
#[derive(Debug, Clone)]
pub struct DockerfileFacts {
    /// The path as reported (relative to the current directory, `/` separators).
    pub path: String,
    pub file: Dockerfile,
    /// `--build-arg` values given on the command line.
    pub build_args: BTreeMap<String, String>,
    /// Every image the file uses, in file order.
    pub images: Vec<ImageUse>,
    /// The stage `--target` names (as `docker build --target`); `None` builds the last one.
    pub target: Option<usize>,
    /// With `--resolve`, the `Env` of the image the built stage's chain starts `FROM`: BuildKit
    /// expands variables in that stage, and the stages built from it, with those values too.
    pub base_env: Option<BaseEnv>,
    /// The commands of every RUN as the package-manager and shell rules read them (wrappers
    /// removed, `sh -c` scripts opened, script variables expanded), derived once on first use.
    /// Byte offset where each line of the source starts.
    line_starts: Vec<usize>,
    pub(crate) run_commands:
        std::sync::OnceLock<Vec<crate::rules::dockerfile::package_managers::RunCommands>>,
}

/// The environment a fetched base image gives the stage built `FROM` it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseEnv {
    /// The stage whose `FROM` names the image (the first stage of the built stage's chain).
    pub stage: usize,
    /// The image as written in that `FROM`.
    pub image: String,
    /// Each variable the image sets; `None` when its platforms set different values (a
    /// multi-platform build would see each in turn, so no one value can be judged).
    pub vars: BTreeMap<String, Option<String>>,
    /// The operating system the image's platforms agree on (`linux`, `windows`); `None` when
    /// they differ or do not say.
    pub os: Option<String>,
}

impl DockerfileFacts {
    /// Parses `source` and resolves the images it uses.
    pub fn gather(path: &str, source: &str, build_args: &BTreeMap<String, String>) -> Self {
        let file = parse(source);
        let images = expand::image_uses(&file, build_args);
        DockerfileFacts {
            path: path.to_string(),
            file,
            build_args: build_args.clone(),
            images,
            target: None,
            base_env: None,
            line_starts: std::iter::once(0)
                .chain(source.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
            run_commands: std::sync::OnceLock::new(),
        }
    }

    /// Builds stage `name` (compared case-insensitively, as BuildKit does) instead of the
    /// last one. A file without that stage cannot be built: that is recorded as a parse
    /// error, so it is reported (`PC0001`) rather than judged as some other stage.
    pub fn set_target(&mut self, name: &str) {
        let wanted = name.to_ascii_lowercase();
        match self
            .file
            .stages
            .iter()
            .find(|s| s.name.as_deref() == Some(wanted.as_str()))
        {
            Some(stage) => self.target = Some(stage.index),
            None => {
                let names: Vec<&str> = self
                    .file
                    .stages
                    .iter()
                    .filter_map(|s| s.name.as_deref())
                    .collect();
                let choices = if names.is_empty() {
                    "it names no stages".to_string()
                } else {
                    format!("its stages are {}", names.join(", "))
                };
                self.file.errors.push(ParseError {
                    span: Span::new(1, 1, 1, 1),
                    message: format!("target stage `{name}` is not in this Dockerfile; {choices}"),
                });
            }
        }
    }

    /// The stage the build produces: the `--target` stage, or the last one. `None` for a file
    /// with no stage.
    pub fn built_stage(&self) -> Option<&Stage> {
        match self.target {
            Some(index) => self.file.stages.get(index),
            None => self.file.stages.last(),
        }
    }

    /// The text of a 1-based line (without its line ending), or "" past the end. Constant
    /// time: rules ask for lines often.
    pub fn line_text(&self, line: usize) -> &str {
        let source = &self.file.source;
        let Some(&start) = line.checked_sub(1).and_then(|i| self.line_starts.get(i)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map_or(source.len(), |&next| next - 1);
        source.get(start..end).unwrap_or("").trim_end_matches('\r')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_text_is_each_line_without_its_ending() {
        let facts = DockerfileFacts::gather("D", "FROM a\r\nRUN x\n\nUSER b", &BTreeMap::new());
        let lines: Vec<&str> = (0..=6).map(|n| facts.line_text(n)).collect();
        assert_eq!(lines, vec!["", "FROM a", "RUN x", "", "USER b", "", ""]);
    }
}
