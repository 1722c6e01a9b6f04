//! Helpers for the yum, dnf and zypper rules (DL3030–DL3041): reading their command lines,
//! which subcommands prompt or fill the cache, what pins an RPM package, and cache cleanup.

use super::package_managers::{
    flag_values, has_flag, list, operands, runs, Arg, Command, Run, Syntax,
};
use crate::rules::{Diagnostics, DockerfileContext};

/// Programs of the yum family.
pub const YUM: &[&str] = &["yum"];

/// Programs of the dnf family: dnf 4 and 5, `microdnf` (UBI minimal images) and `tdnf`
/// (Photon OS, Azure Linux), which share dnf's command line.
pub const DNF: &[&str] = &["dnf", "dnf-3", "dnf4", "dnf5", "microdnf", "tdnf"];

/// The zypper program (openSUSE, SLE).
pub const ZYPPER: &[&str] = &["zypper"];

/// Where zypper keeps repository metadata and packages.
pub const ZYPPER_CACHE: &[&str] = &["/var/cache/zypp"];

/// The command-line dialect of yum, dnf, microdnf and tdnf.
const YUM_SYNTAX: Syntax = Syntax {
    short_with_value: "cdexR",
    long_with_value: &[
        "config",
        "debuglevel",
        "errorlevel",
        "exclude",
        "excludepkgs",
        "randomwait",
        "installroot",
        "enablerepo",
        "disablerepo",
        "repo",
        "repoid",
        "setopt",
        "releasever",
        "color",
        "downloaddir",
        "destdir",
        "forcearch",
        "comment",
        "repofrompath",
        "rpmverbosity",
        "disableplugin",
        "enableplugin",
        "disableexcludes",
        "disableexcludepkgs",
        "advisory",
        "advisories",
        "bz",
        "bzs",
        "cve",
        "cves",
        "sec-severity",
        "secseverity",
        "arch",
    ],
    single_dash_long: false,
};

/// The command-line dialect of zypper (global options and those of its install commands).
const ZYPPER_SYNTAX: Syntax = Syntax {
    short_with_value: "cRDrt",
    long_with_value: &[
        "config",
        "root",
        "reposd-dir",
        "cache-dir",
        "raw-cache-dir",
        "solv-cache-dir",
        "pkg-cache-dir",
        "userdata",
        "repo",
        "type",
        "from",
        "download",
    ],
    single_dash_long: false,
};

/// One yum, dnf or zypper command line, read.
pub struct Invocation<'a> {
    /// The program's file name (`dnf`, `microdnf`, …).
    pub program: &'a str,
    pub args: Vec<Arg<'a>>,
    /// Operands in order: the subcommand first.
    pub operands: Vec<&'a str>,
}

impl<'a> Invocation<'a> {
    /// Reads `command` when its program is one of `programs`.
    pub fn read(command: &'a Command, programs: &[&str]) -> Option<Self> {
        let program = command.cmd.program_name()?;
        if !programs.contains(&program) {
            return None;
        }
        let syntax = if program == "zypper" {
            &ZYPPER_SYNTAX
        } else {
            &YUM_SYNTAX
        };
        let args = syntax.parse(command.cmd.args());
        let operands = operands(&args, false);
        Some(Invocation {
            program,
            args,
            operands,
        })
    }

