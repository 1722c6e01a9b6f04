use super::rpm_package_managers::{report_uncleaned_yum_caches, YUM};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `yum` leaves its package cache in the image.
    ///
    /// Flags a RUN whose `yum install` (or `update`, `groupinstall`, `makecache`, …) is not
    /// followed, in the same RUN, by `yum clean all` (`dnf clean all` also counts) or by
    /// removing `/var/cache/yum`. A cleanup before the install, or in a later RUN, does not
    /// help: the cache is already in the install's layer. A `--mount=type=cache` (or `tmpfs`)
    /// at `/var/cache/yum` keeps the cache out of the layer and passes. Stages whose files
    /// never reach the built image (a builder stage that only has other paths copied out of
    /// it) are not flagged; `ONBUILD` triggers always are. `dnf` is `DL3040`.
    ///
    /// ## Why
    /// Repository metadata and downloaded packages add tens to hundreds of megabytes to every
    /// image that ships them, and slow every pull, for files nothing at run time reads.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN yum install -y httpd-2.4.6
    /// ```
    /// Clean up in the same RUN:
    /// ```dockerfile
    /// RUN yum install -y httpd-2.4.6 && yum clean all && rm -rf /var/cache/yum
    /// ```
    pub static RULE = Rule {
        id: "DL3032",
        name: "yum-cache-not-cleaned",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    report_uncleaned_yum_caches(ctx, out, YUM);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_installs_without_cleanup() {
        for src in [
            "FROM centos:7\nRUN yum install -y mariadb-10.4\n",
            "FROM centos:7\nRUN yum clean all && yum install -y mariadb-10.4\n",
            "FROM centos:7\nRUN yum install -y mariadb-10.4\nRUN yum clean all\n",
            "FROM centos:7\nRUN yum update -y && yum clean all && yum install -y x-1\n",
            "FROM centos:7\nRUN yum install -y a-1 && yum clean packages\n",
            "FROM centos:7\nRUN sudo yum install -y a-1\n",
            "FROM centos:7\nRUN [\"yum\", \"install\", \"-y\", \"a-1\"]\n",
            "FROM centos:7\nRUN --mount=type=cache,target=/root/.cache yum install -y a-1\n",
            "FROM centos:7\nONBUILD RUN yum install -y mariadb-10.4\n",
            "FROM centos:7 AS base\nRUN yum install -y a-1\nFROM base\n",
            "FROM centos:7 AS build\nRUN yum install -y a-1\nFROM scratch\nCOPY --from=build / /\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn reports_the_last_install() {
        let src =
            "FROM centos:7\nRUN <<EOF\nyum install -y a-1\nyum install -y b-1\necho ok\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
        assert_eq!(
            messages(&RULE, "FROM centos:7\nRUN yum makecache\n"),
            vec![
                "`yum makecache` leaves its package cache in the layer; end this RUN with \
                  `yum clean all` (or mount a cache at `/var/cache/yum`)"
            ]
        );
    }

    #[test]
    fn does_not_catch_cleanups_mounts_or_builder_stages() {
        for src in [
            "FROM centos:7\nRUN yum install -y mariadb-10.4 && yum clean all\n",
            "FROM centos:7\nRUN yum install -y a-1 && rm -rf /var/cache/yum/*\n",
            "FROM centos:7\nRUN yum install -y a-1 && dnf clean all\n",
            "FROM centos:7\nRUN <<EOF\nset -e\nyum install -y a-1\nyum clean all\nEOF\n",
            "FROM centos:7\nRUN --mount=type=cache,target=/var/cache/yum yum install -y a-1\n",
            "FROM centos:7\nRUN --mount=type=tmpfs,target=/var/cache yum install -y a-1\n",
            "FROM centos:7 AS build\nRUN yum install -y gcc-4.8.5 && make\n\
             FROM scratch\nCOPY --from=build /app /app\n",
            "FROM centos:7\nRUN yum list installed && yum clean all\n",
            "FROM centos:7\nRUN bash -c `# not even a yum command`\n",
            "FROM centos:7\nSHELL [\"cmd\", \"/S\", \"/C\"]\nRUN yum install -y a-1\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
