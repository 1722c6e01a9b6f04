use super::dl3020_add_for_local_files::is_extracted_archive;
use super::util::stage_body;
use crate::dockerfile::shell::{run_scripts, SimpleCommand};
use crate::dockerfile::Args;
use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// A local tar archive is copied in, then unpacked with `tar` in a later `RUN`.
    ///
    /// Reports a `COPY` of a local archive (`.tar`, `.tar.gz`/`.tgz`, `.tar.bz2`, `.tar.xz`,
    /// `.tar.zst`, …) when a later `RUN` of the same stage unpacks that file with `tar -x`
    /// (also `tar xzf`, `--extract`). Only whole-archive extractions count: `tar` with member
    /// names, `--strip-components`, `--exclude` or `--transform` does something `ADD` cannot,
    /// and is left alone, as are `unzip`, `gunzip` and the like, whose formats `ADD` does not
    /// unpack. `COPY --from` is not a local file.
    ///
    /// ## Why
    /// `ADD` unpacks a local tar archive into the destination by itself. `COPY` + `RUN tar`
    /// keeps the archive in the `COPY` layer forever, even when the `RUN` deletes it, so the
    /// image carries the content twice.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM debian:12-slim
    /// COPY app.tar.gz /tmp/
    /// RUN tar -xzf /tmp/app.tar.gz -C /opt && rm /tmp/app.tar.gz
    /// ```
    /// Let `ADD` unpack it:
    /// ```dockerfile
    /// FROM debian:12-slim
    /// ADD app.tar.gz /opt/
    /// ```
    pub static RULE = Rule {
        id: "DL3010",
        name: "copied-archive-extracted",
        severity: Severity::Low,
        check: Check::Dockerfile(check),
    };
}

