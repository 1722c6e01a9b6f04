use super::util::{check_typed_labels, LABEL_SCHEMA};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// A label the label schema types as `hash` is not a git commit hash.
    ///
    /// Checks the labels the label schema gives type `hash`, as the built image gets them
    /// (the last `LABEL` of the final stage or a stage it is built `FROM`). The value must be
    /// a git object name as git prints it: lower-case hexadecimal, abbreviated (7 to 40
    /// digits) or full (40 digits for SHA-1, 64 for SHA-256 repositories). Values from
    /// variables are resolved from the stage's `ARG`s and `ENV`s; ones without a known value
    /// (the usual `ARG GIT_COMMIT` filled in by CI) are not judged, and empty ones are
    /// `DL3051`'s.
    ///
    /// ## Why
    /// `org.opencontainers.image.revision` ties an image to the exact commit it was built
    /// from. A branch name (`main`) or a tag moves, so the label stops saying what was built.
    ///
    /// ## Example
    /// With `label_schema: {org.opencontainers.image.revision: hash}` in the policy:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.revision="main"
    /// ```
    /// Pass the commit from CI:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// ARG GIT_COMMIT
    /// LABEL org.opencontainers.image.revision=$GIT_COMMIT
    /// ```
    pub static RULE = Rule {
        id: "DL3055",
        name: "invalid-git-hash-label",
        severity: Severity::Medium,
        options: &[LABEL_SCHEMA],
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    check_typed_labels(
        ctx,
        out,
        "hash",
        is_git_hash,
        "is not a git commit hash (7 to 40 or 64 lower-case hex digits)",
    );
}

fn is_git_hash(value: &str) -> bool {
    let length_ok = (7..=40).contains(&value.len()) || value.len() == 64;
    length_ok
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::{is_git_hash, RULE};
    use crate::rules::dockerfile::testing::{lint_with, map};

    const REVISION: &str = "org.opencontainers.image.revision";

    #[test]
    fn catches_non_hashes() {
        let schema = [("schema", map(&[(REVISION, "hash")]))];
        let src = "FROM a\nLABEL org.opencontainers.image.revision=main\n";
        assert_eq!(lint_with(&RULE, src, &schema), vec![2]);
        for bad in [
            "abc12",
            "ABCDEF1",
            "g1234567",
            "0123456789abcdef0123456789abcdef012345678",
            "v1.2.3",
        ] {
            assert!(!is_git_hash(bad), "{bad}");
        }
    }

    #[test]
    fn does_not_catch_hashes_or_unknowns() {
        let schema = [("schema", map(&[(REVISION, "hash")]))];
        for src in [
            "FROM a\nLABEL org.opencontainers.image.revision=9fceb02\n",
            "FROM a\nARG GIT_COMMIT\nLABEL org.opencontainers.image.revision=$GIT_COMMIT\n",
            "FROM a\nLABEL org.opencontainers.image.revision=${GIT_COMMIT:-}\n",
        ] {
            assert_eq!(lint_with(&RULE, src, &schema), Vec::<usize>::new(), "{src}");
        }
        for good in [
            "9fceb02",
            "9fceb02d0ae5",
            "9fceb02d0ae598e95dc970b74767f19372d61af8",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(is_git_hash(good), "{good}");
        }
    }
}
