use super::package_managers::{runs, Run};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `cd` in a RUN where `WORKDIR` is meant.
    ///
    /// Flags two shapes, in every stage and form (shell and exec form, heredoc scripts,
    /// inside `sh -c '…'`):
    /// - a `cd` that is the last command of its RUN: the directory change ends with the RUN,
    ///   so it does nothing (`RUN cd /app` does not change the directory of later
    ///   instructions);
    /// - a RUN that starts with its only `cd` and then works in that directory, leaving it in
    ///   place: `RUN cd /app && npm ci` is `WORKDIR /app` plus `RUN npm ci`.
    ///
    /// A `cd` used to build something in a scratch directory within one RUN (`cd /tmp/src &&
    /// make install && cd / && rm -rf /tmp/src`), or after other commands, is good practice
    /// and not flagged.
    ///
    /// ## Why
    /// Each RUN starts in the `WORKDIR`; a `cd` does not outlive its RUN. `WORKDIR` states the
    /// directory once, for every later instruction and for the running container, and keeps
    /// RUN lines short.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN cd /app && npm ci
    /// ```
    /// Set the directory with `WORKDIR`:
    /// ```dockerfile
    /// WORKDIR /app
    /// RUN npm ci
    /// ```
    pub static RULE = Rule {
        id: "DL3003",
        name: "cd-instead-of-workdir",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        let cds: Vec<usize> = run.find("cd").map(|(i, _)| i).collect();
        let last = run.commands.len().saturating_sub(1);
        let message = match cds.as_slice() {
            [.., i] if *i == last => Some((*i, lost_message())),
            [0] => leading_cd_message(&run),
            _ => None,
        };
        let Some((position, message)) = message else {
            continue;
        };
        if let Some(command) = run.commands.get(position) {
            out.push(run.span(facts, command), message);
        }
    }
}

fn lost_message() -> String {
    "`cd` is the last command of this RUN, so the directory change is lost when the RUN \
     ends; use WORKDIR to change the directory of later instructions"
        .to_string()
}

/// For a RUN that starts with its only `cd` and never removes the directory: the message.
fn leading_cd_message(run: &Run<'_>) -> Option<(usize, String)> {
    let cd = run.commands.first()?;
    let dir = cd.cmd.args().iter().find(|a| !a.starts_with('-'))?;
    if dir.contains("$(") || dir.contains('`') || run.removes_after(0, &[dir.as_str()]) {
        return None;
    }
    Some((
        0,
        format!("this RUN works in `{dir}`; set it with `WORKDIR {dir}` instead of `cd`"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_lost_and_leading_cd() {
        for src in [
            "FROM debian\nRUN cd /opt\n",
            "FROM debian\nRUN make && cd /opt\n",
            "FROM debian\nRUN cd /app && npm ci\n",
            "FROM debian\nRUN cd src; make\n",
            "FROM debian\nRUN [\"cd\", \"/opt\"]\n",
            "FROM debian\nRUN sh -c 'make && cd /app'\n",
            "FROM debian\nONBUILD RUN cd /app && make\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM debian\nRUN cd /app && npm ci\n"),
            vec!["this RUN works in `/app`; set it with `WORKDIR /app` instead of `cd`"]
        );
        let src = "FROM debian\nRUN <<EOF\ncd /app\nnpm ci\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![3]);
    }

    #[test]
    fn does_not_catch_scoped_cds() {
        for src in [
            "FROM debian\nWORKDIR /opt\n",
            "FROM debian\nRUN git clone https://x/jo.git /tmp/jo && cd /tmp/jo && make install \
             && cd /tmp && rm -rf ./jo\n",
            "FROM debian\nRUN cd /tmp/jo && make install && rm -rf /tmp/jo\n",
            "FROM debian\nRUN (cd /tmp/jo && make) && rm -rf /tmp/jo\n",
            "FROM debian\nRUN curl -LO https://x/src.tgz && tar xzf src.tgz && cd src && make\n",
            "FROM debian\nRUN cd \"$(mktemp -d)\" && curl -LO https://x && make\n",
            "FROM debian\nRUN echo cd /opt\n",
            "FROM debian\nSHELL [\"pwsh\", \"-c\"]\nRUN cd C:\\\\app\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
