//! The raw, spanned form of a policy file: YAML read into a small tree where every node
//! knows its line and column. Validation ([`super::validate`]) turns it into typed values.
//!
//! Only the YAML a configuration file needs is accepted: aliases (`*x`) are refused, so an
//! "alias bomb" cannot expand; tags are refused; duplicate keys are errors; the file size and
//! nesting depth are capped.

use super::error::{Diags, ErrorKind};
use crate::finding::Span;
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

/// Policy files larger than this are refused before parsing.
pub const MAX_POLICY_BYTES: usize = 1 << 20;
/// Deeper nesting than this is refused (the policy format needs four levels).
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Keys are always scalars, unique within the mapping, in file order.
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
    Scalar(String, Style),
    /// `~`, `null` or nothing.
    Null,
}

/// How a scalar was written: a plain `true` is a boolean, a quoted `"true"` a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

impl Node {
    /// The text of any scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// What the node is, for "found …" in error messages.
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Map(_) => "a mapping".into(),
            Value::Seq(_) => "a list".into(),
            Value::Null => "nothing".into(),
            Value::Scalar(s, Style::Plain) if plain_bool(s).is_some() => format!("`{s}`"),
            Value::Scalar(s, Style::Plain) if s.parse::<i64>().is_ok() => format!("`{s}`"),
            Value::Scalar(s, _) => format!("the string `{}`", shorten(s)),
        }
    }
}

/// A plain scalar's YAML 1.2 core-schema boolean, if it is one.
pub fn plain_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        s.chars().take(MAX).collect::<String>() + "…"
    }
}

/// Reads `source` into a tree. Problems are pushed to `diags`; `None` means the YAML could
/// not be read at all (after a syntax error the parser cannot continue).
pub fn parse(source: &str, diags: &mut Diags) -> Option<Node> {
    if source.len() > MAX_POLICY_BYTES {
        diags.push_whole_file(ErrorKind::TooLarge {
            limit: MAX_POLICY_BYTES,
        });
        return None;
    }
    let mut builder = Builder::default();
    for event in Parser::new_from_str(source) {
        let (event, yaml_span) = match event {
            Ok(ok) => ok,
            Err(e) => {
                let at = Span::point(e.marker().line(), e.marker().col() + 1);
                diags.push(at, ErrorKind::Syntax(e.info().to_string()));
                return None;
            }
        };
        let span = convert(yaml_span);
        match builder.event(event, span, diags) {
            Flow::Continue => {}
            Flow::Stop => return None,
            Flow::Done => break,
        }
    }
    Some(builder.root.unwrap_or(Node {
        value: Value::Null,
        span: Span::point(1, 1),
    }))
}

fn convert(span: saphyr_parser::Span) -> Span {
    let (start, end) = (span.start, span.end);
    if start == end {
        Span::point(start.line(), start.col() + 1)
    } else {
        Span::new(start.line(), start.col() + 1, end.line(), end.col() + 1)
    }
}

enum Flow {
    Continue,
    Stop,
    Done,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    documents: usize,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: Span,
    },
    Map {
        entries: Vec<(Node, Node)>,
        /// The key awaiting its value; `None` inside means the key was rejected and the
        /// value is dropped.
        key: Option<Option<Node>>,
        first_lines: HashMap<String, usize>,
        start: Span,
    },
}

impl Builder {
    fn event(&mut self, event: Event<'_>, span: Span, diags: &mut Diags) -> Flow {
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    diags.push(span, ErrorKind::MultipleDocuments);
                    return Flow::Stop;
                }
            }
            Event::StreamEnd => return Flow::Done,
            Event::Alias(_) => {
                diags.push(span, ErrorKind::Alias);
                self.complete(
                    Node {
                        value: Value::Null,
                        span,
                    },
                    diags,
                );
            }
            Event::Scalar(text, style, _anchor, tag) => {
                if let Some(tag) = tag {
                    diags.push(
                        span,
                        ErrorKind::Tag {
                            tag: tag_text(&tag),
                        },
                    );
                }
                let value = scalar_value(text.into_owned(), style);
                self.complete(Node { value, span }, diags);
            }
            Event::SequenceStart(_, ref tag) | Event::MappingStart(_, ref tag) => {
                if let Some(tag) = tag {
                    diags.push(span, ErrorKind::Tag { tag: tag_text(tag) });
                }
                if self.stack.len() >= MAX_DEPTH {
                    diags.push(span, ErrorKind::TooDeep { limit: MAX_DEPTH });
                    return Flow::Stop;
                }
                let frame = if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        start: span,
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        first_lines: HashMap::new(),
                        start: span,
                    }
                };
                self.stack.push(frame);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Flow::Continue;
                };
                let node = match frame {
                    Frame::Seq { items, start } => Node {
                        value: Value::Seq(items),
                        span: enclose(start, span),
                    },
                    Frame::Map { entries, start, .. } => Node {
                        value: Value::Map(entries),
                        span: enclose(start, span),
                    },
                };
                self.complete(node, diags);
            }
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
        }
        Flow::Continue
    }

    /// Places a finished node in its parent.
    fn complete(&mut self, node: Node, diags: &mut Diags) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                key,
                first_lines,
                ..
            }) => match key.take() {
                Some(Some(k)) => entries.push((k, node)),
                Some(None) => {}
                None => *key = Some(accept_key(node, first_lines, diags)),
            },
        }
    }
}

