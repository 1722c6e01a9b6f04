use super::package_managers::{list, operands, runs, Syntax};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// The command-line dialect of `go install`, `go get` and `go run`.
const GO: Syntax = Syntax {
    short_with_value: "",
    long_with_value: &[
        "C",
        "o",
        "p",
        "tags",
        "ldflags",
        "gcflags",
        "asmflags",
        "gccgoflags",
        "mod",
        "modfile",
        "pkgdir",
        "toolexec",
        "buildmode",
        "compiler",
        "installsuffix",
        "overlay",
        "pgo",
        "exec",
        "covermode",
        "coverpkg",
        "debug-actiongraph",
        "debug-trace",
    ],
    single_dash_long: true,
};

crate::declare_rule! {
    /// `go install pkg@latest` (or `go get` without a version) that fetches whatever is newest.
    ///
    /// Flags `go install`, `go run` and `go get` of a remote package whose version query
    /// floats: `@latest`, `@upgrade`, `@patch`, a branch (`@main`), or a lower bound
    /// (`@>=v1.2`). `@v1.2.3`, pseudo-versions and commit hashes pass. `go get` of a remote
    /// package without any `@version` also floats (it means `@upgrade`) and is flagged; `go
    /// install` and `go run` without a version build the version the main module's `go.mod`
    /// requires (or fail outside a module) and pass. Local packages (`.`, `./cmd/...`) pass.
    ///
    /// ## Why
    /// A floating query builds whatever was pushed last: two builds of the same commit ship
    /// different tools, and a compromised release reaches the image unreviewed.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN go install golang.org/x/tools/gopls@latest
    /// ```
    /// Pin the version:
    /// ```dockerfile
    /// RUN go install golang.org/x/tools/gopls@v0.16.2
    /// ```
    pub static RULE = Rule {
        id: "DL3062",
        name: "go-install-unpinned",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for (_, command) in run.find("go") {
            let args = GO.parse(command.cmd.args());
            let words = operands(&args, true);
            let Some((&subcommand, rest)) = words.split_first() else {
                continue;
            };
            let packages: &[&str] = match subcommand {
                "install" | "get" => rest,
                // Everything after the package is the program's own arguments.
                "run" => rest.get(..1).unwrap_or_default(),
                _ => continue,
            };
            let floating: Vec<String> = packages
                .iter()
                .flat_map(|word| run.expand(facts, word))
                .filter(|package| floats(package, subcommand == "get"))
                .collect();
            if floating.is_empty() {
                continue;
            }
            out.push(
                run.span(facts, command),
                format!(
                    "`go {subcommand}` of {} fetches whatever version is newest; pin it as \
                     `<package>@v<version>`",
                    list(&floating)
                ),
            );
        }
    }
}

/// Whether a package argument resolves to a moving version. Without `@version`, `go get`
/// upgrades while `go install`/`go run` use the main module's requirements.
fn floats(package: &str, is_get: bool) -> bool {
    if package.starts_with(['.', '/']) || package == "tool" || package == "all" {
        return false;
    }
    match package.split_once('@') {
        Some((_, query)) => !is_fixed_query(query),
        None => is_get && package.contains('.'),
    }
}

/// Whether a module query names one version: `v1.2.3`, a pseudo-version, a commit hash, an
/// upper bound (`<v2`), or `none` (removal).
fn is_fixed_query(query: &str) -> bool {
    let version = query
        .strip_prefix('v')
        .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()));
    let commit = query.len() >= 7 && query.chars().all(|c| c.is_ascii_hexdigit());
    version || commit || query.starts_with('<') || query.contains('$') || query == "none"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_floating_versions() {
        for src in [
            "RUN go install example.com/pkg@latest",
            "RUN go install -ldflags '-s -w' example.com/cmd/tool@main",
            "RUN go install example.com/pkg@upgrade",
            "RUN go install 'example.com/pkg@>=v1.2'",
            "RUN go get example.com/pkg",
            "RUN go get example.com/pkg@latest",
            "RUN go get -tool example.com/tool",
            "RUN go run example.com/pkg@latest -f",
            "RUN CGO_ENABLED=0 go install golang.org/x/tools/gopls@latest",
            "RUN [\"go\", \"install\", \"example.com/pkg@latest\"]",
            "ARG V=latest\nRUN go install example.com/pkg@$V",
        ] {
            let src = format!("FROM golang:1.23\n{src}\n");
            assert_eq!(lint(&RULE, &src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM golang:1.23\nRUN go install a.io/x@v1.0.0 b.io/y@latest\n"),
            vec!["`go install` of `b.io/y@latest` fetches whatever version is newest; pin it as `<package>@v<version>`"]
        );
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM golang:1.23\nRUN <<EOF\nset -e\ngo install example.com/pkg@latest\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_pinned_module_or_local_packages() {
        for src in [
            "RUN go install example.com/pkg@v1.2.3",
            "RUN go install example.com/pkg@v0.0.0-20240101000000-abcdef123456",
            "RUN go install example.com/pkg@3f2a1c9d",
            "RUN go get example.com/pkg@v1.2.3",
            "RUN go get -tool example.com/tool@v1.2.3",
            "RUN go run example.com/pkg@v1.2.3 --foo bar latest",
            "RUN go install example.com/pkg",
            "RUN go run example.com/cmd/gen",
            "RUN go install tool",
            "RUN go install ./... && go install .",
            "RUN go install /go/app/foobar",
            "RUN go get ./...",
            "RUN go get example.com/old@none",
            "RUN go build -o /out/app ./cmd/app",
            "RUN go mod download",
            "ARG GOPLS_VERSION\nRUN go install golang.org/x/tools/gopls@${GOPLS_VERSION}",
            "RUN cat <<EOF > /x.sh\ngo install example.com/pkg@latest\nEOF",
            "SHELL [\"pwsh\", \"-c\"]\nRUN go install example.com/pkg@latest",
        ] {
            let src = format!("FROM golang:1.23\n{src}\n");
            assert_eq!(
                lint(&RULE, &src),
                Vec::<usize>::new(),
                "should pass:\n{src}"
            );
        }
    }
}