/// An archive a `COPY` brought in.
struct Copied {
    /// The archive's file name in the image.
    name: String,
    span: Span,
    reported: bool,
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let scripts = run_scripts(&facts.file);
    for stage in &facts.file.stages {
        let mut copied: Vec<Copied> = Vec::new();
        for (index, inst) in stage_body(facts, stage.index) {
            if let Args::Copy { sources, dest } = &inst.args {
                if inst.flag("from").is_none() {
                    copied.extend(
                        copied_archives(sources, dest)
                            .into_iter()
                            .map(|name| Copied {
                                name,
                                span: inst.span,
                                reported: false,
                            }),
                    );
                }
                continue;
            }
            let Some(run) = scripts.iter().find(|s| s.index == index && !s.onbuild) else {
                continue;
            };
            for command in &run.script.commands {
                let command = command.unwrapped();
                for file in tar_extracted_files(&command) {
                    let name = basename(file);
                    for archive in copied.iter_mut().filter(|a| !a.reported && a.name == name) {
                        archive.reported = true;
                        out.push(
                            archive.span,
                            format!(
                                "`{name}` is copied here and unpacked by `tar` at line {}; \
                                 `ADD {name} <dir>/` unpacks it without keeping the archive in a \
                                 layer",
                                command.line
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// The file names of the archives a `COPY` puts in the image: the destination's name when
/// it names an archive file, else the archive sources' names.
fn copied_archives(sources: &[String], dest: &str) -> Vec<String> {
    let target = basename(dest);
    if !target.is_empty() && is_extracted_archive(target) {
        return vec![target.to_string()];
    }
    sources
        .iter()
        .filter(|s| !s.starts_with("<<"))
        .map(|s| basename(s))
        .filter(|name| is_extracted_archive(name) && !name.contains(['*', '?', '[']))
        .map(str::to_string)
        .collect()
}

/// The last path component (either separator), "" for a directory path ending in one.
fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Long options that change what is extracted (so `ADD` is no substitute).
const PARTIAL: &[&str] = &[
    "strip-components",
    "exclude",
    "exclude-from",
    "files-from",
    "transform",
    "xform",
    "wildcards",
    "to-stdout",
    "to-command",
    "no-recursion",
];
/// Long options that take their value as the next word when written without `=`.
const LONG_WITH_VALUE: &[&str] = &[
    "file",
    "directory",
    "strip-components",
    "exclude",
    "exclude-from",
    "files-from",
    "transform",
    "xform",
    "to-command",
    "owner",
    "group",
    "mode",
    "use-compress-program",
];

/// The archives a `tar` command unpacks whole (`-f`/`--file` values), or nothing when it does
/// not extract, or extracts only part of an archive.
fn tar_extracted_files(command: &SimpleCommand) -> Vec<&str> {
    if !command.is("tar") {
        return Vec::new();
    }
    let args = command.args();
    let mut extract = false;
    let mut partial = false;
    let mut files = Vec::new();
    let mut operands = 0;
    let mut i = 0;
    // Old-style options: `tar xzf app.tgz`, the letters' values following in order.
    if let Some(first) = args.first() {
        if !first.starts_with('-') && first.chars().all(|c| c.is_ascii_alphabetic()) {
            extract = first.contains('x');
            let mut next = 1;
            for letter in first.chars() {
                if matches!(letter, 'f' | 'C' | 'T' | 'X') {
                    if letter == 'f' {
                        files.extend(args.get(next).map(String::as_str));
                    }
                    partial |= matches!(letter, 'T' | 'X');
                    next += 1;
                }
            }
            partial |= first.contains('O');
            i = next;
        }
    }
    while let Some(arg) = args.get(i) {
        i += 1;
        if arg == "--" {
            operands += args.len() - i;
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (long, None),
            };
            let value = match value {
                Some(v) => Some(v),
                None if LONG_WITH_VALUE.contains(&name) => {
                    i += 1;
                    args.get(i - 1).map(String::as_str)
                }
                None => None,
            };
            match name {
                "extract" | "get" => extract = true,
                "file" => files.extend(value),
                _ => partial |= PARTIAL.contains(&name),
            }
        } else if let Some(bundle) = arg.strip_prefix('-').filter(|b| !b.is_empty()) {
            for (at, letter) in bundle.char_indices() {
                match letter {
                    'x' => extract = true,
                    'O' => partial = true,
                    'f' | 'C' | 'T' | 'X' => {
                        // The value is the rest of the bundle, or the next word.
                        let attached = &bundle[at + letter.len_utf8()..];
                        let value = if attached.is_empty() {
                            i += 1;
                            args.get(i - 1).map(String::as_str)
                        } else {
                            Some(attached)
                        };
                        if letter == 'f' {
                            files.extend(value);
                        }
                        partial |= matches!(letter, 'T' | 'X');
                        break;
                    }
                    _ => {}
                }
            }
        } else {
            operands += 1;
        }
    }
    if !extract || partial || operands > 0 {
        return Vec::new();
    }
    files
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_copy_then_extract() {
        let src = "FROM a\nCOPY packaged-app.tar /usr/src/app\nRUN tar -xf /usr/src/app/packaged-app.tar\n";
        assert_eq!(lint(&RULE, src), vec![2]);
        assert_eq!(
            messages(&RULE, src),
            vec![
                "`packaged-app.tar` is copied here and unpacked by `tar` at line 3; `ADD \
                  packaged-app.tar <dir>/` unpacks it without keeping the archive in a layer"
            ]
        );
        for src in [
            "FROM a\nCOPY app.tar /srv\nWORKDIR /srv\nRUN foo bar && echo x && tar -xf app.tar\n",
            "FROM a\nCOPY foo/bar/packaged-app.tar /foo.tar\nRUN tar -xf /foo.tar\n",
            "FROM a\nCOPY app.tgz /tmp/\nRUN tar xzf /tmp/app.tgz -C /opt && rm /tmp/app.tgz\n",
            "FROM a\nCOPY app.tar.gz /tmp/\nRUN tar --extract --file=/tmp/app.tar.gz\n",
            "FROM a\nCOPY app.tar.xz /tmp/\nRUN sudo tar -C /opt -xJf /tmp/app.tar.xz\n",
            "FROM a\nCOPY app.tar.gz /tmp/\nRUN <<EOF\nset -e\ntar -xzf /tmp/app.tar.gz\nEOF\n",
            "# escape=`\nFROM a\nCOPY build\\foo\\bar.tar.gz \"C:\\Program Files\\Foo\"\nRUN tar -xf \"C:\\Program Files\\Foo\\bar.tar.gz\"\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "{src}");
        }
    }

    #[test]
    fn catches_each_stage_on_its_own() {
        let src = "FROM a AS one\nCOPY a.tar /\nRUN tar -xf /a.tar\nFROM b\nCOPY b.tgz /\nRUN tar -xzf /b.tgz\n";
        assert_eq!(lint(&RULE, src), vec![2, 5]);
    }

    #[test]
    fn does_not_catch_other_shapes() {
        for src in [
            "FROM a\nCOPY packaged-app.tar /usr/src/app\nFROM debian:11 AS newstage\nRUN tar -xf /usr/src/app/packaged-app.tar\n",
            "FROM a\nCOPY package.json /usr/src/app\n",
            "FROM a AS builder\nFROM b\nCOPY --from=builder /usr/local/share/some.tar /opt/some.tar\nRUN tar -xf /opt/some.tar\n",
            // Partial extractions: ADD cannot do these.
            "FROM a\nCOPY app.tgz /tmp/\nRUN tar -xzf /tmp/app.tgz --strip-components=1 -C /opt\n",
            "FROM a\nCOPY app.tgz /tmp/\nRUN tar -xzf /tmp/app.tgz app/bin\n",
            // Not tar: ADD does not unpack zip or plain gzip.
            "FROM a\nCOPY app.zip /tmp/\nRUN unzip /tmp/app.zip\n",
            "FROM a\nCOPY data.json.gz /tmp/\nRUN gunzip /tmp/data.json.gz\n",
            // Creating an archive is not extracting one.
            "FROM a\nCOPY app.tar /tmp/\nRUN tar -cf /tmp/app.tar /srv\n",
            "FROM a\nCOPY app.tar /tmp/\nRUN echo tar -xf /tmp/app.tar\n",
            "FROM a\nCOPY app.tar /tmp/\nONBUILD RUN tar -xf /tmp/app.tar\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
