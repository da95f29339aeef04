//! What this host offers: the agent's total resources, attributes and fault domain.
//!
//! Mesos' rules, as its containerizer applies them when the agent starts:
//!
//! - `--resources` (text `cpus:2;mem:1024;cpus(ops):1` or a JSON array) is taken as given,
//!   static reservations included;
//! - each of `cpus`, `mem`, `disk` and `ports` that `--resources` does not name at all is
//!   detected and reserved for `--default_role` (`*`: unreserved): `cpus` are the CPUs this
//!   process may run on, `mem` the host's memory less 1 GB for the system (half of it below
//!   2 GB), `disk` the size of the filesystem holding `--work_dir` less 5 GB (half of it
//!   below 10 GB), `ports` `[31000-32000]`. Naming a resource with any role, or with a zero
//!   amount, turns its detection off.
//!
//! The rules are pure functions of [`HostMeasurements`]; [`measure`] reads them from this
//! machine.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::proto::mesos::v1::DomainInfo;
use crate::resources::{parse_attributes, parse_resources, Attributes, Resources};

/// One megabyte, the unit of `mem` and `disk`.
const MB: u64 = 1024 * 1024;

/// One gigabyte.
const GB: u64 = 1024 * MB;

/// The ports offered when `--resources` names none, as Mesos offers.
pub const DEFAULT_PORTS: &str = "[31000-32000]";

/// Why the agent's resources, attributes or domain could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// `--resources` does not parse or is refused.
    #[error("--resources: {0}")]
    Resources(String),
    /// `--attributes` does not parse.
    #[error("--attributes: {0}")]
    Attributes(String),
    /// `--domain` is not a `DomainInfo` in JSON.
    #[error("--domain: {0}")]
    Domain(String),
    /// A quantity of this host could not be measured.
    #[error("cannot detect the host's {what}: {reason}")]
    Measure {
        /// What was being measured (`memory`, `disk of /var/lib/mesos`, ...).
        what: String,
        /// Why it failed.
        reason: String,
    },
}

/// The raw quantities of this host the detected resources are made from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostMeasurements {
    /// How many CPUs this process may run on.
    pub cpus: f64,
    /// Total memory of the host, in bytes.
    pub memory_bytes: u64,
    /// Total size of the filesystem holding the work directory, in bytes.
    pub disk_bytes: u64,
}

/// The memory Mesos offers out of `total_bytes`, in megabytes: all but 1 GB, or half when
/// the host has less than 2 GB.
pub fn offered_memory_mb(total_bytes: u64) -> f64 {
    let offered = if total_bytes >= 2 * GB {
        total_bytes - GB
    } else {
        total_bytes / 2
    };
    offered as f64 / MB as f64
}

/// The disk Mesos offers out of a filesystem of `total_bytes`, in megabytes: all but 5 GB,
/// or half when the filesystem is smaller than 10 GB.
pub fn offered_disk_mb(total_bytes: u64) -> f64 {
    let offered = if total_bytes >= 10 * GB {
        total_bytes - 5 * GB
    } else {
        total_bytes / 2
    };
    offered as f64 / MB as f64
}

/// The agent's total resources: `--resources` (`flag`, `None` when not given) plus every
/// one of `cpus`, `mem`, `disk` and `ports` it does not name, worked out from `measure`
/// (called only when something must be detected) and reserved for `default_role`.
pub fn agent_resources<M>(
    flag: Option<&str>,
    default_role: &str,
    measure: M,
) -> Result<Resources, HostError>
where
    M: FnOnce() -> Result<HostMeasurements, HostError>,
{
    let text = flag.unwrap_or("");
    let mut resources = given_resources(text, default_role)?;
    let named = resource_names(text)?;
    let missing: Vec<&str> = ["cpus", "mem", "disk", "ports"]
        .into_iter()
        .filter(|name| !named.contains(*name))
        .collect();
    if missing.is_empty() {
        return Ok(resources);
    }
    let needs_measuring = missing.iter().any(|name| *name != "ports");
    let host = if needs_measuring {
        Some(measure()?)
    } else {
        None
    };
    let detected: Vec<String> = missing
        .iter()
        .filter_map(|name| match (*name, host) {
            ("cpus", Some(host)) => Some(format!("cpus:{}", host.cpus)),
            ("mem", Some(host)) => Some(format!("mem:{}", offered_memory_mb(host.memory_bytes))),
            ("disk", Some(host)) => Some(format!("disk:{}", offered_disk_mb(host.disk_bytes))),
            ("ports", _) => Some(format!("ports:{DEFAULT_PORTS}")),
            _ => None,
        })
        .collect();
    resources += parse_resources(&detected.join(";"), default_role)
        .map_err(|e| HostError::Resources(format!("detected resources: {e}")))?;
    Ok(resources)
}

