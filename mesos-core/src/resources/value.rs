//! The value of a resource: a scalar, ranges or a set, with the arithmetic Mesos defines.

use std::fmt;

use super::ranges::Ranges;
use super::scalar::Scalar;
use super::set::Set;
use crate::proto::mesos::v1::value::Type as PbType;

/// The kind of a resource value. TEXT exists in the proto but resources never use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValueType {
    /// A fixed-point quantity.
    Scalar,
    /// Integer ranges.
    Ranges,
    /// A set of strings.
    Set,
}

impl ValueType {
    /// The proto enum value.
    pub fn to_proto(self) -> PbType {
        match self {
            ValueType::Scalar => PbType::Scalar,
            ValueType::Ranges => PbType::Ranges,
            ValueType::Set => PbType::Set,
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_proto().as_str_name())
    }
}

/// A resource value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// A fixed-point quantity.
    Scalar(Scalar),
    /// Integer ranges.
    Ranges(Ranges),
    /// A set of strings.
    Set(Set),
}

impl Value {
    /// Which kind of value this is.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Scalar(_) => ValueType::Scalar,
            Value::Ranges(_) => ValueType::Ranges,
            Value::Set(_) => ValueType::Set,
        }
    }

    /// Whether the value is zero / holds nothing. Empty resources are dropped.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Scalar(s) => s.is_zero(),
            Value::Ranges(r) => r.is_empty(),
            Value::Set(s) => s.is_empty(),
        }
    }

    /// The scalar, if this is one.
    pub fn as_scalar(&self) -> Option<Scalar> {
        match self {
            Value::Scalar(s) => Some(*s),
            _ => None,
        }
    }

    /// The ranges, if this is one.
    pub fn as_ranges(&self) -> Option<&Ranges> {
        match self {
            Value::Ranges(r) => Some(r),
            _ => None,
        }
    }

    /// The set, if this is one.
    pub fn as_set(&self) -> Option<&Set> {
        match self {
            Value::Set(s) => Some(s),
            _ => None,
        }
    }

    /// Adds `other` if it is of the same kind; returns false (and does nothing) otherwise.
    pub fn add(&mut self, other: &Value) -> bool {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => *a += *b,
            (Value::Ranges(a), Value::Ranges(b)) => a.add(b),
            (Value::Set(a), Value::Set(b)) => a.add(b),
            _ => return false,
        }
        true
    }

    /// Subtracts `other` if it is of the same kind, as Mesos does for resources: a scalar
    /// stops at zero (taking more than is there leaves nothing), ranges and sets drop what
    /// they share with `other`. Returns false (and does nothing) on a kind mismatch.
    pub fn subtract(&mut self, other: &Value) -> bool {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => *a = a.saturating_sub_to_zero(*b),
            (Value::Ranges(a), Value::Ranges(b)) => a.subtract(b),
            (Value::Set(a), Value::Set(b)) => a.subtract(b),
            _ => return false,
        }
        true
    }

    /// `self + other` as a new value; `None` on a kind mismatch.
    pub fn sum(&self, other: &Value) -> Option<Value> {
        Some(match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => Value::Scalar(*a + *b),
            (Value::Ranges(a), Value::Ranges(b)) => Value::Ranges(a.union(b)),
            (Value::Set(a), Value::Set(b)) => Value::Set(a.union(b)),
            _ => return None,
        })
    }

    /// `self - other` as a new value, with the semantics of [`Value::subtract`]; `None` on
    /// a kind mismatch.
    pub fn difference(&self, other: &Value) -> Option<Value> {
        Some(match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => Value::Scalar(a.saturating_sub_to_zero(*b)),
            (Value::Ranges(a), Value::Ranges(b)) => Value::Ranges(a.difference(b)),
            (Value::Set(a), Value::Set(b)) => Value::Set(a.difference(b)),
            _ => return None,
        })
    }

    /// Whether `self` holds at least `other` (same kind required).
    pub fn contains(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => b <= a,
            (Value::Ranges(a), Value::Ranges(b)) => a.contains(b),
            (Value::Set(a), Value::Set(b)) => a.contains(b),
            _ => false,
        }
    }
}

impl From<Scalar> for Value {
    fn from(v: Scalar) -> Value {
        Value::Scalar(v)
    }
}

impl From<Ranges> for Value {
    fn from(v: Ranges) -> Value {
        Value::Ranges(v)
    }
}

impl From<Set> for Value {
    fn from(v: Set) -> Value {
        Value::Set(v)
    }
}

/// Writes the value as Mesos does: `2.5`, `[1-10, 20-30]`, `{a, b}`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Scalar(s) => s.fmt(f),
            Value::Ranges(r) => r.fmt(f),
            Value::Set(s) => s.fmt(f),
        }
    }
}
