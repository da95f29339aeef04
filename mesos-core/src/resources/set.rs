//! Sets of named items (e.g. a `zones:{a,b}` resource), kept sorted and unique.

use std::fmt;

use super::error::ValueError;
use crate::proto::mesos::v1::value as pb;

/// A set of strings in canonical form: sorted, without duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Set(Vec<String>);

impl Set {
    /// The empty set.
    pub const fn new() -> Set {
        Set(Vec::new())
    }

    /// Builds a set from items, dropping duplicates.
    pub fn from_items<I, S>(items: I) -> Set
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut v: Vec<String> = items.into_iter().map(Into::into).collect();
        v.sort_unstable();
        v.dedup();
        Set(v)
    }

    /// Reads a proto `Set` as Mesos validates a resource: items must be unique.
    pub fn from_proto(proto: &pb::Set) -> Result<Set, ValueError> {
        let mut v = proto.item.clone();
        v.sort_unstable();
        for pair in v.windows(2) {
            if pair[0] == pair[1] {
                return Err(ValueError::DuplicateSetItem(pair[0].clone()));
            }
        }
        Ok(Set(v))
    }

    /// Writes the set as a proto `Set` (items in sorted order).
    pub fn to_proto(&self) -> pb::Set {
        pb::Set {
            item: self.0.clone(),
        }
    }

    /// The items, sorted.
    pub fn items(&self) -> &[String] {
        &self.0
    }

    /// Iterates over the items in sorted order.
    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }

    /// How many items the set holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set has no item.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `item` is in the set.
    pub fn contains_item(&self, item: &str) -> bool {
        self.0.binary_search_by(|x| x.as_str().cmp(item)).is_ok()
    }

    /// Whether every item of `other` is in `self`.
    pub fn contains(&self, other: &Set) -> bool {
        if other.0.len() > self.0.len() {
            return false;
        }
        let mut mine = self.0.iter();
        'outer: for theirs in &other.0 {
            for m in mine.by_ref() {
                match m.cmp(theirs) {
                    std::cmp::Ordering::Less => continue,
                    std::cmp::Ordering::Equal => continue 'outer,
                    std::cmp::Ordering::Greater => return false,
                }
            }
            return false;
        }
        true
    }

    /// Adds the items of `other` (union).
    pub fn add(&mut self, other: &Set) {
        if !other.0.is_empty() {
            *self = self.union(other);
        }
    }

    /// The union of `self` and `other`, as a new value.
    pub fn union(&self, other: &Set) -> Set {
        let mut out = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        loop {
            match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => match x.as_str().cmp(y.as_str()) {
                    std::cmp::Ordering::Less => out.extend(a.next().cloned()),
                    std::cmp::Ordering::Greater => out.extend(b.next().cloned()),
                    std::cmp::Ordering::Equal => {
                        out.extend(a.next().cloned());
                        b.next();
                    }
                },
                (Some(_), None) => {
                    out.extend(a.cloned());
                    break;
                }
                (None, Some(_)) => {
                    out.extend(b.cloned());
                    break;
                }
                (None, None) => break,
            }
        }
        Set(out)
    }

    /// The items of `self` not in `other`, as a new value.
    pub fn difference(&self, other: &Set) -> Set {
        let mut out = self.clone();
        out.subtract(other);
        out
    }

    /// Removes the items of `other` (difference); items not held are ignored.
    pub fn subtract(&mut self, other: &Set) {
        if other.0.is_empty() {
            return;
        }
        let mut theirs = other.0.iter().peekable();
        self.0.retain(|item| {
            while theirs.peek().is_some_and(|t| t.as_str() < item.as_str()) {
                theirs.next();
            }
            theirs.peek().is_none_or(|t| t.as_str() != item.as_str())
        });
    }
}

impl<S: Into<String>> FromIterator<S> for Set {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Set {
        Set::from_items(iter)
    }
}

impl<'a> IntoIterator for &'a Set {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Writes Mesos' form: `{a, b}`.
impl fmt::Display for Set {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(item)?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algebra() {
        let mut a = Set::from_items(["b", "a", "c", "a"]);
        assert_eq!(a.items(), ["a", "b", "c"]);
        a.add(&Set::from_items(["d", "b"]));
        assert_eq!(a.items(), ["a", "b", "c", "d"]);
        assert!(a.contains(&Set::from_items(["a", "d"])));
        assert!(!a.contains(&Set::from_items(["a", "e"])));
        a.subtract(&Set::from_items(["a", "c", "z"]));
        assert_eq!(a.items(), ["b", "d"]);
        assert_eq!(a.to_string(), "{b, d}");
    }

    #[test]
    fn proto_rejects_duplicates() {
        let p = pb::Set {
            item: vec!["x".into(), "y".into(), "x".into()],
        };
        assert_eq!(
            Set::from_proto(&p),
            Err(ValueError::DuplicateSetItem("x".into()))
        );
    }
}