/// `--resources` as given, parsed and checked, without anything detected.
pub fn given_resources(flag: &str, default_role: &str) -> Result<Resources, HostError> {
    parse_resources(flag, default_role).map_err(|e| HostError::Resources(e.to_string()))
}

/// The resource names a valid `--resources` value mentions, whatever their role or amount.
fn resource_names(text: &str) -> Result<BTreeSet<String>, HostError> {
    if text.trim_start().starts_with('[') {
        let entries: Vec<serde_json::Value> =
            serde_json::from_str(text).map_err(|e| HostError::Resources(e.to_string()))?;
        return Ok(entries
            .iter()
            .filter_map(|entry| entry.get("name").and_then(|name| name.as_str()))
            .map(str::to_string)
            .collect());
    }
    Ok(text
        .split(';')
        .filter_map(|entry| entry.split_once(':'))
        .map(|(head, _)| head.split('(').next().unwrap_or(head).trim().to_string())
        .filter(|name| !name.is_empty())
        .collect())
}

/// `--attributes` (`rack:r1;zone:a`), empty when not given.
pub fn agent_attributes(flag: Option<&str>) -> Result<Attributes, HostError> {
    match flag {
        Some(text) => parse_attributes(text).map_err(|e| HostError::Attributes(e.to_string())),
        None => Ok(Attributes::default()),
    }
}

/// `--domain`: a `DomainInfo` in JSON,
/// `{"fault_domain":{"region":{"name":"r"},"zone":{"name":"z"}}}`.
pub fn parse_domain(text: &str) -> Result<DomainInfo, HostError> {
    crate::json::from_slice::<DomainInfo>(text.as_bytes())
        .map_err(|e| HostError::Domain(e.to_string()))
}

/// Measures this host: the CPUs this process may run on, the memory in `/proc/meminfo`,
/// and the size of the filesystem holding `work_dir` (or its nearest existing ancestor,
/// for a work directory not made yet).
pub fn measure(work_dir: &Path) -> Result<HostMeasurements, HostError> {
    let cpus = std::thread::available_parallelism()
        .map_err(|e| HostError::Measure {
            what: "CPUs".to_string(),
            reason: e.to_string(),
        })?
        .get();
    let meminfo = std::fs::read_to_string("/proc/meminfo").map_err(|e| HostError::Measure {
        what: "memory".to_string(),
        reason: format!("/proc/meminfo: {e}"),
    })?;
    let memory_bytes = parse_meminfo_total(&meminfo).ok_or_else(|| HostError::Measure {
        what: "memory".to_string(),
        reason: "/proc/meminfo has no MemTotal line".to_string(),
    })?;
    Ok(HostMeasurements {
        cpus: cpus as f64,
        memory_bytes,
        disk_bytes: filesystem_size(work_dir)?,
    })
}

/// `MemTotal` of `/proc/meminfo` text, in bytes.
pub fn parse_meminfo_total(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))?;
    let mut words = line.split_whitespace();
    let amount: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => amount.checked_mul(1024),
        None => Some(amount),
        Some(_) => None,
    }
}

