//! Parsing the agent's `--resources` flag, in its text form and its JSON form.
//!
//! Text form: entries separated by `;`, each `name:value` or `name(role):value`, where
//! the role in parentheses makes a static reservation and a value is a scalar (`4`,
//! `0.5`), ranges (`[31000-32000,40000-40010]`) or a set (`{a,b}`). Whitespace around
//! tokens is ignored. Example: `cpus:4;mem:2048;disk(ops):100;ports:[31000-32000]`.
//!
//! JSON form (chosen when the text starts with `[`): an array of `mesos.v1.Resource`
//! objects in Mesos' JSON mapping, e.g.
//! `[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}]`, in either reservation format.
//!
//! As in Mesos, the result is validated, empty resources are dropped, and what only
//! operations may create (persistent volumes, revocable resources, dynamic reservations)
//! or a name used with two value types is refused. Every error names the offending entry
//! and its byte offset.

use std::collections::HashMap;

use super::collection::Resources;
use super::error::{ParseError, ParseErrorKind, ResourceError, Subject};
use super::ranges::{Range, Ranges};
use super::reservation::Reservation;
use super::resource::{resource_scalar, Resource};
use super::role::{validate_role, UNRESERVED_ROLE};
use super::set::Set;
use super::value::{Value, ValueType};
use crate::proto::mesos::v1 as pb;

/// Parses `--resources` text or JSON. Entries without a role (text) or without any
/// reservation field (JSON) are reserved for `default_role` (`*` means unreserved).
pub fn parse_resources(text: &str, default_role: &str) -> Result<Resources, ParseError> {
    let parsed = if text.trim_start().starts_with('[') {
        parse_json_entries(text, default_role)?
    } else {
        parse_text_entries(text, default_role)?
    };
    check_command_line(&parsed)?;
    Ok(parsed.into_iter().map(|p| p.resource).collect())
}

impl Resources {
    /// Parses `--resources` text or JSON; see [`parse_resources`].
    pub fn parse(text: &str, default_role: &str) -> Result<Resources, ParseError> {
        parse_resources(text, default_role)
    }
}

/// A parsed entry and where it came from, for error reporting.
struct Parsed<'a> {
    resource: Resource,
    token: &'a str,
    offset: usize,
}

fn error(token: &str, offset: usize, kind: ParseErrorKind) -> ParseError {
    ParseError {
        subject: Subject::Resource,
        token: token.to_string(),
        offset,
        kind,
    }
}

/// Splits `text` on any of `separators`, yielding each trimmed, non-blank piece with its
/// byte offset.
pub(crate) fn tokens<'a>(
    text: &'a str,
    separators: &'a [char],
) -> impl Iterator<Item = (&'a str, usize)> + 'a {
    let mut start = 0;
    text.split(separators).filter_map(move |piece| {
        let offset = start;
        start += piece.len() + 1;
        let trimmed = piece.trim_start();
        let lead = piece.len() - trimmed.len();
        let trimmed = trimmed.trim_end();
        (!trimmed.is_empty()).then_some((trimmed, offset + lead))
    })
}

fn parse_text_entries<'a>(
    text: &'a str,
    default_role: &str,
) -> Result<Vec<Parsed<'a>>, ParseError> {
    tokens(text, &[';'])
        .map(|(token, offset)| {
            parse_text_entry(token, default_role)
                .map(|resource| Parsed {
                    resource,
                    token,
                    offset,
                })
                .map_err(|kind| error(token, offset, kind))
        })
        .collect()
}

