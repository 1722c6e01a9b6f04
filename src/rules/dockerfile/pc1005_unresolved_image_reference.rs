use crate::dockerfile::{ImageUse, ImageUseKind};
use crate::finding::Severity;
use crate::image::ImageReference;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// Image reference that cannot be resolved or is not a valid reference.
    ///
    /// Flags `FROM`, `COPY --from` and `RUN --mount=…,from=` images whose variables have no
    /// value (an `ARG` without a default and no `--build-arg`), and images that are not valid
    /// references once resolved (`NGINX`, `nginx:`, a short digest).
    ///
    /// ## Why
    /// An image the gate cannot name is an image it cannot judge: the registry, tag and digest
    /// rules would have nothing to look at, and the build could pull anything. Such an image is
    /// reported here, once for all rules; each rule that judges references (`allowed-registries`,
    /// `no-latest-tag`, `require-digest`) also reports that it cannot judge it, so a policy
    /// that enables only one of them cannot pass such a file.
    ///
    /// ## Example
    /// ```dockerfile
    /// ARG BASE
    /// FROM ${BASE}
    /// ```
    /// Give the variable a default, or pass `--build-arg BASE=…` to portcullis as to the build:
    /// ```dockerfile
    /// ARG BASE=docker.io/library/alpine:3.20
    /// FROM ${BASE}
    /// ```
    pub static RULE = Rule {
        id: "PC1005",
        name: "unresolved-image-reference",
        severity: Severity::High,
        check: Check::Dockerfile(check),
        policy_rule: true,
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    for image in &ctx.facts.images {
        match &image.resolved {
            Err(unresolved) => {
                let names = unresolved
                    .variables
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let verb = if unresolved.variables.len() == 1 {
                    "has"
                } else {
                    "have"
                };
                out.push(
                    image.span,
                    format!(
                        "image {} cannot be resolved: {names} {verb} no value; give it a default or pass --build-arg",
                        describe(image)
                    ),
                );
            }
            Ok(resolved) => {
                if let Err(error) = ImageReference::parse(resolved) {
                    out.push(
                        image.span,
                        format!(
                            "image {} is not a valid reference: {error}",
                            describe(image)
                        ),
                    );
                }
            }
        }
    }
}

/// The reference an image use names, or the finding a rule that judges references must
/// report when there is none: a rule that cannot judge an image says so itself, at its own
/// severity, so that a policy enabling only it cannot pass by omission (`FROM ${REGISTRY}/app`
/// with no value for `REGISTRY`, a truncated digest). `judgement` completes "cannot tell
/// whether image … {judgement}".
pub(super) fn reference_or_finding(
    image: &ImageUse,
    judgement: &str,
) -> Result<ImageReference, String> {
    let why = match &image.resolved {
        Err(unresolved) if unresolved.variables.is_empty() => {
            "its reference cannot be expanded".to_string()
        }
        Err(unresolved) => format!(
            "{} no value; give {} a default or pass --build-arg",
            unresolved
                .variables
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
                + if unresolved.variables.len() == 1 {
                    " has"
                } else {
                    " have"
                },
            if unresolved.variables.len() == 1 {
                "it"
            } else {
                "them"
            }
        ),
        Ok(resolved) => match ImageReference::parse(resolved) {
            Ok(reference) => return Ok(reference),
            Err(error) => format!("it is not a valid reference: {error}"),
        },
    };
    Err(format!(
        "cannot tell whether image {} {judgement}: {why}",
        describe(image)
    ))
}

/// How messages name an image: as written, plus what it resolved to when that differs.
pub(super) fn describe(image: &ImageUse) -> String {
    let written = crate::image::redact_userinfo(&image.written);
    let shown = match &image.resolved {
        Ok(resolved) if *resolved != image.written => {
            format!(
                "`{written}` (resolved to `{}`)",
                crate::image::redact_userinfo(resolved)
            )
        }
        _ => format!("`{written}`"),
    };
    match image.kind {
        ImageUseKind::From | ImageUseKind::CopyFrom | ImageUseKind::MountFrom => shown,
        kind => format!("{shown} ({})", kind.describe()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::DockerfileFacts;
    use crate::rules::RuleOptions;
    use std::collections::BTreeMap;

    fn messages(src: &str, build_args: &[(&str, &str)]) -> Vec<String> {
        let build_args: BTreeMap<String, String> = build_args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let facts = DockerfileFacts::gather("Dockerfile", src, &build_args);
        assert!(facts.file.errors.is_empty(), "{:?}", facts.file.errors);
        let options = RuleOptions::default();
        let mut out = Diagnostics::default();
        check(
            &DockerfileContext {
                facts: &facts,
                options: &options,
            },
            &mut out,
        );
        out.0.into_iter().map(|d| d.message).collect()
    }

    fn catches(src: &str) {
        assert!(!messages(src, &[]).is_empty(), "should catch:\n{src}");
    }

    fn passes(src: &str) {
        assert_eq!(
            messages(src, &[]),
            Vec::<String>::new(),
            "should pass:\n{src}"
        );
    }

    #[test]
    fn catches_unresolved_variables() {
        catches("ARG BASE\nFROM ${BASE}\n");
        catches("ARG TAG\nFROM app:$TAG\n");
        catches("FROM app:${UNDECLARED}\n");
        catches("FROM ${REGISTRY:?unset}/app:1\n");
        catches("FROM alpine:3.20\nCOPY --from=$IMG /a /a\n");
        // A global ARG is visible inside a stage only when re-declared there.
        catches("ARG IMG=redis:7\nFROM alpine:3.20\nCOPY --from=${IMG} /a /a\n");
        catches("FROM alpine:3.20\nRUN --mount=type=bind,from=$TOOLS,target=/t true\n");
    }

    #[test]
    fn names_the_variables() {
        let found = messages("ARG TAG\nFROM ${REG}/app:${TAG}\n", &[]);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("`REG`, `TAG`"), "{}", found[0]);
        assert!(found[0].contains("${REG}/app:${TAG}"), "{}", found[0]);
    }

    #[test]
    fn catches_invalid_references() {
        catches("FROM NGINX\n");
        catches("FROM nginx:\n");
        catches("FROM nginx@sha256:abc\n");
        catches("ARG TAG=\"\"\nFROM nginx:${TAG}\n");
        let found = messages("ARG NAME=Nginx\nFROM $NAME:1\n", &[]);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("resolved to `Nginx:1`"), "{}", found[0]);
        assert!(found[0].contains("lowercase"), "{}", found[0]);
    }

    #[test]
    fn does_not_catch_resolved_references() {
        passes("FROM nginx\n");
        passes("ARG TAG=1.2\nFROM app:${TAG}\n");
        passes("ARG TAG\nFROM app:${TAG:-1.2}\n");
        passes("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM scratch\nCOPY --from=build /a /a\n");
        passes("ARG IMG=redis:7\nFROM alpine:3.20\nARG IMG\nCOPY --from=${IMG} /a /a\n");
        passes(
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir `\n  c:\\\n",
        );
    }

    #[test]
    fn build_args_resolve() {
        assert_eq!(
            messages("ARG TAG\nFROM app:$TAG\n", &[("TAG", "1.0")]),
            Vec::<String>::new()
        );
    }
}