    pub fn subcommand(&self) -> Option<&'a str> {
        self.operands.first().copied()
    }

    /// The operand after the subcommand (`install` in `dnf module install`).
    pub fn action(&self) -> Option<&'a str> {
        self.operands.get(1).copied()
    }

    /// The subcommand, with the action for `group` and `module` (`module install`).
    pub fn describe(&self) -> String {
        match (self.subcommand(), self.action()) {
            (Some(sub @ ("group" | "groups" | "module")), Some(action)) => {
                format!("{} {sub} {action}", self.program)
            }
            (Some(sub), _) => format!("{} {sub}", self.program),
            (None, _) => self.program.to_string(),
        }
    }

    pub fn has_flag(&self, names: &[&str]) -> bool {
        has_flag(&self.args, names)
    }

    /// Whether the command answers prompts itself: `-y`/`--assumeyes` (or `--assumeno`), or
    /// `--setopt=assumeyes=1`.
    pub fn assumes_yes(&self) -> bool {
        self.has_flag(&["y", "assumeyes", "assumeno"])
            || flag_values(&self.args, &["setopt"])
                .flatten()
                .any(|v| is_true_setting(v, "assumeyes"))
    }

    /// Whether yum or dnf asks for confirmation before this subcommand changes the system.
    pub fn yum_prompts(&self) -> bool {
        const PROMPTING: &[&str] = &[
            "install",
            "in",
            "localinstall",
            "reinstall",
            "rei",
            "groupinstall",
            "groupupdate",
            "groupremove",
            "update",
            "upgrade",
            "up",
            "update-minimal",
            "upgrade-minimal",
            "distro-sync",
            "distrosync",
            "dsync",
            "downgrade",
            "dg",
            "remove",
            "erase",
            "rm",
            "autoremove",
            "swap",
        ];
        match (self.subcommand(), self.action()) {
            (Some("group" | "groups"), Some(action)) => {
                matches!(action, "install" | "remove" | "upgrade" | "update")
            }
            (Some("module"), Some(action)) => matches!(
                action,
                "enable"
                    | "disable"
                    | "reset"
                    | "install"
                    | "remove"
                    | "update"
                    | "upgrade"
                    | "switch-to"
            ),
            (Some(sub), _) => PROMPTING.contains(&sub),
            (None, _) => false,
        }
    }

    /// Whether yum or dnf downloads repository metadata or packages into its cache here.
    pub fn yum_fills_cache(&self) -> bool {
        const FILLING: &[&str] = &[
            "install",
            "in",
            "localinstall",
            "reinstall",
            "rei",
            "groupinstall",
            "groupupdate",
            "update",
            "upgrade",
            "up",
            "update-minimal",
            "upgrade-minimal",
            "distro-sync",
            "distrosync",
            "dsync",
            "downgrade",
            "dg",
            "makecache",
            "mc",
        ];
        match (self.subcommand(), self.action()) {
            (Some("group" | "groups" | "module"), Some(action)) => {
                matches!(action, "install" | "upgrade" | "update" | "enable")
            }
            (Some(sub), _) => FILLING.contains(&sub),
            (None, _) => false,
        }
    }

    /// Whether this is `<yum or dnf> clean all`.
    pub fn is_clean_all(&self) -> bool {
        self.subcommand() == Some("clean") && self.operands.contains(&"all")
    }

    /// Whether zypper runs without asking: `-n`/`--non-interactive` before the subcommand
    /// (after it, `-n` means `--name`), or `-y`/`--no-confirm` after it.
    pub fn zypper_non_interactive(&self) -> bool {
        let first_operand = self
            .args
            .iter()
            .position(|a| matches!(a, Arg::Word(_)))
            .unwrap_or(self.args.len());
        let (global, local) = self.args.split_at(first_operand);
        has_flag(global, &["n", "non-interactive"])
            || has_flag(local, &["y", "no-confirm", "non-interactive"])
    }

    /// Whether this zypper subcommand asks before changing the system.
    pub fn zypper_prompts(&self) -> bool {
        matches!(
            self.subcommand(),
            Some(
                "install"
                    | "in"
                    | "remove"
                    | "rm"
                    | "source-install"
                    | "si"
                    | "patch"
                    | "update"
                    | "up"
                    | "dist-upgrade"
                    | "dup"
                    | "install-new-recommends"
                    | "inr"
            )
        )
    }

    /// Whether zypper downloads repository metadata or packages into its cache here.
    pub fn zypper_fills_cache(&self) -> bool {
        matches!(
            self.subcommand(),
            Some(
                "install"
                    | "in"
                    | "source-install"
                    | "si"
                    | "patch"
                    | "update"
                    | "up"
                    | "dist-upgrade"
                    | "dup"
                    | "install-new-recommends"
                    | "inr"
                    | "refresh"
                    | "ref"
            )
        )
    }

    /// The packages a zypper `install` names, or `None` for another subcommand or for
    /// `--type` other than `package` (patterns, patches and products have no versions).
    pub fn zypper_install_targets(&self) -> Option<&[&'a str]> {
        if !matches!(self.subcommand()?, "install" | "in") {
            return None;
        }
        let other_type = flag_values(&self.args, &["t", "type"])
            .flatten()
            .any(|t| t != "package");
        if other_type {
            return None;
        }
        self.operands.get(1..)
    }

    /// The packages a yum or dnf `install` names, or `None` for another subcommand.
    /// `module install` names modules (`nodejs:18`).
    pub fn yum_install_targets(&self) -> Option<(InstallKind, &[&'a str])> {
        match (self.subcommand()?, self.action()) {
            ("install" | "in", _) => Some((InstallKind::Package, self.operands.get(1..)?)),
            ("module", Some("install")) => Some((InstallKind::Module, self.operands.get(2..)?)),
            _ => None,
        }
    }
}

