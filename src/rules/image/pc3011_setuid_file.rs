use crate::finding::{Severity, Span};
use crate::image::layers::FileKind;
use crate::rules::{Check, Diagnostics, ImageContext, OptionKind, OptionSpec};

crate::declare_rule! {
    /// Setuid or setgid file in the image.
    ///
    /// Reports regular files of the final filesystem with the setuid (`04000`) or setgid
    /// (`02000`) bit: run by anyone, they run with their owner's (usually root's) or group's
    /// rights. Directories are not judged: `/tmp` is `1777` and a setgid spool directory is
    /// normal. List the ones the image needs in `allow` (absolute paths).
    ///
    /// ## Why
    /// Each setuid binary is a way from an unprivileged process to root, and a container
    /// rarely needs one (`su`, `passwd`, `mount` are for interactive systems). Remove the bit
    /// in the build (`RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +`), or run with
    /// `--security-opt no-new-privileges`. Peers: dockle's CIS-DI-0008.
    ///
    /// ## Example
    /// A Debian base image: `/usr/bin/passwd` (mode 4755), `/usr/bin/chage` (2755), … Strip
    /// the bits, or allow the few the image uses.
    pub static RULE = Rule {
        id: "PC3011",
        name: "setuid-file",
        severity: Severity::Low,
        enabled_by_default: false,
        options: &[ALLOW],
        check: Check::Image(check),
        needs_layers: true,
    };
}

const ALLOW: OptionSpec = OptionSpec {
    name: "allow",
    kind: OptionKind::StringList,
    doc: "Absolute paths of setuid/setgid files the image may keep.",
};

fn check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    let Some(filesystem) = super::filesystem(ctx, out) else {
        return;
    };
    let allowed = ctx.options.list(ALLOW.name);
    for (path, entry) in &filesystem.files {
        if !matches!(entry.kind, FileKind::Regular | FileKind::HardLink) {
            continue;
        }
        let bits = match (entry.mode & 0o4000 != 0, entry.mode & 0o2000 != 0) {
            (true, true) => "setuid and setgid",
            (true, false) => "setuid",
            (false, true) => "setgid",
            (false, false) => continue,
        };
        if allowed.iter().any(|a| a == path) {
            continue;
        }
        out.push(
            Span::default(),
            format!(
                "`{path}` is {bits} (mode {:04o}, owner {}:{}), added by {}; remove the bit in \
                 the build, or list the path in `allow`",
                entry.mode & 0o7777,
                entry.uid,
                entry.gid,
                super::layer_name(ctx, entry.layer)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::image::testing::{messages_with, with_filesystem};
    use crate::rules::OptionValue;

    fn image() -> crate::image::ImageFacts {
        with_filesystem(|fs| {
            fs.add("/usr/bin/passwd", FileKind::Regular, 0o4755, 60_000);
            fs.add("/usr/bin/chage", FileKind::Regular, 0o2755, 70_000);
            fs.add("/usr/bin/both", FileKind::Regular, 0o6755, 70_000);
            fs.add("/tmp", FileKind::Directory, 0o1777, 0);
            fs.add("/var/mail", FileKind::Directory, 0o2775, 0);
            fs.add("/usr/bin/ls", FileKind::Regular, 0o755, 140_000);
        })
    }

    #[test]
    fn catches_setuid_and_setgid_files() {
        let found = messages_with(&RULE, &image(), &[]);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("`/usr/bin/both` is setuid and setgid (mode 6755"),
            "{}",
            found[0]
        );
        assert!(
            found[1].starts_with("`/usr/bin/chage` is setgid (mode 2755"),
            "{}",
            found[1]
        );
        assert!(
            found[2].starts_with("`/usr/bin/passwd` is setuid (mode 4755, owner 0:0)"),
            "{}",
            found[2]
        );
    }

    #[test]
    fn does_not_catch_directories_plain_files_or_allowed_paths() {
        let allow = OptionValue::List(vec![
            "/usr/bin/passwd".into(),
            "/usr/bin/chage".into(),
            "/usr/bin/both".into(),
        ]);
        assert!(messages_with(&RULE, &image(), &[("allow", allow)]).is_empty());
    }
}
