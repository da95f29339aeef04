//! Ranges of integers (ports, ephemeral ports...), kept sorted and coalesced.
//!
//! A [`Ranges`] is always in canonical form: sorted by start, with no two ranges
//! overlapping or adjacent (`[1-2],[3-4]` is stored as `[1-4]`). Canonical form makes
//! equality structural and lets add, subtract and contains run as single merges.

use std::fmt;

use super::error::ValueError;
use crate::proto::mesos::v1::value as pb;

/// An inclusive range of integers, `begin <= end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Range {
    begin: u64,
    end: u64,
}

impl Range {
    /// The range `[begin-end]`; fails if `end < begin`.
    pub fn new(begin: u64, end: u64) -> Result<Range, ValueError> {
        if end < begin {
            return Err(ValueError::InvertedRange { begin, end });
        }
        Ok(Range { begin, end })
    }

    /// The one-element range `[value-value]`.
    pub const fn single(value: u64) -> Range {
        Range {
            begin: value,
            end: value,
        }
    }

    /// First value in the range.
    pub const fn begin(self) -> u64 {
        self.begin
    }

    /// Last value in the range (inclusive).
    pub const fn end(self) -> u64 {
        self.end
    }

    /// How many integers the range holds.
    pub fn len(self) -> u128 {
        u128::from(self.end - self.begin) + 1
    }

    /// Always false: a range holds at least one value. Present for API symmetry with `len`.
    pub const fn is_empty(self) -> bool {
        false
    }

    /// Whether `value` lies in the range.
    pub const fn contains_value(self, value: u64) -> bool {
        self.begin <= value && value <= self.end
    }

    /// Whether `self` and `next` (which starts at or after `self`) overlap or touch.
    fn touches(self, next: Range) -> bool {
        self.end == u64::MAX || next.begin <= self.end + 1
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.begin, self.end)
    }
}

/// A set of integers written as sorted, coalesced inclusive ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ranges(Vec<Range>);

impl Ranges {
    /// No ranges.
    pub const fn new() -> Ranges {
        Ranges(Vec::new())
    }

    /// Coalesces arbitrary (unsorted, overlapping, adjacent) ranges.
    pub fn coalesce<I: IntoIterator<Item = Range>>(ranges: I) -> Ranges {
        let mut all: Vec<Range> = ranges.into_iter().collect();
        all.sort_unstable();
        let mut out: Vec<Range> = Vec::with_capacity(all.len());
        for range in all {
            push_coalescing(&mut out, range);
        }
        Ranges(out)
    }

    /// Builds from `(begin, end)` pairs, coalescing them; fails on an inverted pair.
    pub fn from_pairs<I: IntoIterator<Item = (u64, u64)>>(pairs: I) -> Result<Ranges, ValueError> {
        let ranges = pairs
            .into_iter()
            .map(|(begin, end)| Range::new(begin, end))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Ranges::coalesce(ranges))
    }

    /// Reads a proto `Ranges` as Mesos validates a resource: each range must have
    /// `begin <= end` and no two may overlap (adjacent ones are fine and get merged).
    pub fn from_proto(proto: &pb::Ranges) -> Result<Ranges, ValueError> {
        let mut all = Vec::with_capacity(proto.range.len());
        for r in &proto.range {
            all.push(Range::new(r.begin, r.end)?);
        }
        all.sort_unstable();
        for pair in all.windows(2) {
            if pair[1].begin <= pair[0].end {
                return Err(ValueError::OverlappingRanges(
                    pair[0].to_string(),
                    pair[1].to_string(),
                ));
            }
        }
        let mut out: Vec<Range> = Vec::with_capacity(all.len());
        for range in all {
            push_coalescing(&mut out, range);
        }
        Ok(Ranges(out))
    }

    /// Writes the ranges as a proto `Ranges`.
    pub fn to_proto(&self) -> pb::Ranges {
        pb::Ranges {
            range: self
                .0
                .iter()
                .map(|r| pb::Range {
                    begin: r.begin,
                    end: r.end,
                })
                .collect(),
        }
    }

    /// The ranges, sorted and coalesced.
    pub fn as_slice(&self) -> &[Range] {
        &self.0
    }

    /// Iterates over the ranges in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Range> {
        self.0.iter()
    }

    /// Whether no integer is held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many integers are held in total.
    pub fn size(&self) -> u128 {
        self.0.iter().map(|r| r.len()).sum()
    }

    /// Whether `value` is held.
    pub fn contains_value(&self, value: u64) -> bool {
        let idx = self.0.partition_point(|r| r.end < value);
        self.0.get(idx).is_some_and(|r| r.begin <= value)
    }

    /// Whether every integer of `other` is held by `self`.
    pub fn contains(&self, other: &Ranges) -> bool {
        let mut mine = self.0.iter().peekable();
        for theirs in &other.0 {
            // Skip our ranges that end before this one starts.
            while mine.peek().is_some_and(|r| r.end < theirs.begin) {
                mine.next();
            }
            // Ours are coalesced, so a contiguous range of theirs must fit inside one of ours.
            match mine.peek() {
                Some(r) if r.begin <= theirs.begin && theirs.end <= r.end => {}
                _ => return false,
            }
        }
        true
    }

    /// Adds `other` (set union).
    pub fn add(&mut self, other: &Ranges) {
        if other.0.is_empty() {
            return;
        }
        if self.0.is_empty() {
            self.0.clone_from(&other.0);
            return;
        }
        *self = self.union(other);
    }

    /// The union of `self` and `other`, as a new value.
    pub fn union(&self, other: &Ranges) -> Ranges {
        let mut out = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => {
                    if x <= y {
                        a.next()
                    } else {
                        b.next()
                    }
                }
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            if let Some(range) = next {
                push_coalescing(&mut out, *range);
            }
        }
        Ranges(out)
    }

    /// Removes every integer of `other` (set difference); integers not held are ignored.
    pub fn subtract(&mut self, other: &Ranges) {
        if other.0.is_empty() || self.0.is_empty() {
            return;
        }
        *self = self.difference(other);
    }

    /// The integers of `self` not in `other`, as a new value.
    pub fn difference(&self, other: &Ranges) -> Ranges {
        if other.0.is_empty() || self.0.is_empty() {
            return self.clone();
        }
        let mut out = Vec::with_capacity(self.0.len() + other.0.len());
        let mut cut = other.0.iter().peekable();
        for &range in &self.0 {
            let mut current = Some(range);
            while let Some(piece) = current {
                // Drop removals that end before this piece.
                while cut.peek().is_some_and(|c| c.end < piece.begin) {
                    cut.next();
                }
                match cut.peek() {
                    Some(c) if c.begin <= piece.end => {
                        if c.begin > piece.begin {
                            out.push(Range {
                                begin: piece.begin,
                                end: c.begin - 1,
                            });
                        }
                        current = if c.end < piece.end {
                            Some(Range {
                                begin: c.end + 1,
                                end: piece.end,
                            })
                        } else {
                            None
                        };
                    }
                    _ => {
                        out.push(piece);
                        current = None;
                    }
                }
            }
        }
        Ranges(out)
    }
}

