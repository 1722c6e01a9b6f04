//! RFC 3339 date-times: the one parser (trusted roots' protojson timestamps, image configs'
//! `created`).

/// What may separate the date from the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separator {
    /// `T` or `t`, as RFC 3339 and protojson write it.
    Strict,
    /// Also a space, which RFC 3339 allows readers to accept (image configs have it).
    OrSpace,
}

/// Unix seconds of `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; the fraction is dropped.
pub fn seconds(text: &str, separator: Separator) -> Option<i64> {
    let bytes = text.as_bytes();
    let separated = match separator {
        Separator::Strict => matches!(bytes.get(10), Some(b'T' | b't')),
        Separator::OrSpace => matches!(bytes.get(10), Some(b'T' | b't' | b' ')),
    };
    if bytes.len() < 20 || !separated {
        return None;
    }
    let number = |range| number_in(text, range);
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| bytes[i] != c) {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let (hours, minutes) = (number_in(rest, 1..3)?, number_in(rest, 4..6)?);
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn number_in(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = text.get(range)?;
    part.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| part.parse().ok())?
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Option<i64> {
        seconds(text, Separator::Strict)
    }

    #[test]
    fn reads_protojson_timestamps() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("2026-01-01T00:00:00Z"), Some(1_767_225_600));
        assert_eq!(parse("2026-06-01T12:00:02.123456Z"), Some(1_780_315_202));
        assert_eq!(parse("2026-06-01T14:00:02+02:00"), Some(1_780_315_202));
        assert_eq!(parse("2000-02-29T00:00:00Z"), Some(951_782_400));
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for text in [
            "",
            "2026-01-01",
            "2026-01-01 00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0200",
            "+026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Zjunk",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn a_space_separates_where_allowed() {
        assert_eq!(
            seconds("2024-02-29 23:59:59-00:30", Separator::OrSpace),
            Some(1_709_252_999)
        );
        assert_eq!(
            seconds("2024-02-29 23:59:59-00:30", Separator::Strict),
            None
        );
    }
}
