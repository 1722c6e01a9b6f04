use super::package_managers::runs;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `apt` used in a build instead of `apt-get`.
    ///
    /// Flags every `apt` command a RUN runs (also behind `sudo`, inside `sh -c '…'` and in
    /// heredoc scripts), in every stage.
    ///
    /// ## Why
    /// `apt` is the command line for people at a terminal: its output, prompts and defaults
    /// may change between releases, and it warns that it "does not have a stable CLI
    /// interface". `apt-get` and `apt-cache` are the stable interfaces meant for scripts.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt update && apt install -y --no-install-recommends curl=7.88.1-10+deb12u8
    /// ```
    /// Use `apt-get`:
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8
    /// ```
    pub static RULE = Rule {
        id: "DL3027",
        name: "apt-instead-of-apt-get",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for (_, command) in run.find("apt") {
            out.push(
                run.span(facts, command),
                "`apt` is meant for interactive use and its command line is not stable; use \
                 `apt-get` or `apt-cache`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_apt() {
        for src in [
            "FROM ubuntu\nRUN apt install -y python\n",
            "FROM ubuntu\nRUN sudo /usr/bin/apt update\n",
            "FROM ubuntu\nRUN [\"apt\", \"install\", \"-y\", \"python\"]\n",
            "FROM ubuntu\nRUN bash -c 'apt list --installed'\n",
            "FROM ubuntu AS build\nRUN apt-get update && apt install -y gcc\nFROM scratch\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        let src = "FROM ubuntu\nRUN <<EOF\napt update\napt install -y curl\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![3, 4]);
    }

    #[test]
    fn does_not_catch_apt_get_or_mentions() {
        for src in [
            "FROM ubuntu\nRUN apt-get install -y python\n",
            "FROM ubuntu\nRUN apt-cache policy python\n",
            "FROM ubuntu\nRUN echo apt install python\n",
            "FROM ubuntu\nRUN cat <<EOF > /README\napt install python\nEOF\n",
            "FROM ubuntu\nSHELL [\"pwsh\", \"-c\"]\nRUN apt install python\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
