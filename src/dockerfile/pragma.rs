//! Inline ignore pragmas: `# portcullis ignore=ID[,ID] reason…` silences the next instruction,
//! `# portcullis global ignore=…` the whole file. hadolint's `# hadolint ignore=` and
//! `# hadolint global ignore=` are honoured with the same meaning.

use super::ast::{Comment, Dockerfile};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pragma {
    /// Line of the pragma comment.
    pub line: usize,
    pub column: usize,
    /// `portcullis` or `hadolint`.
    pub tool: &'static str,
    pub global: bool,
    /// The codes or names listed after `ignore=`, as written.
    pub keys: Vec<String>,
    /// For a non-global pragma: the lines of the instruction it silences (inclusive), if any
    /// instruction follows it.
    pub applies_to: Option<(usize, usize)>,
}

impl Pragma {
    /// Whether this pragma silences a finding of a rule known by `matches_key` at `line`.
    pub fn covers(&self, line: usize) -> bool {
        self.global
            || self
                .applies_to
                .is_some_and(|(start, end)| (start..=end).contains(&line))
    }
}

/// Every ignore pragma in the file.
pub fn pragmas(file: &Dockerfile) -> Vec<Pragma> {
    file.comments
        .iter()
        .filter_map(parse)
        .map(|mut p| {
            if !p.global {
                p.applies_to = file
                    .instructions
                    .iter()
                    .find(|i| i.span.line > p.line)
                    .map(|i| (i.span.line, i.span.end_line));
            }
            p
        })
        .collect()
}

fn parse(comment: &Comment) -> Option<Pragma> {
    let mut words = comment.text.split_whitespace();
    let tool = match words.next()?.to_ascii_lowercase().as_str() {
        "portcullis" => "portcullis",
        "hadolint" => "hadolint",
        _ => return None,
    };
    let mut word = words.next()?;
    let global = word.eq_ignore_ascii_case("global");
    if global {
        word = words.next()?;
    }
    let list = word.strip_prefix("ignore=")?;
    let keys: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    if keys.is_empty() {
        return None;
    }
    Some(Pragma {
        line: comment.line,
        column: comment.column,
        tool,
        global,
        keys,
        applies_to: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::parse as parse_file;

    #[test]
    fn next_instruction_and_global_forms() {
        let file = parse_file(
            "# hadolint global ignore=DL3006\nFROM a\n# portcullis ignore=DL3008,no-latest-tag because\n# other comment\nRUN apt-get install \\\n  curl\nRUN x\n",
        );
        let p = pragmas(&file);
        assert_eq!(p.len(), 2);
        assert!(p[0].global && p[0].tool == "hadolint");
        assert_eq!(p[1].keys, vec!["DL3008", "no-latest-tag"]);
        assert_eq!(p[1].applies_to, Some((5, 6)));
        assert!(p[1].covers(6));
        assert!(!p[1].covers(7));
        assert!(p[0].covers(7));
    }

    #[test]
    fn ordinary_comments_are_not_pragmas() {
        let file = parse_file(
            "FROM a\n# ignore=DL3008\n# hadolint shell=powershell\n# portcullis ignore=\nRUN x\n",
        );
        assert!(pragmas(&file).is_empty());
    }
}
