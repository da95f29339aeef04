//! Agent attributes: parsing the `--attributes` flag into `mesos.v1.Attribute`s.
//!
//! `rack:r1;zone:a;level:3;ports:[1-10]` gives TEXT `rack=r1`, TEXT `zone=a`, SCALAR
//! `level=3` and RANGES `ports=[1-10]`, as Mesos does: a value in brackets is RANGES, a
//! number is SCALAR, anything else TEXT. Entries are separated by `;` or newlines; only
//! the first `:` of an entry separates name and value. Sets are not attribute values.

use std::fmt;

use super::error::{ParseError, ParseErrorKind, Subject, ValueError};
use super::parse::{parse_ranges, tokens};
use super::ranges::Ranges;
use crate::proto::mesos::v1 as pb;
use crate::proto::mesos::v1::value::Type as PbType;

/// Parses `--attributes` text.
pub fn parse_attributes(text: &str) -> Result<Attributes, ParseError> {
    tokens(text, &[';', '\n'])
        .map(|(token, offset)| {
            parse_attribute(token).map_err(|kind| ParseError {
                subject: Subject::Attribute,
                token: token.to_string(),
                offset,
                kind,
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Attributes)
}

fn parse_attribute(token: &str) -> Result<pb::Attribute, ParseErrorKind> {
    let (name, value) = token.split_once(':').ok_or(ParseErrorKind::MissingColon)?;
    let (name, value) = (name.trim(), value.trim());
    if name.is_empty() {
        return Err(ParseErrorKind::EmptyName);
    }
    if value.is_empty() {
        return Err(ParseErrorKind::EmptyValue);
    }
    let mut attribute = pb::Attribute {
        name: name.to_string(),
        ..Default::default()
    };
    if value.starts_with('[') {
        attribute.r#type = PbType::Ranges as i32;
        attribute.ranges = Some(parse_ranges(value)?.to_proto());
    } else if value.starts_with('{') {
        return Err(ParseErrorKind::SetAttribute);
    } else if value.contains(['[', ']', '{', '}']) {
        return Err(ParseErrorKind::BracketInText(value.to_string()));
    } else if let Ok(number) = value.parse::<f64>() {
        if !number.is_finite() {
            return Err(ParseErrorKind::Value(ValueError::NotFinite(number)));
        }
        attribute.r#type = PbType::Scalar as i32;
        attribute.scalar = Some(pb::value::Scalar { value: number });
    } else {
        attribute.r#type = PbType::Text as i32;
        attribute.text = Some(pb::value::Text {
            value: value.to_string(),
        });
    }
    Ok(attribute)
}

/// The attributes of an agent, in the order given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attributes(Vec<pb::Attribute>);

impl Attributes {
    /// Parses `--attributes` text; see [`parse_attributes`].
    pub fn parse(text: &str) -> Result<Attributes, ParseError> {
        parse_attributes(text)
    }

    /// Wraps attributes received from an agent.
    pub fn from_protos(attributes: Vec<pb::Attribute>) -> Attributes {
        Attributes(attributes)
    }

    /// The attributes as protos.
    pub fn as_protos(&self) -> &[pb::Attribute] {
        &self.0
    }

    /// Unwraps the protos.
    pub fn into_protos(self) -> Vec<pb::Attribute> {
        self.0
    }

    /// Iterates over the attributes.
    pub fn iter(&self) -> std::slice::Iter<'_, pb::Attribute> {
        self.0.iter()
    }

    /// How many attributes there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first attribute named `name`.
    pub fn get(&self, name: &str) -> Option<&pb::Attribute> {
        self.0.iter().find(|a| a.name == name)
    }

    /// The TEXT value of the attribute named `name`.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|a| a.name == name && a.r#type == PbType::Text as i32)
            .and_then(|a| a.text.as_ref())
            .map(|t| t.value.as_str())
    }

    /// The SCALAR value of the attribute named `name`.
    pub fn scalar(&self, name: &str) -> Option<f64> {
        self.0
            .iter()
            .find(|a| a.name == name && a.r#type == PbType::Scalar as i32)
            .and_then(|a| a.scalar)
            .map(|s| s.value)
    }

    /// Whether an attribute with the same name, type and value is present (ranges
    /// compared as sets of integers), as Mesos' `Attributes::contains`.
    pub fn contains(&self, attribute: &pb::Attribute) -> bool {
        self.0.iter().any(|a| same_attribute(a, attribute))
    }
}

fn same_attribute(a: &pb::Attribute, b: &pb::Attribute) -> bool {
    if a.name != b.name || a.r#type != b.r#type {
        return false;
    }
    match PbType::try_from(a.r#type) {
        Ok(PbType::Scalar) => a.scalar == b.scalar,
        Ok(PbType::Text) => a.text == b.text,
        Ok(PbType::Ranges) => {
            let canon = |r: &Option<pb::value::Ranges>| {
                r.as_ref().map(|r| {
                    Ranges::coalesce(
                        r.range
                            .iter()
                            .filter_map(|x| super::ranges::Range::new(x.begin, x.end).ok()),
                    )
                })
            };
            canon(&a.ranges) == canon(&b.ranges)
        }
        _ => false,
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = &'a pb::Attribute;
    type IntoIter = std::slice::Iter<'a, pb::Attribute>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Writes the `--attributes` text form, which parses back: `rack:r1;level:3;ports:[1-10]`.
impl fmt::Display for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{}:", a.name)?;
            match PbType::try_from(a.r#type) {
                Ok(PbType::Scalar) => write!(f, "{}", a.scalar.map_or(0.0, |s| s.value))?,
                Ok(PbType::Ranges) => {
                    f.write_str("[")?;
                    for (j, r) in a.ranges.iter().flat_map(|r| r.range.iter()).enumerate() {
                        if j > 0 {
                            f.write_str(",")?;
                        }
                        write!(f, "{}-{}", r.begin, r.end)?;
                    }
                    f.write_str("]")?;
                }
                Ok(PbType::Text) => {
                    f.write_str(a.text.as_ref().map_or("", |t| t.value.as_str()))?
                }
                Ok(PbType::Set) => {
                    let items = a.set.as_ref().map(|s| s.item.join(",")).unwrap_or_default();
                    write!(f, "{{{items}}}")?;
                }
                Err(_) => f.write_str("?")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_types_as_mesos() {
        let a = parse_attributes("rack:r1;zone:a;level:3;ports:[1-10, 5-20]\nos: ubuntu:22.04")
            .unwrap();
        assert_eq!(a.len(), 5);
        assert_eq!(a.text("rack"), Some("r1"));
        assert_eq!(a.scalar("level"), Some(3.0));
        let ports = a.get("ports").unwrap();
        assert_eq!(ports.r#type, PbType::Ranges as i32);
        assert_eq!(ports.ranges.as_ref().unwrap().range.len(), 1);
        assert_eq!(a.text("os"), Some("ubuntu:22.04"));
        assert_eq!(
            a.to_string(),
            "rack:r1;zone:a;level:3;ports:[1-20];os:ubuntu:22.04"
        );
        assert_eq!(parse_attributes(&a.to_string()).unwrap(), a);
        assert!(a.contains(&parse_attributes("ports:[1-5,6-20]").unwrap().as_protos()[0]));
        assert_eq!(
            parse_attributes("level:-2.5").unwrap().scalar("level"),
            Some(-2.5)
        );
    }

    #[test]
    fn errors() {
        let e = parse_attributes("rack:r1; zone").unwrap_err();
        assert_eq!((e.offset, e.token.as_str()), (9, "zone"));
        assert_eq!(e.kind, ParseErrorKind::MissingColon);
        assert_eq!(
            e.to_string(),
            "invalid attribute 'zone' at byte 9: missing ':' between name and value"
        );
        let kind = |t: &str| parse_attributes(t).unwrap_err().kind;
        assert_eq!(kind("zones:{a,b}"), ParseErrorKind::SetAttribute);
        assert_eq!(kind(":a"), ParseErrorKind::EmptyName);
        assert_eq!(kind("a: "), ParseErrorKind::EmptyValue);
        assert!(matches!(kind("a:x[1]"), ParseErrorKind::BracketInText(_)));
        assert!(matches!(
            kind("a:inf"),
            ParseErrorKind::Value(ValueError::NotFinite(_))
        ));
        assert!(matches!(kind("a:[3-1]"), ParseErrorKind::Value(_)));
    }
}
