use super::util::{final_image_stages, onbuild_trigger, stage_body};
use crate::dockerfile::{Args, Command};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `CMD` or `ENTRYPOINT` in shell form in the built image.
    ///
    /// Judges the stages that make up the built image: the final stage and the stages it is
    /// built `FROM`, whose `CMD` and `ENTRYPOINT` carry over. `CMD`s and `ENTRYPOINT`s of build
    /// stages never run and are not judged. `ONBUILD CMD` in those stages is judged too; an
    /// empty `CMD` is not.
    ///
    /// ## Why
    /// Shell form runs the command as `/bin/sh -c "…"`: the shell is PID 1, and it does not
    /// pass `SIGTERM` on, so `docker stop` waits out its timeout and then kills the process
    /// without a chance to shut down cleanly. A shell-form `ENTRYPOINT` also ignores `CMD` and
    /// `docker run` arguments. JSON (exec) form runs the program directly.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// CMD python app.py --port 8080
    /// ```
    /// Use JSON form:
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// CMD ["python", "app.py", "--port", "8080"]
    /// ```
    pub static RULE = Rule {
        id: "DL3025",
        name: "shell-form-cmd-or-entrypoint",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let mut stages = final_image_stages(facts);
    stages.reverse();
    for stage in stages {
        for (_, inst) in stage_body(facts, stage) {
            let (inst, _) = onbuild_trigger(inst);
            let (Args::Cmd(Command::Shell(text)) | Args::Entrypoint(Command::Shell(text))) =
                &inst.args
            else {
                continue;
            };
            if text.trim().is_empty() {
                continue;
            }
            let keyword = inst.keyword.as_str();
            out.push(
                inst.span,
                format!(
                    "{keyword} in shell form runs under `/bin/sh -c`, which does not pass \
                     signals on to the program; write it as a JSON array: {keyword} [\"…\"]"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_shell_form_in_the_image() {
        assert_eq!(lint(&RULE, "FROM a\nCMD python app.py\n"), vec![2]);
        assert_eq!(
            lint(&RULE, "FROM a\nENTRYPOINT /bin/app --serve\n"),
            vec![2]
        );
        assert_eq!(lint(&RULE, "FROM a\nONBUILD CMD make run\n"), vec![2]);
        // Not valid JSON: BuildKit runs it in a shell.
        assert_eq!(lint(&RULE, "FROM a\nCMD [app, --serve]\n"), vec![2]);
        // A parent stage's CMD carries over into the image.
        let inherited = "FROM a AS base\nCMD serve\nFROM base\nRUN true\n";
        assert_eq!(lint(&RULE, inherited), vec![2]);
    }

    #[test]
    fn does_not_catch_exec_form_or_build_stages() {
        for src in [
            "FROM a\nCMD [\"python\", \"app.py\"]\nENTRYPOINT [\"/bin/app\"]\n",
            "FROM golang:1.22 AS build\nCMD go test ./...\nFROM scratch\nCMD [\"/app\"]\n",
            "FROM a\nCMD\n",
            // A health check is run by the runtime, not as PID 1: no signals to forward.
            "FROM a\nHEALTHCHECK CMD /healthcheck.sh\nCMD [\"/app\"]\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
