use super::pc1005_unresolved_image_reference::{describe, reference_or_finding};
use crate::finding::Severity;
use crate::finding::Span;
use crate::image::reference::IMPLIED_TAG;
use crate::rules::{Check, Diagnostics, DockerfileContext, ReferenceContext};

crate::declare_rule! {
    /// Image tagged `latest` or not tagged at all.
    ///
    /// Flags every image the Dockerfile uses (`FROM`, `COPY --from=<image>`,
    /// `RUN --mount=…,from=<image>`) whose tag is `latest`, or that has neither tag nor digest
    /// (Docker then pulls `latest`). A reference pinned by digest passes, even when it also says
    /// `:latest` (`nginx:latest@sha256:…`): the digest fixes the content and the tag is ignored
    /// when pulling. Stage names and `scratch` are not images; the `# syntax=` frontend and
    /// `ONBUILD` images are judged too, at their own lines.
    ///
    /// An image it cannot judge is reported by this rule itself, at its own severity: one whose
    /// variables have no value (`FROM ${REGISTRY}/app:1` without a value for `REGISTRY`), or
    /// that is not a valid reference once resolved (a truncated digest). The registry, tag or
    /// digest it names is unknown, so the rule cannot have been met; a policy that enables
    /// only this rule still fails such a file. `PC1005` reports the same images once for all.
    ///
    /// A `docker://REF` image target is judged by its reference as written: `docker://app`
    /// and `docker://app:latest` are reported, and the message names the digest they resolved
    /// to, ready to pin. `oci:` and `docker-archive:` targets have no registry reference and
    /// are not judged.
    ///
    /// ## Why
    /// `latest` is whatever was pushed last: two builds of the same commit can get different
    /// base images, a compromised or broken push reaches you unreviewed, and nobody can tell
    /// afterwards what was built. A version tag at least says what you meant; a digest (see
    /// `PC1003`) says exactly what you got.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node
    /// COPY --from=nginx:latest /etc/nginx/nginx.conf /etc/nginx/
    /// ```
    /// Name a version (better: a digest):
    /// ```dockerfile
    /// FROM node:22.11-bookworm-slim
    /// COPY --from=nginx:1.27.2 /etc/nginx/nginx.conf /etc/nginx/
    /// ```
    pub static RULE = Rule {
        id: "PC1002",
        name: "no-latest-tag",
        severity: Severity::High,
        aliases: &["DL3006", "DL3007"],
        check: Check::Dockerfile(check),
        policy_rule: true,
        reference_check: Some(reference_check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    for image in &ctx.facts.images {
        let reference = match reference_or_finding(image, "is pinned to a version") {
            Ok(reference) => reference,
            Err(message) => {
                out.push(image.span, message);
                continue;
            }
        };
        if reference.is_pinned() {
            continue;
        }
        let message = match reference.tag.as_deref() {
            None => format!(
                "image {} has no tag, so it pulls `{IMPLIED_TAG}`; pin a version tag or a digest",
                describe(image)
            ),
            Some(IMPLIED_TAG) => format!(
                "image {} uses the `{IMPLIED_TAG}` tag; pin a version tag or a digest",
                describe(image)
            ),
            Some(_) => continue,
        };
        out.push(image.span, message);
    }
}

/// Judges a `docker://` target's reference as written.
fn reference_check(ctx: &ReferenceContext<'_>, out: &mut Diagnostics) {
    let reference = ctx.reference;
    if reference.is_pinned() {
        return;
    }
    let written = reference.familiar();
    let pinned = format!("{}@{}", reference.familiar(), ctx.image.digest);
    let message = match reference.tag.as_deref() {
        None => format!(
            "image `{written}` has no tag, so it pulls `{IMPLIED_TAG}`; pin a version tag or the \
             digest it resolved to: `{pinned}`"
        ),
        Some(IMPLIED_TAG) => format!(
            "image `{written}` uses the `{IMPLIED_TAG}` tag; pin a version tag or the digest it \
             resolved to: `{pinned}`"
        ),
        Some(_) => return,
    };
    out.push(Span::default(), message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::DockerfileFacts;
    use crate::rules::RuleOptions;
    use std::collections::BTreeMap;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn messages_with(src: &str, build_args: &[(&str, &str)]) -> Vec<String> {
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

    fn messages(src: &str) -> Vec<String> {
        messages_with(src, &[])
    }

    #[test]
    fn catches_latest_and_missing_tags() {
        for src in [
            "FROM nginx\n",
            "FROM nginx:latest\n",
            "FROM ghcr.io/acme/app\n",
            "FROM localhost:5000/app\n",
            "FROM --platform=$BUILDPLATFORM golang AS build\n",
            "ARG TAG=latest\nFROM app:${TAG}\n",
            "ARG TAG\nFROM app:${TAG:-latest}\n",
            "ARG IMAGE=nginx\nFROM $IMAGE\n",
            "FROM alpine:3.20 AS build\nFROM scratch\nCOPY --from=nginx:latest /a /a\n",
            "FROM alpine:3.20\nRUN --mount=type=bind,from=busybox,target=/bb true\n",
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir `\n  c:\\\n",
        ] {
            assert_eq!(messages(src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn messages_say_which_case() {
        assert_eq!(
            messages("FROM nginx\n"),
            vec!["image `nginx` has no tag, so it pulls `latest`; pin a version tag or a digest"]
        );
        assert_eq!(
            messages("ARG TAG=latest\nFROM app:${TAG}\n"),
            vec![
                "image `app:${TAG}` (resolved to `app:latest`) uses the `latest` tag; pin a \
                 version tag or a digest"
            ]
        );
    }

    #[test]
    fn does_not_catch_versions_digests_stages_or_scratch() {
        for src in [
            "FROM nginx:1.27\n",
            "FROM nginx:LATEST-1\n",
            "FROM ghcr.io/acme/app:1.2.3\n",
            &format!("FROM nginx@{DIGEST}\n"),
            &format!("FROM nginx:latest@{DIGEST}\n"),
            "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM build\n",
            "FROM golang:1.22 AS build\nFROM scratch\nCOPY --from=build /a /a\nCOPY --from=0 /b /b\n",
            "FROM scratch\n",
            "ARG TAG=1.2\nFROM app:${TAG}\n",
            "ARG TAG\nFROM app:${TAG:-1.2}\n",
            "# syntax=docker/dockerfile:1.7\nFROM app:1\n",
        ] {
            assert_eq!(messages(src), Vec::<String>::new(), "should pass:\n{src}");
        }
    }

    #[test]
    fn catches_latest_image_targets() {
        use crate::rules::image::testing::reference_messages;
        for reference in [
            "registry.example.com/app",
            "registry.example.com/app:latest",
        ] {
            let found = reference_messages(&RULE, reference, &[]);
            assert_eq!(found.len(), 1, "{reference}: {found:?}");
            assert!(
                found[0].contains(&format!("{reference}@sha256:")),
                "{found:?}"
            );
        }
        for reference in [
            "app:1.2",
            &format!("app@{DIGEST}"),
            &format!("app:latest@{DIGEST}"),
        ] {
            assert!(
                reference_messages(&RULE, reference, &[]).is_empty(),
                "{reference}"
            );
        }
    }

    #[test]
    fn build_args_override_defaults() {
        let src = "ARG TAG=1.2\nFROM app:${TAG}\n";
        assert_eq!(messages_with(src, &[("TAG", "latest")]).len(), 1);
        let src = "ARG TAG=latest\nFROM app:${TAG}\n";
        assert!(messages_with(src, &[("TAG", "1.2")]).is_empty());
    }

    /// The tag of an image it cannot name is unknown (with PC1005 off, these passed).
    #[test]
    fn catches_images_it_cannot_judge() {
        for src in [
            "ARG TAG\nFROM app:$TAG\n",
            "FROM ${IMAGE}\n",
            "FROM nginx@sha256:abc\n",
        ] {
            let found = messages(src);
            assert_eq!(found.len(), 1, "{src}: {found:?}");
            assert!(
                found[0].starts_with("cannot tell whether image"),
                "{found:?}"
            );
        }
    }

    #[test]
    fn catches_latest_frontends_and_trigger_images() {
        assert_eq!(
            messages("# syntax=docker/dockerfile\nFROM app:1\n").len(),
            1
        );
        assert_eq!(
            messages("# syntax=docker/dockerfile:latest\nFROM app:1\n").len(),
            1
        );
        assert_eq!(
            messages("FROM app:1\nONBUILD COPY --from=tools /x /x\n").len(),
            1,
            "`tools` names no stage here: downstream builds pull the image tools:latest"
        );
    }
}
