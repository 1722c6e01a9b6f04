use super::package_managers::{
    flag_values, has_flag, is_fixed_git_ref, list, operands, pip_install, runs, Arg,
};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// Version operators that bound a requirement from above (or fix it).
const PINNING_OPERATORS: &[&str] = &["===", "==", "~=", "<=", "<"];
/// Every version operator, longest first.
const OPERATORS: &[&str] = &["===", "==", "~=", "!=", "<=", ">=", "<", ">"];
/// Version-control URL schemes pip understands.
const VCS: &[&str] = &["git+", "git://", "hg+", "svn+", "bzr+"];
/// Archives pip installs as they are.
const ARCHIVES: &[&str] = &[".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip"];

crate::declare_rule! {
    /// `pip install` of a package without a version.
    ///
    /// Flags `pip install` (also `pip3`, `pip3.12`, `python3 -m pip`) arguments that name a
    /// package without a version that bounds it: `flask==3.0.3`, `flask~=3.0` and
    /// `flask>=3,<4` pass; `flask`, `flask[async]` and `flask>=3` (a lower bound alone always
    /// takes the newest release) are flagged. Version-control URLs pass only with a fixed ref
    /// (`git+https://…/x.git@v1.2#egg=x`, not `@main`). Local paths (`.`, `./pkg`), archives
    /// (`.whl`, `.tar.gz`) and other URLs pass. Requirement files (`-r`) are not judged here,
    /// and a constraints file (`-c`) is taken to pin what the command names, as is an
    /// offline install (`--no-index`) from local `--find-links` directories. Package names from
    /// `ARG`/`ENV` values are expanded; a variable without a known value is left alone.
    ///
    /// ## Why
    /// Without a version, every build installs whatever PyPI serves that day: a new major
    /// release breaks the image without a change to the repository, and a hijacked package
    /// reaches the build unreviewed.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN pip install --no-cache-dir flask gunicorn
    /// ```
    /// Pin the versions (better: a requirements file with hashes):
    /// ```dockerfile
    /// RUN pip install --no-cache-dir flask==3.0.3 gunicorn==23.0.0
    /// ```
    pub static RULE = Rule {
        id: "DL3013",
        name: "pip-install-unpinned",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for command in run.commands {
            let Some(args) = pip_install(command) else {
                continue;
            };
            if has_flag(&args, &["c", "constraint"]) || offline_from_local_files(&args) {
                continue;
            }
            let editable = flag_values(&args, &["e", "editable"]).flatten();
            let unpinned: Vec<String> = operands(&args, false)
                .into_iter()
                .skip(1)
                .chain(editable)
                .flat_map(|word| run.expand(facts, word))
                .filter(|requirement| !is_pinned(requirement))
                .collect();
            if unpinned.is_empty() {
                continue;
            }
            out.push(
                run.span(facts, command),
                format!(
                    "`pip install` without a pinned version for {}; pin it as \
                     `<package>==<version>` (a lower bound alone is not a pin)",
                    list(&unpinned)
                ),
            );
        }
    }
}

