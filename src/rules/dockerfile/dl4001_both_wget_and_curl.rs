use super::package_managers::runs;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// Stage uses both `wget` and `curl`.
    ///
    /// Flags a stage whose RUN commands use both `wget` and `curl` (in any form: shell and
    /// exec form, heredoc scripts, behind `sudo`, inside `sh -c '…'`), once per stage, at the
    /// RUN where the second of the two first appears. `ONBUILD` triggers run in other builds
    /// and are not counted. Installing a tool (`apt-get install curl`) is not using it.
    ///
    /// ## Why
    /// Both tools do the same job here. Keeping two of them means two packages (and their
    /// libraries) in the image, two sets of flags and failure modes to get right (`curl`
    /// needs `-f` to fail on HTTP errors, `wget` does not), and twice the attack surface.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN wget -q https://example.com/a.tar.gz
    /// RUN curl -fsSLO https://example.com/b.tar.gz
    /// ```
    /// Pick one:
    /// ```dockerfile
    /// RUN curl -fsSLO https://example.com/a.tar.gz && curl -fsSLO https://example.com/b.tar.gz
    /// ```
    pub static RULE = Rule {
        id: "DL4001",
        name: "both-wget-and-curl",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let runs = runs(facts);
    for stage in &facts.file.stages {
        let mut first: [Option<usize>; 2] = [None, None];
        for run in runs.iter().filter(|r| r.stage == stage.index && !r.onbuild) {
            for command in run.commands {
                let tool = match command.cmd.program_name() {
                    Some("wget") => 0,
                    Some("curl") => 1,
                    _ => continue,
                };
                let line = run.span(facts, command).line;
                let earlier = first[1 - tool];
                if first[tool].is_none() {
                    first[tool] = Some(line);
                }
                let Some(other_line) = earlier else {
                    continue;
                };
                let (this, other) = if tool == 0 {
                    ("wget", "curl")
                } else {
                    ("curl", "wget")
                };
                out.push(
                    run.span(facts, command),
                    format!(
                        "this stage uses `{this}` here and `{other}` at line {other_line}; use \
                         one of them"
                    ),
                );
                break;
            }
            if first.iter().all(Option::is_some) {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_both_in_one_stage_once() {
        for src in [
            "FROM node as foo\nRUN wget my.xyz\nRUN curl localhost\n",
            "FROM node as foo\nRUN wget my.xyz && curl localhost\n",
            "FROM node\nRUN wget my.xyz\nRUN curl my.xyz\nRUN echo hello\nRUN wget foo.com\n",
            "FROM node\nRUN [\"curl\", \"-fsSLO\", \"https://x\"]\nRUN sudo wget -q https://y\n",
            "FROM node\nRUN curl -fsSL https://x | sh -c 'wget -q https://y'\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        let src = "FROM node\nRUN wget -q https://x\nRUN echo\nRUN curl -fsSL https://y\n";
        assert_eq!(lint(&RULE, src), vec![4]);
        assert_eq!(
            messages(&RULE, src),
            vec!["this stage uses `curl` here and `wget` at line 2; use one of them"]
        );
        let src = "FROM node\nRUN <<EOF\ncurl -fsSLO https://x\nwget -q https://y\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
        assert_eq!(
            messages(&RULE, src),
            vec!["this stage uses `wget` here and `curl` at line 3; use one of them"]
        );
    }

    #[test]
    fn does_not_catch_one_tool_per_stage() {
        for src in [
            "FROM node as foo\nRUN wget my.xyz\n",
            "FROM node as foo\nRUN wget my.xyz\nFROM scratch\nRUN curl localhost\n",
            "FROM debian\nRUN apt-get install -y curl wget && curl -fsSLO https://x\n",
            "FROM debian\nRUN curl -fsSLO https://x\nONBUILD RUN wget -q https://y\n",
            "FROM debian\nRUN curl -fsSLO https://x && echo wget\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
