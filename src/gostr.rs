//! Go's case rules, where portcullis must compare text as the Go programs it stands in for do
//! (BuildKit's parser, Docker's and containerd's JSON decoding): a comparison that differs is
//! a way to have the gate read one thing and the builder or runtime another.

/// `s` folded as Go's `strings.EqualFold` and `encoding/json` fold it, as far as that can
/// make it equal ASCII text: ASCII letters ignore case, `ſ` (U+017F) is `s` and the Kelvin
/// sign (U+212A) is `k`. Other characters fold only to other non-ASCII characters, so they
/// are kept as they are. Two strings equal-fold when their folds are equal.
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{17F}' => 'S',
            '\u{212A}' => 'K',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// `s` as Go's `strings.ToLower` gives it, as far as that can make it ASCII: ASCII letters,
/// and the Kelvin sign, which lower-cases to `k` (`ſ` is already lower case and stays).
pub fn to_lower_ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{212A}' => 'k',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_as_go_does() {
        assert_eq!(fold("Aſ"), fold("as"));
        assert_eq!(fold("\u{212A}ey"), "KEY");
        assert_ne!(fold("AÅ"), fold("AA"));
        assert_eq!(to_lower_ascii("HEALTHCHEC\u{212A}"), "healthcheck");
        assert_eq!(to_lower_ascii("ſ"), "ſ");
    }
}
