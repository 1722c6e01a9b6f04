use super::rpm_package_managers::{report_uncleaned_yum_caches, DNF};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `dnf` leaves its package cache in the image.
    ///
    /// Flags a RUN whose `dnf install` (or `upgrade`, `group install`, `makecache`, …; also
    /// `dnf5`, `microdnf` and `tdnf`) is not followed, in the same RUN, by a `clean all` of
    /// the family (`dnf`, `microdnf`, `yum`, …) or by removing the cache directory
    /// (`/var/cache/dnf` or `/var/cache/yum`; `/var/cache/libdnf5` for dnf5,
    /// `/var/cache/tdnf` for tdnf). A cleanup before the install, or in a later RUN, does not
    /// help: the cache is already in the install's layer. A `--mount=type=cache` (or `tmpfs`)
    /// over the cache directory passes. Stages whose files never reach the built image (a
    /// builder stage that only has other paths copied out of it) are not flagged; `ONBUILD`
    /// triggers always are. `yum` is `DL3032`.
    ///
    /// ## Why
    /// Repository metadata and downloaded packages add tens to hundreds of megabytes to every
    /// image that ships them, and slow every pull, for files nothing at run time reads.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN microdnf install -y httpd-2.4.57
    /// ```
    /// Clean up in the same RUN:
    /// ```dockerfile
    /// RUN microdnf install -y httpd-2.4.57 && microdnf clean all
    /// ```
    pub static RULE = Rule {
        id: "DL3040",
        name: "dnf-cache-not-cleaned",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    report_uncleaned_yum_caches(ctx, out, DNF);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_installs_without_cleanup() {
        for src in [
            "FROM fedora:40\nRUN dnf install -y mariadb-10.4\n",
            "FROM ubi9/ubi-minimal\nRUN microdnf install -y mariadb-10.4\n",
            "FROM fedora:40\nRUN microdnf clean all && dnf install -y mariadb-10.4\n",
            "FROM fedora:41\nRUN dnf5 install -y a-1 && rm -rf /var/cache/dnf\n",
            "FROM photon:5.0\nRUN tdnf install -y a-1 && rm -rf /var/cache/yum\n",
            "FROM fedora:40\nRUN dnf -y upgrade\n",
            "FROM fedora:40\nRUN sh -c 'dnf install -y a-1'\n",
            "FROM fedora:40\nONBUILD RUN dnf install -y a-1\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn does_not_catch_cleanups_mounts_or_builder_stages() {
        for src in [
            "FROM fedora:40\nRUN dnf install -y mariadb-10.4 && dnf clean all\n",
            "FROM fedora:40\nRUN microdnf install -y mariadb-10.4 && microdnf clean all\n",
            "FROM fedora:40\nRUN dnf install -y mariadb-10.4 && rm -rf /var/cache/yum/*\n",
            "FROM fedora:40\nRUN microdnf install -y a-1 && rm -rf /var/cache/yum\n",
            "FROM fedora:40\nRUN dnf install -y a-1 && yum clean all\n",
            "FROM fedora:40\nRUN dnf5 install -y a-1 && dnf5 clean all\n",
            "FROM photon:5.0\nRUN tdnf install -y a-1 && tdnf clean all\n",
            "FROM fedora:40\nRUN --mount=type=cache,target=/var/cache/dnf dnf install -y a-1\n",
            "FROM fedora:40 AS build\nRUN dnf install -y gcc-13 && make\n\
             FROM scratch\nCOPY --from=build /out/app /app\n",
            "FROM fedora:40\nRUN notdnf install mariadb\n",
            "FROM fedora:40\nRUN yum install -y mariadb-10.4\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
