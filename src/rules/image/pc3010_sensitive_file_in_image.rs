use crate::finding::{Severity, Span};
use crate::image::layers::FileKind;
use crate::rules::{Check, Diagnostics, ImageContext};

crate::declare_rule! {
    /// Sensitive file left in the image (`.git`, `.env`, shell history, editor swap file).
    ///
    /// Looks at the final filesystem of each platform image (after whiteouts) for files a
    /// build should not ship: a `.git` directory (the whole history of the source, often with
    /// credentials in its config or in old commits), `.env` files (`.env`, `.env.production`;
    /// not the `.env.example` / `.sample` / `.template` that only list names), non-empty shell
    /// and REPL history (`.bash_history`, `.zsh_history`, `.sh_history`, `.ash_history`,
    /// `fish_history`, `.python_history`, `.mysql_history`, `.psql_history`,
    /// `.node_repl_history`), and editor swap or backup files (`.name.swp`, `.name.swo`,
    /// `#name#`, `name~`) that hold a copy of the file being edited. Each is reported once;
    /// for `.git`, the directory, not its contents.
    ///
    /// ## Why
    /// A `COPY . .` without a `.dockerignore` ships whatever was in the build context; a
    /// history file records the commands (and passwords) typed while the image was made.
    /// Add them to `.dockerignore`, or copy only what the image needs.
    ///
    /// ## Example
    /// `COPY . /app` with the repository checked out: `/app/.git` (a Git repository) and
    /// `/app/.env`. Add `.git` and `.env*` to `.dockerignore`.
    pub static RULE = Rule {
        id: "PC3010",
        name: "sensitive-file-in-image",
        severity: Severity::Medium,
        enabled_by_default: false,
        check: Check::Image(check),
        needs_layers: true,
    };
}

const HISTORIES: &[&str] = &[
    ".bash_history",
    ".zsh_history",
    ".sh_history",
    ".ash_history",
    "fish_history",
    ".python_history",
    ".mysql_history",
    ".psql_history",
    ".node_repl_history",
];

/// What `path` (an entry of `kind` and `size`) is, if it should not ship.
fn sensitive(path: &str, kind: FileKind, size: u64) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if kind == FileKind::Directory {
        return (name == ".git").then_some("a Git repository (its whole history)");
    }
    if kind != FileKind::Regular {
        return None;
    }
    if name == ".env"
        || name.strip_prefix(".env.").is_some_and(|rest| {
            !["example", "sample", "template", "dist", "defaults"].contains(&rest)
        })
    {
        return (size > 0).then_some("an environment file (`.env`)");
    }
    if HISTORIES.contains(&name) {
        return (size > 0).then_some("a shell history");
    }
    let swap = name.starts_with('.')
        && (name.ends_with(".swp") || name.ends_with(".swo"))
        && name.len() > 5;
    let emacs = name.len() > 2 && name.starts_with('#') && name.ends_with('#');
    let backup = name.len() > 1 && name.ends_with('~');
    (swap || emacs || backup).then_some("an editor swap or backup file")
}

fn check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    let Some(filesystem) = super::filesystem(ctx, out) else {
        return;
    };
    for (path, entry) in &filesystem.files {
        // Inside a reported `.git`, nothing more.
        if path.split('/').rev().skip(1).any(|part| part == ".git") {
            continue;
        }
        if let Some(what) = sensitive(path, entry.kind, entry.size) {
            out.push(
                Span::default(),
                format!(
                    "`{path}` is {what}, added by {}; keep it out of the image (`.dockerignore`, \
                     or copy only what the image needs)",
                    super::layer_name(ctx, entry.layer)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::image::testing::{messages_with, with_filesystem};

    #[test]
    fn catches_repositories_env_files_histories_and_swap_files() {
        let facts = with_filesystem(|fs| {
            fs.add("/app/.git", FileKind::Directory, 0o755, 0);
            fs.add("/app/.git/config", FileKind::Regular, 0o644, 90);
            fs.add("/app/.env", FileKind::Regular, 0o644, 20);
            fs.add("/app/.env.production", FileKind::Regular, 0o644, 20);
            fs.add("/root/.bash_history", FileKind::Regular, 0o600, 300);
            fs.add("/etc/nginx/.nginx.conf.swp", FileKind::Regular, 0o600, 4096);
            fs.add("/etc/app.conf~", FileKind::Regular, 0o644, 10);
        });
        let found = messages_with(&RULE, &facts, &[]);
        let paths: Vec<&str> = found
            .iter()
            .map(|m| m.split('`').nth(1).unwrap_or(""))
            .collect();
        assert_eq!(
            paths,
            [
                "/app/.env",
                "/app/.env.production",
                "/app/.git",
                "/etc/app.conf~",
                "/etc/nginx/.nginx.conf.swp",
                "/root/.bash_history"
            ],
            "{found:?}"
        );
        assert!(found[2].contains("a Git repository"), "{}", found[2]);
    }

    #[test]
    fn does_not_catch_templates_empty_histories_or_plain_files() {
        let facts = with_filesystem(|fs| {
            fs.add("/app/.env.example", FileKind::Regular, 0o644, 20);
            fs.add("/root/.bash_history", FileKind::Regular, 0o600, 0);
            fs.add("/app/.git", FileKind::Regular, 0o644, 30); // a worktree's gitdir pointer
            fs.add("/app/.gitignore", FileKind::Regular, 0o644, 30);
            fs.add("/app/.env", FileKind::Symlink, 0o777, 0);
            fs.add("/usr/share/doc/x.swp", FileKind::Regular, 0o644, 9);
            fs.add("/home/app/.environment", FileKind::Regular, 0o644, 9);
        });
        assert_eq!(messages_with(&RULE, &facts, &[]), Vec::<String>::new());
    }
}
