use super::util::{expand_at, onbuild_trigger};
use crate::dockerfile::Args;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `ADD` of plain local files or folders, where `COPY` does the job.
    ///
    /// `ADD` earns its place only for what `COPY` cannot do: fetching a URL, cloning a git
    /// repository (`https://…/repo.git`, `git@host:repo.git`), or unpacking a local tar archive
    /// (`.tar`, optionally `.gz`/`.tgz`, `.bz2`/`.tbz2`, `.xz`/`.txz`, `.zst`). An `ADD` (also
    /// inside `ONBUILD`) with any other source — a file, a folder, a heredoc — is reported.
    /// Sources are judged after resolving the stage's `ARG`s and `ENV`s; an `ADD` whose sources
    /// have no known value is not judged.
    ///
    /// ## Why
    /// `ADD` does more than it says: given a tar archive it unpacks it, so a file that happens
    /// to be an archive (or becomes one later) silently turns into a directory tree. `COPY`
    /// copies exactly what it is given, which is what a reader expects.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM alpine:3.20
    /// ADD requirements.txt /app/
    /// ```
    /// Use `COPY`:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// COPY requirements.txt /app/
    /// ```
    pub static RULE = Rule {
        id: "DL3020",
        name: "add-for-local-files",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

/// Archive extensions `ADD` unpacks: tar, possibly compressed with gzip, bzip2, xz or zstd
/// (BuildKit detects the format from the content; these are the names such files carry).
pub(super) const EXTRACTED_ARCHIVES: &[&str] = &[
    ".tar", ".tgz", ".gz", ".tbz", ".tbz2", ".tb2", ".bz2", ".txz", ".xz", ".tzst", ".zst",
];

/// Whether `path` names an archive that `ADD` unpacks.
pub(super) fn is_extracted_archive(path: &str) -> bool {
    let lowered = path.to_ascii_lowercase();
    EXTRACTED_ARCHIVES.iter().any(|ext| lowered.ends_with(ext))
}

/// Whether `source` is something only `ADD` fetches: a URL or a git repository.
fn is_remote(source: &str) -> bool {
    let lowered = source.to_ascii_lowercase();
    ["http://", "https://", "git@", "git://", "ssh://"]
        .iter()
        .any(|prefix| lowered.starts_with(prefix))
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for (index, inst) in facts.file.instructions.iter().enumerate() {
        let (inst, onbuild) = onbuild_trigger(inst);
        let Args::Add { sources, .. } = &inst.args else {
            continue;
        };
        let mut plain = Vec::new();
        for source in sources {
            let resolved = if source.contains('$') && !source.starts_with("<<") {
                match (onbuild, expand_at(facts, index, source)) {
                    (false, Ok(resolved)) => resolved,
                    _ => continue,
                }
            } else {
                source.clone()
            };
            if !is_remote(&resolved) && !is_extracted_archive(&resolved) {
                plain.push(format!("`{source}`"));
            }
        }
        if !plain.is_empty() {
            out.push(
                inst.span,
                format!(
                    "ADD of {} (not a URL, git repository or tar archive); use COPY",
                    plain.join(", ")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_add_of_local_files() {
        for src in [
            "FROM a\nADD app.py /app/\n",
            "FROM a\nADD --chown=app:app . /app\n",
            "FROM a\nADD https://example.com/x.tgz config.json /app/\n",
            "FROM a\nADD [\"app.py\", \"/app/\"]\n",
            "FROM a\nADD app.zip /app/\n",
            "FROM a\nARG SRC=app.py\nADD $SRC /app/\n",
            "FROM a\nONBUILD ADD . /app\n",
            "FROM a\nADD <<EOF /etc/motd\nhello\nEOF\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "{src}");
        }
    }

    #[test]
    fn does_not_catch_urls_git_or_archives() {
        for src in [
            "FROM a\nADD https://example.com/tool /usr/local/bin/tool\n",
            "FROM a\nADD --checksum=sha256:abc http://example.com/x /x\n",
            "FROM a\nADD https://github.com/moby/buildkit.git#v0.14.0 /src\n",
            "FROM a\nADD git@github.com:moby/buildkit.git /src\n",
            "FROM a\nADD rootfs.tar.gz /\n",
            "FROM a\nADD app.tgz vendor.tar.xz data.tar.zst /opt/\n",
            "FROM a\nADD $URL /tmp/\n",
            "FROM a\nARG URL=https://example.com/x\nADD ${URL} /tmp/\n",
            "FROM a\nONBUILD ADD $SRC /app\n",
            "FROM a\nCOPY app.py /app/\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
