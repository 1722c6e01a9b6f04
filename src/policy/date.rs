//! Calendar dates for exception expiry: `YYYY-MM-DD`, compared in UTC.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// A valid proleptic Gregorian date. Ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// A date, if it exists (`2027-02-29` does not).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Today's date in UTC.
    pub fn today() -> Date {
        // A clock set before 1970 is treated as 1970: expiries then never pass early.
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date::from_days_since_epoch(seconds / 86_400)
    }

    /// The date `days` days after 1970-01-01 (Howard Hinnant's `civil_from_days`),
    /// saturating at 9999-12-31.
    pub fn from_days_since_epoch(days: u64) -> Date {
        const LAST_DAY: u64 = 2_932_896; // 9999-12-31
        let z = days.min(LAST_DAY) + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        // The arithmetic keeps every part in range; the fallback is unreachable.
        Date::new(
            u16::try_from(year).unwrap_or(9999),
            u8::try_from(month).unwrap_or(12),
            u8::try_from(day).unwrap_or(31),
        )
        .unwrap_or(Date {
            year: 9999,
            month: 12,
            day: 31,
        })
    }
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl FromStr for Date {
    type Err = String;

    /// Exactly `YYYY-MM-DD`; the reason names what is wrong.
    fn from_str(s: &str) -> Result<Date, String> {
        let parts: Vec<&str> = s.split('-').collect();
        let [y, m, d] = parts.as_slice() else {
            return Err("not in the form YYYY-MM-DD".into());
        };
        let digits =
            |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
        if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
            return Err("not in the form YYYY-MM-DD".into());
        }
        let number = |part: &str| part.parse::<u16>().map_err(|e| e.to_string());
        let (year, month, day) = (number(y)?, number(m)?, number(d)?);
        if !(1..=12).contains(&month) {
            return Err(format!("there is no month {month}"));
        }
        // Both fit: month ≤ 12 and a two-digit day ≤ 99.
        let month = u8::try_from(month).map_err(|e| e.to_string())?;
        let day = u8::try_from(day).map_err(|e| e.to_string())?;
        Date::new(year, month, day).ok_or_else(|| format!("{y}-{m} has no day {day}"))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_valid_dates() {
        for s in [
            "2027-01-31",
            "2024-02-29",
            "2000-02-29",
            "0001-01-01",
            "9999-12-31",
        ] {
            assert_eq!(s.parse::<Date>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejects_impossible_or_malformed_dates() {
        for s in [
            "2027-02-29",
            "1900-02-29",
            "2027-13-01",
            "2027-00-10",
            "2027-04-31",
            "2027-1-31",
            "27-01-31",
            "2027/01/31",
            "2027-01-31T00:00",
            "",
            "0000-01-01",
            "２０２７-01-31",
        ] {
            assert!(s.parse::<Date>().is_err(), "{s} should be rejected");
        }
        assert_eq!(
            "2027-02-29".parse::<Date>().unwrap_err(),
            "2027-02 has no day 29"
        );
    }

    #[test]
    fn orders_chronologically() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert!(d("2026-12-31") < d("2027-01-01"));
        assert!(d("2027-01-09") < d("2027-01-10"));
    }

    #[test]
    fn converts_days_since_epoch() {
        assert_eq!(Date::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days_since_epoch(59).to_string(), "1970-03-01");
        assert_eq!(
            Date::from_days_since_epoch(11_016).to_string(),
            "2000-02-29"
        );
        assert_eq!(
            Date::from_days_since_epoch(19_782).to_string(),
            "2024-02-29"
        );
        assert_eq!(
            Date::from_days_since_epoch(u64::MAX).to_string(),
            "9999-12-31"
        );
        assert!(Date::today() >= Date::new(2025, 1, 1).unwrap());
    }
}
