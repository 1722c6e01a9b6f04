use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, ImageContext};

crate::declare_rule! {
    /// Image has no health check.
    ///
    /// Reports an image whose config has no `Healthcheck`, or one that turns health checks
    /// off (`HEALTHCHECK NONE`). A health check set by a base image counts. Off unless the
    /// policy enables it, like its Dockerfile counterpart `DL3057`: many images are run by
    /// orchestrators that probe health themselves (Kubernetes ignores `HEALTHCHECK`).
    ///
    /// ## Why
    /// Without a health check, Docker and Swarm only know whether the process is running, not
    /// whether it works: a hung server stays in rotation until someone notices.
    ///
    /// ## Example
    /// An image built without `HEALTHCHECK` is reported. Add one:
    /// ```dockerfile
    /// HEALTHCHECK --interval=30s --timeout=3s CMD ["/app/healthcheck"]
    /// ```
    pub static RULE = Rule {
        id: "PC3004",
        name: "image-without-healthcheck",
        severity: Severity::Low,
        enabled_by_default: false,
        check: Check::Image(check),
    };
}

fn check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    let message = match &ctx.platform.config.healthcheck {
        None => "the image has no health check; add a `HEALTHCHECK`",
        Some(h) if h.is_disabled() || h.test.is_empty() => {
            "the image turns its health check off (`HEALTHCHECK NONE`); add a `HEALTHCHECK`"
        }
        Some(_) => return,
    };
    out.push(Span::default(), message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{Healthcheck, ImageConfig};
    use crate::rules::image::testing::messages;

    fn with(test: Option<&[&str]>) -> ImageConfig {
        ImageConfig {
            healthcheck: test.map(|t| Healthcheck {
                test: t.iter().map(|s| s.to_string()).collect(),
                ..Healthcheck::default()
            }),
            ..ImageConfig::default()
        }
    }

    #[test]
    fn catches_missing_and_disabled_health_checks() {
        assert_eq!(messages(&RULE, with(None)).len(), 1);
        let found = messages(&RULE, with(Some(&["NONE"])));
        assert!(found[0].contains("HEALTHCHECK NONE"), "{found:?}");
    }

    #[test]
    fn does_not_catch_a_health_check() {
        assert!(messages(&RULE, with(Some(&["CMD", "/app/health"]))).is_empty());
        assert!(messages(&RULE, with(Some(&["CMD-SHELL", "curl -f localhost"]))).is_empty());
    }
}