/// A tag as written: `!!str` rather than its expanded `tag:yaml.org,2002:str`.
fn tag_text(tag: &saphyr_parser::Tag) -> String {
    if tag.is_yaml_core_schema() {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

/// A key must be a scalar not seen before in its mapping.
fn accept_key(
    node: Node,
    first_lines: &mut HashMap<String, usize>,
    diags: &mut Diags,
) -> Option<Node> {
    let Value::Scalar(text, _) = &node.value else {
        diags.push(node.span, ErrorKind::NonScalarKey);
        return None;
    };
    if let Some(&first_line) = first_lines.get(text) {
        diags.push(
            node.span,
            ErrorKind::DuplicateKey {
                key: text.clone(),
                first_line,
            },
        );
        return None;
    }
    first_lines.insert(text.clone(), node.span.line);
    Some(node)
}

fn scalar_value(text: String, style: ScalarStyle) -> Value {
    match style {
        ScalarStyle::Plain if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL") => {
            Value::Null
        }
        ScalarStyle::Plain => Value::Scalar(text, Style::Plain),
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Value::Scalar(text, Style::Quoted),
        ScalarStyle::Literal | ScalarStyle::Folded => Value::Scalar(text, Style::Block),
    }
}

/// A container's span: from its start event to its end event.
fn enclose(start: Span, end: Span) -> Span {
    Span::new(start.line, start.column, end.end_line, end.end_column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(src: &str) -> Node {
        let mut diags = Diags::new("t.yaml");
        let node = parse(src, &mut diags).expect("parses");
        assert!(diags.errors.is_empty(), "{:?}", diags.errors);
        node
    }

    fn errors(src: &str) -> Vec<String> {
        let mut diags = Diags::new("t.yaml");
        parse(src, &mut diags);
        diags.into_sorted().iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn builds_a_spanned_tree() {
        let root = parse_ok("a: 1\nb:\n  - x\n  - 'y'\nc: {d: ~}\n");
        let Value::Map(entries) = &root.value else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].0.as_str(), Some("a"));
        assert_eq!(entries[0].1.span.line, 1);
        assert_eq!(entries[0].1.span.column, 4);
        let Value::Seq(items) = &entries[1].1.value else {
            panic!("not a seq")
        };
        assert_eq!(items[1].value, Value::Scalar("y".into(), Style::Quoted));
        assert_eq!((items[1].span.line, items[1].span.column), (4, 5));
        let Value::Map(inner) = &entries[2].1.value else {
            panic!("not a map")
        };
        assert_eq!(inner[0].1.value, Value::Null);
    }

    #[test]
    fn empty_file_is_null() {
        assert_eq!(parse_ok("").value, Value::Null);
        assert_eq!(parse_ok("# just a comment\n").value, Value::Null);
    }

    #[test]
    fn refuses_aliases() {
        let e = errors("a: &x [1, 2]\nb: *x\n");
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("t.yaml:2:4: YAML aliases"), "{e:?}");
    }

    #[test]
    fn alias_bomb_is_refused_without_expanding() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..30 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = errors(&src);
        assert_eq!(e.len(), 290);
        assert!(e.iter().all(|m| m.contains("aliases")));
    }

    #[test]
    fn refuses_duplicate_keys() {
        let e = errors("rules:\n  a: high\n  b: low\n  a: off\n");
        assert_eq!(e, ["t.yaml:4:3: duplicate key `a` (first given on line 2)"]);
    }

    #[test]
    fn refuses_tags_and_complex_keys() {
        let e = errors("a: !!str 1\n? [x]\n: y\n");
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].starts_with("t.yaml:1:4: YAML tags (`!!str`)"), "{e:?}");
        assert!(
            e[1].starts_with("t.yaml:2:3: mapping keys must be strings"),
            "{e:?}"
        );
    }

    #[test]
    fn refuses_second_document() {
        let e = errors("a: 1\n---\nb: 2\n");
        assert_eq!(
            e,
            ["t.yaml:2:1: a policy file holds one YAML document; remove the second `---`"]
        );
    }

    #[test]
    fn reports_syntax_errors_with_position() {
        let e = errors("a: [1, 2\nb: 3\n");
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("t.yaml:"), "{e:?}");
        assert!(e[0].contains("invalid YAML"), "{e:?}");
    }

    #[test]
    fn caps_size_and_depth() {
        let big = "a: 1\n".repeat(MAX_POLICY_BYTES / 4);
        assert_eq!(
            errors(&big),
            [format!(
                "t.yaml: policy file is larger than {MAX_POLICY_BYTES} bytes"
            )]
        );
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert_eq!(
            errors(&deep),
            ["t.yaml:1:33: YAML nested deeper than 32 levels"]
        );
        // Far deeper nesting is stopped by the parser's own limit before it reaches us.
        let e = errors(&"[".repeat(100_000));
        assert_eq!(e.len(), 1);
        assert!(e[0].contains("invalid YAML"), "{e:?}");
    }
}
