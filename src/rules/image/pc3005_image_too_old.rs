use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, ImageContext, OptionKind, OptionSpec};
use std::time::SystemTime;

/// The age limit when the policy enables the rule without `max_days`.
const DEFAULT_MAX_DAYS: i64 = 365;
const SECONDS_PER_DAY: i64 = 86_400;

crate::declare_rule! {
    /// Image was built longer ago than the policy allows.
    ///
    /// Reads the image config's `created` time and reports an image older than `max_days`
    /// days (365 when the option is not set). Off unless the policy enables it.
    ///
    /// An image without a `created` time, or created at the Unix epoch (1970-01-01: what
    /// reproducible builders such as ko, Bazel, Nix and distroless write), carries no build
    /// date; it is not judged, and a note says so. A `created` time that is not RFC 3339 is
    /// reported, since the age cannot be checked.
    ///
    /// ## Why
    /// An image is a snapshot of its packages: the longer since it was built, the more
    /// security fixes it is missing. Rebuilding regularly (from a refreshed base image) is
    /// how fixes reach production; a maximum age makes "regularly" a gate, not a hope.
    ///
    /// ## Example
    /// With `max_days: 90`, an image created 120 days ago is reported. Rebuild it (with
    /// `--pull`, so the base image is refreshed too) and push the new digest.
    pub static RULE = Rule {
        id: "PC3005",
        name: "image-too-old",
        severity: Severity::Medium,
        enabled_by_default: false,
        options: &[OptionSpec {
            name: "max_days",
            kind: OptionKind::Integer,
            doc: "The oldest an image may be, in days (default 365).",
        }],
        check: Check::Image(check),
    };
}

fn check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    let max_days = ctx
        .options
        .integer("max_days")
        .unwrap_or(DEFAULT_MAX_DAYS)
        .max(0);
    let Some(created) = ctx.platform.config.created.as_deref() else {
        out.note("an image has no `created` time; its age was not checked");
        return;
    };
    let Some(seconds) = rfc3339_seconds(created) else {
        out.push(
            Span::default(),
            format!(
                "the image's `created` time `{}` is not an RFC 3339 date-time, so its age \
                 cannot be checked",
                created.chars().take(40).collect::<String>()
            ),
        );
        return;
    };
    if seconds <= 0 {
        out.note(
            "an image was created at the Unix epoch (a reproducible build); its age was not checked",
        );
        return;
    }
    let now = unix_seconds(ctx.now);
    let age_days = (now - seconds) / SECONDS_PER_DAY;
    if age_days > max_days {
        out.push(
            Span::default(),
            format!(
                "the image was created {age_days} days ago ({}), more than the policy's \
                 {max_days}; rebuild it to pick up security fixes",
                created.get(..10).unwrap_or(created)
            ),
        );
    }
}

fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Seconds since the Unix epoch of an RFC 3339 date-time (`2024-01-02T03:04:05.123Z`,
/// `…+02:00`; a space or lower-case `t` may separate date and time).
fn rfc3339_seconds(text: &str) -> Option<i64> {
    crate::rfc3339::seconds(text.trim(), crate::rfc3339::Separator::OrSpace)
}

/// `now` minus `days` days, for tests.
#[cfg(test)]
fn days_before(now: SystemTime, days: u64) -> SystemTime {
    now - std::time::Duration::from_secs(days * SECONDS_PER_DAY as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageConfig;
    use crate::rules::image::testing::{image, messages_with, now};
    use crate::rules::OptionValue;

    fn created(text: &str) -> crate::image::ImageFacts {
        image(
            ImageConfig {
                created: Some(text.to_string()),
                ..ImageConfig::default()
            },
            &[1],
        )
    }

    fn rfc3339(time: SystemTime) -> String {
        let seconds = unix_seconds(time);
        let date = crate::policy::Date::from_days_since_epoch((seconds / SECONDS_PER_DAY) as u64);
        format!("{date}T12:00:00Z")
    }

    #[test]
    fn parses_rfc3339() {
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_seconds("2025-01-01T00:00:00Z"), Some(1_735_689_600));
        assert_eq!(
            rfc3339_seconds("2025-01-01T02:00:00.123456789+02:00"),
            Some(1_735_689_600)
        );
        assert_eq!(
            rfc3339_seconds("2024-02-29 23:59:59-00:30"),
            Some(1_709_251_199 + 1800)
        );
        for bad in [
            "",
            "2025-01-01",
            "2025-13-01T00:00:00Z",
            "2025-01-01T00:00:00",
            "yesterday!!!!!!!!!!!",
        ] {
            assert_eq!(rfc3339_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn catches_images_older_than_max_days() {
        let old = created(&rfc3339(days_before(now(), 400)));
        let found = messages_with(&RULE, &old, &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("created 399 days ago") || found[0].contains("created 400 days ago"),
            "{found:?}"
        );
        let recent = created(&rfc3339(days_before(now(), 100)));
        assert_eq!(
            messages_with(&RULE, &recent, &[("max_days", OptionValue::Integer(30))]).len(),
            1
        );
        assert_eq!(messages_with(&RULE, &created("not a date"), &[]).len(), 1);
    }

    #[test]
    fn does_not_catch_recent_undated_or_epoch_images() {
        let recent = created(&rfc3339(days_before(now(), 10)));
        assert!(messages_with(&RULE, &recent, &[]).is_empty());
        assert!(messages_with(&RULE, &created("1970-01-01T00:00:00Z"), &[]).is_empty());
        assert!(messages_with(&RULE, &image(ImageConfig::default(), &[1]), &[]).is_empty());
        // A clock behind the build time is not an old image.
        assert!(messages_with(&RULE, &created("2030-01-01T00:00:00Z"), &[]).is_empty());
    }
}
