//! Launchers: how a container's first process is forked, waited for and destroyed.
//!
//! * [`PosixLauncher`] forks the command into a new session (so a new process group) and
//!   destroys the container by killing that process group.
//! * [`LinuxLauncher`] forks it with `clone(CLONE_NEWPID | CLONE_NEWNS)`, so the command is
//!   pid 1 of its own pid namespace (as under Mesos' `mesos-containerizer launch`), with a
//!   private `/proc` mounted in its own mount namespace. Its processes are also tracked in a
//!   cgroup (v1 freezer, v2 unified), and destroy kills the whole cgroup and the namespace's
//!   init, which makes the kernel kill everything left in the namespace.
//!
//! Launching has two steps, so isolators can act in between: [`Launcher::fork`] returns a
//! [`Forked`] child that is paused before exec; the containerizer puts its pid in cgroups, then
//! [`Forked::exec`] lets it run and reports whether exec succeeded. Between `fork` and `exec`
//! the child runs only async-signal-safe system calls (the parent may be multi-threaded):
//! every string, pointer array and file it needs is prepared before the fork.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::cgroups::{Cgroup, Cgroups, CgroupsError};

/// What to run in a container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchSpec {
    /// The program and its arguments. A program without `/` is looked up in the `PATH` of
    /// `env` (or the agent's `PATH` if `env` has none).
    pub argv: Vec<String>,
    /// The complete environment of the command (nothing is inherited).
    pub env: Vec<(String, String)>,
    /// The sandbox directory: created if missing; `stdout` and `stderr` files are written in it.
    pub sandbox: PathBuf,
    /// Working directory; the sandbox if `None`.
    pub working_dir: Option<PathBuf>,
    /// Switch to this `(uid, gid)` before exec (needs root).
    pub user: Option<(u32, u32)>,
    /// Bind-mount the sandbox at this absolute path in the container's mount namespace
    /// (the linux launcher only; created on the host if missing).
    pub sandbox_mount: Option<PathBuf>,
}

/// How a container's first process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by this signal number.
    Signaled(i32),
    /// It ended, but it was adopted after an agent restart rather than forked by this
    /// process, so how it ended cannot be known.
    Unknown,
}

/// Errors from launching, waiting for and destroying containers.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The spec has no program.
    #[error("container {container}: empty command")]
    EmptyCommand {
        /// The container.
        container: String,
    },
    /// A string of the spec contains a NUL byte.
    #[error("container {container}: {what} contains a NUL byte")]
    Nul {
        /// The container.
        container: String,
        /// Which part of the spec.
        what: &'static str,
    },
    /// The program was not found on `PATH`.
    #[error("container {container}: command '{program}' not found in PATH '{path}'")]
    NotFound {
        /// The container.
        container: String,
        /// The program name.
        program: String,
        /// The `PATH` searched.
        path: String,
    },
    /// Preparing the sandbox, its files or a pipe failed.
    #[error("container {container}: cannot {op} {path}: {source}")]
    Io {
        /// The container.
        container: String,
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// `clone`/`fork` failed.
    #[error("container {container}: fork failed: {source}")]
    Fork {
        /// The container.
        container: String,
        /// The OS error.
        #[source]
        source: nix::Error,
    },
    /// The child failed before or at exec.
    #[error("container {container}: {stage} failed for '{program}': {source}")]
    Child {
        /// The container.
        container: String,
        /// The program.
        program: String,
        /// The step that failed in the child (`exec`, `chdir`, `mount /proc`, ...).
        stage: &'static str,
        /// The OS error.
        #[source]
        source: nix::Error,
    },
    /// The launcher's cgroup could not be set up or torn down.
    #[error("container {container}: {source}")]
    Cgroups {
        /// The container.
        container: String,
        /// The cgroup error.
        #[source]
        source: CgroupsError,
    },
    /// Waiting for or signalling the process failed.
    #[error("container {container}: cannot {op} pid {pid}: {source}")]
    Process {
        /// The container.
        container: String,
        /// `waitpid` or `kill`.
        op: &'static str,
        /// The process.
        pid: i32,
        /// The OS error.
        #[source]
        source: nix::Error,
    },
    /// The container's processes did not die in time.
    #[error("container {container}: pid {pid} still running after {timeout:?}")]
    Timeout {
        /// The container.
        container: String,
        /// The process.
        pid: i32,
        /// How long was waited.
        timeout: Duration,
    },
    /// The container id is already in use by this launcher.
    #[error("container {container} already exists in the launcher")]
    Duplicate {
        /// The container.
        container: String,
    },
    /// The launcher has no such container.
    #[error("container {container} is unknown to the launcher")]
    Unknown {
        /// The container.
        container: String,
    },
}

