use super::package_managers::{is_fixed_git_ref, list, operands, runs, Syntax};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// The command-line dialect of `npm`.
const NPM: Syntax = Syntax {
    short_with_value: "wC",
    long_with_value: &[
        "registry",
        "prefix",
        "cache",
        "userconfig",
        "globalconfig",
        "loglevel",
        "tag",
        "omit",
        "include",
        "install-strategy",
        "workspace",
        "before",
        "otp",
        "scope",
        "location",
        "auth-type",
        "script-shell",
    ],
    single_dash_long: false,
};

/// `npm install` and its aliases.
const INSTALL: &[&str] = &[
    "install",
    "i",
    "in",
    "ins",
    "inst",
    "insta",
    "instal",
    "isnt",
    "isnta",
    "isntal",
    "isntall",
    "add",
    "install-test",
    "it",
];

/// Hosted-git shorthands npm understands.
const GIT_PREFIXES: &[&str] = &[
    "git://",
    "git+ssh://",
    "git+http://",
    "git+https://",
    "git+file://",
    "github:",
    "gitlab:",
    "bitbucket:",
    "gist:",
];

crate::declare_rule! {
    /// `npm install <package>` without a version.
    ///
    /// Flags package arguments of `npm install` (and its aliases `npm i`, `npm add`) that do
    /// not bound the version: `express`, `@acme/lib`, a dist-tag such as `express@latest` or
    /// `@next`, and lower bounds alone (`express@">=4"`) resolve to whatever is newest.
    /// `express@4.21.1`, ranges with an upper end (`@^4.21`, `@~4.21.1`, `@">=4 <5"`), git
    /// URLs and `user/repo` shorthands with a fixed `#<commit-or-tag>`, tarballs, URLs and
    /// local folders pass. `npm install` or `npm ci` without package arguments install what
    /// `package.json` and the lockfile say, and pass. Versions from `ARG`/`ENV` values are
    /// expanded; a variable without a known value is taken to hold a version.
    ///
    /// ## Why
    /// Without a version, every build installs whatever the registry serves that day: a new
    /// major release breaks the image without a change to the repository, and a hijacked
    /// package reaches the build unreviewed.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN npm install -g pm2
    /// ```
    /// Pin the version:
    /// ```dockerfile
    /// RUN npm install -g pm2@5.4.2
    /// ```
    pub static RULE = Rule {
        id: "DL3016",
        name: "npm-install-unpinned",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for (_, command) in run.find("npm") {
            let args = NPM.parse(command.cmd.args());
            let words = operands(&args, true);
            if !words.first().is_some_and(|w| INSTALL.contains(w)) {
                continue;
            }
            let unpinned: Vec<String> = words
                .iter()
                .skip(1)
                .flat_map(|word| run.expand(facts, word))
                .filter(|spec| !is_pinned(spec))
                .collect();
            if unpinned.is_empty() {
                continue;
            }
            out.push(
                run.span(facts, command),
                format!(
                    "`npm install` without a pinned version for {}; pin it as \
                     `<package>@<version>`",
                    list(&unpinned)
                ),
            );
        }
    }
}

/// Whether an `npm install` argument fixes (or bounds) what gets installed.
fn is_pinned(spec: &str) -> bool {
    if GIT_PREFIXES.iter().any(|p| spec.starts_with(p)) {
        return is_pinned_git(spec);
    }
    let is_local = ["/", "./", "../", "~/", "file:"]
        .iter()
        .any(|p| spec.starts_with(p))
        || spec == "."
        || [".tgz", ".tar", ".tar.gz"]
            .iter()
            .any(|s| spec.ends_with(s));
    if is_local || spec.starts_with("http://") || spec.starts_with("https://") {
        return true;
    }
    // `@scope/name@range`: the version comes after the second `@`.
    let (name, range) = match spec.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('@') {
            Some((name, range)) => (name, Some(range)),
            None => (scoped, None),
        },
        None => match spec.split_once('@') {
            Some((name, range)) => (name, Some(range)),
            None => (spec, None),
        },
    };
    if !spec.starts_with('@') && name.contains('/') {
        // `user/repo`: a GitHub shorthand.
        return is_pinned_git(spec);
    }
    match range {
        Some(alias) if alias.starts_with("npm:") => is_pinned(&alias["npm:".len()..]),
        Some(range) => is_bounded_range(range),
        None => false,
    }
}

