//! Parsers and formatters for the text formats of cgroup control files.
//!
//! Pure functions over strings so that both the v1 and the v2 formats can be unit-tested on
//! sample text, whatever hierarchy the test machine happens to have.

use std::collections::BTreeMap;

/// CFS period used for CPU quotas, in microseconds (Mesos' default, 100ms).
pub const CFS_PERIOD_US: u64 = 100_000;

/// Smallest CFS quota the kernel accepts, in microseconds.
pub const MIN_CFS_QUOTA_US: u64 = 1_000;

/// Smallest `cpu.shares` value the kernel accepts (cgroups v1).
pub const MIN_CPU_SHARES: u64 = 2;

/// Largest `cpu.shares` value the kernel accepts (cgroups v1).
pub const MAX_CPU_SHARES: u64 = 262_144;

/// CPU shares per whole CPU, as in Mesos (`CPU_SHARES_PER_CPU`).
pub const CPU_SHARES_PER_CPU: f64 = 1024.0;

/// Content of a control file that does not have the expected format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed cgroup file content: {0:?}")]
pub struct FormatError(pub String);

fn bad(text: &str) -> FormatError {
    FormatError(text.to_string())
}

/// Parses a "flat keyed" file: one `key value` pair per line.
///
/// This is the format of `cpu.stat`, `cpuacct.stat`, `memory.stat`, `memory.events`,
/// `memory.oom_control` and `pids.events`. Lines that do not have an unsigned integer value
/// are skipped. Returns `None` only if a line is malformed beyond that (no key at all).
pub fn parse_flat_keyed(text: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(key), Some(value)) = (parts.next(), parts.next()) else {
            continue;
        };
        if let Ok(v) = value.parse::<u64>() {
            out.insert(key.to_string(), v);
        }
    }
    out
}

/// A limit that is either a number or the literal `max` (v2 `memory.max`, `pids.max`,
/// v1 `pids.max`).
///
/// Returns `Ok(None)` for `max`, `Ok(Some(n))` for a number and an error otherwise.
pub fn parse_max_value(text: &str) -> Result<Option<u64>, FormatError> {
    let t = text.trim();
    if t == "max" {
        return Ok(None);
    }
    t.parse::<u64>().map(Some).map_err(|_| bad(text))
}

/// Formats a limit for a v2 `*.max` file: `max` for no limit.
pub fn format_max_value(value: Option<u64>) -> String {
    match value {
        Some(v) => v.to_string(),
        None => "max".to_string(),
    }
}

/// Parses a v1 `memory.limit_in_bytes`: the kernel reports "no limit" as a huge number
/// (`PAGE_COUNTER_MAX * PAGE_SIZE`, close to `i64::MAX`), which becomes `None`.
pub fn parse_v1_memory_limit(text: &str) -> Result<Option<u64>, FormatError> {
    let v = text.trim().parse::<u64>().map_err(|_| bad(text))?;
    // Anything within a few pages of i64::MAX means unlimited.
    if v >= (i64::MAX as u64) - (1 << 20) {
        Ok(None)
    } else {
        Ok(Some(v))
    }
}

/// The content of a v2 `cpu.max` file: `$MAX $PERIOD`, where `$MAX` may be `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuMax {
    /// Quota in microseconds per period; `None` means no limit.
    pub quota_us: Option<u64>,
    /// Period in microseconds.
    pub period_us: u64,
}

impl CpuMax {
    /// Parses `cpu.max` content, such as `max 100000` or `50000 100000`.
    pub fn parse(text: &str) -> Result<CpuMax, FormatError> {
        let mut parts = text.split_whitespace();
        let quota = parts.next().ok_or_else(|| bad(text))?;
        let period = parts
            .next()
            .map(str::parse::<u64>)
            .unwrap_or(Ok(CFS_PERIOD_US));
        let period_us = period.map_err(|_| bad(text))?;
        if parts.next().is_some() {
            return Err(bad(text));
        }
        let quota_us = parse_max_value(quota)?;
        Ok(CpuMax {
            quota_us,
            period_us,
        })
    }

    /// Formats for writing to `cpu.max`.
    pub fn format(&self) -> String {
        format!("{} {}", format_max_value(self.quota_us), self.period_us)
    }

    /// The quota for `cpus` CPUs over the default period, never below the kernel minimum.
    pub fn for_cpus(cpus: f64) -> CpuMax {
        CpuMax {
            quota_us: Some(cfs_quota_us(cpus)),
            period_us: CFS_PERIOD_US,
        }
    }
}