/// Forks, waits for and destroys containers' processes.
pub trait Launcher: Send + Sync + std::fmt::Debug {
    /// `posix` or `linux`.
    fn name(&self) -> &'static str;

    /// Forks the container's first process, paused before exec. Nothing is left behind on
    /// error, and dropping the returned [`Forked`] without calling exec kills and reaps it.
    fn fork(&self, container: &str, spec: &LaunchSpec) -> Result<Forked, LaunchError>;

    /// Reaps the container's first process if it has exited, waiting up to `timeout`
    /// (`None`: just check). Returns its status, or `None` if it is still running.
    fn wait(
        &self,
        container: &str,
        timeout: Option<Duration>,
    ) -> Result<Option<ExitStatus>, LaunchError>;

    /// Kills every process of the container, reaps the first one and releases what the
    /// launcher holds for it. Returns the first process's exit status (if it was known).
    fn destroy(&self, container: &str) -> Result<Option<ExitStatus>, LaunchError>;

    /// The pid (in the agent's pid namespace) of the container's first process.
    fn pid(&self, container: &str) -> Option<i32>;

    /// Takes charge again of a container launched before the agent restarted, whose first
    /// process is `pid` (started at `start_time`, when known): it can then be waited for
    /// (its status is [`ExitStatus::Unknown`]) and destroyed like any other.
    fn recover(
        &self,
        container: &str,
        pid: i32,
        start_time: Option<u64>,
    ) -> Result<(), LaunchError>;
}

/// How long destroy waits for processes to die.
const DESTROY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
struct Child {
    pid: i32,
    status: Option<ExitStatus>,
    /// Recovered after a restart: not our child, so it is watched through `/proc`.
    adopted: bool,
    /// Recovered, but the pid is now another process': nothing of its session is touched.
    stranger: bool,
}

/// State shared by both launchers: the container's processes, and how to fork them.
#[derive(Debug)]
struct Core {
    namespaces: bool,
    cgroups: Option<Arc<Cgroups>>,
    children: Mutex<HashMap<String, Child>>,
}

impl Core {
    fn children(&self) -> std::sync::MutexGuard<'_, HashMap<String, Child>> {
        self.children.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cgroup(&self, container: &str) -> Result<Option<Cgroup>, LaunchError> {
        match &self.cgroups {
            None => Ok(None),
            Some(c) => c
                .processes(container)
                .map(Some)
                .map_err(|source| LaunchError::Cgroups {
                    container: container.to_string(),
                    source,
                }),
        }
    }

    fn fork(self: &Arc<Self>, container: &str, spec: &LaunchSpec) -> Result<Forked, LaunchError> {
        if self.children().contains_key(container) {
            return Err(LaunchError::Duplicate {
                container: container.to_string(),
            });
        }
        let cgroup = self.cgroup(container)?;
        let plan = ChildPlan::new(container, spec, self.namespaces)?;
        if let Some(cg) = &cgroup {
            cg.create().map_err(|source| LaunchError::Cgroups {
                container: container.to_string(),
                source,
            })?;
        }
        let forked = match plan.spawn(container) {
            Ok(f) => f,
            Err(e) => {
                if let Some(cg) = &cgroup {
                    let _ = cg.destroy(DESTROY_TIMEOUT);
                }
                return Err(e);
            }
        };
        // From here on the child exists: register it so any error path destroys it.
        self.children().insert(
            container.to_string(),
            Child {
                pid: forked.0,
                status: None,
                adopted: false,
                stranger: false,
            },
        );
        let forked = Forked {
            core: Arc::clone(self),
            container: container.to_string(),
            program: spec.argv[0].clone(),
            pid: forked.0,
            sync: Some(forked.1),
            errors: Some(forked.2),
        };
        if let Some(cg) = &cgroup {
            cg.assign(forked.pid)
                .map_err(|source| LaunchError::Cgroups {
                    container: container.to_string(),
                    source,
                })?; // `forked` is dropped: the child is killed and the cgroup removed.
        }
        Ok(forked)
    }