/// A git dependency passes with a fixed `#<commit-or-tag>` or a `#semver:` range.
fn is_pinned_git(spec: &str) -> bool {
    spec.split_once('#').is_some_and(|(_, reference)| {
        reference.starts_with("semver:") || is_fixed_git_ref(reference)
    })
}

/// Whether every alternative of a semver range has an upper end (a dist-tag has none).
fn is_bounded_range(range: &str) -> bool {
    if range.contains('$') {
        return true;
    }
    range.split("||").all(|alternative| {
        let tokens: Vec<&str> = alternative.split_whitespace().collect();
        tokens.contains(&"-")
            || tokens
                .iter()
                .any(|t| !t.starts_with('>') && t.chars().any(|c| c.is_ascii_digit()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_unpinned_packages() {
        for src in [
            "RUN npm install express",
            "RUN npm i -g pm2",
            "RUN npm add express sax@0.1.1",
            "RUN npm install @myorg/privatepackage",
            "RUN npm install --global express",
            "RUN npm install -g npm@latest",
            "RUN npm install express@next",
            "RUN npm install 'express@>=4'",
            "RUN npm install 'express@*'",
            "RUN npm install --registry https://example.com express",
            "RUN npm install --registry=https://example.com express",
            "RUN npm install git+ssh://git@github.com:npm/npm.git",
            "RUN npm install git://github.com/npm/npm.git",
            "RUN npm install git+https://github.com/npm/npm.git#main",
            "RUN npm install expressjs/express",
            "RUN npm install react@npm:preact",
            "RUN sudo npm install -g typescript",
            "RUN [\"npm\", \"install\", \"express\"]",
            "ARG V=latest\nRUN npm install express@$V",
            "RUN npm ci && npm install express",
        ] {
            let src = format!("FROM node:22\n{src}\n");
            assert_eq!(lint(&RULE, &src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn message_lists_the_packages() {
        assert_eq!(
            messages(
                &RULE,
                "FROM node:22\nRUN npm install express sax@0.1.1 @a/b@latest\n"
            ),
            vec![
                "`npm install` without a pinned version for `express`, `@a/b@latest`; pin it \
                 as `<package>@<version>`"
            ]
        );
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM node:22\nRUN <<EOF\nnpm ci\nnpm install -g pm2\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_pinned_lockfile_or_local_installs() {
        for src in [
            "RUN npm install",
            "RUN npm install --progress=false",
            "RUN npm ci --omit=dev",
            "RUN npm install express@4.1.1",
            "RUN npm install @myorg/privatepackage@\">=0.1.0 <0.2.0\"",
            "RUN npm install express@\"4.1.1\" sax@0.1.1",
            "RUN npm install -g express@^4.21 pm2@~5.4 npm@10",
            "RUN npm install --loglevel verbose --prefix /opt sax@0.1.1",
            "RUN npm install package-v1.2.3.tgz ./folder ../folder /folder ~/folder .",
            "RUN npm install https://example.com/pkg-1.0.0.tgz",
            "RUN npm install git+ssh://git@github.com:npm/npm.git#v1.0.27",
            "RUN npm install git+http://isaacs@github.com/npm/npm#semver:^5.0",
            "RUN npm install expressjs/express#4.21.1",
            "RUN npm install react@npm:preact@10.24.3",
            "RUN npm run --crazy install",
            "RUN npm install-ci-test",
            "ARG PM2_VERSION\nRUN npm install -g pm2@${PM2_VERSION}",
            "ARG PKGS\nRUN npm install $PKGS",
            "RUN npx some-tool",
            "RUN cat <<EOF > /x.sh\nnpm install express\nEOF",
            "SHELL [\"pwsh\", \"-c\"]\nRUN npm install express",
        ] {
            let src = format!("FROM node:22\n{src}\n");
            assert_eq!(
                lint(&RULE, &src),
                Vec::<usize>::new(),
                "should pass:\n{src}"
            );
        }
    }
}
