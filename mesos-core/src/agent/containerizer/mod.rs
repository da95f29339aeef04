//! The Mesos containerizer: a [`Launcher`](launcher::Launcher) plus
//! [`Isolator`](isolator::Isolator)s.
//!
//! [`Containerizer::launch`] prepares every isolator, then has the launcher start the command,
//! which joins every isolator's cgroups itself before it execs, then tells the isolators its
//! pid; any failure on the way undoes all of it. [`Containerizer::destroy`] kills every
//! process of the container, reaps it and cleans up every isolator.
//!
//! * [`cgroups`]: cgroups v1/v2 detection and access.
//! * [`isolator`]: the isolator interface and the statistics and limitation types.
//! * [`isolators`]: `cgroups/cpu`, `cgroups/mem`, `cgroups/pids`, `posix/cpu`, `posix/mem`,
//!   and parsing of `--isolation`.
//! * [`launcher`]: the `posix` and `linux` launchers.
//! * [`procfs`]: process trees from `/proc`.

pub mod cgroups;
pub mod isolator;
pub mod isolators;
pub mod launcher;
pub mod procfs;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cgroups::Cgroups;
use isolator::{Isolator, IsolatorError, Limitation, ResourceLimits, ResourceStatistics};
use isolators::{IsolationKind, IsolationParseError};
use launcher::{ExitStatus, LaunchError, LaunchSpec, Launcher, LinuxLauncher, PosixLauncher};

/// Where `filesystem/linux` bind-mounts a container's sandbox, as Mesos does.
pub const SANDBOX_MOUNT_POINT: &str = "/mnt/mesos/sandbox";