/// The total size of the filesystem holding `path` or, if it does not exist yet, its
/// nearest existing ancestor.
fn filesystem_size(path: &Path) -> Result<u64, HostError> {
    let existing: PathBuf = path
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"))
        .to_path_buf();
    let stats = nix::sys::statvfs::statvfs(&existing).map_err(|e| HostError::Measure {
        what: format!("disk of {}", path.display()),
        reason: format!("statvfs {}: {e}", existing.display()),
    })?;
    Ok(stats.blocks().saturating_mul(stats.fragment_size()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::resources::{Ranges, Scalar};

    const HOST: HostMeasurements = HostMeasurements {
        cpus: 8.0,
        memory_bytes: 16 * GB,
        disk_bytes: 100 * GB,
    };

    fn resources(flag: Option<&str>) -> Resources {
        agent_resources(flag, "*", || Ok(HOST)).unwrap()
    }

    fn scalar(units: i64) -> Option<Scalar> {
        Some(Scalar::from_units(units))
    }

    #[test]
    fn memory_and_disk_leave_mesos_reserve() {
        assert_eq!(offered_memory_mb(16 * GB), 15.0 * 1024.0);
        assert_eq!(offered_memory_mb(2 * GB), 1024.0);
        assert_eq!(offered_memory_mb(GB), 512.0);
        assert_eq!(offered_disk_mb(100 * GB), 95.0 * 1024.0);
        assert_eq!(offered_disk_mb(10 * GB), 5.0 * 1024.0);
        assert_eq!(offered_disk_mb(8 * GB), 4.0 * 1024.0);
    }

    #[test]
    fn everything_is_detected_without_the_flag() {
        let total = resources(None);
        assert_eq!(total.cpus(), scalar(8));
        assert_eq!(total.mem(), scalar(15 * 1024));
        assert_eq!(total.disk(), scalar(95 * 1024));
        assert_eq!(
            total.ports(),
            Some(Ranges::from_pairs([(31000, 32000)]).unwrap())
        );
        assert_eq!(total.unreserved(), total);
    }

    #[test]
    fn given_names_replace_detection_and_others_are_detected() {
        let total = resources(Some("cpus:2;mem:1024;gpus:1"));
        assert_eq!(total.cpus(), scalar(2));
        assert_eq!(total.mem(), scalar(1024));
        assert_eq!(total.disk(), scalar(95 * 1024));
        assert_eq!(total.gpus(), scalar(1));
        assert!(total.ports().is_some());
    }

    #[test]
    fn static_reservations_are_kept_and_turn_detection_off() {
        let total = resources(Some("cpus(ops):2;ports:[5000-5001]"));
        assert_eq!(total.cpus(), scalar(2));
        assert_eq!(total.reserved(Some("ops")).cpus(), scalar(2));
        assert_eq!(
            total.ports(),
            Some(Ranges::from_pairs([(5000, 5001)]).unwrap())
        );
        let none = resources(Some("cpus:0"));
        assert_eq!(none.cpus(), None);
    }

    #[test]
    fn detected_resources_go_to_the_default_role() {
        let total = agent_resources(Some("cpus:1"), "eng", || Ok(HOST)).unwrap();
        assert_eq!(total.reserved(Some("eng")).mem(), scalar(15 * 1024));
        assert_eq!(total.reserved(Some("eng")).cpus(), scalar(1));
    }

    #[test]
    fn json_form_is_accepted() {
        let total = resources(Some(
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":3}}]"#,
        ));
        assert_eq!(total.cpus(), scalar(3));
        assert_eq!(total.mem(), scalar(15 * 1024));
    }

    #[test]
    fn nothing_is_measured_when_everything_is_given() {
        let total = agent_resources(Some("cpus:1;mem:2;disk:3;ports:[1-2]"), "*", || {
            Err(HostError::Measure {
                what: "anything".to_string(),
                reason: "not expected".to_string(),
            })
        })
        .unwrap();
        assert_eq!(total.disk(), scalar(3));
    }

    #[test]
    fn bad_values_name_the_flag() {
        for bad in ["cpus", "cpus:x", "cpus(-a):1", "[{"] {
            let message = agent_resources(Some(bad), "*", || Ok(HOST))
                .unwrap_err()
                .to_string();
            assert!(message.starts_with("--resources: "), "{bad}: {message}");
        }
        let message = agent_attributes(Some("rack")).unwrap_err().to_string();
        assert!(message.starts_with("--attributes: "), "{message}");
        let message = parse_domain("{\"fault_domain\":{}}")
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("--domain: "), "{message}");
    }

    #[test]
    fn attributes_and_domain_parse() {
        let attributes = agent_attributes(Some("rack:r1;level:3")).unwrap();
        assert_eq!(attributes.text("rack"), Some("r1"));
        assert_eq!(attributes.scalar("level"), Some(3.0));
        assert!(agent_attributes(None).unwrap().is_empty());
        let domain =
            parse_domain(r#"{"fault_domain":{"region":{"name":"r"},"zone":{"name":"z"}}}"#)
                .unwrap();
        let fault = domain.fault_domain.unwrap();
        assert_eq!(fault.region.name, "r");
        assert_eq!(fault.zone.name, "z");
    }

    #[test]
    fn meminfo_total_is_read_in_bytes() {
        let text = "MemTotal:       16384 kB\nMemFree:        1024 kB\n";
        assert_eq!(parse_meminfo_total(text), Some(16384 * 1024));
        assert_eq!(parse_meminfo_total("MemFree: 1 kB\n"), None);
        assert_eq!(parse_meminfo_total("MemTotal: x kB\n"), None);
    }

    #[test]
    fn this_host_can_be_measured() {
        let dir = tempfile::tempdir().unwrap();
        let host = measure(&dir.path().join("not/made/yet")).unwrap();
        assert!(host.cpus >= 1.0);
        assert!(host.memory_bytes > 0);
        assert!(host.disk_bytes > 0);
    }
}
