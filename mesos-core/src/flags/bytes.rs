//! An amount of memory or disk as Mesos writes it in flags: a whole number followed by
//! `B`, `KB`, `MB`, `GB` or `TB` (binary multiples, case-insensitive).

use std::fmt;
use std::str::FromStr;

const UNITS: [(u64, &str); 5] = [
    (1, "B"),
    (1 << 10, "KB"),
    (1 << 20, "MB"),
    (1 << 30, "GB"),
    (1 << 40, "TB"),
];

/// A Mesos flag byte count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes(pub u64);

/// Why a bytes flag value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BytesError {
    /// No unit follows the number, or there is no number.
    #[error("invalid bytes '{0}': expected a whole number followed by B, KB, MB, GB or TB")]
    Invalid(String),
    /// The number has a fractional part.
    #[error("fractional bytes '{0}'")]
    Fractional(String),
    /// The unit is not one Mesos knows.
    #[error("unknown bytes unit '{unit}' in '{text}'")]
    UnknownUnit {
        /// The whole value.
        text: String,
        /// The unit given.
        unit: String,
    },
    /// The amount does not fit in 64 bits.
    #[error("bytes '{0}' is too large")]
    TooLarge(String),
}

impl FromStr for Bytes {
    type Err = BytesError;

    fn from_str(text: &str) -> Result<Bytes, BytesError> {
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| BytesError::Invalid(text.to_string()))?;
        let (number, unit) = text.split_at(split);
        if unit.starts_with('.') {
            return Err(BytesError::Fractional(text.to_string()));
        }
        if number.is_empty() {
            return Err(BytesError::Invalid(text.to_string()));
        }
        let value: u64 = number
            .parse()
            .map_err(|_| BytesError::TooLarge(text.to_string()))?;
        let upper = unit.to_ascii_uppercase();
        let (per, _) = UNITS
            .iter()
            .find(|(_, name)| *name == upper)
            .ok_or_else(|| BytesError::UnknownUnit {
                text: text.to_string(),
                unit: unit.to_string(),
            })?;
        value
            .checked_mul(*per)
            .map(Bytes)
            .ok_or_else(|| BytesError::TooLarge(text.to_string()))
    }
}

/// The largest unit that loses nothing: 1024 is `1KB`, 1536 is `1536B`.
impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (per, unit) = UNITS
            .iter()
            .rev()
            .find(|(per, _)| self.0 % per == 0 && (self.0 != 0 || *per == 1))
            .copied()
            .unwrap_or(UNITS[0]);
        write!(f, "{}{unit}", self.0 / per)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_as_mesos_does() {
        for (text, bytes, written) in [
            ("100B", 100, "100B"),
            ("1KB", 1024, "1KB"),
            ("1536B", 1536, "1536B"),
            ("512MB", 512 << 20, "512MB"),
            ("2048mb", 2 << 30, "2GB"),
            ("10GB", 10 << 30, "10GB"),
            ("3TB", 3 << 40, "3TB"),
            ("0B", 0, "0B"),
        ] {
            let parsed: Bytes = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed, Bytes(bytes), "{text}");
            assert_eq!(parsed.to_string(), written, "{text}");
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            "1.5GB".parse::<Bytes>(),
            Err(BytesError::Fractional("1.5GB".into()))
        );
        assert_eq!(
            "100".parse::<Bytes>(),
            Err(BytesError::Invalid("100".into()))
        );
        assert_eq!("GB".parse::<Bytes>(), Err(BytesError::Invalid("GB".into())));
        assert!(matches!(
            "5PB".parse::<Bytes>(),
            Err(BytesError::UnknownUnit { .. })
        ));
        assert!(matches!(
            "99999999999999TB".parse::<Bytes>(),
            Err(BytesError::TooLarge(_))
        ));
    }
}
