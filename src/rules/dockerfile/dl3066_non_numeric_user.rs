use super::util::{expand_at, final_image_stages, stage_body};
use crate::dockerfile::Args;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// The image runs as a user name instead of a numeric UID.
    ///
    /// Judges the user the built image runs as: the last `USER` of the final stage or, when
    /// it has none, of the stages it is built `FROM`. Flags it when the user part (before any
    /// `:group`) is not a number, after resolving `ARG`/`ENV` values; a variable without a
    /// known value is left alone. `USER` lines of build stages, and earlier `USER` lines of
    /// the final stage (`USER root` for an install step), are not judged. `root` is left to
    /// the rule on root users (`PC1004`), and Windows' `ContainerUser` and
    /// `ContainerAdministrator` have no numeric form.
    ///
    /// ## Why
    /// A runtime can only check a name against the image's own `/etc/passwd`, which the
    /// platform does not trust: Kubernetes refuses to start a pod with `runAsNonRoot` when
    /// the image's user is a name ("image has non-numeric user, cannot verify user is
    /// non-root"), and volume ownership and `securityContext` settings need the number.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN useradd -u 10001 app
    /// USER app
    /// ```
    /// Name the UID (and GID):
    /// ```dockerfile
    /// RUN useradd -u 10001 app
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
    let last_user = final_image_stages(facts).into_iter().find_map(|stage| {
        stage_body(facts, stage)
            .filter_map(|(index, inst)| match &inst.args {
                Args::User(user) => Some((index, inst, user)),
                _ => None,
            })
            .last()
    });
    let Some((index, inst, written)) = last_user else {
        return;
    };
    let Ok(user) = expand_at(facts, index, written) else {
        return;
    };
    let uid = user.split(':').next().unwrap_or("").trim();
    let exempt = uid.is_empty()
        || uid.bytes().all(|b| b.is_ascii_digit())
        || ["root", "containeruser", "containeradministrator"]
            .contains(&uid.to_ascii_lowercase().as_str());
    if exempt {
        return;
    }
    out.push(
        inst.span,
        format!(
            "the image runs as user `{uid}`, a name the runtime cannot check (Kubernetes \
             `runAsNonRoot` rejects it); use the numeric UID"
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_named_final_user() {
        for src in [
            "FROM debian\nUSER foobar\n",
            "FROM debian\nUSER foobar:barfoo\n",
            "FROM debian\nUSER 1000\nUSER app\n",
            "FROM debian\nARG APP_USER=app\nUSER ${APP_USER}\n",
            "FROM debian AS base\nUSER node\nFROM base\nCOPY . /app\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        let src = "FROM debian AS base\nUSER node\nFROM base\nRUN x\n";
        assert_eq!(lint(&RULE, src), vec![2]);
    }

    #[test]
    fn does_not_catch_numbers_build_stages_or_unknowable() {
        for src in [
            "FROM debian\nUSER 12345\n",
            "FROM debian\nUSER 1234:5678\n",
            "FROM debian\nUSER 1234:app\n",
            "FROM debian\nUSER root\nRUN apt-get update\nUSER 10001\n",
            "FROM debian AS build\nUSER builder\nFROM debian\nUSER 10001\n",
            "FROM debian AS build\nUSER builder\nFROM scratch\n",
            "FROM debian\nARG UID\nUSER $UID\n",
            "FROM debian\nARG UID=10001\nUSER ${UID}:${UID}\n",
            "FROM debian\nUSER root\n",
            "FROM mcr.microsoft.com/windows/nanoserver\nUSER ContainerUser\n",
            "FROM debian\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