    fn adopt(&self, container: &str, pid: i32, start_time: Option<u64>) -> Result<(), LaunchError> {
        let mut children = self.children();
        if children.contains_key(container) {
            return Err(LaunchError::Duplicate {
                container: container.to_string(),
            });
        }
        // The process must still be the container's: alive, leading the session it
        // created, and started when the checkpoint says. A pid reused by another process
        // is not touched; the container counts as ended.
        let stat = super::procfs::read_stat(pid).ok().flatten();
        let stranger = stat.is_some_and(|stat| {
            stat.session != pid || start_time.is_some_and(|t| t != stat.start_time)
        });
        let ours = !stranger && stat.is_some() && super::procfs::is_running(pid);
        children.insert(
            container.to_string(),
            Child {
                pid,
                status: (!ours).then_some(ExitStatus::Unknown),
                adopted: true,
                stranger,
            },
        );
        Ok(())
    }

    fn reap(&self, container: &str, flags: WaitPidFlag) -> Result<Option<ExitStatus>, LaunchError> {
        let mut children = self.children();
        let child = children
            .get_mut(container)
            .ok_or_else(|| LaunchError::Unknown {
                container: container.to_string(),
            })?;
        if child.status.is_some() {
            return Ok(child.status);
        }
        if child.adopted {
            if !super::procfs::is_running(child.pid) {
                child.status = Some(ExitStatus::Unknown);
            }
            return Ok(child.status);
        }
        loop {
            match waitpid(Pid::from_raw(child.pid), Some(flags)) {
                Ok(WaitStatus::Exited(_, code)) => child.status = Some(ExitStatus::Exited(code)),
                Ok(WaitStatus::Signaled(_, sig, _)) => {
                    child.status = Some(ExitStatus::Signaled(sig as i32))
                }
                Ok(WaitStatus::StillAlive) => return Ok(None),
                Ok(_) => continue,
                Err(nix::Error::EINTR) => continue,
                Err(source) => {
                    return Err(LaunchError::Process {
                        container: container.to_string(),
                        op: "waitpid",
                        pid: child.pid,
                        source,
                    })
                }
            }
            return Ok(child.status);
        }
    }