/// Parses one `name[(role)]:value` entry.
fn parse_text_entry(token: &str, default_role: &str) -> Result<Resource, ParseErrorKind> {
    let (head, value) = token.split_once(':').ok_or(ParseErrorKind::MissingColon)?;
    if value.contains(':') {
        return Err(ParseErrorKind::ExtraColon);
    }
    let (name, role) = match head.split_once('(') {
        Some((name, rest)) => {
            let (role, after) = rest
                .split_once(')')
                .ok_or(ParseErrorKind::MissingCloseParen)?;
            let after = after.trim();
            if !after.is_empty() {
                return Err(ParseErrorKind::TextAfterRole(after.to_string()));
            }
            let role = role.trim();
            validate_role(role).map_err(ParseErrorKind::Role)?;
            (name.trim(), role)
        }
        None => {
            validate_role(default_role).map_err(ParseErrorKind::DefaultRole)?;
            (head.trim(), default_role)
        }
    };
    check_name(name)?;
    let value = parse_resource_value(value.trim())?;
    let mut builder = Resource::builder(name, value);
    if role != UNRESERVED_ROLE {
        builder =
            builder.reservation(Reservation::new_static(role).map_err(ParseErrorKind::Resource)?);
    }
    builder.build().map_err(ParseErrorKind::Resource)
}

fn check_name(name: &str) -> Result<(), ParseErrorKind> {
    if name.is_empty() {
        return Err(ParseErrorKind::EmptyName);
    }
    match name.chars().find(|c| "()[]{},".contains(*c)) {
        Some(c) => Err(ParseErrorKind::InvalidNameCharacter(c)),
        None => Ok(()),
    }
}

/// Parses a resource value: `[ranges]`, `{set}` or a non-negative scalar.
fn parse_resource_value(text: &str) -> Result<Value, ParseErrorKind> {
    if text.is_empty() {
        return Err(ParseErrorKind::EmptyValue);
    }
    if text.starts_with('[') {
        return parse_ranges(text).map(Value::Ranges);
    }
    if let Some(inner) = text.strip_prefix('{') {
        let (inner, after) = inner
            .split_once('}')
            .ok_or(ParseErrorKind::UnterminatedSet)?;
        check_after_value(after)?;
        return parse_set(inner).map(Value::Set);
    }
    if text.contains(['[', ']', '{', '}', '(', ')']) {
        return Err(ParseErrorKind::NotAResourceValue(text.to_string()));
    }
    let number: f64 = text
        .parse()
        .map_err(|_| ParseErrorKind::NotAResourceValue(text.to_string()))?;
    resource_scalar(number)
        .map(Value::Scalar)
        .map_err(ParseErrorKind::Value)
}

fn check_after_value(after: &str) -> Result<(), ParseErrorKind> {
    let after = after.trim();
    if after.is_empty() {
        Ok(())
    } else {
        Err(ParseErrorKind::TextAfterValue(after.to_string()))
    }
}

/// Parses `[a-b, c-d]` (which must start with `[`), coalescing the ranges.
pub(crate) fn parse_ranges(text: &str) -> Result<Ranges, ParseErrorKind> {
    let inner = text.strip_prefix('[').unwrap_or(text);
    let (inner, after) = inner
        .split_once(']')
        .ok_or(ParseErrorKind::UnterminatedRanges)?;
    check_after_value(after)?;
    if inner.trim().is_empty() {
        return Ok(Ranges::new());
    }
    let mut ranges = Vec::new();
    for piece in inner.split(',') {
        let piece = piece.trim();
        let (begin, end) = piece
            .split_once('-')
            .ok_or_else(|| ParseErrorKind::MalformedRange(piece.to_string()))?;
        let bound = |s: &str| {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ParseErrorKind::InvalidRangeBound(s.to_string()));
            }
            s.parse::<u64>()
                .map_err(|_| ParseErrorKind::InvalidRangeBound(s.to_string()))
        };
        ranges.push(Range::new(bound(begin)?, bound(end)?).map_err(ParseErrorKind::Value)?);
    }
    Ok(Ranges::coalesce(ranges))
}

/// Parses the inside of `{a, b}`; items must be unique and non-empty.
fn parse_set(inner: &str) -> Result<Set, ParseErrorKind> {
    if inner.trim().is_empty() {
        return Ok(Set::new());
    }
    let mut items: Vec<&str> = Vec::new();
    for item in inner.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(ParseErrorKind::EmptySetItem);
        }
        if let Some(c) = item.chars().find(|c| "{}[]()".contains(*c)) {
            return Err(ParseErrorKind::InvalidSetCharacter(c));
        }
        items.push(item);
    }
    let set = Set::from_items(items.iter().copied());
    if set.len() != items.len() {
        items.sort_unstable();
        let dup = items
            .windows(2)
            .find(|w| w[0] == w[1])
            .map_or_else(String::new, |w| w[0].to_string());
        return Err(ParseErrorKind::Value(
            super::error::ValueError::DuplicateSetItem(dup),
        ));
    }
    Ok(set)
}

