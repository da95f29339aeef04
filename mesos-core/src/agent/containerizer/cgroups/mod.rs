//! Access to Linux control groups, v1 and v2, detected at start.
//!
//! [`Cgroups`] is a handle rooted at `--cgroups_root` (default `mesos`) under the host's
//! hierarchies. On cgroups v1 every controller has its own hierarchy, so a container has one
//! cgroup per controller (`/sys/fs/cgroup/memory/mesos/<id>`, ...); on cgroups v2 a container
//! has a single cgroup in the unified hierarchy. A [`Cgroup`] is one such directory with the
//! operations the containerizer needs: create, move a pid in, read and write control files,
//! freeze and kill every process, and remove.

pub mod detect;
pub mod formats;

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Default name of the cgroup under which every container's cgroup is created.
pub const DEFAULT_CGROUPS_ROOT: &str = "mesos";

/// A cgroup controller (subsystem) the containerizer knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Controller {
    /// CPU scheduling: shares/weight and CFS bandwidth.
    Cpu,
    /// CPU accounting (v1 only; part of `cpu` on v2).
    Cpuacct,
    /// Memory limits and accounting.
    Memory,
    /// Number of tasks (processes and threads).
    Pids,
    /// Freezing of every process in a cgroup (v1 only; core feature on v2).
    Freezer,
    /// CPU and memory node pinning.
    Cpuset,
    /// Device access control (v1 only; eBPF on v2).
    Devices,
    /// Block IO (v1 name).
    Blkio,
    /// Block IO (v2 name).
    Io,
    /// Huge pages.
    Hugetlb,
}

impl Controller {
    /// Every controller, in a fixed order.
    pub const ALL: [Controller; 10] = [
        Controller::Cpu,
        Controller::Cpuacct,
        Controller::Memory,
        Controller::Pids,
        Controller::Freezer,
        Controller::Cpuset,
        Controller::Devices,
        Controller::Blkio,
        Controller::Io,
        Controller::Hugetlb,
    ];