    fn wait(
        &self,
        container: &str,
        timeout: Option<Duration>,
    ) -> Result<Option<ExitStatus>, LaunchError> {
        let deadline = Instant::now() + timeout.unwrap_or(Duration::ZERO);
        loop {
            if let Some(s) = self.reap(container, WaitPidFlag::WNOHANG)? {
                return Ok(Some(s));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn destroy(&self, container: &str) -> Result<Option<ExitStatus>, LaunchError> {
        let child = *self
            .children()
            .get(container)
            .ok_or_else(|| LaunchError::Unknown {
                container: container.to_string(),
            })?;
        let cgroup = self.cgroup(container)?;
        let cg_err = |source| LaunchError::Cgroups {
            container: container.to_string(),
            source,
        };
        let mut first_error = None;
        if let Some(cg) = &cgroup {
            if let Err(e) = cg.kill_all(DESTROY_TIMEOUT) {
                first_error.get_or_insert(cg_err(e));
            }
        }
        let pid = Pid::from_raw(child.pid);
        if !self.namespaces && cgroup.is_none() && !child.stranger {
            // Without a cgroup or a pid namespace the container is its session (the child
            // called setsid): every process group in it, e.g. a task an executor put in a
            // group of its own. Not when the pid now names another process: that session
            // is a stranger's.
            for member in super::procfs::session_members(child.pid).unwrap_or_default() {
                let _ = kill(Pid::from_raw(member), Signal::SIGKILL);
            }
        }
        if child.status.is_none() {
            // The session's process group (pgid == pid after setsid); the pid namespace's init.
            let _ = killpg(pid, Signal::SIGKILL);
            match kill(pid, Signal::SIGKILL) {
                Ok(()) | Err(nix::Error::ESRCH) => {}
                Err(source) => {
                    first_error.get_or_insert(LaunchError::Process {
                        container: container.to_string(),
                        op: "kill",
                        pid: child.pid,
                        source,
                    });
                }
            }
        } else if !self.namespaces && !child.stranger {
            // The leader is gone but other members of its group may live on (unless the
            // pid is now another process', whose group this is).
            let _ = killpg(pid, Signal::SIGKILL);
        }
        let status = match self.wait(container, Some(DESTROY_TIMEOUT)) {
            Ok(Some(s)) => Some(s),
            Ok(None) => {
                return Err(first_error.unwrap_or(LaunchError::Timeout {
                    container: container.to_string(),
                    pid: child.pid,
                    timeout: DESTROY_TIMEOUT,
                }))
            }
            Err(e) => return Err(first_error.unwrap_or(e)),
        };
        if let Some(cg) = &cgroup {
            if let Err(e) = cg.destroy(DESTROY_TIMEOUT) {
                first_error.get_or_insert(cg_err(e));
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        self.children().remove(container);
        Ok(status)
    }
}

/// A container's first process, forked and paused before exec.
///
/// Dropping it without [`Forked::exec`] kills and reaps the child and removes the launcher's
/// cgroup.
#[derive(Debug)]
pub struct Forked {
    core: Arc<Core>,
    container: String,
    program: String,
    pid: i32,
    sync: Option<OwnedFd>,
    errors: Option<OwnedFd>,
}

impl Forked {
    /// The child's pid in the agent's pid namespace.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Lets the child exec the command and waits until it has (or has failed to). On failure
    /// the child is reaped and everything the launcher held for it is released.
    pub fn exec(mut self) -> Result<i32, LaunchError> {
        let sync = self.sync.take();
        let errors = self.errors.take();
        if let Some(fd) = &sync {
            // If the child already died this fails with EPIPE; the error pipe says why.
            // SAFETY: writing one byte from a valid buffer to an fd we own.
            let _ = unsafe { libc::write(fd.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
        }
        drop(sync);
        let mut report = [0u8; 8];
        let n = match &errors {
            Some(fd) => read_full(fd.as_raw_fd(), &mut report),
            None => 0,
        };
        drop(errors);
        if n == 0 {
            let pid = self.pid;
            // Success: the Drop below must not destroy the child.
            self.pid = 0;
            return Ok(pid);
        }
        let stage = u32::from_ne_bytes([report[0], report[1], report[2], report[3]]);
        let errno = i32::from_ne_bytes([report[4], report[5], report[6], report[7]]);
        let err = LaunchError::Child {
            container: self.container.clone(),
            program: self.program.clone(),
            stage: stage_name(stage),
            source: nix::Error::from_raw(errno),
        };
        // Drop destroys and reaps the child.
        Err(err)
    }
}

impl Drop for Forked {
    fn drop(&mut self) {
        if self.pid != 0 {
            let _ = self.core.destroy(&self.container);
            self.core.children().remove(&self.container);
        }
    }
}

fn read_full(fd: RawFd, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: reading into the unfilled tail of a valid buffer.
        let n = unsafe { libc::read(fd, buf[got..].as_mut_ptr().cast(), buf.len() - got) };
        if n > 0 {
            got += n as usize;
        } else if n == 0 || nix::Error::last() != nix::Error::EINTR {
            break;
        }
    }
    got
}

const STAGE_MOUNT_PRIVATE: u32 = 1;
const STAGE_MOUNT_PROC: u32 = 2;
const STAGE_SETSID: u32 = 3;
const STAGE_DUP2: u32 = 4;
const STAGE_CHDIR: u32 = 5;
const STAGE_SETGROUPS: u32 = 6;
const STAGE_SETGID: u32 = 7;
const STAGE_SETUID: u32 = 8;
const STAGE_EXEC: u32 = 9;
const STAGE_MOUNT_SANDBOX: u32 = 10;

fn stage_name(stage: u32) -> &'static str {
    match stage {
        STAGE_MOUNT_PRIVATE => "making / private",
        STAGE_MOUNT_PROC => "mounting /proc",
        STAGE_MOUNT_SANDBOX => "bind-mounting the sandbox",
        STAGE_SETSID => "setsid",
        STAGE_DUP2 => "redirecting stdio",
        STAGE_CHDIR => "chdir",
        STAGE_SETGROUPS => "setgroups",
        STAGE_SETGID => "setgid",
        STAGE_SETUID => "setuid",
        STAGE_EXEC => "exec",
        _ => "child setup",
    }
}

/// Everything the child needs, prepared before the fork so that the child allocates nothing.
struct ChildPlan {
    program: CString,
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    _env: Vec<CString>,
    env_ptrs: Vec<*const libc::c_char>,
    cwd: CString,
    /// The sandbox and where to bind-mount it.
    sandbox_mount: Option<(CString, CString)>,
    stdin: File,
    stdout: File,
    stderr: File,
    user: Option<(u32, u32)>,
    namespaces: bool,
}

fn cstring(container: &str, what: &'static str, s: &[u8]) -> Result<CString, LaunchError> {
    CString::new(s).map_err(|_| LaunchError::Nul {
        container: container.to_string(),
        what,
    })
}

fn resolve_program(container: &str, spec: &LaunchSpec) -> Result<PathBuf, LaunchError> {
    let program = &spec.argv[0];
    if program.contains('/') {
        return Ok(PathBuf::from(program));
    }
    let path = spec
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var("PATH").ok())
        .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".to_string());
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(program);
        if let Ok(meta) = fs::metadata(&candidate) {
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
        }
    }
    Err(LaunchError::NotFound {
        container: container.to_string(),
        program: program.clone(),
        path,
    })
}

impl ChildPlan {
    fn new(container: &str, spec: &LaunchSpec, namespaces: bool) -> Result<ChildPlan, LaunchError> {
        if spec.argv.is_empty() || spec.argv[0].is_empty() {
            return Err(LaunchError::EmptyCommand {
                container: container.to_string(),
            });
        }
        let program = resolve_program(container, spec)?;
        let program = cstring(container, "program", program.as_os_str().as_bytes())?;
        let argv = spec
            .argv
            .iter()
            .map(|a| cstring(container, "argument", a.as_bytes()))
            .collect::<Result<Vec<_>, _>>()?;
        let env = spec
            .env
            .iter()
            .map(|(k, v)| cstring(container, "environment", format!("{k}={v}").as_bytes()))
            .collect::<Result<Vec<_>, _>>()?;
        let io_err = |op: &'static str, path: &Path| {
            let path = path.to_path_buf();
            let container = container.to_string();
            move |source| LaunchError::Io {
                container,
                op,
                path,
                source,
            }
        };
        fs::create_dir_all(&spec.sandbox).map_err(io_err("create sandbox", &spec.sandbox))?;
        let open = |name: &str| -> Result<File, LaunchError> {
            let path = spec.sandbox.join(name);
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io_err("open", &path))?;
            if let Some((uid, gid)) = spec.user {
                std::os::unix::fs::fchown(&f, Some(uid), Some(gid))
                    .map_err(io_err("chown", &path))?;
            }
            Ok(f)
        };
        let stdout = open("stdout")?;
        let stderr = open("stderr")?;
        let null = Path::new("/dev/null");
        let stdin = File::open(null).map_err(io_err("open", null))?;
        let sandbox_mount = match (&spec.sandbox_mount, namespaces) {
            (Some(target), true) => {
                fs::create_dir_all(target).map_err(io_err("create", target))?;
                Some((
                    cstring(container, "sandbox", spec.sandbox.as_os_str().as_bytes())?,
                    cstring(container, "sandbox mount", target.as_os_str().as_bytes())?,
                ))
            }
            _ => None,
        };
        let cwd = spec
            .working_dir
            .as_deref()
            .or(spec.sandbox_mount.as_deref().filter(|_| namespaces))
            .unwrap_or(&spec.sandbox);
        let cwd = cstring(container, "working directory", cwd.as_os_str().as_bytes())?;
        let mut argv_ptrs: Vec<_> = argv.iter().map(|a| a.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let mut env_ptrs: Vec<_> = env.iter().map(|a| a.as_ptr()).collect();
        env_ptrs.push(std::ptr::null());
        Ok(ChildPlan {
            program,
            _argv: argv,
            argv_ptrs,
            _env: env,
            env_ptrs,
            cwd,
            sandbox_mount,
            stdin,
            stdout,
            stderr,
            user: spec.user,
            namespaces,
        })
    }

    /// Forks the child; returns its pid, the write end of the go-ahead pipe and the read end
    /// of the error pipe.
    fn spawn(&self, container: &str) -> Result<(i32, OwnedFd, OwnedFd), LaunchError> {
        let pipe_err = |source: io::Error| LaunchError::Io {
            container: container.to_string(),
            op: "create",
            path: PathBuf::from("pipe"),
            source,
        };
        let (sync_rd, sync_wr) = cloexec_pipe().map_err(pipe_err)?;
        let (err_rd, err_wr) = cloexec_pipe().map_err(pipe_err)?;
        let mut flags = libc::SIGCHLD as libc::c_long;
        if self.namespaces {
            flags |= (libc::CLONE_NEWPID | libc::CLONE_NEWNS) as libc::c_long;
        }
        // SAFETY: a fork-like clone (no new stack, no shared memory); the child only runs
        // `child_main`, which makes async-signal-safe system calls and never returns.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_clone,
                flags,
                0 as libc::c_long,
                0 as libc::c_long,
                0 as libc::c_long,
                0 as libc::c_long,
            )
        };
        if ret == 0 {
            // SAFETY: in the child; see `child_main`.
            unsafe { self.child_main(sync_rd.as_raw_fd(), err_wr.as_raw_fd()) }
        }
        if ret < 0 {
            return Err(LaunchError::Fork {
                container: container.to_string(),
                source: nix::Error::last(),
            });
        }
        drop(sync_rd);
        drop(err_wr);
        Ok((ret as i32, sync_wr, err_rd))
    }