/// Errors from the containerizer.
#[derive(Debug, thiserror::Error)]
pub enum ContainerizerError {
    /// The container id cannot be used (it names cgroups and directories).
    #[error("invalid container id '{0}': use letters, digits, '-', '_' and '.'")]
    InvalidContainerId(String),
    /// The container id is in use.
    #[error("container {0} already exists")]
    Duplicate(String),
    /// No such container.
    #[error("unknown container {0}")]
    Unknown(String),
    /// `--isolation` could not be parsed.
    #[error(transparent)]
    Isolation(#[from] IsolationParseError),
    /// An isolator failed.
    #[error(transparent)]
    Isolator(#[from] IsolatorError),
    /// The launcher failed.
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// cgroups are needed but unusable.
    #[error(transparent)]
    Cgroups(#[from] cgroups::CgroupsError),
    /// `namespaces/pid` or `filesystem/linux` was asked for with the posix launcher.
    #[error("isolation '{0}' needs the linux launcher")]
    NeedsLinuxLauncher(&'static str),
}

/// Which launcher to use (`--launcher`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LauncherKind {
    /// [`PosixLauncher`].
    Posix,
    /// [`LinuxLauncher`].
    Linux,
}

/// Configuration of a [`Containerizer`], mirroring the agent flags.
#[derive(Debug, Clone)]
pub struct ContainerizerConfig {
    /// `--isolation`, e.g. `cgroups/cpu,cgroups/mem,namespaces/pid`.
    pub isolation: String,
    /// `--launcher`.
    pub launcher: LauncherKind,
    /// `--cgroups_root`.
    pub cgroups_root: String,
    /// `--cgroups_enable_cfs`: hard CPU limits.
    pub cgroups_enable_cfs: bool,
}

impl Default for ContainerizerConfig {
    fn default() -> Self {
        ContainerizerConfig {
            isolation: "posix/cpu,posix/mem".to_string(),
            launcher: LauncherKind::Posix,
            cgroups_root: cgroups::DEFAULT_CGROUPS_ROOT.to_string(),
            cgroups_enable_cfs: true,
        }
    }
}

/// Checks that a container id is a safe single path component.
pub fn validate_container_id(id: &str) -> Result<(), ContainerizerError> {
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ContainerizerError::InvalidContainerId(id.to_string()))
    }
}

/// Launches, monitors and destroys containers.
pub struct Containerizer {
    sandbox_mount: Option<PathBuf>,
    cgroups: Option<Arc<Cgroups>>,
    launcher: Box<dyn Launcher>,
    isolators: Vec<Box<dyn Isolator>>,
    limitations: Mutex<HashMap<String, Vec<Limitation>>>,
    /// Ids reserved by a launch in progress or a live container, so two launches of one id
    /// cannot race (and the loser's cleanup cannot touch the winner's cgroups).
    ids: Mutex<HashSet<String>>,
    /// One slot per core for containers being started: see [`Containerizer::start_slot`].
    start_slots: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Containerizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Containerizer")
            .field("launcher", &self.launcher.name())
            .field(
                "isolators",
                &self.isolators.iter().map(|i| i.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Containerizer {
    /// Builds a containerizer from flags, detecting cgroups if any `cgroups/*` isolator or the
    /// linux launcher asks for them.
    pub fn from_config(config: &ContainerizerConfig) -> Result<Self, ContainerizerError> {
        let kinds = isolators::parse_isolation(&config.isolation)?;
        let needs_cgroups = config.launcher == LauncherKind::Linux
            || kinds.iter().any(|k| k.name().starts_with("cgroups/"));
        let cgroups = if needs_cgroups {
            match Cgroups::detect(&config.cgroups_root) {
                Ok(c) => Some(Arc::new(c)),
                Err(e) if kinds.iter().any(|k| k.name().starts_with("cgroups/")) => {
                    return Err(e.into())
                }
                Err(_) => None,
            }
        } else {
            None
        };
        Self::with_cgroups(&kinds, config.launcher, cgroups, config.cgroups_enable_cfs)
    }

    /// Builds a containerizer over a given cgroups handle (`None`: no cgroups).
    pub fn with_cgroups(
        kinds: &[IsolationKind],
        launcher: LauncherKind,
        cgroups: Option<Arc<Cgroups>>,
        enable_cfs: bool,
    ) -> Result<Self, ContainerizerError> {
        if launcher == LauncherKind::Posix {
            for kind in [IsolationKind::NamespacesPid, IsolationKind::FilesystemLinux] {
                if kinds.contains(&kind) {
                    return Err(ContainerizerError::NeedsLinuxLauncher(kind.name()));
                }
            }
        }
        let isolators = isolators::build_isolators(kinds, cgroups.as_ref(), enable_cfs)?;
        let launcher: Box<dyn Launcher> = match launcher {
            LauncherKind::Posix => Box::new(PosixLauncher::new()),
            LauncherKind::Linux => Box::new(LinuxLauncher::new(cgroups.clone())),
        };
        Ok(Containerizer {
            sandbox_mount: kinds
                .contains(&IsolationKind::FilesystemLinux)
                .then(|| PathBuf::from(SANDBOX_MOUNT_POINT)),
            cgroups,
            launcher,
            isolators,
            limitations: Mutex::new(HashMap::new()),
            ids: Mutex::new(HashSet::new()),
            start_slots: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )),
        })
    }

    /// Waits for a slot to start a container in; hold it across [`Containerizer::launch`].
    ///
    /// Starts are bounded to one per core. A start holds descriptors open in the agent
    /// (the child's stdio and its error pipe), and its child copies, then closes, the
    /// agent's whole descriptor table: hundreds of starts at once cost time quadratic in
    /// their number, and a blocking thread each.
    pub async fn start_slot(
        &self,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, tokio::sync::AcquireError> {
        self.start_slots.clone().acquire_owned().await
    }

    /// Where a container sees its sandbox when `filesystem/linux` is in use (set it as
    /// [`LaunchSpec::sandbox_mount`]); `None` when containers see it at its host path.
    pub fn sandbox_mount_point(&self) -> Option<&Path> {
        self.sandbox_mount.as_deref()
    }

    /// The cgroups handle in use, if any.
    pub fn cgroups(&self) -> Option<&Arc<Cgroups>> {
        self.cgroups.as_ref()
    }

    /// The names of the isolators in use.
    pub fn isolator_names(&self) -> Vec<&'static str> {
        self.isolators.iter().map(|i| i.name()).collect()
    }

    /// The launcher in use.
    pub fn launcher(&self) -> &dyn Launcher {
        self.launcher.as_ref()
    }

    /// Launches `spec` as container `id` with `limits`; returns its pid (in the agent's pid
    /// namespace). On any error, everything done so far is undone.
    pub fn launch(
        &self,
        id: &str,
        spec: &LaunchSpec,
        limits: &ResourceLimits,
    ) -> Result<i32, ContainerizerError> {
        validate_container_id(id)?;
        if !self.lock_ids().insert(id.to_string()) {
            return Err(ContainerizerError::Duplicate(id.to_string()));
        }
        let result = self.launch_steps(id, spec, limits);
        if result.is_err() {
            // The launcher has already released the child; release the isolators.
            self.cleanup_isolators(id);
            self.lock_ids().remove(id);
        }
        result
    }

    fn launch_steps(
        &self,
        id: &str,
        spec: &LaunchSpec,
        limits: &ResourceLimits,
    ) -> Result<i32, ContainerizerError> {
        let mut join = Vec::new();
        for iso in &self.isolators {
            iso.prepare(id, limits)?;
            join.extend(iso.cgroups_to_join(id)?);
        }
        let pid = self.launcher.launch(id, spec, &join)?;
        for iso in &self.isolators {
            iso.launched(id, pid);
        }
        Ok(pid)
    }

    fn cleanup_isolators(&self, id: &str) -> Option<IsolatorError> {
        let mut first = None;
        for iso in self.isolators.iter().rev() {
            if let Err(e) = iso.cleanup(id) {
                first.get_or_insert(e);
            }
        }
        first
    }

    /// Applies new `limits` to running container `id` (e.g. more tasks joined its executor).
    pub fn update(&self, id: &str, limits: &ResourceLimits) -> Result<(), ContainerizerError> {
        if self.launcher.pid(id).is_none() {
            return Err(ContainerizerError::Unknown(id.to_string()));
        }
        for iso in &self.isolators {
            iso.update(id, limits)?;
        }
        Ok(())
    }

    /// Takes charge again of container `id`, launched with `limits` before the agent
    /// restarted, whose first process is `pid` (started at `start_time`, when the
    /// checkpoint has it; another process under a reused pid makes the container count as
    /// ended): afterwards it is known to [`Containerizer::usage`],
    /// [`Containerizer::limitations`] and [`Containerizer::destroy`] as if this
    /// containerizer had launched it.
    pub fn recover(
        &self,
        id: &str,
        pid: i32,
        start_time: Option<u64>,
        limits: &ResourceLimits,
    ) -> Result<(), ContainerizerError> {
        validate_container_id(id)?;
        if !self.lock_ids().insert(id.to_string()) {
            return Err(ContainerizerError::Duplicate(id.to_string()));
        }
        let result = self
            .launcher
            .recover(id, pid, start_time)
            .map_err(ContainerizerError::from)
            .and_then(|()| {
                self.isolators
                    .iter()
                    .try_for_each(|iso| iso.recover(id, pid, limits))
                    .map_err(ContainerizerError::from)
            });
        if result.is_err() {
            self.lock_ids().remove(id);
        }
        result
    }

    /// Containers that have cgroups under `--cgroups_root` but are neither running here nor
    /// in `known`: left behind by an agent that died.
    pub fn orphans(&self, known: &HashSet<String>) -> Vec<String> {
        let Some(cgroups) = &self.cgroups else {
            return Vec::new();
        };
        let live = self.lock_ids().clone();
        cgroups
            .container_ids()
            .into_iter()
            .filter(|id| !known.contains(id) && !live.contains(id))
            .collect()
    }

    /// Kills every process of orphan container `id` and removes its cgroups.
    pub fn destroy_orphan(&self, id: &str) -> Result<(), ContainerizerError> {
        let Some(cgroups) = &self.cgroups else {
            return Ok(());
        };
        cgroups
            .processes(id)
            .and_then(|cg| cg.destroy(isolators::CLEANUP_TIMEOUT))?;
        for controller in cgroups.controllers() {
            cgroups
                .container(controller, id)
                .and_then(|cg| cg.destroy(isolators::CLEANUP_TIMEOUT))?;
        }
        Ok(())
    }

    /// Usage of container `id`, merged from every isolator.
    pub fn usage(&self, id: &str) -> Result<ResourceStatistics, ContainerizerError> {
        if self.launcher.pid(id).is_none() {
            return Err(ContainerizerError::Unknown(id.to_string()));
        }
        let mut stats = ResourceStatistics::default();
        for iso in &self.isolators {
            stats.merge(&iso.usage(id)?);
        }
        Ok(stats)
    }

    /// Limits container `id` has hit so far (polls every isolator; remembered until destroy).
    pub fn limitations(&self, id: &str) -> Result<Vec<Limitation>, ContainerizerError> {
        if self.launcher.pid(id).is_none() {
            return Err(ContainerizerError::Unknown(id.to_string()));
        }
        let mut seen = self.lock_limitations();
        let list = seen.entry(id.to_string()).or_default();
        for iso in &self.isolators {
            if let Some(l) = iso.limitation(id)? {
                if !list.iter().any(|x| x.resource == l.resource) {
                    list.push(l);
                }
            }
        }
        Ok(list.clone())
    }

    fn lock_ids(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.ids.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_limitations(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Limitation>>> {
        self.limitations.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits up to `timeout` for container `id`'s first process to exit (`None`: just check).
    pub fn wait(
        &self,
        id: &str,
        timeout: Option<Duration>,
    ) -> Result<Option<ExitStatus>, ContainerizerError> {
        Ok(self.launcher.wait(id, timeout)?)
    }

    /// Kills every process of container `id`, reaps it and cleans up every isolator.
    /// Returns how its first process ended and the limitations it hit.
    pub fn destroy(&self, id: &str) -> Result<Termination, ContainerizerError> {
        if self.launcher.pid(id).is_none() {
            return Err(ContainerizerError::Unknown(id.to_string()));
        }
        // Learn of limitations before the cgroups go away.
        let _ = self.limitations(id);
        let status = self.launcher.destroy(id)?;
        let limitations = self.lock_limitations().remove(id).unwrap_or_default();
        if let Some(e) = self.cleanup_isolators(id) {
            return Err(e.into());
        }
        self.lock_ids().remove(id);
        Ok(Termination {
            status,
            limitations,
        })
    }
}

/// How a destroyed container ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termination {
    /// Exit status of the first process, if it was known.
    pub status: Option<ExitStatus>,
    /// Limits it hit.
    pub limitations: Vec<Limitation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn container_starts_are_bounded_to_one_per_core() {
        let c = Containerizer::from_config(&ContainerizerConfig::default()).unwrap();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut held = Vec::new();
        for _ in 0..cores {
            held.push(c.start_slot().await.unwrap());
        }
        let waiting = tokio::time::timeout(Duration::from_millis(50), c.start_slot()).await;
        assert!(waiting.is_err(), "a start got a slot beyond one per core");
        held.pop();
        let freed = tokio::time::timeout(Duration::from_secs(5), c.start_slot()).await;
        assert!(freed.is_ok(), "a released slot was not handed on");
    }

    /// Recovers a container whose checkpoint names `stranger` (started at `start_time`),
    /// which is not the container's process: the container counts as ended, and
    /// destroying it leaves the stranger alive.
    fn recovering_leaves_alone(mut stranger: std::process::Child, start_time: Option<u64>) {
        let c = Containerizer::from_config(&ContainerizerConfig::default()).unwrap();
        let pid = stranger.id() as i32;
        c.recover("recovered", pid, start_time, &ResourceLimits::default())
            .unwrap();
        assert_eq!(
            c.wait("recovered", None).unwrap(),
            Some(ExitStatus::Unknown),
            "a stranger's pid counts as the container having ended"
        );
        c.destroy("recovered").unwrap();
        // A SIGKILL sent by destroy would have ended the stranger by now.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let alive = stranger.try_wait().unwrap().is_none();
        let _ = stranger.kill();
        let _ = stranger.wait();
        assert!(
            alive,
            "destroying the recovered container killed a stranger"
        );
    }

    #[test]
    fn a_recovered_pid_that_is_not_the_containers_is_left_alone() {
        // A live process that does not lead its own session: not a container's first
        // process (a pid reused after the agent went down).
        let stranger = std::process::Command::new("sleep")
            .arg("100")
            .spawn()
            .expect("sleep runs");
        recovering_leaves_alone(stranger, None);
    }

    #[test]
    fn a_recovered_session_leader_started_at_another_time_is_left_alone() {
        // A session leader, as a container's first process is, but not the process the
        // checkpoint recorded: its start time differs (the pid was reused).
        use std::os::unix::process::CommandExt;
        let mut command = std::process::Command::new("sleep");
        command.arg("100");
        // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(|| {
                nix::unistd::setsid()
                    .map(drop)
                    .map_err(std::io::Error::from)
            });
        }
        let stranger = command.spawn().expect("sleep runs");
        let pid = stranger.id() as i32;
        let started = (0..100)
            .find_map(|_| {
                let stat = procfs::read_stat(pid).ok().flatten()?;
                if stat.session == pid {
                    return Some(stat.start_time);
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
                None
            })
            .expect("the stranger leads its session");
        recovering_leaves_alone(stranger, Some(started + 1));
    }

    #[test]
    fn container_ids() {
        assert!(validate_container_id("task-1_a.b").is_ok());
        for bad in ["", ".", "..", "a/b", "a b"] {
            assert!(validate_container_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn namespaces_need_linux_launcher() {
        let kinds = isolators::parse_isolation("posix/cpu,namespaces/pid").unwrap();
        assert!(matches!(
            Containerizer::with_cgroups(&kinds, LauncherKind::Posix, None, false),
            Err(ContainerizerError::NeedsLinuxLauncher(_))
        ));
    }

    #[test]
    fn unknown_isolator_is_a_clear_error() {
        let config = ContainerizerConfig {
            isolation: "cgroups/cpu,network/cni".to_string(),
            ..Default::default()
        };
        let err = Containerizer::from_config(&config).unwrap_err();
        assert!(err.to_string().contains("network/cni"), "{err}");
    }
}
