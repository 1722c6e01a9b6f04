use super::pc1005_unresolved_image_reference::{describe, reference_or_finding};
use crate::finding::Severity;
use crate::finding::Span;
use crate::policy::Glob;
use crate::rules::{
    Check, Diagnostics, DockerfileContext, OptionKind, OptionSpec, ReferenceContext,
};

crate::declare_rule! {
    /// Image pulled from a registry or repository the policy does not allow.
    ///
    /// Every image the Dockerfile uses (`FROM`, `COPY --from=<image>`,
    /// `RUN --mount=…,from=<image>`) is normalised the way Docker normalises it (`nginx` is
    /// `docker.io/library/nginx`, `index.docker.io` is `docker.io`, host names are compared
    /// lower-case; beyond Docker, an explicit `:443` is dropped, since `ghcr.io:443` is the
    /// registry every `https://ghcr.io` URL names) and its name, `registry/repository` without
    /// tag or digest, is matched against the policy's globs:
    ///
    /// - `*` matches within one path segment, `**` matches any number of whole segments
    ///   (`ghcr.io/acme/**` admits `ghcr.io/acme/app` but not `ghcr.io/acme-evil/app` nor
    ///   `ghcr.io.evil.com/acme/app`);
    /// - a `deny` match always fires, even if an `allow` pattern matches too;
    /// - with no `allow` option every registry is allowed; an explicitly empty `allow: []`
    ///   allows none (the gate fails closed).
    ///
    /// Stage names and `scratch` are not images. Judged like `FROM` images, each at its own
    /// line: the BuildKit frontend named by `# syntax=` (found as BuildKit finds it, also after
    /// a `#!` first line, or given as `--build-arg BUILDKIT_SYNTAX`), which the builder pulls
    /// and runs, and the images `ONBUILD COPY --from=` and `ONBUILD RUN --mount=from=` pull in
    /// every build `FROM` this one. An allow list of Docker Hub's official images
    /// (`docker.io/library/*`) must therefore allow `docker.io/docker/dockerfile` explicitly.
    ///
    /// An image it cannot judge is reported by this rule itself, at its own severity: one whose
    /// variables have no value (`FROM ${REGISTRY}/app:1` without a value for `REGISTRY`), or
    /// that is not a valid reference once resolved (a truncated digest). The registry, tag or
    /// digest it names is unknown, so the rule cannot have been met; a policy that enables
    /// only this rule still fails such a file. `PC1005` reports the same images once for all.
    ///
    /// A `docker://REF` image target is judged the same way, by its normalised name and with
    /// the same `allow` and `deny` options. `oci:` and `docker-archive:` targets have no
    /// registry reference and are not judged.
    ///
    /// ## Why
    /// Where base images come from decides who can put code into your build. An allow list
    /// keeps builds on registries you mirror, scan and trust; a deny list blocks known-bad
    /// sources. Patterns match the normalised name, so `nginx`, `library/nginx` and
    /// `docker.io/library/nginx` cannot be used to sidestep each other.
    ///
    /// ## Example
    /// With `allow: ["registry.example.com/**"]`:
    /// ```dockerfile
    /// FROM node:22
    /// ```
    /// Pull the image through your registry instead:
    /// ```dockerfile
    /// FROM registry.example.com/mirror/node:22
    /// ```
    pub static RULE = Rule {
        id: "PC1001",
        name: "allowed-registries",
        severity: Severity::High,
        aliases: &["DL3026"],
        options: &[
            OptionSpec {
                name: "allow",
                kind: OptionKind::GlobList,
                doc: "Globs over `registry/repository` that images may match (absent: all allowed).",
            },
            OptionSpec {
                name: "deny",
                kind: OptionKind::GlobList,
                doc: "Globs over `registry/repository` that images must not match; deny beats allow.",
            },
        ],
        check: Check::Dockerfile(check),
        policy_rule: true,
        image_check: None,
        reference_check: Some(reference_check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    for image in &ctx.facts.images {
        let reference = match reference_or_finding(image, "is from an allowed registry") {
            Ok(reference) => reference,
            Err(message) => {
                out.push(image.span, message);
                continue;
            }
        };
        if let Some(message) = judge(ctx.options, &reference.policy_name()) {
            out.push(image.span, format!("image {} {message}", describe(image)));
        }
    }
}

/// Judges a `docker://` target's reference with the same globs.
fn reference_check(ctx: &ReferenceContext<'_>, out: &mut Diagnostics) {
    let name = ctx.reference.policy_name();
    if let Some(message) = judge(ctx.options, &name) {
        out.push(
            Span::default(),
            format!("image `{}` {message}", ctx.reference.familiar()),
        );
    }
}

/// Why `name` is not allowed (`is denied: …`), if it is not. The policy validated these
/// globs; should one still not compile, fail closed: an invalid deny pattern denies, an
/// invalid allow pattern admits nothing.
fn judge(options: &crate::rules::RuleOptions, name: &str) -> Option<String> {
    let allow = compile(options.list("allow"));
    let deny = compile(options.list("deny"));
    let matches = |glob: &Option<Glob>, deny: bool| glob.as_ref().map_or(deny, |g| g.matches(name));
    if let Some((pattern, _)) = deny.iter().find(|(_, g)| matches(g, true)) {
        return Some(format!(
            "is denied: `{name}` matches deny pattern `{pattern}`"
        ));
    }
    if options.has("allow") && !allow.iter().any(|(_, g)| matches(g, false)) {
        return Some(format!(
            "is not from an allowed registry: `{name}` matches no allow pattern"
        ));
    }
    None
}

/// Compiles the patterns once per file. Registry hosts are case-insensitive and repository
/// paths are lower-case by the reference grammar, and names are normalised to lower case, so
/// patterns are lower-cased too: `deny: [EVIL.com/**]` must not silently match nothing.
fn compile(patterns: &[String]) -> Vec<(String, Option<Glob>)> {
    patterns
        .iter()
        .map(|p| (p.clone(), Glob::new(&p.to_ascii_lowercase()).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::DockerfileFacts;
    use crate::rules::{OptionValue, RuleOptions};
    use std::collections::BTreeMap;

    fn list(items: &[&str]) -> OptionValue {
        OptionValue::List(items.iter().map(|s| s.to_string()).collect())
    }

    fn messages(src: &str, allow: Option<&[&str]>, deny: Option<&[&str]>) -> Vec<String> {
        let mut options = RuleOptions::default();
        if let Some(allow) = allow {
            options.values.insert("allow".into(), list(allow));
        }
        if let Some(deny) = deny {
            options.values.insert("deny".into(), list(deny));
        }
        let facts = DockerfileFacts::gather("Dockerfile", src, &BTreeMap::new());
        assert!(facts.file.errors.is_empty(), "{:?}", facts.file.errors);
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

    const ACME: &[&str] = &["ghcr.io/acme/**", "docker.io/library/*"];

    fn allowed(src: &str) -> Vec<String> {
        messages(src, Some(ACME), None)
    }

    #[test]
    fn catches_images_outside_the_allow_list() {
        for src in [
            "FROM quay.io/acme/app:1\n",
            "FROM ghcr.io/acme-evil/app:1\n",
            "FROM ghcr.io.evil.com/acme/app:1\n",
            "FROM user/app:1\n",
            "FROM docker.io/library/a/b:1\n",
            "FROM ghcr.io/acme/base:1 AS build\nFROM scratch\nCOPY --from=quay.io/x/y:1 /a /a\n",
            "FROM nginx:1\nRUN --mount=type=bind,from=evil.io/tools:1,target=/t true\n",
            "ARG REG=quay.io\nFROM ${REG}/acme/app:1\n",
        ] {
            assert_eq!(allowed(src).len(), 1, "should catch:\n{src}");
        }
        let found = allowed("ARG REG=quay.io\nFROM ${REG}/acme/app:1\n");
        assert_eq!(
            found[0],
            "image `${REG}/acme/app:1` (resolved to `quay.io/acme/app:1`) is not from an allowed \
             registry: `quay.io/acme/app` matches no allow pattern"
        );
    }

    #[test]
    fn does_not_catch_allowed_images() {
        for src in [
            "FROM ghcr.io/acme/app:1\n",
            "FROM ghcr.io/acme/team/app:1\n",
            "FROM GHCR.IO/acme/app:1\n",
            "FROM nginx:1.27\n",
            "FROM library/nginx:1.27\n",
            "FROM index.docker.io/nginx:1.27\n",
            "FROM ghcr.io:443/acme/app:1\n",
            "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM scratch\nCOPY --from=build /a /a\n",
            "FROM scratch\n",
        ] {
            assert_eq!(allowed(src), Vec::<String>::new(), "should pass:\n{src}");
        }
    }

    #[test]
    fn no_allow_list_allows_everything_and_empty_allows_nothing() {
        assert!(messages("FROM quay.io/x/y:1\n", None, None).is_empty());
        assert_eq!(messages("FROM quay.io/x/y:1\n", Some(&[]), None).len(), 1);
    }

    #[test]
    fn deny_beats_allow() {
        let found = messages(
            "FROM ghcr.io/acme/legacy/app:1\nFROM ghcr.io/acme/app:1\n",
            Some(&["ghcr.io/**"]),
            Some(&["ghcr.io/acme/legacy/**"]),
        );
        assert_eq!(
            found,
            vec![
                "image `ghcr.io/acme/legacy/app:1` is denied: `ghcr.io/acme/legacy/app` \
                 matches deny pattern `ghcr.io/acme/legacy/**`"
            ]
        );
    }

    #[test]
    fn deny_matches_normalised_names() {
        let deny: &[&str] = &["docker.io/**", "evil.com/**"];
        for src in [
            "FROM nginx\n",
            "FROM library/nginx\n",
            "FROM index.docker.io/library/nginx\n",
            "FROM registry-1.docker.io/user/app\n",
            "FROM registry.hub.docker.com/library/nginx\n",
            // The HTTPS port written out names the same registry.
            "FROM index.docker.io:443/library/nginx\n",
            "FROM evil.com:443/app:1\n",
            "FROM EVIL.com/app:1\n",
            "FROM scratch\nCOPY --from=nginx:latest /a /a\n",
        ] {
            assert!(
                !messages(src, None, Some(deny)).is_empty(),
                "should catch:\n{src}"
            );
        }
        assert!(messages("FROM evil.com.example.org/app:1\n", None, Some(deny)).is_empty());
    }

    #[test]
    fn catches_denied_registry_written_in_upper_case() {
        let m = messages("FROM evil.com/x:1\n", None, Some(&["EVIL.com/**"]));
        assert_eq!(m.len(), 1, "{m:?}");
    }

    #[test]
    fn judges_image_targets_with_the_same_globs() {
        use crate::rules::image::testing::{list, reference_messages};
        let options = [
            ("allow", list(ACME)),
            ("deny", list(&["ghcr.io/acme/legacy/**"])),
        ];
        assert_eq!(
            reference_messages(&RULE, "quay.io/acme/app:1", &options),
            vec![
                "image `quay.io/acme/app:1` is not from an allowed registry: `quay.io/acme/app` \
                 matches no allow pattern"
            ]
        );
        let denied = reference_messages(&RULE, "ghcr.io/acme/legacy/x:1", &options);
        assert!(denied[0].contains("is denied"), "{denied:?}");
        for ok in ["ghcr.io/acme/app:1", "nginx:1.27", "GHCR.IO/acme/app:1"] {
            assert!(reference_messages(&RULE, ok, &options).is_empty(), "{ok}");
        }
        assert!(reference_messages(&RULE, "quay.io/x/y:1", &[]).is_empty());
    }

    #[test]
    fn allow_respects_segment_boundaries() {
        let allow: &[&str] = &["ghcr.io/acme/**"];
        assert!(messages("FROM ghcr.io/acme/app:1\n", Some(allow), None).is_empty());
        assert_eq!(
            messages("FROM ghcr.io/acme-evil/x:1\n", Some(allow), None).len(),
            1
        );
        assert_eq!(
            messages("FROM ghcr.io.evil.com/acme/x:1\n", Some(allow), None).len(),
            1
        );
    }

    fn lines(src: &str, build_args: &[(&str, &str)]) -> Vec<(usize, String)> {
        let mut options = RuleOptions::default();
        options.values.insert("allow".into(), list(ACME));
        let build_args = build_args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let facts = DockerfileFacts::gather("Dockerfile", src, &build_args);
        crate::rules::dockerfile::testing::run_facts(&RULE, &facts, &options)
            .into_iter()
            .map(|d| (d.span.line, d.message))
            .collect()
    }

    /// The registry of an image it cannot name is unknown: the rule says so itself (with
    /// PC1005 off, these passed).
    #[test]
    fn catches_images_it_cannot_judge() {
        let found = lines("FROM ${REGISTRY}/app:1.2\n", &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].1.contains(
                "cannot tell whether image `${REGISTRY}/app:1.2` is from an \
                 allowed registry: `REGISTRY` has no value; give it a default or pass --build-arg"
            ),
            "{found:?}"
        );
        assert_eq!(lines("ARG TAG\nFROM ghcr.io/acme/app:$TAG\n", &[]).len(), 1);
        assert_eq!(lines("FROM ghcr.io/acme/app@sha256:abc\n", &[]).len(), 1);
        let declared = "ARG REGISTRY\nFROM ${REGISTRY}/app:1.2\n";
        assert!(lines(declared, &[("REGISTRY", "ghcr.io/acme")]).is_empty());
    }

    /// BuildKit processes a FROM image as a shell word: quotes and escapes do not hide it.
    #[test]
    fn judges_quoted_and_escaped_images_as_buildkit_reads_them() {
        for src in [
            "FROM \"quay.io/x/y:1\"\n",
            "FROM quay.io/x/\\y:1\n",
            "FROM 'quay.io'/x/y:1\n",
        ] {
            let found = lines(src, &[]);
            assert_eq!(found.len(), 1, "{src}: {found:?}");
            assert!(
                found[0].1.contains("is not from an allowed registry"),
                "{found:?}"
            );
        }
        assert!(lines("FROM \"ghcr.io/acme/app:1\"\n", &[]).is_empty());
    }

    /// The frontend BuildKit pulls and runs, and the images ONBUILD triggers pull.
    #[test]
    fn catches_frontends_and_trigger_images() {
        let found = lines("# syntax=evil.example/fe:1\nFROM nginx:1.27\n", &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 1);
        assert!(
            found[0].1.contains("(the syntax directive's frontend)"),
            "{found:?}"
        );
        let after_shebang = lines(
            "#!/usr/bin/env dockerfile\n# syntax=evil.example/fe\nFROM nginx:1\n",
            &[],
        );
        assert_eq!(after_shebang.iter().map(|f| f.0).collect::<Vec<_>>(), [2]);
        // Docker Hub's official images do not include the dockerfile frontend: it is allowed
        // by name.
        assert_eq!(
            lines("# syntax=docker/dockerfile:1\nFROM nginx:1\n", &[]).len(),
            1
        );
        let allowed = ["docker.io/library/*", "docker.io/docker/dockerfile"];
        assert!(messages(
            "# syntax=docker/dockerfile:1\nFROM nginx:1\n",
            Some(&allowed),
            None
        )
        .is_empty());
        let by_arg = lines(
            "FROM nginx:1\n",
            &[("BUILDKIT_SYNTAX", "evil.example/fe:1")],
        );
        assert_eq!(by_arg.len(), 1, "{by_arg:?}");
        let trigger = lines(
            "FROM nginx:1\nONBUILD COPY --from=evil.example/x:1 /a /a\nONBUILD RUN --mount=from=evil.example/t:1,target=/t true\n",
            &[],
        );
        assert_eq!(
            trigger.iter().map(|f| f.0).collect::<Vec<_>>(),
            [2, 3],
            "{trigger:?}"
        );
        assert!(
            trigger[0].1.contains("(ONBUILD COPY --from)"),
            "{trigger:?}"
        );
        // A trigger naming a stage of this file is no image.
        assert!(lines(
            "FROM nginx:1 AS build\nONBUILD COPY --from=build /a /a\n",
            &[]
        )
        .is_empty());
    }
}
