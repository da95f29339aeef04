//! Scalar quantities in fixed point, three decimal places, as Mesos computes them.
//!
//! Mesos converts every scalar to `llround(v * 1000)` before adding, subtracting or
//! comparing, so `0.1 + 0.2 == 0.3` holds exactly and rounding never accumulates. We keep
//! the fixed-point integer itself, so arithmetic is integer arithmetic.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::str::FromStr;

use super::error::ValueError;

/// Fixed-point units per whole unit: three decimal places.
const SCALE: i64 = 1000;

/// The largest magnitude accepted from `f64`; beyond it `v * 1000` would not fit in `i64`.
const MAX_ABS: f64 = (i64::MAX / SCALE) as f64;

/// A scalar quantity (cpus, mem in MB, ...) held as thousandths.
///
/// Arithmetic saturates at the `i64` bounds instead of overflowing; the resources layer
/// only ever holds non-negative scalars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scalar(i64);

impl Scalar {
    /// Zero.
    pub const ZERO: Scalar = Scalar(0);

    /// Converts a float the way Mesos does (`llround(v * 1000)`), refusing NaN, infinities
    /// and magnitudes too large for the fixed-point form.
    pub fn from_f64(value: f64) -> Result<Scalar, ValueError> {
        if !value.is_finite() {
            return Err(ValueError::NotFinite(value));
        }
        if value.abs() > MAX_ABS {
            return Err(ValueError::TooLarge(value));
        }
        // `round` rounds half away from zero, as `llround` does; the bound above keeps the
        // product inside i64, so the cast is exact.
        Ok(Scalar((value * SCALE as f64).round() as i64))
    }

    /// Builds a scalar from a whole number of units, saturating at the representable bound.
    pub fn from_units(units: i64) -> Scalar {
        Scalar(units.saturating_mul(SCALE))
    }

    /// Builds a scalar from thousandths of a unit.
    pub const fn from_millis(millis: i64) -> Scalar {
        Scalar(millis)
    }

    /// The value in thousandths of a unit.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The value as a float, computed as Mesos does (integer part plus thousandths), so
    /// `Scalar::from_f64(x)?.as_f64()` is the float closest to `x` at three decimals.
    pub fn as_f64(self) -> f64 {
        (self.0 / SCALE) as f64 + (self.0 % SCALE) as f64 / SCALE as f64
    }

    /// Whether the scalar is exactly zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether the scalar is above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Subtraction that stops at zero: what remains of `self` after taking `other` away.
    pub fn saturating_sub_to_zero(self, other: Scalar) -> Scalar {
        Scalar(self.0.saturating_sub(other.0).max(0))
    }

    /// Addition that reports overflow instead of saturating.
    pub fn checked_add(self, other: Scalar) -> Option<Scalar> {
        self.0.checked_add(other.0).map(Scalar)
    }

    /// Subtraction that reports overflow instead of saturating.
    pub fn checked_sub(self, other: Scalar) -> Option<Scalar> {
        self.0.checked_sub(other.0).map(Scalar)
    }
}

impl Add for Scalar {
    type Output = Scalar;
    fn add(self, other: Scalar) -> Scalar {
        Scalar(self.0.saturating_add(other.0))
    }
}

impl AddAssign for Scalar {
    fn add_assign(&mut self, other: Scalar) {
        *self = *self + other;
    }
}

impl Sub for Scalar {
    type Output = Scalar;
    fn sub(self, other: Scalar) -> Scalar {
        Scalar(self.0.saturating_sub(other.0))
    }
}

impl SubAssign for Scalar {
    fn sub_assign(&mut self, other: Scalar) {
        *self = *self - other;
    }
}

impl Sum for Scalar {
    fn sum<I: Iterator<Item = Scalar>>(iter: I) -> Scalar {
        iter.fold(Scalar::ZERO, Add::add)
    }
}

impl TryFrom<f64> for Scalar {
    type Error = ValueError;
    fn try_from(value: f64) -> Result<Scalar, ValueError> {
        Scalar::from_f64(value)
    }
}

impl From<Scalar> for f64 {
    fn from(value: Scalar) -> f64 {
        value.as_f64()
    }
}

/// Parses a decimal number (anything Rust's `f64` parser takes) and converts it.
impl FromStr for Scalar {
    type Err = ScalarParseError;
    fn from_str(text: &str) -> Result<Scalar, ScalarParseError> {
        let value: f64 = text
            .trim()
            .parse()
            .map_err(|_| ScalarParseError::NotANumber(text.to_string()))?;
        Scalar::from_f64(value).map_err(ScalarParseError::Value)
    }
}

/// Why text could not be read as a [`Scalar`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScalarParseError {
    /// The text is not a number.
    #[error("'{0}' is not a number")]
    NotANumber(String),
    /// The number is not representable.
    #[error(transparent)]
    Value(ValueError),
}

/// Writes the shortest decimal form: `2`, `0.5`, `1.125`, never an exponent.
impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let magnitude = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        let whole = magnitude / SCALE as u64;
        let frac = magnitude % SCALE as u64;
        if frac == 0 {
            return write!(f, "{sign}{whole}");
        }
        let mut digits = format!("{frac:03}");
        while digits.ends_with('0') {
            digits.pop();
        }
        write!(f, "{sign}{whole}.{digits}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: f64) -> Scalar {
        Scalar::from_f64(v).unwrap()
    }

    #[test]
    fn point_one_plus_point_two_is_point_three() {
        assert_eq!(s(0.1) + s(0.2), s(0.3));
        assert_eq!((s(0.1) + s(0.2)).as_f64(), 0.3);
        assert_eq!(s(0.3) - s(0.1), s(0.2));
    }

    #[test]
    fn rounds_like_llround() {
        assert_eq!(s(0.0005).millis(), 1);
        assert_eq!(s(0.0004).millis(), 0);
        assert_eq!(s(1.0015).millis(), 1002);
        assert_eq!(s(-0.0005).millis(), -1);
    }

    #[test]
    fn rejects_non_finite_and_huge() {
        assert!(matches!(
            Scalar::from_f64(f64::NAN),
            Err(ValueError::NotFinite(_))
        ));
        assert!(matches!(
            Scalar::from_f64(f64::INFINITY),
            Err(ValueError::NotFinite(_))
        ));
        assert!(matches!(
            Scalar::from_f64(1e300),
            Err(ValueError::TooLarge(_))
        ));
        assert!(Scalar::from_f64(9.2e15).is_ok());
    }

    #[test]
    fn display_is_shortest_decimal() {
        assert_eq!(s(2.0).to_string(), "2");
        assert_eq!(s(0.5).to_string(), "0.5");
        assert_eq!(s(1.125).to_string(), "1.125");
        assert_eq!(s(1024.1).to_string(), "1024.1");
        assert_eq!(Scalar::from_millis(-1500).to_string(), "-1.5");
        assert_eq!(
            Scalar::from_millis(i64::MIN).to_string(),
            "-9223372036854775.808"
        );
    }

    #[test]
    fn display_round_trips_through_from_str() {
        for millis in [0, 1, 10, 100, 999, 1000, 1001, 123_456_789] {
            let v = Scalar::from_millis(millis);
            assert_eq!(v.to_string().parse::<Scalar>().unwrap(), v);
        }
    }

    #[test]
    fn saturating_arithmetic() {
        let max = Scalar::from_millis(i64::MAX);
        assert_eq!(max + s(1.0), max);
        assert_eq!(s(1.0).saturating_sub_to_zero(s(2.0)), Scalar::ZERO);
        assert_eq!(max.checked_add(s(1.0)), None);
    }
}
