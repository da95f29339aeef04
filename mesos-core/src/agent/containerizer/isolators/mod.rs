//! The isolators, and parsing of the `--isolation` flag into a set of them.

pub mod cgroups_cpu;
pub mod cgroups_mem;
pub mod cgroups_pids;
pub mod posix;

use std::sync::Arc;
use std::time::Duration;

use super::cgroups::{Cgroups, CgroupsError, Controller};
use super::isolator::{Isolator, IsolatorError};

pub use cgroups_cpu::CgroupsCpuIsolator;
pub use cgroups_mem::CgroupsMemIsolator;
pub use cgroups_pids::CgroupsPidsIsolator;
pub use posix::{PosixIsolator, PosixResource};

/// How long cleanup waits for a cgroup's processes to die and its directory to go.
pub(crate) const CLEANUP_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn cgroup_err(
    isolator: &'static str,
    container: &str,
    source: CgroupsError,
) -> IsolatorError {
    IsolatorError::Cgroups {
        isolator,
        container: container.to_string(),
        source,
    }
}

/// Fails with `isolator`'s error when the host's cgroups lack `controller`.
pub(crate) fn require_controller(
    isolator: &'static str,
    cgroups: &Cgroups,
    controller: Controller,
) -> Result<(), IsolatorError> {
    if cgroups.has(controller) {
        return Ok(());
    }
    Err(cgroup_err(
        isolator,
        "-",
        CgroupsError::ControllerUnavailable {
            controller,
            version: cgroups.version(),
        },
    ))
}

/// One entry of `--isolation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IsolationKind {
    /// `cgroups/cpu`
    CgroupsCpu,
    /// `cgroups/mem`
    CgroupsMem,
    /// `cgroups/pids`
    CgroupsPids,
    /// `posix/cpu`
    PosixCpu,
    /// `posix/mem`
    PosixMem,
    /// `namespaces/pid`: the container gets its own pid namespace (and a private `/proc`);
    /// provided by the linux launcher rather than by an isolator object.
    NamespacesPid,
    /// `filesystem/linux`: the sandbox is bind-mounted at
    /// [`SANDBOX_MOUNT_POINT`](crate::agent::containerizer::SANDBOX_MOUNT_POINT) in the
    /// container's mount namespace; provided by the linux launcher.
    FilesystemLinux,
}

impl IsolationKind {
    /// Every known kind.
    pub const ALL: [IsolationKind; 7] = [
        IsolationKind::CgroupsCpu,
        IsolationKind::CgroupsMem,
        IsolationKind::CgroupsPids,
        IsolationKind::PosixCpu,
        IsolationKind::PosixMem,
        IsolationKind::NamespacesPid,
        IsolationKind::FilesystemLinux,
    ];

    /// The name used in `--isolation`.
    pub fn name(self) -> &'static str {
        match self {
            IsolationKind::CgroupsCpu => "cgroups/cpu",
            IsolationKind::CgroupsMem => "cgroups/mem",
            IsolationKind::CgroupsPids => "cgroups/pids",
            IsolationKind::PosixCpu => "posix/cpu",
            IsolationKind::PosixMem => "posix/mem",
            IsolationKind::NamespacesPid => "namespaces/pid",
            IsolationKind::FilesystemLinux => "filesystem/linux",
        }
    }
}

/// Errors from parsing `--isolation`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IsolationParseError {
    /// A name that is not a known isolator.
    #[error("unknown isolator '{name}' in --isolation; known isolators: {known}")]
    Unknown {
        /// The unknown name.
        name: String,
        /// The known names, comma separated.
        known: String,
    },
    /// Two isolators for the same resource (e.g. `posix/cpu` with `cgroups/cpu`).
    #[error("--isolation: '{first}' and '{second}' both isolate the same resource")]
    Conflict {
        /// The first one given.
        first: &'static str,
        /// The second one.
        second: &'static str,
    },
}

/// Parses an `--isolation` value such as `cgroups/cpu,cgroups/mem,namespaces/pid`.
///
/// Whitespace around names is ignored, empty entries and repeats are dropped, order is kept.
pub fn parse_isolation(flag: &str) -> Result<Vec<IsolationKind>, IsolationParseError> {
    let mut out: Vec<IsolationKind> = Vec::new();
    for name in flag.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let kind = IsolationKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| IsolationParseError::Unknown {
                name: name.to_string(),
                known: IsolationKind::ALL.map(IsolationKind::name).join(", "),
            })?;
        if out.contains(&kind) {
            continue;
        }
        let rival = match kind {
            IsolationKind::CgroupsCpu => Some(IsolationKind::PosixCpu),
            IsolationKind::PosixCpu => Some(IsolationKind::CgroupsCpu),
            IsolationKind::CgroupsMem => Some(IsolationKind::PosixMem),
            IsolationKind::PosixMem => Some(IsolationKind::CgroupsMem),
            _ => None,
        };
        if let Some(r) = rival.filter(|r| out.contains(r)) {
            return Err(IsolationParseError::Conflict {
                first: r.name(),
                second: kind.name(),
            });
        }
        out.push(kind);
    }
    Ok(out)
}

/// Builds the isolator objects for `kinds` (`namespaces/pid` and `filesystem/linux` have
/// none: the linux launcher provides them). `cgroups` is needed
/// only if a `cgroups/*` kind is present; `enable_cfs` is passed to `cgroups/cpu`.
pub fn build_isolators(
    kinds: &[IsolationKind],
    cgroups: Option<&Arc<Cgroups>>,
    enable_cfs: bool,
) -> Result<Vec<Box<dyn Isolator>>, IsolatorError> {
    let need = |name: &'static str| {
        cgroups.cloned().ok_or(IsolatorError::Cgroups {
            isolator: name,
            container: "-".to_string(),
            source: CgroupsError::NotAvailable {
                mountinfo: "/proc/self/mountinfo".into(),
            },
        })
    };
    let mut out: Vec<Box<dyn Isolator>> = Vec::new();
    for kind in kinds {
        match kind {
            IsolationKind::CgroupsCpu => out.push(Box::new(CgroupsCpuIsolator::new(
                need(kind.name())?,
                enable_cfs,
            )?)),
            IsolationKind::CgroupsMem => {
                out.push(Box::new(CgroupsMemIsolator::new(need(kind.name())?)?))
            }
            IsolationKind::CgroupsPids => {
                out.push(Box::new(CgroupsPidsIsolator::new(need(kind.name())?)?))
            }
            IsolationKind::PosixCpu => out.push(Box::new(PosixIsolator::new(PosixResource::Cpu))),
            IsolationKind::PosixMem => out.push(Box::new(PosixIsolator::new(PosixResource::Mem))),
            IsolationKind::NamespacesPid | IsolationKind::FilesystemLinux => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_isolation_flag() {
        assert_eq!(
            parse_isolation("cgroups/cpu, cgroups/mem,,namespaces/pid,cgroups/cpu").unwrap(),
            vec![
                IsolationKind::CgroupsCpu,
                IsolationKind::CgroupsMem,
                IsolationKind::NamespacesPid
            ]
        );
        assert_eq!(parse_isolation("").unwrap(), vec![]);
        let err = parse_isolation("cgroups/cpu,cgroups/gpu").unwrap_err();
        assert!(err.to_string().contains("cgroups/gpu"));
        assert!(err.to_string().contains("posix/mem"));
        assert!(matches!(
            parse_isolation("posix/cpu,cgroups/cpu"),
            Err(IsolationParseError::Conflict { .. })
        ));
    }
}
