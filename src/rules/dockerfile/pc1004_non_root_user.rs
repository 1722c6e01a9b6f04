use super::util::{base_env, last_user, resolve_user, stage_chain, UserInstruction};
use crate::dockerfile::{DockerfileFacts, ImageUseKind};
use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, DockerfileContext, ImageContext};

crate::declare_rule! {
    /// Final stage or image runs as root.
    ///
    /// Judges the user the built image runs as: the last `USER` of the final stage. When the
    /// final stage is built `FROM` an earlier stage, that stage's `USER` carries over (BuildKit
    /// inherits it), and so on up the chain of stages. Build stages are not judged.
    ///
    /// - Root is `root`, UID `0` and Windows' `ContainerAdministrator`, with any group
    ///   (`USER root:root`, `USER 0:0`); an empty user also means root. A UID is read as the
    ///   runtimes read it (Go's `Atoi`: a sign, then digits), so `00`, `+0` and `-0` are UID
    ///   `0`. A non-root user with group `0` (`USER app:0`) passes.
    /// - Variables are resolved like BuildKit does: the stage's `ARG`s (with `--build-arg`
    ///   overrides and `${VAR:-default}` forms) and `ENV`s, including `ENV`s of parent stages
    ///   and, with `--resolve`, the base image's `Env` (so `USER $APP_UID` on a .NET image,
    ///   which sets `APP_UID=1654`, is judged as `1654`; a value the base image's platforms do
    ///   not agree on stays unknown). A `USER` whose variable has no known value is reported
    ///   as unresolvable rather than passed.
    /// - A final stage without any `USER` is reported at its `FROM`: it runs as the base
    ///   image's user, which is root unless the base image sets one (checking that needs the
    ///   image's config, which `--resolve` fetches). From `scratch` it is always root. With
    ///   `--resolve` (or `resolve: true`), the final stage's base image is fetched and its
    ///   user decides: a base that sets a non-root user (`gcr.io/distroless/static:nonroot`)
    ///   passes, one that sets root or no user is reported at the `FROM`, per platform.
    ///
    /// Images (`docker://`, `oci:`, `docker-archive:` targets) are judged by their config's
    /// `User`, per platform: empty or absent, `root`, UID `0` and `0:<group>` run as root.
    ///
    /// ## Why
    /// A process running as root inside a container is one kernel or runtime bug away from
    /// root on the host, and can rewrite everything in its own image. Most services need no
    /// privileges at run time: install as root, then switch to an unprivileged user.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:22-slim
    /// COPY . /app
    /// CMD ["node", "/app/server.js"]
    /// ```
    /// Run as an unprivileged user (the `node` image ships one):
    /// ```dockerfile
    /// FROM node:22-slim
    /// COPY --chown=node:node . /app
    /// USER node
    /// CMD ["node", "/app/server.js"]
    /// ```
    pub static RULE = Rule {
        id: "PC1004",
        name: "non-root-user",
        severity: Severity::High,
        aliases: &["DL3002"],
        check: Check::Dockerfile(check),
        policy_rule: true,
        image_check: Some(image_check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let file = &facts.file;
    let Some(final_stage) = facts.built_stage() else {
        return;
    };
    let chain = stage_chain(facts, final_stage.index);
    let Some(user) = last_user(facts, &chain) else {
        if let Some(from) = file.instructions.get(final_stage.from) {
            out.push(from.span, no_user_message(facts, &chain));
        }
        return;
    };
    let span = user.span;
    let inherited = inherited_note(facts, &user, final_stage.index);
    let resolved = resolve_user(facts, &chain, &user).map(|u| u.trim().to_string());
    match resolved {
        Err(unresolved) if unresolved.variables.is_empty() => out.push(
            span,
            format!(
                "cannot tell whether the final stage runs as root: USER `{}`{inherited} is not a \
                 word BuildKit can read (an unclosed quote, a `${{…}}` it rejects, or a pattern \
                 it would apply)",
                user.written
            ),
        ),
        Err(unresolved) => {
            let why = match base_env(facts, &chain) {
                None => "it may come from the base image, whose `Env` `--resolve` reads".into(),
                Some(base) => match unresolved.variables.iter().find_map(|v| base.vars.get(v)) {
                    Some(Some(_)) => format!(
                        "base image `{}` sets it and so does an ARG: BuildKit takes the ARG, the \
                         classic builder the image's value",
                        base.image
                    ),
                    Some(None) => {
                        format!(
                            "base image `{}` sets it differently per platform",
                            base.image
                        )
                    }
                    None => format!("base image `{}` does not set it either", base.image),
                },
            };
            out.push(
                span,
                format!(
                    "cannot tell whether the final stage runs as root: USER `{}`{inherited} uses \
                     {} with no known value ({why})",
                    user.written,
                    unresolved
                        .variables
                        .iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        }
        Ok(resolved) if is_root(&resolved) => {
            let shown = if resolved == user.written {
                format!("`{resolved}`")
            } else {
                format!("`{}` (resolved to `{resolved}`)", user.written)
            };
            out.push(
                span,
                format!("the final stage runs as root: USER {shown}{inherited}; switch to an unprivileged user"),
            );
        }
        Ok(_) => {}
    }
}

/// Judges an image's `config.User`, and when its files were read (a layer rule is on), what
/// `/etc/passwd` and `/etc/group` make of it.
fn image_check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    let user = ctx.platform.config.user.as_deref().unwrap_or("").trim();
    if let (Some(filesystem), false) = (ctx.platform.filesystem.as_deref(), user.is_empty()) {
        if !is_root(user) {
            if let Some(message) = judge_in_filesystem(user, filesystem) {
                out.push(Span::default(), message);
            }
            return;
        }
    }
    let message = if user.is_empty() {
        "the image sets no user (`User` is empty in its config), so it runs as root; build it \
         with a USER that has an unprivileged UID"
            .to_string()
    } else if is_root(user) {
        format!(
            "the image runs as root (`User` is `{user}` in its config); build it with a USER \
             that has an unprivileged UID"
        )
    } else {
        return;
    };
    out.push(Span::default(), message);
}

/// What the image's own account files say of a non-root-looking `user[:group]`: a name whose
/// UID is 0 is root; a name (or group) the files do not have cannot start, as runc refuses it.
fn judge_in_filesystem(
    user: &str,
    filesystem: &crate::image::layers::FileSystem,
) -> Option<String> {
    use crate::rules::image::accounts::Accounts;
    let accounts = Accounts::of(filesystem);
    let (name, group) = match user.split_once(':') {
        Some((name, group)) => (name.trim(), Some(group.trim())),
        None => (user, None),
    };
    let numeric = |s: &str| atoi_digits(s).is_some();
    if !numeric(name) {
        let found = accounts.passwd.iter().flatten().find(|a| a.name == name);
        match found {
            None => {
                return Some(format!(
                    "the image runs as `{name}` (`User` is `{user}` in its config), which its \
                     /etc/passwd {}: the container cannot start; add the user in the build \
                     (`useradd`), or use a numeric UID",
                    if accounts.passwd.is_some() {
                        "does not have"
                    } else {
                        "cannot name (the image has no /etc/passwd)"
                    }
                ))
            }
            Some(account) if account.id == Some(0) => {
                return Some(format!(
                    "the image runs as root: `User` is `{user}` in its config, and `{name}` has \
                     UID 0 in its /etc/passwd (line {}); build it with a USER that has an \
                     unprivileged UID",
                    account.line
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(group) = group.filter(|g| !g.is_empty() && !numeric(g)) {
        let known = accounts.group.iter().flatten().any(|g| g.name == group);
        if !known {
            return Some(format!(
                "the image runs with group `{group}` (`User` is `{user}` in its config), which \
                 its /etc/group {}: the container cannot start; add the group, or use a numeric \
                 GID",
                if accounts.group.is_some() {
                    "does not have"
                } else {
                    "cannot name (the image has no /etc/group)"
                }
            ));
        }
    }
    None
}

/// Says which parent stage a USER came from, when it is not the final stage's own.
fn inherited_note(facts: &DockerfileFacts, user: &UserInstruction, final_stage: usize) -> String {
    if user.stage == final_stage {
        return String::new();
    }
    match facts
        .file
        .stages
        .get(user.stage)
        .and_then(|s| s.name.as_deref())
    {
        Some(name) => format!(" (inherited from stage `{name}`)"),
        None => format!(" (inherited from stage {})", user.stage),
    }
}

/// Whether a resolved `user[:group]` runs as root.
fn is_root(user: &str) -> bool {
    let name = user.split_once(':').map_or(user, |(name, _)| name).trim();
    // runc, containerd and the kubelet read a numeric user with Go's `strconv.Atoi` or
    // `ParseInt`: an optional sign, then digits. `+0`, `-0` and `000` are all UID 0. An empty
    // name (`:1000`) keeps the runtime's current user, root.
    let is_uid_zero = name.is_empty()
        || atoi_digits(name).is_some_and(|digits| digits.trim_start_matches('0').is_empty());
    is_uid_zero || name == "root" || name.eq_ignore_ascii_case("ContainerAdministrator")
}

/// The digits of `text` when the runtimes read it as a number (Go's `Atoi`: an optional sign,
/// then digits); `None` for a name.
fn atoi_digits(text: &str) -> Option<&str> {
    let digits = text
        .strip_prefix(['+', '-'])
        .filter(|d| !d.is_empty())
        .unwrap_or(text);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

fn no_user_message(facts: &DockerfileFacts, chain: &[usize]) -> String {
    let root = chain.last().copied().unwrap_or(0);
    let base = facts
        .images
        .iter()
        .find(|u| u.kind == ImageUseKind::From && u.stage == root);
    match base {
        None => "the final stage sets no USER and is built from `scratch`, so it runs as root; \
                 add a USER with an unprivileged UID"
            .to_string(),
        Some(base) => format!(
            "the final stage sets no USER, so it runs as the user of base image `{}`, which is \
             root unless the base image sets one (`--resolve` checks the base image); add a USER",
            crate::image::redact_userinfo(&base.written)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleOptions;
    use std::collections::BTreeMap;

    fn findings_with(src: &str, build_args: &[(&str, &str)]) -> Vec<(usize, String)> {
        let build_args: BTreeMap<String, String> = build_args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let facts = DockerfileFacts::gather("Dockerfile", src, &build_args);
        findings_of(&facts)
    }

    /// Findings when `--resolve` fetched the first stage's base image and found `vars` in its
    /// `Env` (`None`: its platforms disagree).
    fn findings_on_base(src: &str, vars: &[(&str, Option<&str>)]) -> Vec<(usize, String)> {
        let mut facts = DockerfileFacts::gather("Dockerfile", src, &BTreeMap::new());
        facts.base_env = Some(crate::dockerfile::BaseEnv {
            stage: 0,
            image: "mcr.microsoft.com/dotnet/aspnet:9.0".into(),
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                .collect(),
            os: Some("linux".into()),
        });
        findings_of(&facts)
    }

    fn findings_of(facts: &DockerfileFacts) -> Vec<(usize, String)> {
        assert!(facts.file.errors.is_empty(), "{:?}", facts.file.errors);
        let options = RuleOptions::default();
        let mut out = Diagnostics::default();
        check(
            &DockerfileContext {
                facts,
                options: &options,
            },
            &mut out,
        );
        out.0
            .into_iter()
            .map(|d| (d.span.line, d.message))
            .collect()
    }

    fn findings(src: &str) -> Vec<(usize, String)> {
        findings_with(src, &[])
    }

    /// Asserts exactly one finding, on `line`, and returns its message.
    fn catches_at(src: &str, line: usize) -> String {
        let found = findings(src);
        assert_eq!(found.len(), 1, "should catch once:\n{src}\n{found:?}");
        assert_eq!(found[0].0, line, "wrong line for:\n{src}\n{found:?}");
        found[0].1.clone()
    }

    fn passes(src: &str) {
        assert_eq!(findings(src), vec![], "should pass:\n{src}");
    }

    #[test]
    fn catches_root_users() {
        for user in [
            "root",
            "0",
            "000",
            "root:root",
            "0:0",
            "root:app",
            "0:1000",
            "\"root\"",
            "ContainerAdministrator",
            ":1000",
            "+0",
            "-0:0",
            "+000",
        ] {
            let src = format!("FROM alpine:3.20\nRUN adduser -D app\nUSER {user}\n");
            let message = catches_at(&src, 3);
            assert!(message.contains("runs as root"), "{message}");
        }
    }

    #[test]
    fn last_user_wins() {
        let src = "FROM alpine:3.20\nUSER app\nRUN id\nUSER root\nCMD [\"sh\"]\n";
        assert_eq!(
            catches_at(src, 4),
            "the final stage runs as root: USER `root`; switch to an unprivileged user"
        );
        passes("FROM alpine:3.20\nUSER root\nRUN apk add curl\nUSER app\n");
    }

    #[test]
    fn catches_missing_user_at_the_final_from() {
        let message = catches_at("FROM alpine:3.20\nRUN true\n", 1);
        assert!(message.contains("base image `alpine:3.20`"), "{message}");
        assert!(message.contains("--resolve"), "{message}");
        let message = catches_at(
            "FROM golang:1.22 AS build\nUSER app\nFROM scratch\nCOPY --from=build /app /app\n",
            3,
        );
        assert!(message.contains("`scratch`"), "{message}");
    }

    #[test]
    fn only_the_final_stage_is_judged() {
        passes(
            "FROM golang:1.22 AS build\nUSER root\nRUN go build\nFROM alpine:3.20\nUSER 10001\n",
        );
        passes(
            "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN go build\n\
             FROM gcr.io/distroless/static:nonroot\nCOPY --from=build /app /app\nUSER nonroot:nonroot\n",
        );
    }

    #[test]
    fn user_is_inherited_through_parent_stages() {
        passes("FROM alpine:3.20 AS base\nUSER app\nFROM base AS mid\nRUN true\nFROM MID\nCMD [\"x\"]\n");
        let message = catches_at(
            "FROM alpine:3.20 AS base\nUSER root\nFROM base\nRUN true\n",
            2,
        );
        assert!(message.contains("inherited from stage `base`"), "{message}");
        // The final stage's own USER beats the parent's.
        catches_at("FROM alpine:3.20 AS base\nUSER app\nFROM base\nUSER 0\n", 4);
        passes("FROM alpine:3.20 AS base\nUSER root\nFROM base\nUSER app\n");
        // A parent named through a global ARG.
        passes("ARG PARENT=base\nFROM alpine:3.20 AS base\nUSER app\nFROM ${PARENT}\n");
        // Without USER anywhere in the chain, the root stage's base image is named.
        let message = catches_at("FROM alpine:3.20 AS base\nFROM base\n", 2);
        assert!(message.contains("`alpine:3.20`"), "{message}");
    }

    /// A stage built FROM another runs that stage's ONBUILD triggers first.
    #[test]
    fn catches_root_from_a_parent_stages_onbuild_trigger() {
        let found = findings("FROM a AS base\nUSER app\nONBUILD USER 0\nFROM base\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 3);
        assert!(found[0].1.contains("runs as root"), "{found:?}");
        // The child's own USER comes after the triggers and wins.
        assert!(findings("FROM a AS base\nONBUILD USER 0\nFROM base\nUSER app\n").is_empty());
        // A stage's own trigger does not run in it; the grandchild does not run it either.
        assert!(findings("FROM a\nUSER app\nONBUILD USER 0\n").is_empty());
        assert!(findings(
            "FROM a AS base\nUSER app\nONBUILD USER 0\nFROM base AS mid\nUSER app\nFROM mid\n"
        )
        .is_empty());
    }

    /// BuildKit processes USER as a shell word, so escapes and quotes hide nothing.
    #[test]
    fn catches_root_written_with_escapes_and_quotes() {
        for src in [
            "FROM a\nUSER r\\oot\n",
            "FROM a\nUSER \\0\n",
            "FROM a\nUSER \"ro\"ot\n",
            "FROM a\nUSER 'root':'root'\n",
            "FROM a\nUSER r\\oot:app\n",
        ] {
            let found = findings(src);
            assert!(
                found.iter().any(|(_, m)| m.contains("runs as root")),
                "{src:?}: {found:?}"
            );
        }
        let found = findings("FROM a\nUSER \"root\n");
        assert!(
            found[0].1.contains("not a word BuildKit can read"),
            "{found:?}"
        );
        assert!(findings("FROM a\nUSER a\\pp\n").is_empty());
    }

    #[test]
    fn resolves_variables() {
        passes("FROM alpine:3.20\nARG APP_USER=app\nUSER ${APP_USER}\n");
        passes("FROM alpine:3.20\nARG APP_USER\nUSER ${APP_USER:-app}\n");
        passes("FROM alpine:3.20\nENV APP_USER=app\nUSER $APP_USER\n");
        passes("ARG UID=10001\nFROM alpine:3.20\nARG UID\nUSER ${UID}:${UID}\n");
        let message = catches_at("FROM alpine:3.20\nARG APP_USER=root\nUSER ${APP_USER}\n", 3);
        assert!(message.contains("resolved to `root`"), "{message}");
        catches_at(
            "FROM alpine:3.20\nARG UID=0\nENV RUN_AS=$UID\nUSER $RUN_AS:$UID\n",
            4,
        );
        // ENV persists into child stages; ARG does not.
        passes("FROM alpine:3.20 AS base\nENV APP_USER=app\nFROM base\nUSER $APP_USER\n");
        catches_at(
            "FROM alpine:3.20 AS base\nENV U=0\nFROM base\nENV RUN_AS=$U\nUSER $RUN_AS\n",
            5,
        );
        catches_at(
            "FROM alpine:3.20 AS base\nARG U=app\nFROM base\nUSER $U\n",
            4,
        );
    }

    #[test]
    fn build_args_override() {
        let src = "FROM alpine:3.20\nARG APP_USER=app\nUSER $APP_USER\n";
        assert_eq!(findings_with(src, &[("APP_USER", "root")]).len(), 1);
        assert!(findings_with(src, &[("APP_USER", "web")]).is_empty());
    }

    #[test]
    fn resolves_variables_from_the_fetched_base_image() {
        // .NET images set APP_UID=1654 and their samples say `USER $APP_UID`.
        let src = "FROM mcr.microsoft.com/dotnet/aspnet:9.0\nUSER $APP_UID\n";
        let message = catches_at(src, 2);
        assert!(message.contains("--resolve"), "{message}");
        assert_eq!(findings_on_base(src, &[("APP_UID", Some("1654"))]), vec![]);
        let found = findings_on_base(src, &[("APP_UID", Some("0"))]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("resolved to `0`"), "{found:?}");
        // Through a parent stage, and into `${…:-default}` forms.
        let parent = "FROM mcr.microsoft.com/dotnet/aspnet:9.0 AS base\nFROM base\nUSER $APP_UID\n";
        assert_eq!(
            findings_on_base(parent, &[("APP_UID", Some("1654"))]),
            vec![]
        );
        let default = "FROM mcr.microsoft.com/dotnet/aspnet:9.0\nUSER ${APP_UID:-0}\n";
        assert_eq!(
            findings_on_base(default, &[("APP_UID", Some("1654"))]),
            vec![]
        );
        // The Dockerfile's own ENV replaces the image's value.
        let own = "FROM mcr.microsoft.com/dotnet/aspnet:9.0\nENV APP_UID=0\nUSER $APP_UID\n";
        assert_eq!(findings_on_base(own, &[("APP_UID", Some("1654"))]).len(), 1);
        // Unknown stays unknown, and the message says why: not set, set differently per
        // platform, or shadowed by an ARG (BuildKit and the classic builder disagree there).
        for (vars, why) in [
            (vec![("OTHER", Some("1"))], "does not set it either"),
            (vec![("APP_UID", None)], "differently per platform"),
        ] {
            let found = findings_on_base(src, &vars);
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(found[0].1.contains(why), "{found:?}");
        }
        let shadowed = "FROM mcr.microsoft.com/dotnet/aspnet:9.0\nARG APP_UID=0\nUSER $APP_UID\n";
        let found = findings_on_base(shadowed, &[("APP_UID", Some("1654"))]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("so does an ARG"), "{found:?}");
        // An ARG with the image's own value changes nothing.
        let same = "FROM mcr.microsoft.com/dotnet/aspnet:9.0\nARG APP_UID=1654\nUSER $APP_UID\n";
        assert_eq!(findings_on_base(same, &[("APP_UID", Some("1654"))]), vec![]);
        // The fetched image is the first stage's; a chain starting elsewhere does not see it.
        let other =
            "FROM mcr.microsoft.com/dotnet/aspnet:9.0 AS a\nFROM alpine:3.20\nUSER $APP_UID\n";
        assert_eq!(
            findings_on_base(other, &[("APP_UID", Some("1654"))]).len(),
            1
        );
    }

    #[test]
    fn reports_unresolvable_users_as_such() {
        let message = catches_at("FROM alpine:3.20\nUSER $APP_USER\n", 2);
        assert!(message.starts_with("cannot tell whether"), "{message}");
        assert!(message.contains("`APP_USER`"), "{message}");
        catches_at("FROM alpine:3.20\nARG APP_USER\nUSER $APP_USER\n", 3);
    }

    #[test]
    fn windows_escape_directive() {
        let windows = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN mkdir `\n  c:\\app\n";
        catches_at(&format!("{windows}USER ContainerAdministrator\n"), 5);
        passes(&format!("{windows}USER ContainerUser\n"));
    }

    #[test]
    fn non_root_users_pass() {
        for user in [
            "app",
            "10001",
            "10001:10001",
            "app:0",
            "nobody",
            "rooty",
            "100",
            "+1000",
            "+",
            "0x0",
        ] {
            passes(&format!("FROM alpine:3.20\nUSER {user}\n"));
        }
    }

    fn image_findings(user: Option<&str>) -> Vec<String> {
        let config = crate::image::ImageConfig {
            user: user.map(str::to_string),
            ..crate::image::ImageConfig::default()
        };
        crate::rules::image::testing::messages(&RULE, config)
    }

    #[test]
    fn catches_images_running_as_root() {
        for user in [
            None,
            Some(""),
            Some("root"),
            Some("0"),
            Some("0:0"),
            Some("0:1000"),
            Some("root:app"),
            // Go's Atoi, which the runtimes use, takes a sign: these are UID 0.
            Some("+0"),
            Some("-0"),
            Some("+00:1000"),
        ] {
            assert_eq!(image_findings(user).len(), 1, "should catch {user:?}");
        }
        assert!(image_findings(None)[0].contains("sets no user"));
        assert!(image_findings(Some("0:0"))[0].contains("`User` is `0:0`"));
    }

    #[test]
    fn does_not_catch_images_with_a_non_root_user() {
        for user in [
            "nonroot",
            "65532",
            "65532:65532",
            "app:0",
            "1000:root",
            "+65532",
        ] {
            assert!(image_findings(Some(user)).is_empty(), "should pass {user}");
        }
    }

    #[test]
    fn judges_the_target_stage() {
        use crate::rules::dockerfile::testing::lint_target;
        // The build stops at `prod`, which runs as root; the later `test` stage does not ship.
        let src = "FROM debian AS prod\nUSER root\nFROM prod AS test\nUSER 1000\n";
        assert_eq!(lint_target(&RULE, src, "prod"), vec![2]);
        assert_eq!(
            lint_target(&RULE, src, "PROD"),
            vec![2],
            "names are case-insensitive"
        );
        assert_eq!(
            findings(src),
            vec![],
            "without --target, the last stage is built"
        );
        let src = "FROM debian AS prod\nUSER 1000\nFROM debian AS dev\n";
        assert_eq!(lint_target(&RULE, src, "prod"), Vec::<usize>::new());
        assert_eq!(findings(src).len(), 1);
        // A target the file does not have cannot be built: a parse error, not a guess.
        let mut facts = DockerfileFacts::gather("Dockerfile", src, &BTreeMap::new());
        facts.set_target("release");
        assert_eq!(
            facts.file.errors[0].message,
            "target stage `release` is not in this Dockerfile; its stages are prod, dev"
        );
    }

    /// The image check over an image whose files were read, with `user` in its config.
    fn judged_in_filesystem(user: &str) -> Vec<String> {
        use crate::rules::image::testing::{messages_with, with_filesystem};
        let mut facts = with_filesystem(|fs| {
            fs.account(
                "/etc/passwd",
                "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\ntoor:x:0:0::/:/bin/sh\n",
            );
            fs.account("/etc/group", "root:x:0:\napp:x:1000:\n");
        });
        facts.platforms[0].config.user = Some(user.to_string());
        messages_with(&RULE, &facts, &[])
    }

    #[test]
    fn an_image_whose_files_were_read_is_judged_by_its_account_files() {
        let found = judged_in_filesystem("toor");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("`toor` has UID 0 in its /etc/passwd (line 3)"),
            "{}",
            found[0]
        );
        let found = judged_in_filesystem("ghost");
        assert!(
            found[0].contains("does not have: the container cannot start"),
            "{}",
            found[0]
        );
        let found = judged_in_filesystem("app:wheel");
        assert!(found[0].contains("group `wheel`"), "{}", found[0]);
        // Root by name or number is root as before.
        assert_eq!(judged_in_filesystem("root").len(), 1);
        assert_eq!(judged_in_filesystem("0").len(), 1);
        // A known unprivileged user, with a known or numeric group, or a numeric UID, passes.
        for user in ["app", "app:app", "app:0", "1000", "1234:5678"] {
            assert_eq!(judged_in_filesystem(user), Vec::<String>::new(), "{user}");
        }
    }

    #[test]
    fn empty_file_has_no_final_stage() {
        assert_eq!(findings("# just a comment\n"), vec![]);
    }
}