    /// The kernel's name for the controller.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Freezer => "freezer",
            Controller::Cpuset => "cpuset",
            Controller::Devices => "devices",
            Controller::Blkio => "blkio",
            Controller::Io => "io",
            Controller::Hugetlb => "hugetlb",
        }
    }

    /// The controller with the kernel name `name`, if known.
    pub fn from_name(name: &str) -> Option<Controller> {
        Controller::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which cgroups interface is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupsVersion {
    /// One hierarchy per controller.
    V1,
    /// A single unified hierarchy.
    V2,
}

/// Errors from cgroup operations; each names the cgroup or file and carries the OS error.
#[derive(Debug, thiserror::Error)]
pub enum CgroupsError {
    /// Neither a usable v1 hierarchy nor a v2 mount was found.
    #[error("no cgroup hierarchy found in {mountinfo}")]
    NotAvailable {
        /// The mount table that was read.
        mountinfo: PathBuf,
    },
    /// A controller the caller needs is not mounted (v1) or not enabled (v2).
    #[error("cgroup controller '{controller}' is not available ({version:?})")]
    ControllerUnavailable {
        /// The missing controller.
        controller: Controller,
        /// The cgroups version in use.
        version: CgroupsVersion,
    },
    /// The cgroups root or a container id is not a single safe path component.
    #[error("invalid cgroup name '{name}': must be non-empty, without '/', '.' or '..'")]
    InvalidName {
        /// The rejected name.
        name: String,
    },
    /// A filesystem operation on a cgroup file or directory failed.
    #[error("cgroup {op} {path}: {source}")]
    Io {
        /// What was being done (`read`, `write`, `mkdir`, `rmdir`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A control file had content that could not be parsed.
    #[error("cannot parse cgroup file {path}: {content:?}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Its content.
        content: String,
    },
    /// Sending a signal to a process of a cgroup failed (other than it having exited).
    #[error("cannot kill pid {pid} of cgroup {path}: {source}")]
    Kill {
        /// The process.
        pid: i32,
        /// The cgroup.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: nix::Error,
    },
    /// An operation did not complete in time.
    #[error("timed out after {timeout:?} waiting for cgroup {path} to {what}")]
    Timeout {
        /// The cgroup.
        path: PathBuf,
        /// What was awaited.
        what: &'static str,
        /// How long was waited.
        timeout: Duration,
    },
}

/// Result type of cgroup operations.
pub type Result<T> = std::result::Result<T, CgroupsError>;

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> CgroupsError + 'a {
    move |source| CgroupsError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// Checks that `name` can be used as one cgroup directory name.
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(CgroupsError::InvalidName {
            name: name.to_string(),
        });
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Layout {
    V1(std::collections::BTreeMap<Controller, PathBuf>),
    V2 {
        mount: PathBuf,
        controllers: BTreeSet<Controller>,
    },
}

/// A handle on the host's cgroup hierarchies, rooted at a `--cgroups_root` name.
#[derive(Debug, Clone)]
pub struct Cgroups {
    layout: Layout,
    root: String,
}

impl Cgroups {
    /// Detects the host's cgroups from `/proc/self/mountinfo`.
    ///
    /// A host with v1 hierarchies for any of cpu, memory, pids or freezer uses v1 (hybrid
    /// hosts keep their controllers there); otherwise a `cgroup2` mount means v2.
    pub fn detect(root: &str) -> Result<Cgroups> {
        let path = Path::new("/proc/self/mountinfo");
        let text = fs::read_to_string(path).map_err(io_err("read", path))?;
        let mounts = detect::parse_mountinfo(&text);
        let core = [
            Controller::Cpu,
            Controller::Memory,
            Controller::Pids,
            Controller::Freezer,
        ];
        if core.iter().any(|c| mounts.v1.contains_key(c)) {
            return Cgroups::v1(mounts.v1, root);
        }
        match mounts.v2 {
            Some(mount) => Cgroups::v2(&mount, root),
            None => Err(CgroupsError::NotAvailable {
                mountinfo: path.to_path_buf(),
            }),
        }
    }

    /// A v1 handle over the given controller hierarchies.
    pub fn v1(
        mounts: std::collections::BTreeMap<Controller, PathBuf>,
        root: &str,
    ) -> Result<Cgroups> {
        validate_name(root)?;
        Ok(Cgroups {
            layout: Layout::V1(mounts),
            root: root.to_string(),
        })
    }

    /// A v2 handle over the unified hierarchy mounted at `mount`; the usable controllers are
    /// read from its `cgroup.controllers`.
    pub fn v2(mount: &Path, root: &str) -> Result<Cgroups> {
        validate_name(root)?;
        let file = mount.join("cgroup.controllers");
        let text = fs::read_to_string(&file).map_err(io_err("read", &file))?;
        let controllers = formats::parse_controller_list(&text)
            .iter()
            .filter_map(|n| Controller::from_name(n))
            .collect();
        Ok(Cgroups {
            layout: Layout::V2 {
                mount: mount.to_path_buf(),
                controllers,
            },
            root: root.to_string(),
        })
    }

    /// The cgroups version in use.
    pub fn version(&self) -> CgroupsVersion {
        match self.layout {
            Layout::V1(_) => CgroupsVersion::V1,
            Layout::V2 { .. } => CgroupsVersion::V2,
        }
    }

    /// The `--cgroups_root` name.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The controllers that can be used.
    pub fn controllers(&self) -> Vec<Controller> {
        match &self.layout {
            Layout::V1(m) => m.keys().copied().collect(),
            Layout::V2 { controllers, .. } => controllers.iter().copied().collect(),
        }
    }

    /// Whether `controller` can be used.
    pub fn has(&self, controller: Controller) -> bool {
        match &self.layout {
            Layout::V1(m) => m.contains_key(&controller),
            Layout::V2 { controllers, .. } => controllers.contains(&controller),
        }
    }

    /// The cgroup of container `id` for `controller` (not created yet).
    ///
    /// On v2 every controller maps to the same directory; creating it enables the controller
    /// in the parents' `cgroup.subtree_control`.
    pub fn container(&self, controller: Controller, id: &str) -> Result<Cgroup> {
        validate_name(id)?;
        let root = self.root_cgroup(controller)?;
        Ok(Cgroup {
            path: root.path.join(id),
            kind: root.kind,
        })
    }

    /// The cgroup under which every container's cgroup for `controller` is (`--cgroups_root`
    /// in its hierarchy): what it accounts covers all the containers, ended ones included.
    pub fn root_cgroup(&self, controller: Controller) -> Result<Cgroup> {
        let unavailable = || CgroupsError::ControllerUnavailable {
            controller,
            version: self.version(),
        };
        if !self.has(controller) {
            return Err(unavailable());
        }
        Ok(match &self.layout {
            Layout::V1(m) => Cgroup {
                path: m.get(&controller).ok_or_else(unavailable)?.join(&self.root),
                kind: Kind::V1 { controller },
            },
            Layout::V2 { mount, .. } => Cgroup {
                path: mount.join(&self.root),
                kind: Kind::V2 {
                    mount: mount.clone(),
                    enable: Some(controller),
                },
            },
        })
    }

    /// The ids of the containers that have a cgroup under the root, in any hierarchy.
    pub fn container_ids(&self) -> Vec<String> {
        let roots: Vec<PathBuf> = match &self.layout {
            Layout::V1(m) => m.values().map(|mount| mount.join(&self.root)).collect(),
            Layout::V2 { mount, .. } => vec![mount.join(&self.root)],
        };
        let mut ids = BTreeSet::new();
        for root in roots {
            let Ok(entries) = fs::read_dir(&root) else {
                continue;
            };
            for entry in entries.flatten() {
                let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
                if let (true, Some(name)) = (is_dir, entry.file_name().to_str()) {
                    if validate_name(name).is_ok() {
                        ids.insert(name.to_string());
                    }
                }
            }
        }
        ids.into_iter().collect()
    }

    /// The cgroup used to track and kill every process of container `id`: the freezer
    /// hierarchy on v1 (or, without it, pids), the unified cgroup on v2.
    pub fn processes(&self, id: &str) -> Result<Cgroup> {
        match &self.layout {
            Layout::V1(m) => {
                if m.contains_key(&Controller::Freezer) {
                    self.container(Controller::Freezer, id)
                } else {
                    self.container(Controller::Pids, id)
                }
            }
            Layout::V2 { mount, .. } => {
                validate_name(id)?;
                Ok(Cgroup {
                    path: mount.join(&self.root).join(id),
                    kind: Kind::V2 {
                        mount: mount.clone(),
                        enable: None,
                    },
                })
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    V1 {
        controller: Controller,
    },
    V2 {
        mount: PathBuf,
        enable: Option<Controller>,
    },
}

/// One cgroup directory and the operations on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    path: PathBuf,
    kind: Kind,
}

/// How often loops that wait on the kernel poll.
const POLL: Duration = Duration::from_millis(10);

/// The control file listing a cgroup's processes, through which processes are moved in.
const PROCS: &str = "cgroup.procs";

impl Cgroup {
    /// The cgroup's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cgroups version of the hierarchy this cgroup is in.
    pub fn version(&self) -> CgroupsVersion {
        match self.kind {
            Kind::V1 { .. } => CgroupsVersion::V1,
            Kind::V2 { .. } => CgroupsVersion::V2,
        }
    }

    /// Whether the directory exists.
    pub fn exists(&self) -> bool {
        self.path.is_dir()
    }

    /// Creates the cgroup (and its parents); succeeds if it already exists.
    ///
    /// On v2 the controller this cgroup was obtained for is first enabled in the
    /// `cgroup.subtree_control` of every ancestor below the mount.
    pub fn create(&self) -> Result<()> {
        if let Kind::V2 {
            mount,
            enable: Some(controller),
        } = &self.kind
        {
            let parent = self.path.parent().unwrap_or(mount);
            let relative = parent.strip_prefix(mount).unwrap_or(Path::new(""));
            let mut dir = mount.clone();
            enable_controller(&dir, *controller)?;
            for part in relative.components() {
                dir.push(part);
                mkdir(&dir)?;
                enable_controller(&dir, *controller)?;
            }
        }
        if let Some(parent) = self.path.parent() {
            fs::create_dir_all(parent).map_err(io_err("mkdir", parent))?;
        }
        mkdir(&self.path)
    }

    /// Path of a control file in this cgroup.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Whether the control file `name` exists.
    pub fn has_file(&self, name: &str) -> bool {
        self.file(name).exists()
    }

    /// Reads a control file.
    pub fn read(&self, name: &str) -> Result<String> {
        let path = self.file(name);
        fs::read_to_string(&path).map_err(io_err("read", &path))
    }

    /// Writes a control file.
    pub fn write(&self, name: &str, value: &str) -> Result<()> {
        let path = self.file(name);
        fs::write(&path, value).map_err(io_err("write", &path))
    }

    /// Reads a control file holding one unsigned integer.
    pub fn read_u64(&self, name: &str) -> Result<u64> {
        let text = self.read(name)?;
        text.trim().parse().map_err(|_| CgroupsError::Parse {
            path: self.file(name),
            content: text,
        })
    }

    /// Reads a flat keyed control file (`key value` lines).
    pub fn read_keyed(&self, name: &str) -> Result<std::collections::BTreeMap<String, u64>> {
        Ok(formats::parse_flat_keyed(&self.read(name)?))
    }

    /// Path of `cgroup.procs`: writing a pid there moves that process (with all its
    /// threads) into this cgroup, and writing `0` moves the writing process itself.
    pub fn procs_file(&self) -> PathBuf {
        self.file(PROCS)
    }

    /// The file a single-threaded process writes `0` to, to move itself into this cgroup:
    /// on v1 `tasks`, on v2 `cgroup.procs`.
    ///
    /// On v1, writing `0` to `cgroup.procs` moves the whole thread group and takes the
    /// kernel's global threadgroup lock for writing, which waits for an RCU grace period;
    /// every launch on the host queues behind every other one there. Writing `0` to
    /// `tasks` moves only the calling thread, which the kernel does without that lock. For
    /// a process of one thread (a launched container's first process before it execs) it
    /// is the same move. v2 has no such file for a process outside a threaded subtree.
    pub fn join_file(&self) -> PathBuf {
        match self.kind {
            Kind::V1 { .. } => self.file("tasks"),
            Kind::V2 { .. } => self.procs_file(),
        }
    }

    /// Moves process `pid` (with all its threads) into this cgroup.
    pub fn assign(&self, pid: i32) -> Result<()> {
        self.write(PROCS, &pid.to_string())
    }

    /// The processes in this cgroup (`cgroup.procs`).
    pub fn procs(&self) -> Result<Vec<i32>> {
        let text = self.read(PROCS)?;
        formats::parse_pids(&text).map_err(|_| CgroupsError::Parse {
            path: self.procs_file(),
            content: text,
        })
    }

    /// The number of threads in this cgroup (v1 `tasks`, v2 `cgroup.threads`).
    pub fn thread_count(&self) -> Result<u32> {
        let name = match self.kind {
            Kind::V1 { .. } => "tasks",
            Kind::V2 { .. } => "cgroup.threads",
        };
        let text = self.read(name)?;
        Ok(text.lines().filter(|l| !l.trim().is_empty()).count() as u32)
    }

    /// Freezes (`true`) or thaws (`false`) every process, if this cgroup can: the v1 freezer
    /// hierarchy or a v2 cgroup with `cgroup.freeze`. Returns whether it could. Waits until
    /// the kernel reports the new state.
    pub fn set_frozen(&self, frozen: bool, timeout: Duration) -> Result<bool> {
        type Check = fn(&Cgroup, bool) -> Result<bool>;
        let (file, value, check): (&str, &str, Check) = match self.kind {
            Kind::V1 {
                controller: Controller::Freezer,
            } => (
                "freezer.state",
                if frozen { "FROZEN" } else { "THAWED" },
                |cg, f| {
                    let s = cg.read("freezer.state")?;
                    Ok(s.trim() == if f { "FROZEN" } else { "THAWED" })
                },
            ),
            Kind::V2 { .. } if self.has_file("cgroup.freeze") => {
                ("cgroup.freeze", if frozen { "1" } else { "0" }, |cg, f| {
                    let events = cg.read_keyed("cgroup.events")?;
                    Ok(events.get("frozen").copied().unwrap_or(0) == u64::from(f))
                })
            }
            _ => return Ok(false),
        };
        let deadline = Instant::now() + timeout;
        loop {
            // v1 needs the write repeated while FREEZING; it is idempotent on both.
            self.write(file, value)?;
            if check(self, frozen)? {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Err(CgroupsError::Timeout {
                    path: self.path.clone(),
                    what: if frozen { "freeze" } else { "thaw" },
                    timeout,
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// Kills every process in the cgroup and waits until `cgroup.procs` is empty.
    ///
    /// v2 with `cgroup.kill`: one write kills the whole subtree atomically. Otherwise the
    /// cgroup is frozen (when it can be) so nothing forks, every pid gets SIGKILL, it is thawed
    /// so the signals are delivered, and this repeats until no process is left.
    pub fn kill_all(&self, timeout: Duration) -> Result<()> {
        if !self.exists() {
            return Ok(());
        }
        let deadline = Instant::now() + timeout;
        let use_kill_file = matches!(self.kind, Kind::V2 { .. }) && self.has_file("cgroup.kill");
        loop {
            let pids = self.procs()?;
            if pids.is_empty() {
                return Ok(());
            }
            if use_kill_file {
                self.write("cgroup.kill", "1")?;
            } else {
                let frozen = self.set_frozen(true, timeout)?;
                let result = self.signal_all(&pids, Signal::SIGKILL);
                if frozen {
                    self.set_frozen(false, timeout)?;
                }
                result?;
            }
            if Instant::now() >= deadline {
                return Err(CgroupsError::Timeout {
                    path: self.path.clone(),
                    what: "become empty after SIGKILL",
                    timeout,
                });
            }
            std::thread::sleep(POLL);
        }
    }

    fn signal_all(&self, pids: &[i32], signal: Signal) -> Result<()> {
        for &pid in pids {
            match kill(Pid::from_raw(pid), signal) {
                Ok(()) | Err(nix::Error::ESRCH) => {}
                Err(source) => {
                    return Err(CgroupsError::Kill {
                        pid,
                        path: self.path.clone(),
                        source,
                    })
                }
            }
        }
        Ok(())
    }

    /// Removes the cgroup directory, retrying while it is busy (processes still exiting).
    /// Succeeds if it does not exist.
    pub fn remove(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            match fs::remove_dir(&self.path) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                    std::thread::sleep(POLL);
                }
                Err(source) => {
                    return Err(CgroupsError::Io {
                        op: "rmdir",
                        path: self.path.clone(),
                        source,
                    })
                }
            }
        }
    }

    /// Kills every process and removes the cgroup.
    pub fn destroy(&self, timeout: Duration) -> Result<()> {
        self.kill_all(timeout)?;
        self.remove(timeout)
    }
}

fn mkdir(path: &Path) -> Result<()> {
    match fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(CgroupsError::Io {
            op: "mkdir",
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn enable_controller(dir: &Path, controller: Controller) -> Result<()> {
    let file = dir.join("cgroup.subtree_control");
    let current = fs::read_to_string(&file).map_err(io_err("read", &file))?;
    if formats::parse_controller_list(&current)
        .iter()
        .any(|n| n == controller.name())
    {
        return Ok(());
    }
    fs::write(&file, format!("+{}", controller.name())).map_err(io_err("write", &file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(validate_name("abc-1_2.x").is_ok());
        for bad in ["", ".", "..", "a/b"] {
            assert!(matches!(
                validate_name(bad),
                Err(CgroupsError::InvalidName { .. })
            ));
        }
    }

    #[test]
    fn v1_paths_per_controller() {
        let mut m = std::collections::BTreeMap::new();
        m.insert(Controller::Memory, PathBuf::from("/cg/memory"));
        m.insert(Controller::Freezer, PathBuf::from("/cg/freezer"));
        let cg = Cgroups::v1(m, "mesos").unwrap();
        assert_eq!(
            cg.container(Controller::Memory, "c1").unwrap().path(),
            Path::new("/cg/memory/mesos/c1")
        );
        assert_eq!(
            cg.processes("c1").unwrap().path(),
            Path::new("/cg/freezer/mesos/c1")
        );
        assert!(matches!(
            cg.container(Controller::Cpu, "c1"),
            Err(CgroupsError::ControllerUnavailable { .. })
        ));
        assert!(cg.container(Controller::Memory, "../x").is_err());
        assert_eq!(
            cg.root_cgroup(Controller::Memory).unwrap().path(),
            Path::new("/cg/memory/mesos")
        );
        assert!(cg.root_cgroup(Controller::Cpu).is_err());
    }
}
