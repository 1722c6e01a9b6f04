use super::util::{
    base_env, final_image_stages, last_user, resolve_user, stage_body, UserInstruction,
};
use crate::dockerfile::{Args, DockerfileFacts, ImageUseKind};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// The image runs as a user name instead of a numeric UID.
    ///
    /// Judges only the user the built image runs as: the last `USER` of the final stage or,
    /// when it has none, of the stages it is built `FROM` (BuildKit carries `USER` over).
    /// `USER` lines of build stages, earlier `USER` lines of the final stage (`USER root`
    /// for an install step) and `ONBUILD USER` do not decide the image's user and are not
    /// judged.
    ///
    /// - The user part (before any `:group`) must be a number; the group may be a name, as
    ///   runtimes check only the UID. `USER 10001:app` passes, `USER app:10001` does not.
    /// - Variables are resolved from the stage's `ARG`s (with `--build-arg` overrides) and
    ///   `ENV`s, including `ENV`s of the stages it is built from and, with `--resolve`, the
    ///   base image's `Env` (as `PC1004` does). A user whose variable has no known value is
    ///   not judged.
    /// - `root` is left to `PC1004`, which reports it at a higher severity.
    /// - Windows images are not judged: Windows has no numeric UIDs. With `--resolve`, the
    ///   fetched base image's OS says whether the image is Windows (when its platforms agree).
    ///   Otherwise an image counts as Windows when a stage of the chain is built from
    ///   `mcr.microsoft.com/windows…` or a `nanoserver`/`servercore` image, has
    ///   `--platform=windows/…`, or sets a `cmd` or `powershell` `SHELL`; `ContainerUser` and
    ///   `ContainerAdministrator` are Windows users.
    ///
    /// ## Why
    /// A runtime can only look a name up in the image's own `/etc/passwd`, which the platform
    /// does not trust. Kubernetes refuses to start a container with `runAsNonRoot: true` whose
    /// image user is a name ("image has non-numeric user, cannot verify user is non-root"),
    /// and Pod Security admission (`restricted`) requires that setting. Volume ownership
    /// (`fsGroup`) and admission policies that check UID ranges need the number too.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN useradd --uid 10001 app
    /// USER app
    /// ```
    /// Name the UID (and GID):
    /// ```dockerfile
    /// RUN useradd --uid 10001 app
    /// USER 10001:10001
    /// ```
    pub static RULE = Rule {
        id: "DL3066",
        name: "non-numeric-user",
        severity: Severity::Low,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let chain = final_image_stages(facts);
    let Some(user) = last_user(facts, &chain) else {
        return;
    };
    if is_windows_image(facts, &chain) {
        return;
    }
    let Ok(resolved) = resolve_user(facts, &chain, &user) else {
        return;
    };
    let resolved = resolved.replace(['"', '\''], "");
    let uid = resolved.split(':').next().unwrap_or("").trim();
    let numeric = uid.bytes().all(|b| b.is_ascii_digit());
    let windows_user = ["ContainerUser", "ContainerAdministrator"]
        .iter()
        .any(|w| uid.eq_ignore_ascii_case(w));
    if uid.is_empty() || numeric || uid == "root" || windows_user {
        return;
    }
    let shown = if resolved.trim() == user.written.trim() {
        format!("`{uid}`")
    } else {
        format!("`{uid}` (USER `{}`)", user.written.trim())
    };
    let set_in = set_in_note(facts, &chain, &user);
    out.push(
        user.span,
        format!(
            "the image runs as user {shown}{set_in}, a name the runtime cannot check: \
             Kubernetes `runAsNonRoot` refuses to start it; use the numeric UID"
        ),
    );
}

/// Names the stage a `USER` comes from, when it is not the final stage.
fn set_in_note(facts: &DockerfileFacts, chain: &[usize], user: &UserInstruction) -> String {
    if chain.first() == Some(&user.stage) {
        return String::new();
    }
    match facts
        .file
        .stages
        .get(user.stage)
        .and_then(|s| s.name.as_deref())
    {
        Some(name) => format!(", set in stage `{name}`"),
        None => format!(", set in stage {}", user.stage),
    }
}

/// Whether any stage of the chain builds a Windows image: the fetched base image's OS says so
/// (`--resolve`), or, without it, the base image's name, `--platform` or the `SHELL` does.
fn is_windows_image(facts: &DockerfileFacts, chain: &[usize]) -> bool {
    if let Some(os) = base_env(facts, chain).and_then(|base| base.os.as_deref()) {
        return os == "windows";
    }
    chain.iter().any(|&stage| {
        let from = facts
            .file
            .stages
            .get(stage)
            .and_then(|s| facts.file.instructions.get(s.from));
        let windows_platform = from
            .and_then(|f| f.flag("platform"))
            .and_then(|f| f.value.as_deref())
            .is_some_and(|p| p.to_ascii_lowercase().starts_with("windows"));
        let windows_base = facts
            .images
            .iter()
            .filter(|u| u.kind == ImageUseKind::From && u.stage == stage)
            .any(|u| is_windows_reference(u.resolved.as_deref().unwrap_or(&u.written)));
        let windows_shell = stage_body(facts, stage).any(|(_, inst)| {
            matches!(&inst.args, Args::Shell(words) if words.first().is_some_and(|w| is_windows_shell(w)))
        });
        windows_platform || windows_base || windows_shell
    })
}

fn is_windows_reference(reference: &str) -> bool {
    let lower = reference.to_ascii_lowercase();
    lower.starts_with("mcr.microsoft.com/windows")
        || lower.contains("nanoserver")
        || lower.contains("servercore")
}