// `Resource.role` is deprecated in the schema; Mesos applies the default role through it.
#[allow(deprecated)]
fn parse_json_entries<'a>(
    text: &'a str,
    default_role: &str,
) -> Result<Vec<Parsed<'a>>, ParseError> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        let offset = byte_offset(text, e.line(), e.column());
        let snippet: String = text.get(offset..).unwrap_or("").chars().take(20).collect();
        error(
            &snippet,
            offset,
            ParseErrorKind::JsonSyntax {
                line: e.line(),
                column: e.column(),
                reason: e.to_string(),
            },
        )
    })?;
    let elements = match &json {
        serde_json::Value::Array(elements) => elements,
        // Unreachable in practice: the text starts with '['.
        _ => {
            return Err(error(
                text.trim(),
                0,
                ParseErrorKind::JsonSyntax {
                    line: 1,
                    column: 1,
                    reason: "expected a JSON array".into(),
                },
            ))
        }
    };
    let spans = array_element_spans(text);
    let mut out = Vec::with_capacity(elements.len());
    for (index, element) in elements.iter().enumerate() {
        let (offset, end) = spans.get(index).copied().unwrap_or((0, text.len()));
        let token = text.get(offset..end).unwrap_or("");
        let mut proto: pb::Resource = crate::json::from_value(element)
            .map_err(|source| error(token, offset, ParseErrorKind::Json { index, source }))?;
        if proto.role.is_none() && proto.reservations.is_empty() {
            validate_role(default_role)
                .map_err(|e| error(token, offset, ParseErrorKind::DefaultRole(e)))?;
            proto.role = Some(default_role.to_string());
        }
        let resource = Resource::from_proto(&proto)
            .map_err(|e| error(token, offset, ParseErrorKind::Resource(e)))?;
        out.push(Parsed {
            resource,
            token,
            offset,
        });
    }
    Ok(out)
}