/// Appends `range` (which starts at or after the last range of `out`), merging if it
/// overlaps or touches the last one.
fn push_coalescing(out: &mut Vec<Range>, range: Range) {
    match out.last_mut() {
        Some(last) if last.touches(range) => {
            if range.end > last.end {
                last.end = range.end;
            }
        }
        _ => out.push(range),
    }
}

impl FromIterator<Range> for Ranges {
    fn from_iter<I: IntoIterator<Item = Range>>(iter: I) -> Ranges {
        Ranges::coalesce(iter)
    }
}

impl<'a> IntoIterator for &'a Ranges {
    type Item = &'a Range;
    type IntoIter = std::slice::Iter<'a, Range>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Writes Mesos' form: `[31000-32000, 40000-40010]`.
impl fmt::Display for Ranges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{r}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(pairs: &[(u64, u64)]) -> Ranges {
        Ranges::from_pairs(pairs.iter().copied()).unwrap()
    }

    #[test]
    fn coalesces_adjacent_and_overlapping() {
        assert_eq!(rs(&[(1, 2), (3, 4)]), rs(&[(1, 4)]));
        assert_eq!(rs(&[(5, 10), (1, 6)]), rs(&[(1, 10)]));
        assert_eq!(rs(&[(1, 2), (4, 5)]).as_slice().len(), 2);
        assert_eq!(rs(&[(3, 3), (1, 1), (2, 2)]), rs(&[(1, 3)]));
        assert_eq!(rs(&[(0, u64::MAX), (5, 6)]), rs(&[(0, u64::MAX)]));
        assert_eq!(rs(&[(10, 20), (12, 15)]), rs(&[(10, 20)]));
    }

    #[test]
    fn add_unions() {
        let mut a = rs(&[(1, 5), (10, 15)]);
        a.add(&rs(&[(6, 9), (20, 21)]));
        assert_eq!(a, rs(&[(1, 15), (20, 21)]));
    }

    #[test]
    fn subtract_splits() {
        let mut a = rs(&[(1, 10), (20, 30)]);
        a.subtract(&rs(&[(3, 4), (8, 22), (30, 40)]));
        assert_eq!(a, rs(&[(1, 2), (5, 7), (23, 29)]));
        let mut b = rs(&[(0, u64::MAX)]);
        b.subtract(&rs(&[(0, 0), (u64::MAX, u64::MAX)]));
        assert_eq!(b, rs(&[(1, u64::MAX - 1)]));
        let mut c = rs(&[(1, 5)]);
        c.subtract(&rs(&[(1, 5)]));
        assert!(c.is_empty());
    }

    #[test]
    fn contains_is_subset() {
        let a = rs(&[(1, 10), (20, 30)]);
        assert!(a.contains(&rs(&[(2, 3), (20, 30)])));
        assert!(!a.contains(&rs(&[(9, 11)])));
        assert!(!a.contains(&rs(&[(31, 31)])));
        assert!(a.contains(&Ranges::new()));
        assert!(!Ranges::new().contains(&a));
        assert!(a.contains_value(25));
        assert!(!a.contains_value(15));
    }

    #[test]
    fn proto_validation() {
        let p = |pairs: &[(u64, u64)]| pb::Ranges {
            range: pairs
                .iter()
                .map(|&(begin, end)| pb::Range { begin, end })
                .collect(),
        };
        assert_eq!(
            Ranges::from_proto(&p(&[(3, 4), (1, 2)])).unwrap(),
            rs(&[(1, 4)])
        );
        assert!(matches!(
            Ranges::from_proto(&p(&[(5, 1)])),
            Err(ValueError::InvertedRange { .. })
        ));
        assert!(matches!(
            Ranges::from_proto(&p(&[(1, 5), (5, 6)])),
            Err(ValueError::OverlappingRanges(..))
        ));
    }

    #[test]
    fn display() {
        assert_eq!(
            rs(&[(31000, 32000), (40000, 40010)]).to_string(),
            "[31000-32000, 40000-40010]"
        );
        assert_eq!(Ranges::new().to_string(), "[]");
    }
}
