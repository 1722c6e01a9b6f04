use super::package_managers::{flag_values, list, operands, runs, Syntax};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// The command-line dialect of `gem install`.
const GEM: Syntax = Syntax {
    short_with_value: "vinsPpg",
    long_with_value: &[
        "version",
        "install-dir",
        "bindir",
        "source",
        "trust-policy",
        "http-proxy",
        "file",
        "platform",
        "document",
        "build-root",
        "without",
        "target-rbconfig",
    ],
    single_dash_long: false,
};

crate::declare_rule! {
    /// `gem install` of a gem without a version.
    ///
    /// Flags `gem install` (and `gem i`) arguments that name a gem without a version: pin it
    /// with `<gem>:<version>` (`'rails:~>7.2'` works too) or with `-v`/`--version` for a
    /// single gem. A lower bound alone (`'rails:>=7'`, `-v '>= 7'`) takes the newest release
    /// and is flagged. `.gem` files and paths pass; arguments after `--` are build options.
    /// Gem names from `ARG`/`ENV` values are expanded; a variable without a known value is
    /// left alone.
    ///
    /// ## Why
    /// Without a version, every build installs whatever rubygems.org serves that day: a new
    /// major release breaks the image without a change to the repository, and a hijacked gem
    /// reaches the build unreviewed.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN gem install bundler
    /// ```
    /// Pin the version:
    /// ```dockerfile
    /// RUN gem install bundler:2.5.22
    /// ```
    pub static RULE = Rule {
        id: "DL3028",
        name: "gem-install-unpinned",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for (_, command) in run.find("gem") {
            let args = GEM.parse(command.cmd.args());
            let words = operands(&args, true);
            if !matches!(words.first(), Some(&("install" | "i"))) {
                continue;
            }
            let version_flag: Vec<Option<&str>> = flag_values(&args, &["v", "version"]).collect();
            let unpinned: Vec<String> = if version_flag.is_empty() {
                words
                    .iter()
                    .skip(1)
                    .flat_map(|word| run.expand(facts, word))
                    .filter(|gem| !is_pinned(gem))
                    .collect()
            } else if version_flag.iter().flatten().all(|v| is_bounded(v)) {
                Vec::new()
            } else {
                words.iter().skip(1).map(|w| w.to_string()).collect()
            };
            if unpinned.is_empty() {
                continue;
            }
            out.push(
                run.span(facts, command),
                format!(
                    "`gem install` without a pinned version for {}; pin it as \
                     `<gem>:<version>`",
                    list(&unpinned)
                ),
            );
        }
    }
}

/// Whether a `gem install` argument fixes (or bounds) what gets installed.
fn is_pinned(gem: &str) -> bool {
    if gem.ends_with(".gem") || gem.starts_with(['/', '.', '~']) {
        return true;
    }
    gem.split_once(':')
        .is_some_and(|(name, version)| !name.is_empty() && is_bounded(version))
}

/// Whether a version requirement has an upper end (`>= 7` alone does not).
fn is_bounded(requirement: &str) -> bool {
    let requirement = requirement.trim();
    !requirement.is_empty()
        && requirement
            .split(',')
            .any(|clause| !clause.trim_start().starts_with('>'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_unpinned_gems() {
        for src in [
            "RUN gem install bundler",
            "RUN gem i bundler",
            "RUN gem i bundler:1 nokogiri",
            "RUN gem install 'rails:>=7'",
            "RUN gem install rails -v '>= 7'",
            "RUN gem install --no-document -N bundler",
            "RUN sudo gem install bundler",
            "RUN [\"gem\", \"install\", \"bundler\"]",
            "ARG GEMS=\"rake rubocop:1.66\"\nRUN gem install $GEMS",
        ] {
            let src = format!("FROM ruby:3.3\n{src}\n");
            assert_eq!(lint(&RULE, &src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM ruby:3.3\nRUN <<EOF\nset -e\ngem install bundler\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_pinned_or_local_gems() {
        for src in [
            "RUN gem i bundler:1",
            "RUN gem install bundler:1 nokogiri:1.16.7",
            "RUN gem install 'rails:~>7.2'",
            "RUN gem install bundler -v '2.0.1'",
            "RUN gem install bundler --version '2.0.1'",
            "RUN gem install bundler --version='2.0.1'",
            "RUN gem install bundler:2.0.1 -- --use-system-libraries=true",
            "RUN gem install bundler:2.0.1 -- --use-system-libraries true",
            "RUN gem install --install-dir /opt/gems --source https://rubygems.org bundler:2.0.1",
            "RUN gem install ./pkg/tool-1.0.0.gem",
            "RUN gem install -g Gemfile",
            "ARG BUNDLER_VERSION\nRUN gem install bundler:${BUNDLER_VERSION}",
            "ARG GEMS\nRUN gem install $GEMS",
            "RUN gem update --system 3.5.22",
            "RUN bundle install",
            "RUN cat <<EOF > /x.sh\ngem install bundler\nEOF",
            "SHELL [\"pwsh\", \"-c\"]\nRUN gem install bundler",
        ] {
            let src = format!("FROM ruby:3.3\n{src}\n");
            assert_eq!(
                lint(&RULE, &src),
                Vec::<usize>::new(),
                "should pass:\n{src}"
            );
        }
    }
}