/// Refuses what the agent command line must not specify, as Mesos does.
fn check_command_line(parsed: &[Parsed<'_>]) -> Result<(), ParseError> {
    let mut types: HashMap<&str, ValueType> = HashMap::new();
    for p in parsed {
        let r = &p.resource;
        if r.is_empty() {
            continue;
        }
        let refuse = |e: ResourceError| Err(error(p.token, p.offset, ParseErrorKind::Resource(e)));
        if r.is_persistent_volume() {
            return refuse(ResourceError::CommandLineVolume);
        }
        if r.is_revocable() {
            return refuse(ResourceError::CommandLineRevocable);
        }
        if r.is_dynamically_reserved() {
            return refuse(ResourceError::CommandLineDynamic);
        }
        let first = *types.entry(r.name()).or_insert(r.value_type());
        if first != r.value_type() {
            return refuse(ResourceError::ConflictingTypes {
                name: r.name().to_string(),
                first,
                second: r.value_type(),
            });
        }
    }
    Ok(())
}

/// The byte offset of 1-based `line` and `column` (as serde_json reports them) in `text`.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// Byte spans `(start, end)` of the elements of the top-level JSON array in `text`,
/// which must be valid JSON. Whitespace around elements is excluded.
fn array_element_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut start: Option<usize> = None;
    let mut last_non_ws = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            last_non_ws = i;
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'[' | b'{' if depth == 0 => depth = 1,
            b'[' | b'{' => {
                if depth == 1 && start.is_none() {
                    start = Some(i);
                }
                depth += 1;
                last_non_ws = i;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some(s) = start.take() {
                        spans.push((s, last_non_ws + 1));
                    }
                    break;
                }
                last_non_ws = i;
            }
            b',' if depth == 1 => {
                if let Some(s) = start.take() {
                    spans.push((s, last_non_ws + 1));
                }
            }
            b if b.is_ascii_whitespace() => {}
            _ => {
                if depth == 1 && start.is_none() {
                    start = Some(i);
                }
                if b == b'"' {
                    in_string = true;
                }
                last_non_ws = i;
            }
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::super::scalar::Scalar;
    use super::*;

    fn parse(text: &str) -> Resources {
        parse_resources(text, "*").unwrap()
    }

    fn err(text: &str) -> ParseError {
        parse_resources(text, "*").unwrap_err()
    }

    #[test]
    fn agent_flag() {
        let r = parse(
            "cpus:4;mem:2048;disk(ops):100;ports:[31000-32000,40000-40010];gpus:0;zones:{a,b}",
        );
        assert_eq!(r.cpus(), Some(Scalar::from_units(4)));
        assert_eq!(r.gpus(), None);
        assert_eq!(
            r.reserved(Some("ops")).disk(),
            Some(Scalar::from_units(100))
        );
        assert_eq!(
            r.to_string(),
            "cpus:4; disk(ops):100; mem:2048; ports:[31000-32000, 40000-40010]; zones:{a, b}"
        );
    }

    #[test]
    fn whitespace_is_tolerated() {
        let a =
            parse(" cpus : 4 ; mem(eng) :2048;\n ports: [ 1 - 10 , 20-30 ] ; zones:{ a , b };  ");
        let b = parse("cpus:4;mem(eng):2048;ports:[1-10,20-30];zones:{a,b}");
        assert_eq!(a, b);
        assert!(parse("").is_empty());
        assert!(parse(" ; ;").is_empty());
    }

    #[test]
    fn default_role() {
        let r = parse_resources("cpus:1;mem(*):10", "eng").unwrap();
        assert_eq!(r.to_string(), "cpus(eng):1; mem:10");
        let e = parse_resources("cpus(a):1;mem:1", "-x").unwrap_err();
        assert_eq!(e.offset, 10);
        assert!(matches!(e.kind, ParseErrorKind::DefaultRole(_)));
    }

    #[test]
    fn errors_point_at_the_token() {
        let e = err("cpus:4;mem:2048;disk(ops:100");
        assert_eq!(e.token, "disk(ops:100");
        assert_eq!(e.offset, 16);
        assert_eq!(e.kind, ParseErrorKind::MissingCloseParen);
        assert_eq!(
            e.to_string(),
            "invalid resource 'disk(ops:100' at byte 16: missing ')' after role"
        );

        type Check = fn(&ParseErrorKind) -> bool;
        let cases: &[(&str, usize, Check)] = &[
            ("cpus", 0, |k| *k == ParseErrorKind::MissingColon),
            ("cpus:1; mem:1:2", 8, |k| *k == ParseErrorKind::ExtraColon),
            (":1", 0, |k| *k == ParseErrorKind::EmptyName),
            ("cpus(a)x:1", 0, |k| {
                matches!(k, ParseErrorKind::TextAfterRole(_))
            }),
            ("cpus(a b):1", 0, |k| matches!(k, ParseErrorKind::Role(_))),
            ("cpus():1", 0, |k| matches!(k, ParseErrorKind::Role(_))),
            ("cpus:", 0, |k| *k == ParseErrorKind::EmptyValue),
            ("cpus:abc", 0, |k| {
                matches!(k, ParseErrorKind::NotAResourceValue(_))
            }),
            ("cpus:-1", 0, |k| matches!(k, ParseErrorKind::Value(_))),
            ("cpus:nan", 0, |k| matches!(k, ParseErrorKind::Value(_))),
            ("cpus:0.0001", 0, |k| matches!(k, ParseErrorKind::Value(_))),
            ("p:[1-2", 0, |k| *k == ParseErrorKind::UnterminatedRanges),
            ("p:[1-2]x", 0, |k| {
                matches!(k, ParseErrorKind::TextAfterValue(_))
            }),
            ("p:[1]", 0, |k| {
                matches!(k, ParseErrorKind::MalformedRange(_))
            }),
            ("p:[a-2]", 0, |k| {
                matches!(k, ParseErrorKind::InvalidRangeBound(_))
            }),
            ("p:[1--2]", 0, |k| {
                matches!(k, ParseErrorKind::InvalidRangeBound(_))
            }),
            ("p:[5-2]", 0, |k| matches!(k, ParseErrorKind::Value(_))),
            ("s:{a", 0, |k| *k == ParseErrorKind::UnterminatedSet),
            ("s:{a,,b}", 0, |k| *k == ParseErrorKind::EmptySetItem),
            ("s:{a,a}", 0, |k| matches!(k, ParseErrorKind::Value(_))),
            ("x:1;  x:[1-2]", 6, |k| {
                matches!(
                    k,
                    ParseErrorKind::Resource(ResourceError::ConflictingTypes { .. })
                )
            }),
        ];
        for (text, offset, check) in cases {
            let e = err(text);
            assert!(check(&e.kind), "{text}: {e}");
            assert_eq!(e.offset, *offset, "{text}: {e}");
            assert_eq!(&text[e.offset..e.offset + e.token.len()], e.token, "{text}");
        }
    }

    #[test]
    fn display_round_trips_through_parse() {
        for text in [
            "cpus:4;mem:2048;disk(ops):100;ports:[31000-32000,40000-40010];zones:{a,b}",
            "cpus(eng/web):0.125;cpus:1;cpus(ops):2.5;ports(ops):[1-1]",
        ] {
            let r = parse(text);
            assert_eq!(parse(&r.to_string()), r, "{r}");
        }
        // `{}` is how an empty collection displays; it is not resource text.
        assert_eq!(Resources::new().to_string(), "{}");
    }

    #[test]
    fn json_form() {
        let text = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":4}},
            {"name":"mem","type":"SCALAR","scalar":{"value":10},"role":"eng"},
            {"name":"disk","type":"SCALAR","scalar":{"value":5},
             "reservations":[{"type":"STATIC","role":"ops"}]}]"#;
        let r = parse_resources(text, "*").unwrap();
        assert_eq!(r, parse("cpus:4;mem(eng):10;disk(ops):5"));
        let r = parse_resources(
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}]"#,
            "eng",
        )
        .unwrap();
        assert_eq!(r, parse("cpus(eng):4"));
    }

    #[test]
    fn json_errors_point_at_the_element() {
        let text = r#"[ {"name":"cpus","type":"SCALAR","scalar":{"value":4}} , {"name":"mem","type":"SCALAR","scalar":{"value":-1}} ]"#;
        let e = parse_resources(text, "*").unwrap_err();
        let at = text.find(r#"{"name":"mem""#).unwrap();
        assert_eq!(e.offset, at);
        assert_eq!(&text[at..at + e.token.len()], e.token);
        assert!(e.token.starts_with("{\"name\":\"mem\"") && e.token.ends_with('}'));
        assert!(matches!(e.kind, ParseErrorKind::Resource(_)));

        let e = parse_resources(r#"[{"name":"cpus","type":"SCALAR","bogus":1}]"#, "*").unwrap_err();
        assert!(
            matches!(e.kind, ParseErrorKind::Json { index: 0, .. }),
            "{e}"
        );

        let e = parse_resources("[{\"name\":\n  \"cpus\",]", "*").unwrap_err();
        assert!(
            matches!(e.kind, ParseErrorKind::JsonSyntax { line: 2, .. }),
            "{e}"
        );

        let dynamic = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":4},
            "reservations":[{"type":"DYNAMIC","role":"eng","principal":"p"}]}]"#;
        let e = parse_resources(dynamic, "*").unwrap_err();
        assert_eq!(
            e.kind,
            ParseErrorKind::Resource(ResourceError::CommandLineDynamic)
        );
        let revocable = r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":4},"revocable":{}}]"#;
        let e = parse_resources(revocable, "*").unwrap_err();
        assert_eq!(
            e.kind,
            ParseErrorKind::Resource(ResourceError::CommandLineRevocable)
        );
    }

    #[test]
    fn element_spans() {
        let text = r#" [ 1, "a,]\"", {"x":[1,2]} ,[3] ] "#;
        let spans: Vec<&str> = array_element_spans(text)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect();
        assert_eq!(spans, ["1", r#""a,]\"""#, r#"{"x":[1,2]}"#, "[3]"]);
        assert!(array_element_spans("[]").is_empty());
    }
}