/// What an install names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallKind {
    Package,
    Module,
}

/// Whether `setting` (`assumeyes=1`) sets `name` to a true value.
fn is_true_setting(setting: &str, name: &str) -> bool {
    setting.split_once('=').is_some_and(|(key, value)| {
        key.trim().eq_ignore_ascii_case(name)
            && matches!(
                value.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
    })
}

/// Whether a package argument names a file rather than a package from a repository: an
/// `.rpm`, a URL or a path.
pub fn is_rpm_file(spec: &str) -> bool {
    spec.ends_with(".rpm")
        || spec.contains("://")
        || ["/", "./", "../", "~/"].iter().any(|p| spec.starts_with(p))
}

/// Whether a yum/dnf package argument can be judged at all: `@group` names and capabilities
/// such as `dnf-command(config-manager)` have no version syntax of their own.
pub fn is_judgeable_rpm_spec(spec: &str) -> bool {
    !spec.is_empty() && !spec.starts_with('@') && !spec.contains('(')
}

/// Whether a yum/dnf package argument fixes a version: `name-version[-release][.arch]` (the
/// part after the last `-` starts with a digit, or with a variable), an epoch
/// (`openssl-1:3.0.7`), a comparison (`name >= 1.2`), or an RPM file.
pub fn rpm_spec_is_pinned(spec: &str) -> bool {
    if is_rpm_file(spec) || spec.contains(['=', '<', '>']) {
        return true;
    }
    spec.rsplit_once('-').is_some_and(|(name, tail)| {
        !name.is_empty() && tail.starts_with(|c: char| c.is_ascii_digit() || c == '$')
    })
}

/// Whether a zypper package argument fixes a version (`name=1.2`, `name>=1.2`, `name<2`) or
/// names an RPM file.
pub fn zypper_spec_is_pinned(spec: &str) -> bool {
    is_rpm_file(spec)
        || spec
            .find(['=', '<', '>'])
            .is_some_and(|at| at > 0 && at + 1 < spec.len())
}

/// Whether a `module install` argument names a stream (`nodejs:18`, `nodejs:18/common`).
pub fn module_spec_is_pinned(spec: &str) -> bool {
    spec.split_once(':')
        .is_some_and(|(name, stream)| !name.is_empty() && !stream.is_empty())
}

/// Where a yum/dnf family program keeps its cache. Versions differ (dnf and microdnf use
/// `/var/cache/dnf` or `/var/cache/yum`, and `dnf` is dnf5 on recent Fedora, which uses
/// `/var/cache/libdnf5`), so each of them counts for the generic names.
pub fn cache_dirs(program: &str) -> &'static [&'static str] {
    match program {
        "dnf5" => &["/var/cache/libdnf5"],
        "tdnf" => &["/var/cache/tdnf"],
        "dnf" => &["/var/cache/dnf", "/var/cache/yum", "/var/cache/libdnf5"],
        _ => &["/var/cache/yum", "/var/cache/dnf"],
    }
}

/// Whether a RUN leaves the yum/dnf cache that `invocation` (at `position` in
/// [`Run::commands`]) fills in the layer: no `clean all` of the family and no removal of the
/// cache directory after it, and no cache or tmpfs mount over the directory.
pub fn leaves_yum_cache(run: &Run<'_>, position: usize, invocation: &Invocation<'_>) -> bool {
    let dirs = cache_dirs(invocation.program);
    if run.mounts_over(dirs) || run.removes_after(position, dirs) {
        return false;
    }
    let family: Vec<&str> = YUM.iter().chain(DNF).copied().collect();
    !run.commands
        .iter()
        .skip(position + 1)
        .any(|c| Invocation::read(c, &family).is_some_and(|later| later.is_clean_all()))
}

/// The position of the last command in `run` that fills a yum/dnf cache, with the command,
/// for programs in `programs`.
pub fn last_yum_cache_fill<'r>(
    run: &'r Run<'_>,
    programs: &[&str],
) -> Option<(usize, Invocation<'r>)> {
    run.commands
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Invocation::read(c, programs).map(|inv| (i, inv)))
        .rfind(|(_, inv)| inv.yum_fills_cache())
}