fn is_windows_shell(program: &str) -> bool {
    let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
    let name = name.to_ascii_lowercase();
    matches!(
        name.strip_suffix(".exe").unwrap_or(&name),
        "cmd" | "powershell"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages, run_facts};

    #[test]
    fn catches_named_final_user() {
        for src in [
            "FROM debian\nUSER foobar\n",
            "FROM debian\nUSER foobar:barfoo\n",
            "FROM debian\nUSER app:10001\n",
            "FROM debian\nUSER \"app\"\n",
            "FROM debian\nUSER 1000\nUSER app\n",
            "FROM debian\nUSER root\nRUN apt-get update\nUSER app\n",
            "FROM debian AS build\nUSER builder\nFROM debian\nUSER app\n",
            "# escape=`\nFROM debian\nRUN echo `\n  hi\nUSER app\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM debian\nUSER app:app\n"),
            vec![
                "the image runs as user `app`, a name the runtime cannot check: Kubernetes \
                 `runAsNonRoot` refuses to start it; use the numeric UID"
            ]
        );
    }

    #[test]
    fn catches_users_resolved_from_variables() {
        let src = "FROM debian\nARG APP_USER=app\nUSER ${APP_USER}\n";
        assert_eq!(
            messages(&RULE, src),
            vec![
                "the image runs as user `app` (USER `${APP_USER}`), a name the runtime cannot \
                 check: Kubernetes `runAsNonRoot` refuses to start it; use the numeric UID"
            ]
        );
        // An ENV of the stage it is built from carries over; an ARG does not.
        let src = "FROM debian AS base\nENV APP_USER=app\nFROM base\nUSER $APP_USER\n";
        assert_eq!(lint(&RULE, src), vec![4]);
        let src = "FROM debian AS base\nARG APP_USER=app\nFROM base\nUSER $APP_USER\n";
        assert_eq!(lint(&RULE, src), Vec::<usize>::new());
        // ENV wins over an ARG of the same name.
        let src = "FROM debian\nARG U=10001\nENV U=app\nUSER $U\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn catches_user_inherited_from_parent_stage() {
        let src = "FROM debian AS base\nUSER node\nFROM base\nRUN x\n";
        assert_eq!(lint(&RULE, src), vec![2]);
        assert!(messages(&RULE, src)[0].contains(", set in stage `base`"));
        // The final stage's own USER decides, even when a parent has one.
        let src = "FROM debian AS base\nUSER node\nFROM base\nUSER 1000\n";
        assert_eq!(lint(&RULE, src), Vec::<usize>::new());
    }

    /// hadolint flags every non-numeric USER: `root`, variables, build stages, earlier
    /// USER lines and Windows users.
    #[test]
    fn does_not_catch_numbers_build_stages_root_or_unknowable() {
        for src in [
            "FROM debian\nUSER 12345\n",
            "FROM debian\nUSER 1234:5678\n",
            "FROM debian\nUSER 1234:app\n",
            "FROM debian\nUSER app\nRUN make install\nUSER 10001\n",
            "FROM debian AS build\nUSER builder\nFROM debian\nUSER 10001\n",
            "FROM debian AS build\nUSER builder\nFROM scratch\n",
            "FROM debian\nONBUILD USER app\n",
            "FROM debian\nARG UID\nUSER $UID\n",
            "FROM debian\nUSER $UID\n",
            "FROM debian\nARG UID=10001\nUSER ${UID}:${UID}\n",
            "FROM debian\nUSER root\n",
            "FROM debian\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }

    #[test]
    fn does_not_catch_windows_images() {
        for src in [
            "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nUSER ContainerUser\n",
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN net user app /add\nUSER app\n",
            "FROM mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022\nUSER app\n",
            "ARG BASE=mcr.microsoft.com/windows/servercore:ltsc2022\nFROM $BASE AS base\nFROM base\nUSER app\n",
            "FROM --platform=windows/amd64 example.com/app-base:1\nUSER app\n",
            "FROM example.com/win-base:1\nSHELL [\"powershell\", \"-Command\"]\nUSER app\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
        // pwsh runs on Linux too: not a sign of a Windows image.
        let src =
            "FROM mcr.microsoft.com/powershell:lts-debian-12\nSHELL [\"pwsh\", \"-c\"]\nUSER app\n";
        assert_eq!(lint(&RULE, src), vec![3]);
    }

    /// With `--resolve`, the fetched base image's OS decides, whatever the image's name says.
    #[test]
    fn the_fetched_base_images_os_decides() {
        let on = |src: &str, os: Option<&str>| {
            let mut facts = DockerfileFacts::gather("Dockerfile", src, &Default::default());
            facts.base_env = Some(crate::dockerfile::BaseEnv {
                stage: 0,
                image: String::new(),
                vars: Default::default(),
                os: os.map(str::to_string),
            });
            run_facts(&RULE, &facts, &Default::default()).len()
        };
        // .NET Framework images are Windows-only, and their names do not say so.
        let framework = "FROM mcr.microsoft.com/dotnet/framework/aspnet:4.8\nUSER app\n";
        assert_eq!(lint(&RULE, framework).len(), 1);
        assert_eq!(on(framework, Some("windows")), 0);
        assert_eq!(on(framework, Some("linux")), 1);
        // Platforms that disagree (or do not say) leave it to the name.
        assert_eq!(on(framework, None), 1);
        let named = "FROM example.com/servercore-tools:1\nUSER app\n";
        assert_eq!(on(named, None), 0);
        assert_eq!(on(named, Some("linux")), 1);
    }
}
