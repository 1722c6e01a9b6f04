use super::util::{check_typed_labels, LABEL_SCHEMA};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// A label the label schema types as `rfc3339` is not an RFC 3339 date-time.
    ///
    /// Checks the labels the label schema gives type `rfc3339`, as the built image gets
    /// them (the last `LABEL` of the final stage or a stage it is built `FROM`). The value
    /// must be a full date-time with a zone, like `2024-06-01T12:30:00Z` or
    /// `2024-06-01T14:30:00.5+02:00`, with real dates (no February 30). Values from variables
    /// are resolved from the stage's `ARG`s and `ENV`s; ones without a known value (the usual
    /// `ARG BUILD_DATE` filled in by CI) are not judged, and empty ones are `DL3051`'s.
    ///
    /// ## Why
    /// `org.opencontainers.image.created` is defined as an RFC 3339 date-time; tools that sort
    /// or age images by it cannot read `June 1st` or `2024-06-01 12:30`.
    ///
    /// ## Example
    /// With `label_schema: {org.opencontainers.image.created: rfc3339}` in the policy:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.created="2024-06-01 12:30"
    /// ```
    /// Use the full format (or pass it from CI: `--build-arg CREATED=$(date -u +%FT%TZ)`):
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.created="2024-06-01T12:30:00Z"
    /// ```
    pub static RULE = Rule {
        id: "DL3053",
        name: "invalid-rfc3339-label",
        severity: Severity::Medium,
        options: &[LABEL_SCHEMA],
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    check_typed_labels(
        ctx,
        out,
        "rfc3339",
        is_rfc3339,
        "is not an RFC 3339 date-time (like 2024-06-01T12:30:00Z)",
    );
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, `T` and `Z` in either case.
fn is_rfc3339(value: &str) -> bool {
    let b = value.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let digits = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (Some(year), Some(month), Some(day)) = (digits(0, 4), digits(5, 2), digits(8, 2)) else {
        return false;
    };
    let (Some(hour), Some(minute), Some(second)) = (digits(11, 2), digits(14, 2), digits(17, 2))
    else {
        return false;
    };
    let separators = b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't')
        && b[13] == b':'
        && b[16] == b':';
    if !separators || !(1..=12).contains(&month) || day == 0 || day > days_in(year, month) {
        return false;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut rest = &value[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return false;
        }
        rest = &fraction[len..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            let all_digits = [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit());
            all_digits
                && (h1 - b'0') * 10 + (h2 - b'0') <= 23
                && (m1 - b'0') * 10 + (m2 - b'0') <= 59
        }
        _ => false,
    }
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::{is_rfc3339, RULE};
    use crate::rules::dockerfile::testing::{lint_with, map};

    const CREATED: &str = "org.opencontainers.image.created";

    #[test]
    fn catches_other_formats() {
        let schema = [("schema", map(&[(CREATED, "rfc3339")]))];
        let src = "FROM a\nLABEL org.opencontainers.image.created=\"2024-06-01 12:30\"\n";
        assert_eq!(lint_with(&RULE, src, &schema), vec![2]);
        let arg =
            "FROM a\nARG CREATED=yesterday\nLABEL org.opencontainers.image.created=$CREATED\n";
        assert_eq!(lint_with(&RULE, arg, &schema), vec![3]);
        for bad in [
            "2024-06-01",
            "2024-06-01T12:30:00",
            "2024-02-30T12:30:00Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-06-01T24:00:00Z",
            "2024-06-01T12:30:00.Z",
            "2024-06-01T12:30:00+0200",
            "2024-06-01T12:30:00+24:00",
            "２０２４-06-01T12:30:00Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn does_not_catch_valid_or_unknown_dates() {
        let schema = [("schema", map(&[(CREATED, "rfc3339")]))];
        for src in [
            "FROM a\nLABEL org.opencontainers.image.created=2024-06-01T12:30:00Z\n",
            "FROM a\nARG BUILD_DATE\nLABEL org.opencontainers.image.created=$BUILD_DATE\n",
        ] {
            assert_eq!(lint_with(&RULE, src, &schema), Vec::<usize>::new(), "{src}");
        }
        for good in [
            "2024-06-01T12:30:00Z",
            "2024-06-01t12:30:00z",
            "2024-02-29T23:59:60.123456+05:30",
            "2000-02-29T00:00:00-00:00",
        ] {
            assert!(is_rfc3339(good), "{good}");
        }
    }
}