/// Reports the `install`s (and `module install`s) of `programs` that name packages without a
/// version or modules without a stream, with `ARG`/`ENV` values expanded.
pub fn report_unpinned_installs(
    ctx: &DockerfileContext<'_>,
    out: &mut Diagnostics,
    programs: &[&str],
) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for command in run.commands {
            let Some(invocation) = Invocation::read(command, programs) else {
                continue;
            };
            let Some((kind, targets)) = invocation.yum_install_targets() else {
                continue;
            };
            let unpinned: Vec<String> = targets
                .iter()
                .flat_map(|word| run.expand(facts, word))
                .filter(|spec| match kind {
                    InstallKind::Package => {
                        is_judgeable_rpm_spec(spec) && !rpm_spec_is_pinned(spec)
                    }
                    InstallKind::Module => !module_spec_is_pinned(spec),
                })
                .collect();
            if unpinned.is_empty() {
                continue;
            }
            let message = match kind {
                InstallKind::Package => format!(
                    "`{}` without a version for {}; pin it as `<package>-<version>`",
                    invocation.describe(),
                    list(&unpinned)
                ),
                InstallKind::Module => format!(
                    "`{}` without a stream for {}; name it as `<module>:<stream>`",
                    invocation.describe(),
                    list(&unpinned)
                ),
            };
            out.push(run.span(facts, command), message);
        }
    }
}

/// Reports each RUN whose last cache-filling command of `programs` leaves the yum/dnf cache
/// in a layer that reaches the built image.
pub fn report_uncleaned_yum_caches(
    ctx: &DockerfileContext<'_>,
    out: &mut Diagnostics,
    programs: &[&str],
) {
    let facts = ctx.facts;
    for run in runs(facts) {
        let Some((position, invocation)) = last_yum_cache_fill(&run, programs) else {
            continue;
        };
        let dirs = cache_dirs(invocation.program);
        if !leaves_yum_cache(&run, position, &invocation) || !run.reaches_image(facts, dirs) {
            continue;
        }
        let Some(command) = run.commands.get(position) else {
            continue;
        };
        out.push(
            run.span(facts, command),
            format!(
                "`{}` leaves its package cache in the layer; end this RUN with `{} clean all` \
                 (or mount a cache at `{}`)",
                invocation.describe(),
                invocation.program,
                dirs.first().copied().unwrap_or("/var/cache")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpm_specs() {
        for pinned in [
            "tomcat-9.0.1",
            "openssl-1:1.1.1k",
            "gcc-c++-1.1.1",
            "rpm-sign-4.16.1.3",
            "java-17-openjdk-headless-17.0.9.0.9-2.el9",
            "tomcat-${VERSION}",
            "foo-1.*",
            "foo >= 1.2",
            "/tmp/x.rpm",
            "https://example.com/x.rpm",
            "./pkgs/foo",
        ] {
            assert!(rpm_spec_is_pinned(pinned), "{pinned}");
        }
        for unpinned in ["tomcat", "rpm-sign", "java-17-openjdk", "python3.11", "-x"] {
            assert!(!rpm_spec_is_pinned(unpinned), "{unpinned}");
        }
        assert!(!is_judgeable_rpm_spec("@development-tools"));
        assert!(!is_judgeable_rpm_spec("dnf-command(config-manager)"));
        assert!(module_spec_is_pinned("nodejs:18/common"));
        assert!(!module_spec_is_pinned("nodejs"));
        assert!(!module_spec_is_pinned("nodejs/common"));
    }

    #[test]
    fn zypper_specs() {
        for pinned in [
            "tomcat=9.0.39",
            "tomcat>=9.0",
            "tomcat<9",
            "x-1.rpm",
            "tomcat=$V",
        ] {
            assert!(zypper_spec_is_pinned(pinned), "{pinned}");
        }
        for unpinned in ["tomcat", "tomcat-9.0", "=1", "tomcat="] {
            assert!(!zypper_spec_is_pinned(unpinned), "{unpinned}");
        }
    }

    #[test]
    fn true_settings() {
        assert!(is_true_setting("assumeyes=True", "assumeyes"));
        assert!(!is_true_setting("assumeyes=0", "assumeyes"));
        assert!(!is_true_setting("keepcache=1", "assumeyes"));
    }
}