/// `--no-index` with every `--find-links` a local directory: only files already in the
/// image can be installed.
fn offline_from_local_files(args: &[Arg<'_>]) -> bool {
    let mut links = flag_values(args, &["f", "find-links"]).peekable();
    has_flag(args, &["no-index"])
        && links.peek().is_some()
        && links.all(|l| l.is_some_and(|l| !l.contains("://")))
}

/// Whether a requirement fixes (or bounds from above) what gets installed.
fn is_pinned(requirement: &str) -> bool {
    // Environment markers (`; python_version < "3.9"`) say nothing about the version.
    let requirement = requirement.split(';').next().unwrap_or("").trim();
    if let Some((_, url)) = requirement
        .split_once('@')
        .filter(|(name, url)| is_name(name.trim()) && url.trim_start().contains("://"))
    {
        return is_pinned_url(url.trim());
    }
    if requirement.contains("://") || VCS.iter().any(|v| requirement.starts_with(v)) {
        return is_pinned_url(requirement);
    }
    let is_local = requirement.starts_with(['.', '/', '~'])
        || requirement.contains('/')
        || ARCHIVES.iter().any(|a| requirement.ends_with(a));
    is_local || has_upper_bound(requirement)
}

/// A direct URL: an archive at a fixed address passes; a VCS URL needs a fixed ref.
fn is_pinned_url(url: &str) -> bool {
    if !VCS.iter().any(|v| url.starts_with(v)) {
        return true;
    }
    let without_fragment = url.split('#').next().unwrap_or(url);
    let last_segment = without_fragment.rsplit('/').next().unwrap_or("");
    last_segment
        .split_once('@')
        .is_some_and(|(_, reference)| is_fixed_git_ref(reference))
}

/// Whether a requirement's version clauses include `==`, `===`, `~=`, `<` or `<=`.
fn has_upper_bound(requirement: &str) -> bool {
    let Some(start) = requirement.find(['=', '<', '>', '!', '~']) else {
        return false;
    };
    requirement[start..].split(',').any(|clause| {
        let clause = clause.trim();
        OPERATORS
            .iter()
            .find(|op| clause.starts_with(*op))
            .is_some_and(|op| PINNING_OPERATORS.contains(op))
    })
}

/// Whether `word` looks like a distribution name (with optional extras).
fn is_name(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '[' | ']' | ','))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_unpinned_requirements() {
        for src in [
            "RUN pip install MySQL_python",
            "RUN pip2 install MySQL_python",
            "RUN pip3.12 install --user flask",
            "RUN python -m pip install example",
            "RUN /opt/venv/bin/python3 -m pip install --upgrade pip setuptools",
            "RUN python3 -m pip install --index-url https://eg.com/simple example",
            "RUN pip install --upgrade pip",
            "RUN pip install 'flask[async]'",
            "RUN pip install 'alabaster>=0.7'",
            "RUN pip install 'alabaster!=0.7'",
            "RUN pip install flask==3.0.3 requests",
            "RUN pip install -r requirements.txt flask",
            "RUN pip install . flask",
            "RUN pip install git+https://github.com/rtfd/read-ext.git#egg=read-ext",
            "RUN pip install git+ssh://git@github.com/acme/tool.git",
            "RUN pip install git+https://github.com/acme/tool.git@main",
            "RUN pip install -e git+https://github.com/acme/tool.git#egg=tool",
            "RUN pip install 'tool @ git+https://github.com/acme/tool.git'",
            "RUN sudo -H pip3 install flask",
            "RUN [\"pip\", \"install\", \"flask\"]",
            "ARG TOOLS=\"black ruff==0.6\"\nRUN pip install $TOOLS",
            "ARG BLACK=latest\nRUN pip install black==$BLACK && pip install ruff",
            "RUN pip install --no-index --find-links https://example.com/wheels flask",
        ] {
            let src = format!("FROM python:3.12\n{src}\n");
            assert_eq!(lint(&RULE, &src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn message_lists_the_packages() {
        assert_eq!(
            messages(
                &RULE,
                "FROM python:3.12\nRUN pip install flask==3 requests 'ruff>=0.6'\n"
            ),
            vec![
                "`pip install` without a pinned version for `requests`, `ruff>=0.6`; pin it as \
                 `<package>==<version>` (a lower bound alone is not a pin)"
            ]
        );
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM python:3.12\nRUN <<EOF\nset -e\npip install flask\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_pinned_files_paths_or_unknowable() {
        for src in [
            "RUN pip install MySQL_python==1.2.2",
            "RUN pip3 install MySQL_python~=1.2.2 other===1.0",
            "RUN pip install 'flask[async]==3.0.3'",
            "RUN pip install 'alabaster<0.7' 'django>=4.2,<5'",
            "RUN pip install 'pywin32==306; sys_platform == \"win32\"'",
            "RUN pip install -r requirements.txt",
            "RUN pip install --requirement requirements.txt --no-cache-dir",
            "RUN pip install -qr requirements.txt",
            "RUN pip install .",
            "RUN pip install -e .",
            "RUN pip install ./dist/app-1.0-py3-none-any.whl /tmp/pkg.tar.gz mypkg.whl",
            "RUN pip install https://example.com/pkg-1.0.tar.gz",
            "RUN pip install git+https://github.com/rtfd/r-ext.git@0.6-alpha#egg=r-ext",
            "RUN pip install 'tool @ git+https://github.com/acme/tool.git@v1.2.0'",
            "RUN pip install pykafka --constraint http://foo.bar.baz",
            "RUN pip install pykafka -c constraints.txt",
            "RUN pip install --no-index --find-links=/wheels flask",
            "RUN pip3 install --build /opt/yamllint yamllint==1.20.0",
            "RUN pip3 install --prefix /opt/x --root /r --target /t --trusted-host h yamllint==1.20.0",
            "RUN pip install --index-url https://user:pass@eg.com/foo --extra-index-url https://ex-eg.io/foo foobar==1.0.0",
            "ARG FLASK_VERSION\nRUN pip install flask==${FLASK_VERSION}",
            "ARG B2_VERSION=4.7.1\nRUN pip install \"b2 == $B2_VERSION\"",
            "ARG PACKAGES\nRUN pip install $PACKAGES",
            "RUN pip install $(cat /tmp/reqs)",
            "RUN pipx install black",
            "RUN pipenv install flask",
            "RUN uv pip install flask==3.0.3",
            "RUN pip download flask",
            "RUN cat <<EOF > /x.sh\npip install flask\nEOF",
            "SHELL [\"pwsh\", \"-c\"]\nRUN pip install flask",
        ] {
            let src = format!("FROM python:3.12\n{src}\n");
            assert_eq!(lint(&RULE, &src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
