use super::util::{expand_at, onbuild_trigger};
use crate::dockerfile::Args;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `COPY` or `ADD` of several sources to a destination that does not end with `/`.
    ///
    /// With more than one source (heredocs count), the destination must be a directory, and
    /// BuildKit requires it to be written with a trailing `/` (or `\` on Windows); `.` and
    /// `..` are directories too. Checks `COPY` and `ADD`, also inside `ONBUILD`. A destination
    /// from variables is resolved from the stage's `ARG`s and `ENV`s; one without a known value
    /// is not judged.
    ///
    /// ## Why
    /// The build fails with "When using COPY with more than one source file, the destination
    /// must be a directory and end with a /". Catching it before the build saves a CI run.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:22-slim
    /// COPY package.json package-lock.json /app
    /// ```
    /// End the destination with `/`:
    /// ```dockerfile
    /// FROM node:22-slim
    /// COPY package.json package-lock.json /app/
    /// ```
    pub static RULE = Rule {
        id: "DL3021",
        name: "multiple-sources-dest-not-directory",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for (index, inst) in facts.file.instructions.iter().enumerate() {
        let (inst, onbuild) = onbuild_trigger(inst);
        let (Args::Copy { sources, dest } | Args::Add { sources, dest }) = &inst.args else {
            continue;
        };
        if sources.len() < 2 {
            continue;
        }
        let resolved = if dest.contains('$') {
            match (onbuild, expand_at(facts, index, dest)) {
                (false, Ok(resolved)) => resolved,
                _ => continue,
            }
        } else {
            dest.clone()
        };
        if !names_directory(&resolved) {
            out.push(
                inst.span,
                format!(
                    "{} of {} sources to `{dest}`: with several sources the destination must \
                     be a directory ending with `/`",
                    inst.keyword.as_str(),
                    sources.len()
                ),
            );
        }
    }
}

/// Whether BuildKit reads `dest` as a directory: a trailing separator, or `.`/`..` (the
/// working directory or its parent), alone or as the last component.
fn names_directory(dest: &str) -> bool {
    dest.ends_with(['/', '\\']) || matches!(dest.rsplit(['/', '\\']).next(), Some("." | ".."))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_missing_trailing_slash() {
        for src in [
            "FROM a\nCOPY a b /app\n",
            "FROM a\nCOPY [\"a\", \"b\", \"/app\"]\n",
            "FROM a\nADD a.tgz b.tgz /opt\n",
            "FROM a\nCOPY --from=build /a /b /app\n",
            "FROM a\nARG DEST=/app\nCOPY a b $DEST\n",
            "FROM a\nONBUILD COPY a b /app\n",
            "FROM a\nCOPY <<one <<two /etc\nx\none\ny\ntwo\n",
            "FROM a\nCOPY a \\\n  b \\\n  /app\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "{src}");
        }
    }

    #[test]
    fn does_not_catch_directories_or_single_sources() {
        for src in [
            "FROM a\nCOPY a b /app/\n",
            "FROM a\nWORKDIR /src\nCOPY go.mod go.sum .\n",
            "FROM a\nCOPY a b /app/.\n",
            "FROM a\nCOPY a /app\n",
            "FROM a\nCOPY *.json /app\n",
            "FROM a\nCOPY a b $DEST\n",
            "FROM a\nARG DEST=/app/\nCOPY a b ${DEST}\n",
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nCOPY a b C:\\app\\\n",
            "FROM a\nCOPY [\"a\", \"b\", \"/app/\"]\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
