//! A span of time as Mesos writes it in flags: a non-negative decimal number followed by
//! one of `ns`, `us`, `ms`, `secs`, `mins`, `hrs`, `days`, `weeks`.

use std::fmt;
use std::str::FromStr;

const NANOS_PER: [(u64, &str); 8] = [
    (1, "ns"),
    (1_000, "us"),
    (1_000_000, "ms"),
    (1_000_000_000, "secs"),
    (60 * 1_000_000_000, "mins"),
    (3_600 * 1_000_000_000, "hrs"),
    (86_400 * 1_000_000_000, "days"),
    (604_800 * 1_000_000_000, "weeks"),
];

/// A Mesos flag duration, held in whole nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(std::time::Duration);

/// Why a duration flag value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// No unit follows the number, or there is no number.
    #[error("invalid duration '{0}': expected a number followed by a unit, e.g. 15secs")]
    Invalid(String),
    /// The number part is not a non-negative decimal number.
    #[error("invalid duration '{text}': '{number}' is not a number")]
    NotANumber {
        /// The whole value.
        text: String,
        /// The number part.
        number: String,
    },
    /// The unit is not one Mesos knows.
    #[error(
        "unknown duration unit '{unit}' in '{text}'; supported units are 'ns', 'us', 'ms', \
         'secs', 'mins', 'hrs', 'days' and 'weeks'"
    )]
    UnknownUnit {
        /// The whole value.
        text: String,
        /// The unit given.
        unit: String,
    },
    /// The duration does not fit in 64-bit nanoseconds.
    #[error("duration '{0}' is too long")]
    TooLong(String),
}

impl Duration {
    /// A duration of `seconds` whole seconds.
    pub const fn from_secs(seconds: u64) -> Duration {
        Duration(std::time::Duration::from_secs(seconds))
    }

    /// A duration of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Duration {
        Duration(std::time::Duration::from_millis(millis))
    }

    /// The same span as a standard library duration.
    pub const fn as_std(self) -> std::time::Duration {
        self.0
    }
}

impl From<std::time::Duration> for Duration {
    fn from(value: std::time::Duration) -> Duration {
        Duration(value)
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Duration, DurationError> {
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| DurationError::Invalid(text.to_string()))?;
        let (number, unit) = text.split_at(split);
        let value: f64 = number.parse().map_err(|_| DurationError::NotANumber {
            text: text.to_string(),
            number: number.to_string(),
        })?;
        let (per, _) = NANOS_PER
            .iter()
            .find(|(_, name)| *name == unit)
            .ok_or_else(|| DurationError::UnknownUnit {
                text: text.to_string(),
                unit: unit.to_string(),
            })?;
        // Rounded, not truncated as Mesos does: 0.3secs is 300ms, not 299.999999ms.
        let nanos = (value * *per as f64).round();
        if !nanos.is_finite() || nanos >= u64::MAX as f64 {
            return Err(DurationError::TooLong(text.to_string()));
        }
        Ok(Duration(std::time::Duration::from_nanos(nanos as u64)))
    }
}

/// Mesos picks the unit whose range holds the duration, then steps down one unit when
/// that one gives a whole number and the larger one does not: 90 seconds is `90secs`, not
/// `1.5mins`; 10 days is `10days`, not `1.42857142857143weeks`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = u64::try_from(self.0.as_nanos()).unwrap_or(u64::MAX);
        let bucket = NANOS_PER
            .iter()
            .rposition(|(per, _)| nanos >= *per)
            .unwrap_or(0);
        let (per, unit) = NANOS_PER[bucket];
        let (per, unit) = if bucket > 0 && nanos % per != 0 && nanos % NANOS_PER[bucket - 1].0 == 0
        {
            NANOS_PER[bucket - 1]
        } else {
            (per, unit)
        };
        write!(f, "{}{unit}", significant(nanos as f64 / per as f64))
    }
}

/// A number with at most 15 significant digits and no trailing zeros, as C++ streams
/// print a double at `digits10` precision.
fn significant(value: f64) -> String {
    let integer_digits = if value >= 1.0 {
        value.log10().floor() as usize + 1
    } else {
        1
    };
    let decimals = 15usize.saturating_sub(integer_digits);
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Duration {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn reads_every_unit() {
        assert_eq!(parse("15secs"), Duration::from_secs(15));
        assert_eq!(parse("1.5mins"), Duration::from_secs(90));
        assert_eq!(parse("100ms"), Duration::from_millis(100));
        assert_eq!(parse("2hrs"), Duration::from_secs(7200));
        assert_eq!(parse("1days"), Duration::from_secs(86_400));
        assert_eq!(parse("1weeks"), Duration::from_secs(604_800));
        assert_eq!(parse("5us").as_std().as_nanos(), 5_000);
        assert_eq!(parse("7ns").as_std().as_nanos(), 7);
        assert_eq!(parse("0.3secs"), Duration::from_millis(300));
    }

    #[test]
    fn writes_as_mesos_does() {
        for (text, expected) in [
            ("15secs", "15secs"),
            ("90secs", "90secs"),
            ("1.5hrs", "90mins"),
            ("10days", "10days"),
            ("1weeks", "1weeks"),
            ("1500ms", "1500ms"),
            ("0.25secs", "250ms"),
            ("1.5secs", "1500ms"),
            ("0ns", "0ns"),
            ("1.1secs", "1100ms"),
            ("10mins", "10mins"),
        ] {
            assert_eq!(parse(text).to_string(), expected, "{text}");
        }
        let third = Duration::from(std::time::Duration::from_nanos(1_000_000_001));
        assert_eq!(third.to_string(), "1.000000001secs");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            "15".parse::<Duration>(),
            Err(DurationError::Invalid("15".into()))
        );
        let err = "15sec".parse::<Duration>().expect_err("unit");
        assert!(
            err.to_string()
                .starts_with("unknown duration unit 'sec' in '15sec'"),
            "{err}"
        );
        assert!(matches!(
            "secs".parse::<Duration>(),
            Err(DurationError::NotANumber { .. })
        ));
        assert!(matches!(
            "1.2.3secs".parse::<Duration>(),
            Err(DurationError::NotANumber { .. })
        ));
        assert!(matches!(
            "99999999999weeks".parse::<Duration>(),
            Err(DurationError::TooLong(_))
        ));
        assert!("-1secs".parse::<Duration>().is_err());
    }
}
