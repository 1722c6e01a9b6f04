use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// Two stages with the same name.
    ///
    /// Stage names (`FROM … AS name`) must be unique. BuildKit compares them without regard
    /// to case, so `AS Build` and `AS build` clash too. Each later stage that reuses a name is
    /// reported.
    ///
    /// ## Why
    /// BuildKit refuses the file ("duplicate stage name"). Before it did, `COPY --from=name`
    /// silently used one of the two stages, which is why the habit is worth catching early.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM golang:1.22 AS build
    /// FROM node:22 AS build
    /// ```
    /// Give each stage its own name:
    /// ```dockerfile
    /// FROM golang:1.22 AS build-api
    /// FROM node:22 AS build-web
    /// ```
    pub static RULE = Rule {
        id: "DL3024",
        name: "duplicate-stage-name",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let file = &ctx.facts.file;
    for (position, stage) in file.stages.iter().enumerate() {
        let Some(name) = &stage.name else { continue };
        let Some(first) = file.stages[..position]
            .iter()
            .find(|s| s.name.as_ref() == Some(name))
        else {
            continue;
        };
        let (Some(here), Some(there)) = (
            file.instructions.get(stage.from),
            file.instructions.get(first.from),
        ) else {
            continue;
        };
        out.push(
            here.span,
            format!(
                "stage name `{name}` is already used by the stage at line {}; stage names must \
                 be unique (case-insensitively)",
                there.span.line
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_duplicate_names() {
        assert_eq!(lint(&RULE, "FROM a AS x\nFROM b AS x\n"), vec![2]);
        assert_eq!(
            lint(&RULE, "FROM a AS Build\nFROM b as build\nFROM c AS BUILD\n"),
            vec![2, 3]
        );
    }

    #[test]
    fn does_not_catch_unique_names() {
        for src in [
            "FROM a AS x\nFROM b AS y\nFROM c\nFROM d\n",
            "FROM a AS x\nFROM x AS y\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