/// CFS quota (µs per [`CFS_PERIOD_US`]) for a number of CPUs, clamped to the kernel minimum.
pub fn cfs_quota_us(cpus: f64) -> u64 {
    ((cpus * CFS_PERIOD_US as f64) as u64).max(MIN_CFS_QUOTA_US)
}

/// v1 `cpu.shares` for a number of CPUs: `1024 * cpus`, clamped to the kernel's range.
pub fn cpu_shares(cpus: f64) -> u64 {
    ((cpus * CPU_SHARES_PER_CPU) as u64).clamp(MIN_CPU_SHARES, MAX_CPU_SHARES)
}

/// v2 `cpu.weight` for v1 shares, using the conversion runc, crun and systemd use:
/// shares in [2, 262144] map linearly onto weights in [1, 10000].
pub fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(MIN_CPU_SHARES, MAX_CPU_SHARES);
    1 + ((shares - 2) * 9999) / 262_142
}

/// Parses `cgroup.procs` / `tasks`: one pid per line.
pub fn parse_pids(text: &str) -> Result<Vec<i32>, FormatError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.parse::<i32>().map_err(|_| bad(text)))
        .collect()
}

/// Parses a v2 `cgroup.controllers` or `cgroup.subtree_control` file: space separated names.
pub fn parse_controller_list(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_max_formats() {
        assert_eq!(
            CpuMax::parse("max 100000\n"),
            Ok(CpuMax {
                quota_us: None,
                period_us: 100_000
            })
        );
        assert_eq!(
            CpuMax::parse("50000 100000"),
            Ok(CpuMax {
                quota_us: Some(50_000),
                period_us: 100_000
            })
        );
        assert_eq!(CpuMax::parse("max").map(|m| m.period_us), Ok(100_000));
        assert!(CpuMax::parse("").is_err());
        assert!(CpuMax::parse("abc 100").is_err());
        assert!(CpuMax::parse("1 2 3").is_err());
        assert_eq!(CpuMax::for_cpus(0.5).format(), "50000 100000");
        assert_eq!(CpuMax::for_cpus(0.001).format(), "1000 100000");
        assert_eq!(
            CpuMax {
                quota_us: None,
                period_us: 100_000
            }
            .format(),
            "max 100000"
        );
    }

    #[test]
    fn shares_and_weights() {
        assert_eq!(cpu_shares(1.0), 1024);
        assert_eq!(cpu_shares(0.0001), 2);
        assert_eq!(cpu_shares(10_000.0), MAX_CPU_SHARES);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1024), 39);
    }

    #[test]
    fn max_values() {
        assert_eq!(parse_max_value("max\n"), Ok(None));
        assert_eq!(parse_max_value("1048576\n"), Ok(Some(1_048_576)));
        assert!(parse_max_value("-1").is_err());
        assert_eq!(format_max_value(None), "max");
        assert_eq!(format_max_value(Some(64)), "64");
        assert_eq!(parse_v1_memory_limit("9223372036854771712\n"), Ok(None));
        assert_eq!(parse_v1_memory_limit("67108864\n"), Ok(Some(67_108_864)));
    }

    #[test]
    fn memory_events_v2() {
        let text = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n";
        let m = parse_flat_keyed(text);
        assert_eq!(m["oom_kill"], 2);
        assert_eq!(m["max"], 12);
    }

    #[test]
    fn cpu_stat_v2_and_v1() {
        let v2 = "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n\
                  core_sched.force_idle_usec 0\nnr_periods 10\nnr_throttled 4\n\
                  throttled_usec 123456\nnr_bursts 0\nburst_usec 0\n";
        let m = parse_flat_keyed(v2);
        assert_eq!(m["user_usec"], 2_000_000);
        assert_eq!(m["throttled_usec"], 123_456);
        let v1 = "nr_periods 5\nnr_throttled 1\nthrottled_time 1000000\n";
        assert_eq!(parse_flat_keyed(v1)["throttled_time"], 1_000_000);
        let acct = "user 150\nsystem 20\n";
        assert_eq!(parse_flat_keyed(acct)["user"], 150);
    }

    #[test]
    fn oom_control_v1() {
        let text = "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n";
        let m = parse_flat_keyed(text);
        assert_eq!(m["oom_kill"], 1);
        assert_eq!(m["under_oom"], 0);
    }

    #[test]
    fn pids_and_controllers() {
        assert_eq!(parse_pids("1\n23\n\n"), Ok(vec![1, 23]));
        assert!(parse_pids("x\n").is_err());
        assert_eq!(
            parse_controller_list("cpuset cpu io memory pids\n"),
            vec!["cpuset", "cpu", "io", "memory", "pids"]
        );
    }
}