    /// The child side of [`ChildPlan::spawn`]. Only async-signal-safe calls, no allocation.
    unsafe fn child_main(&self, sync_rd: RawFd, err_wr: RawFd) -> ! {
        unsafe fn fail(err_wr: RawFd, stage: u32) -> ! {
            let errno = *libc::__errno_location();
            let mut buf = [0u8; 8];
            buf[..4].copy_from_slice(&stage.to_ne_bytes());
            buf[4..].copy_from_slice(&errno.to_ne_bytes());
            libc::write(err_wr, buf.as_ptr().cast(), buf.len());
            libc::_exit(127);
        }
        if self.namespaces {
            let root = c"/".as_ptr();
            if libc::mount(
                std::ptr::null(),
                root,
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                fail(err_wr, STAGE_MOUNT_PRIVATE);
            }
            let proc_ = c"proc".as_ptr();
            if libc::mount(
                proc_,
                c"/proc".as_ptr(),
                proc_,
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                std::ptr::null(),
            ) != 0
            {
                fail(err_wr, STAGE_MOUNT_PROC);
            }
            if let Some((source, target)) = &self.sandbox_mount {
                if libc::mount(
                    source.as_ptr(),
                    target.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                ) != 0
                {
                    fail(err_wr, STAGE_MOUNT_SANDBOX);
                }
            }
        }
        if libc::setsid() < 0 {
            fail(err_wr, STAGE_SETSID);
        }
        // Undo the agent's signal mask and ignored signals (Rust ignores SIGPIPE).
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for sig in 1..libc::SIGRTMIN() {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        // Wait for the go-ahead (the parent has put us in our cgroups); EOF means abort.
        let mut byte = 0u8;
        loop {
            let n = libc::read(sync_rd, (&mut byte as *mut u8).cast(), 1);
            if n == 1 {
                break;
            }
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            libc::_exit(1);
        }
        if libc::dup2(self.stdin.as_raw_fd(), 0) < 0
            || libc::dup2(self.stdout.as_raw_fd(), 1) < 0
            || libc::dup2(self.stderr.as_raw_fd(), 2) < 0
        {
            fail(err_wr, STAGE_DUP2);
        }
        if libc::chdir(self.cwd.as_ptr()) != 0 {
            fail(err_wr, STAGE_CHDIR);
        }
        if let Some((uid, gid)) = self.user {
            // Raw system calls: glibc's wrappers broadcast the change to every thread
            // it believes the process has, which after a raw clone are the agent's
            // threads, and wait for them forever.
            let groups = [gid as libc::gid_t];
            if libc::syscall(libc::SYS_setgroups, 1 as libc::c_long, groups.as_ptr()) != 0 {
                fail(err_wr, STAGE_SETGROUPS);
            }
            if libc::syscall(libc::SYS_setgid, gid as libc::c_long) != 0 {
                fail(err_wr, STAGE_SETGID);
            }
            if libc::syscall(libc::SYS_setuid, uid as libc::c_long) != 0 {
                fail(err_wr, STAGE_SETUID);
            }
        }
        libc::execve(
            self.program.as_ptr(),
            self.argv_ptrs.as_ptr(),
            self.env_ptrs.as_ptr(),
        );
        fail(err_wr, STAGE_EXEC);
    }
}

fn cloexec_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two fds into a valid array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Forks the command in a new session / process group; no namespaces or cgroups.
#[derive(Debug)]
pub struct PosixLauncher {
    core: Arc<Core>,
}

impl PosixLauncher {
    /// Creates a posix launcher.
    pub fn new() -> Self {
        PosixLauncher {
            core: Arc::new(Core {
                namespaces: false,
                cgroups: None,
                children: Mutex::new(HashMap::new()),
            }),
        }
    }
}

impl Default for PosixLauncher {
    fn default() -> Self {
        Self::new()
    }
}

/// Forks the command as pid 1 of new pid and mount namespaces, with a private `/proc`, and
/// tracks its processes in a cgroup when cgroups are given.
#[derive(Debug)]
pub struct LinuxLauncher {
    core: Arc<Core>,
}

impl LinuxLauncher {
    /// Creates a linux launcher. With `cgroups`, every container's processes are also put in
    /// its process-tracking cgroup (v1 freezer, v2 unified), which destroy kills and removes.
    pub fn new(cgroups: Option<Arc<Cgroups>>) -> Self {
        LinuxLauncher {
            core: Arc::new(Core {
                namespaces: true,
                cgroups,
                children: Mutex::new(HashMap::new()),
            }),
        }
    }
}

macro_rules! delegate_launcher {
    ($t:ty, $name:literal) => {
        impl Launcher for $t {
            fn name(&self) -> &'static str {
                $name
            }
            fn fork(&self, container: &str, spec: &LaunchSpec) -> Result<Forked, LaunchError> {
                self.core.fork(container, spec)
            }
            fn wait(
                &self,
                container: &str,
                timeout: Option<Duration>,
            ) -> Result<Option<ExitStatus>, LaunchError> {
                self.core.wait(container, timeout)
            }
            fn destroy(&self, container: &str) -> Result<Option<ExitStatus>, LaunchError> {
                self.core.destroy(container)
            }
            fn pid(&self, container: &str) -> Option<i32> {
                self.core.children().get(container).map(|c| c.pid)
            }
            fn recover(
                &self,
                container: &str,
                pid: i32,
                start_time: Option<u64>,
            ) -> Result<(), LaunchError> {
                self.core.adopt(container, pid, start_time)
            }
        }
    };
}

delegate_launcher!(PosixLauncher, "posix");
delegate_launcher!(LinuxLauncher, "linux");
