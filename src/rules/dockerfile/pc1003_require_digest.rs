use super::pc1005_unresolved_image_reference::{describe, reference_or_finding};
use crate::finding::Severity;
use crate::finding::Span;
use crate::rules::{Check, Diagnostics, DockerfileContext, ReferenceContext};

/// The only digest algorithm the policy contract accepts for pinning.
const REQUIRED_ALGORITHM: &str = "sha256";

crate::declare_rule! {
    /// Image not pinned by a `sha256` digest.
    ///
    /// Flags every image the Dockerfile uses (`FROM`, `COPY --from=<image>`,
    /// `RUN --mount=…,from=<image>`) that is not written as `name@sha256:<64 hex>` (a tag may
    /// stand before the digest: `nginx:1.27@sha256:…`). Digests of other algorithms (`sha512`,
    /// …) are flagged too: the policy contract, and the digest checks portcullis runs on
    /// fetched images, accept `sha256` only. Stage names and `scratch` are not images;
    /// the `# syntax=` frontend and `ONBUILD` images are judged too, at their own lines.
    ///
    /// An image it cannot judge is reported by this rule itself, at its own severity: one whose
    /// variables have no value (`FROM ${REGISTRY}/app:1` without a value for `REGISTRY`), or
    /// that is not a valid reference once resolved (a truncated digest). The registry, tag or
    /// digest it names is unknown, so the rule cannot have been met; a policy that enables
    /// only this rule still fails such a file. `PC1005` reports the same images once for all.
    ///
    /// A `docker://REF` image target is judged by its reference as written: `docker://app:1`
    /// is reported even though portcullis resolved it to a digest, and the message gives the
    /// pinned reference (`app:1@sha256:…`) to use instead. `oci:` and `docker-archive:`
    /// targets have no registry reference and are not judged.
    ///
    /// ## Why
    /// Tags move: even a version tag can be re-pushed. A digest names the exact content, so the
    /// image you reviewed is the image you build, and a registry cannot substitute another
    /// one. Keep the tag next to the digest so people (and update bots) can read the version.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// ```
    /// Pin the digest (`docker buildx imagetools inspect python:3.12-slim` prints it):
    /// ```dockerfile
    /// FROM python:3.12-slim@sha256:<digest>
    /// ```
    pub static RULE = Rule {
        id: "PC1003",
        name: "require-digest",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
        policy_rule: true,
        reference_check: Some(reference_check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    for image in &ctx.facts.images {
        let reference = match reference_or_finding(image, "is pinned by digest") {
            Ok(reference) => reference,
            Err(message) => {
                out.push(image.span, message);
                continue;
            }
        };
        let message = match reference.digest_algorithm() {
            Some(REQUIRED_ALGORITHM) => continue,
            Some(other) => format!(
                "image {} is pinned by a `{other}` digest; only `{REQUIRED_ALGORITHM}` digests are accepted",
                describe(image)
            ),
            None => format!(
                "image {} is not pinned by digest; pin it as `{}@{REQUIRED_ALGORITHM}:<digest>`",
                describe(image),
                reference.familiar()
            ),
        };
        out.push(image.span, message);
    }
}

/// Judges a `docker://` target's reference as written.
fn reference_check(ctx: &ReferenceContext<'_>, out: &mut Diagnostics) {
    let reference = ctx.reference;
    let written = reference.familiar();
    let message = match reference.digest_algorithm() {
        Some(REQUIRED_ALGORITHM) => return,
        Some(other) => format!(
            "image `{written}` is pinned by a `{other}` digest; only `{REQUIRED_ALGORITHM}` \
             digests are accepted"
        ),
        None => format!(
            "image `{written}` is not pinned by digest; pin it as `{written}@{}`",
            ctx.image.digest
        ),
    };
    out.push(Span::default(), message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::DockerfileFacts;
    use crate::rules::RuleOptions;
    use std::collections::BTreeMap;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn messages(src: &str) -> Vec<String> {
        let facts = DockerfileFacts::gather("Dockerfile", src, &BTreeMap::new());
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

    #[test]
    fn catches_unpinned_images() {
        for src in [
            "FROM nginx\n".to_string(),
            "FROM nginx:1.27\n".to_string(),
            "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n".to_string(),
            "ARG TAG=1.2\nFROM app:${TAG}\n".to_string(),
            "FROM scratch\nCOPY --from=nginx:1.27 /a /a\n".to_string(),
            format!("FROM alpine@sha256:{HEX}\nRUN --mount=type=bind,from=busybox:1.36,target=/b true\n"),
            format!("FROM nginx@sha512:{HEX}{HEX}\n"),
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n".to_string(),
        ] {
            assert_eq!(messages(&src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn messages_suggest_the_pin() {
        assert_eq!(
            messages("FROM nginx:1.27\n"),
            vec!["image `nginx:1.27` is not pinned by digest; pin it as `nginx:1.27@sha256:<digest>`"]
        );
        let other = messages(&format!("FROM nginx@sha512:{HEX}{HEX}\n"));
        assert!(other[0].contains("`sha512` digest"), "{}", other[0]);
    }

    #[test]
    fn does_not_catch_sha256_pins_stages_or_scratch() {
        for src in [
            format!("FROM nginx@sha256:{HEX}\n"),
            format!("FROM nginx:1.27@sha256:{HEX}\n"),
            format!("FROM host:5000/a/b/c:tag@sha256:{HEX}\n"),
            format!("ARG DIGEST=sha256:{HEX}\nFROM nginx@${{DIGEST}}\n"),
            format!("FROM golang@sha256:{HEX} AS build\nFROM build\nCOPY --from=build /a /a\n"),
            "FROM scratch\n".to_string(),
            format!("# syntax=docker/dockerfile:1@sha256:{HEX}\nFROM nginx@sha256:{HEX}\n"),
        ] {
            assert_eq!(messages(&src), Vec::<String>::new(), "should pass:\n{src}");
        }
    }

    /// A truncated digest pins nothing (it passed require-digest with PC1005 off).
    #[test]
    fn catches_images_it_cannot_judge() {
        for src in [
            "FROM nginx@sha256:abc\n",
            "FROM nginx@sha256:\n",
            "ARG DIGEST\nFROM nginx@${DIGEST}\n",
        ] {
            let found = messages(src);
            assert_eq!(found.len(), 1, "{src}: {found:?}");
            assert!(found[0].contains("cannot tell whether image"), "{found:?}");
            assert!(found[0].contains("is pinned by digest"), "{found:?}");
        }
    }

    #[test]
    fn catches_unpinned_frontends() {
        let found = messages(&format!(
            "# syntax=docker/dockerfile:1\nFROM nginx@sha256:{HEX}\n"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
    }
}
