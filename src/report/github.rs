//! GitHub Actions workflow commands: one annotation per finding and note.
//!
//! `::error file=Dockerfile,line=3,col=5,endColumn=19,title=PC1002 no-latest-tag::message`
//!
//! Level: `error` at or above `fail_on` (these fail the gate), `notice` for info findings
//! below it, `warning` for the rest; notes are warnings titled `portcullis`. A finding with
//! no file (an image finding) has no `file`/`line` and its target starts the message.
//! Columns are inclusive here (GitHub's `endColumn` defaults to `col`), and are sent only
//! for single-line spans, as GitHub ignores them otherwise.
//!
//! Escaping follows the runner's rules: `%`, CR and LF in the message; also `:` and `,` in
//! property values. Other control characters are written as visible escapes so input
//! cannot restyle the log; the runner only reads commands at the start of a line, and no
//! raw line break survives escaping, so a message cannot start a command of its own.

use super::{display_path, is_unsafe_char, normalized, Report};
use crate::finding::{Location, Severity};
use std::fmt::Write as _;

fn escape(s: &str, property: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c if is_unsafe_char(c) => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

fn data(s: &str) -> String {
    escape(s, false)
}

fn property(s: &str) -> String {
    escape(s, true)
}

/// `file=…,line=…,…` for a location with a file; empty otherwise.
fn location_properties(location: &Location) -> Vec<String> {
    let Some(path) = display_path(location) else {
        return Vec::new();
    };
    let mut props = vec![format!("file={}", property(&path))];
    if let Some(span) = location.span.map(normalized) {
        props.push(format!("line={}", span.line));
        if span.end_line == span.line {
            let end_column = span.end_column.saturating_sub(1).max(span.column);
            props.push(format!("col={}", span.column));
            props.push(format!("endColumn={end_column}"));
        } else {
            props.push(format!("endLine={}", span.end_line));
        }
    }
    props
}

fn command(out: &mut String, level: &str, mut props: Vec<String>, title: &str, message: &str) {
    props.push(format!("title={}", property(title)));
    let _ = writeln!(out, "::{level} {}::{}", props.join(","), data(message));
}

pub(super) fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    for finding in report.findings {
        let level = if finding.severity >= report.fail_on {
            "error"
        } else if finding.severity == Severity::Info {
            "notice"
        } else {
            "warning"
        };
        let props = location_properties(&finding.location);
        let message = if props.is_empty() {
            format!("{}: {}", finding.target, finding.message)
        } else {
            finding.message.clone()
        };
        let title = format!("{} {}", finding.rule_id, finding.rule);
        command(&mut out, level, props, &title, &message);
    }
    for note in report.notes {
        let props = location_properties(&note.location);
        command(&mut out, "warning", props, "portcullis", &note.message);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::{render, Format};
    use super::*;
    use crate::finding::Span;
    use std::collections::BTreeMap;

    /// A parsed workflow command: level, properties, message (all still escaped).
    struct Command {
        level: String,
        props: BTreeMap<String, String>,
        message: String,
    }

    fn unescape(s: &str) -> String {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    }

    /// Parses like the runner: `::level k=v,k=v::message`, split on the first `::` after
    /// the command, properties split on `,` and the first `=`.
    fn parse(line: &str) -> Command {
        let rest = line.strip_prefix("::").expect("command line");
        let (head, message) = rest.split_once("::").expect("message separator");
        let (level, props) = head.split_once(' ').unwrap_or((head, ""));
        let props = props
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').expect("key=value");
                (k.to_string(), unescape(v))
            })
            .collect();
        Command {
            level: level.to_string(),
            props,
            message: unescape(message),
        }
    }

    fn commands(data: &ReportData) -> Vec<Command> {
        render(&data.report(), Format::Github, false)
            .lines()
            .map(parse)
            .collect()
    }

    #[test]
    fn one_annotation_per_finding_then_notes() {
        let data = ReportData::new(sample_findings());
        let commands = commands(&data);
        assert_eq!(commands.len(), data.findings.len() + data.notes.len());
        for (c, f) in commands.iter().zip(&data.findings) {
            let expected = if f.severity >= data.fail_on {
                "error"
            } else if f.severity == Severity::Info {
                "notice"
            } else {
                "warning"
            };
            assert_eq!(c.level, expected, "{}", f.message);
            assert_eq!(c.props["title"], format!("{} {}", f.rule_id, f.rule));
            assert!(c.message.ends_with(&f.message));
            assert_eq!(c.props.get("file"), f.location.path.as_ref());
        }
        let note = &commands[data.findings.len() + 1];
        assert_eq!(note.level, "warning");
        assert_eq!(note.props["file"], "portcullis.yaml");
        assert_eq!(note.props["line"], "12");
    }

    #[test]
    fn single_line_spans_get_inclusive_columns_multi_line_get_end_line() {
        let single = Location {
            path: Some("Dockerfile".into()),
            span: Some(Span::new(1, 1, 1, 19)),
        };
        assert_eq!(
            location_properties(&single),
            ["file=Dockerfile", "line=1", "col=1", "endColumn=18"]
        );
        let multi = Location {
            path: Some("Dockerfile".into()),
            span: Some(Span::new(3, 5, 4, 20)),
        };
        assert_eq!(
            location_properties(&multi),
            ["file=Dockerfile", "line=3", "endLine=4"]
        );
        let file_only = Location {
            path: Some("a,b:c%.txt".into()),
            span: None,
        };
        assert_eq!(location_properties(&file_only), ["file=a%2Cb%3Ac%25.txt"]);
    }

    #[test]
    fn image_findings_have_no_file_and_name_their_target() {
        let data = ReportData::new(sample_findings());
        let commands = commands(&data);
        let image = commands
            .iter()
            .find(|c| c.props["title"].starts_with("PC2001"))
            .unwrap();
        assert!(!image.props.contains_key("file") && !image.props.contains_key("line"));
        assert!(image
            .message
            .starts_with("registry.example.com/team/app:1.2@sha256:0123abcd: "));
    }

    #[test]
    fn escaping_keeps_one_command_per_line_and_round_trips() {
        static NASTY_RULE: crate::rules::Rule = crate::rules::Rule {
            id: "PC9000",
            name: "odd,name:x",
            ..crate::rules::Rule::DEFAULT
        };
        let f = finding(
            &NASTY_RULE,
            Severity::High,
            "t",
            Some("d:i,r/Docker file"),
            None,
            NASTY,
        );
        let mut data = ReportData::new(vec![f]);
        data.notes.clear();
        let out = render(&data.report(), Format::Github, false);
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(!out.contains('\r') && !out.contains('\x1b'));
        let c = parse(out.trim_end());
        assert_eq!(c.props["file"], "d:i,r/Docker file");
        assert_eq!(c.props["title"], "PC9000 odd,name:x");
        assert_eq!(
            c.message,
            "a<b>&\"c\"'d' 100% x,y:z\r\nnext\\u{1b}[31mred\\u{7}\\u{0}end"
        );
    }
}
