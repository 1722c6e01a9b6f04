use super::package_managers::{apk_command, list, operands, runs};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `apk add` of a package without a version.
    ///
    /// Flags `apk add` arguments that name a package without a version constraint that
    /// bounds it, in every stage (also behind `sudo`, in `sh -c '…'` and heredoc scripts).
    /// `curl=8.11.1-r0`, `curl~8.11` and `curl<9` pass; `curl`, `curl@edge` (a repository tag,
    /// not a version) and `curl>8` (a lower bound alone takes the newest) are flagged. `.apk`
    /// files and paths pass; the name after `--virtual`/`-t` is a group, not a package.
    /// Package lists from `ARG`/`ENV` values are expanded; a variable without a known value is
    /// left alone.
    ///
    /// ## Why
    /// Without a version, every build installs whatever the Alpine mirror serves that day:
    /// two builds of the same commit differ, and an update that breaks the image or brings a
    /// regression arrives without a change to the Dockerfile.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apk add --no-cache curl
    /// ```
    /// Pin the version (`~` accepts patch releases):
    /// ```dockerfile
    /// RUN apk add --no-cache curl~8.11
    /// ```
    pub static RULE = Rule {
        id: "DL3018",
        name: "apk-add-unpinned",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for command in run.commands {
            let Some((args, "add")) = apk_command(command) else {
                continue;
            };
            let unpinned: Vec<String> = operands(&args, false)
                .iter()
                .skip(1)
                .flat_map(|word| run.expand(facts, word))
                .filter(|package| !is_pinned(package))
                .collect();
            if unpinned.is_empty() {
                continue;
            }
            out.push(
                run.span(facts, command),
                format!(
                    "`apk add` without a version for {}; pin it as `<package>=<version>` or \
                     `<package>~<version>`",
                    list(&unpinned)
                ),
            );
        }
    }
}

/// Whether an `apk add` argument fixes (or bounds from above) what gets installed.
fn is_pinned(package: &str) -> bool {
    if package.ends_with(".apk") || package.starts_with(['/', '.']) {
        return true;
    }
    let Some(start) = package.find(['=', '~', '<', '>']) else {
        return false;
    };
    package[start..].starts_with(['=', '~', '<'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_unpinned_packages() {
        for src in [
            "RUN apk add flex",
            "RUN apk add --no-cache \\\n  flex=2.6.4-r1 \\\n  libffi \\\n  python2=2.7.13-r1",
            "RUN apk add --no-cache curl@edge",
            "RUN apk add --no-cache 'curl>8'",
            "RUN apk add --virtual .build-deps gcc=13.2.1_git20240309-r0 musl-dev",
            "RUN sudo apk --no-cache add curl",
            "RUN [\"apk\", \"add\", \"curl\"]",
            "ARG PKGS=\"curl git\"\nRUN apk add --no-cache $PKGS",
            "RUN sh -c 'apk add curl'",
        ] {
            let src = format!("FROM alpine:3.20\n{src}\n");
            assert_eq!(lint(&RULE, &src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM alpine:3.20\nRUN apk add curl=8 git\n"),
            vec!["`apk add` without a version for `git`; pin it as `<package>=<version>` or `<package>~<version>`"]
        );
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM alpine:3.20\nRUN <<EOF\nset -e\napk add --no-cache curl\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_pinned_files_or_unknowable() {
        for src in [
            "RUN apk add flex=2.6.4-r1",
            "RUN apk add --no-cache git~2.52.0 'curl<9'",
            "RUN apk add --no-cache flex=2.6.4-r1 \\\n && pip install -r requirements.txt",
            "RUN apk add \\\n  --virtual build-dependencies \\\n  python-dev=1.1.1 build-base=2.2.2 wget=3.3.3",
            "RUN apk add --no-cache --repository https://dl-cdn.alpinelinux.org/alpine/edge/testing flow=0.78.0-r0",
            "RUN apk add --no-cache --repository=https://x/testing flow=0.78.0-r0",
            "RUN apk add --no-cache -X https://x/testing flow=0.78.0-r0",
            "RUN apk add --allow-untrusted mypackage-1.1.1.apk /tmp/other.apk",
            "ARG CURL_VERSION\nRUN apk add --no-cache curl=${CURL_VERSION}",
            "ARG PACKAGES\nRUN apk add --no-cache $PACKAGES",
            "RUN apk del curl && apk update",
            "RUN cat <<EOF > /x.sh\napk add curl\nEOF",
            "SHELL [\"pwsh\", \"-c\"]\nRUN apk add curl",
        ] {
            let src = format!("FROM alpine:3.20\n{src}\n");
            assert_eq!(lint(&RULE, &src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
