//! Launchers: how a container's first process is started, waited for and destroyed.
//!
//! * [`PosixLauncher`] starts the command in a new session (so a new process group) and
//!   destroys the container by killing that process group.
//! * [`LinuxLauncher`] starts it with `CLONE_NEWPID | CLONE_NEWNS`, so the command is pid 1
//!   of its own pid namespace (as under Mesos' `mesos-containerizer launch`), with a private
//!   `/proc` mounted in its own mount namespace. Its processes are also tracked in a cgroup
//!   (v1 freezer, v2 unified), and destroy kills the whole cgroup and the namespace's init,
//!   which makes the kernel kill everything left in the namespace.
//!
//! [`Launcher::launch`] starts the command the way `posix_spawn` does: `clone(CLONE_VM |
//! CLONE_VFORK)` on a stack of the child's own. Nothing of the agent's address space is
//! copied (a fork copies the page tables of the whole agent, then takes copy-on-write
//! faults), and the calling thread is suspended until the child has exec'd or exited. As no
//! one can act on the child from outside in that time, the child does everything itself
//! before exec: it joins the cgroups it is given (by writing `0` to each file of
//! [`Cgroup::join_file`]: v1 `tasks`, v2 `cgroup.procs`), makes
//! its mounts, starts a session, redirects its stdio, changes directory and user. Sharing the
//! agent's memory, it only makes async-signal-safe system calls on a plan prepared before the
//! clone, and reports a failed step over a close-on-exec pipe.

use std::collections::HashMap;
use std::ffi::{CString, OsStr};
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
    /// `clone` failed.
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
    /// The child could not join one of its cgroups before exec.
    #[error(
        "container {container}: joining cgroup {} failed for '{program}': {source}",
        procs.display()
    )]
    JoinCgroup {
        /// The container.
        container: String,
        /// The program.
        program: String,
        /// The cgroup file the child could not write itself into.
        procs: PathBuf,
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

/// Starts, waits for and destroys containers' processes.
pub trait Launcher: Send + Sync + std::fmt::Debug {
    /// `posix` or `linux`.
    fn name(&self) -> &'static str;

    /// Starts the container's first process and returns its pid (in the agent's pid
    /// namespace) once it has exec'd. Before exec the process puts itself in the cgroups
    /// whose join files ([`Cgroup::join_file`]) are in `join`, and in the launcher's own cgroup if it has
    /// one. On error nothing is left behind: the child is reaped, the launcher's cgroup
    /// removed and every file closed.
    fn launch(
        &self,
        container: &str,
        spec: &LaunchSpec,
        join: &[PathBuf],
    ) -> Result<i32, LaunchError>;

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

/// State shared by both launchers: the container's processes, and how to start them.
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

    fn launch(
        &self,
        container: &str,
        spec: &LaunchSpec,
        join: &[PathBuf],
    ) -> Result<i32, LaunchError> {
        if self.children().contains_key(container) {
            return Err(LaunchError::Duplicate {
                container: container.to_string(),
            });
        }
        let cgroup = self.cgroup(container)?;
        let own = cgroup.as_ref().map(Cgroup::join_file);
        let plan = ChildPlan::new(container, spec, self.namespaces, own.iter().chain(join))?;
        if let Some(cg) = &cgroup {
            cg.create().map_err(|source| LaunchError::Cgroups {
                container: container.to_string(),
                source,
            })?;
        }
        let pid = match plan.spawn(container) {
            Ok(pid) => pid,
            Err(e) => {
                // The child, if there was one, is reaped: the cgroup is empty.
                if let Some(cg) = &cgroup {
                    let _ = cg.destroy(DESTROY_TIMEOUT);
                }
                return Err(e);
            }
        };
        self.children().insert(
            container.to_string(),
            Child {
                pid,
                status: None,
                adopted: false,
                stranger: false,
            },
        );
        Ok(pid)
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

/// Length of what a child writes on the error pipe when a step before exec fails: the step,
/// the errno, and, for [`STAGE_JOIN_CGROUP`], the index of the file in [`ChildPlan::join`].
const REPORT_LEN: usize = 12;

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
const STAGE_JOIN_CGROUP: u32 = 11;

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
        STAGE_JOIN_CGROUP => "joining cgroup",
        _ => "child setup",
    }
}

/// Everything the child needs, prepared before the clone so that the child allocates nothing.
struct ChildPlan {
    /// The program as the spec names it, for error messages.
    name: String,
    program: CString,
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    _env: Vec<CString>,
    env_ptrs: Vec<*const libc::c_char>,
    cwd: CString,
    /// The cgroup files the child writes itself into ([`Cgroup::join_file`]), each once.
    join: Vec<CString>,
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
    fn new<'a>(
        container: &str,
        spec: &LaunchSpec,
        namespaces: bool,
        join: impl IntoIterator<Item = &'a PathBuf>,
    ) -> Result<ChildPlan, LaunchError> {
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
        // On cgroups v2 every controller's cgroup is the same directory: join it once.
        let mut join_files: Vec<CString> = Vec::new();
        for file in join {
            let file = cstring(container, "cgroup path", file.as_os_str().as_bytes())?;
            if !join_files.contains(&file) {
                join_files.push(file);
            }
        }
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
            name: spec.argv[0].clone(),
            program,
            _argv: argv,
            argv_ptrs,
            _env: env,
            env_ptrs,
            cwd,
            join: join_files,
            sandbox_mount,
            stdin,
            stdout,
            stderr,
            user: spec.user,
            namespaces,
        })
    }

    /// Starts the child and waits until it has exec'd, then returns its pid; or, if a step
    /// before exec failed, reaps it and returns which step and why.
    fn spawn(&self, container: &str) -> Result<i32, LaunchError> {
        let io_err = |op: &'static str, what: &str| {
            let container = container.to_string();
            let path = PathBuf::from(what);
            move |source| LaunchError::Io {
                container,
                op,
                path,
                source,
            }
        };
        let (err_rd, err_wr) = cloexec_pipe().map_err(io_err("create", "pipe"))?;
        let stack = ChildStack::new().map_err(io_err("map", "child stack"))?;
        let mut flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
        if self.namespaces {
            flags |= libc::CLONE_NEWPID | libc::CLONE_NEWNS;
        }
        let args = ChildArgs {
            plan: self,
            err_wr: err_wr.as_raw_fd(),
        };
        let (pid, clone_error) = {
            let _blocked = BlockedSignals::new();
            // SAFETY: the child shares the agent's memory (CLONE_VM) until it execs, so it
            // keeps to the rules of a vfork child:
            // * It runs `child_entry` on its own fresh stack and reads nothing but `args` and
            //   this plan, immutable and built before the clone (CStrings, pointer arrays,
            //   fds). Both outlive it: CLONE_VFORK suspends this thread, whose stack holds
            //   `args`, until the child has exec'd or exited.
            // * It makes only async-signal-safe libc calls, takes no lock and allocates
            //   nothing: it runs on this thread's TLS (allocator caches included) beside the
            //   agent's other threads, which keep running, and must change nothing of theirs
            //   or this thread's.
            // * errno is thread-local and the child runs on this thread's TLS, so it writes
            //   this thread's errno. That is fine only because this thread is suspended until
            //   the child has exec'd or exited, and uses the errno read after the clone only
            //   if the clone failed, in which case there is no child.
            // * Every signal is blocked in this thread, so in the child, which inherits the
            //   mask, until the child has reset every handled signal to SIG_DFL: no agent
            //   signal handler can run in the child on the agent's memory. Without
            //   CLONE_SIGHAND the child's handler table is a copy, so resetting it leaves the
            //   agent's handlers alone. (pthread_sigmask cannot block glibc's two internal
            //   signals; glibc sends them only to the threads it made, never to this child.)
            // * It changes ids with raw system calls: glibc's setuid/setgid wrappers would
            //   signal every agent thread and wait for them.
            // * CLONE_NEWPID | CLONE_NEWNS are allowed with CLONE_VM | CLONE_VFORK (only
            //   CLONE_THREAD, or CLONE_FS with a new mount namespace, are not).
            let pid = unsafe {
                libc::clone(
                    child_entry,
                    stack.top(),
                    flags,
                    std::ptr::from_ref(&args).cast_mut().cast(),
                )
            };
            (pid, nix::Error::last())
        };
        // The child has exec'd or exited (CLONE_VFORK): its stack is unused.
        drop(stack);
        // With this copy of the write end closed, EOF means the child exec'd.
        drop(err_wr);
        if pid < 0 {
            return Err(LaunchError::Fork {
                container: container.to_string(),
                source: clone_error,
            });
        }
        let mut report = [0u8; REPORT_LEN];
        let n = read_full(err_rd.as_raw_fd(), &mut report);
        drop(err_rd);
        if n == 0 {
            return Ok(pid);
        }
        // The child reported a failed step and exited: reap it.
        while let Err(nix::Error::EINTR) = waitpid(Pid::from_raw(pid), None) {}
        Err(self.failure(container, &report))
    }

    /// The error a child reported on the error pipe.
    fn failure(&self, container: &str, report: &[u8; REPORT_LEN]) -> LaunchError {
        let word = |at: usize| [report[at], report[at + 1], report[at + 2], report[at + 3]];
        let stage = u32::from_ne_bytes(word(0));
        let source = nix::Error::from_raw(i32::from_ne_bytes(word(4)));
        let index = u32::from_ne_bytes(word(8)) as usize;
        match self.join.get(index).filter(|_| stage == STAGE_JOIN_CGROUP) {
            Some(procs) => LaunchError::JoinCgroup {
                container: container.to_string(),
                program: self.name.clone(),
                procs: PathBuf::from(OsStr::from_bytes(procs.as_bytes())),
                source,
            },
            None => LaunchError::Child {
                container: container.to_string(),
                program: self.name.clone(),
                stage: stage_name(stage),
                source,
            },
        }
    }

    /// The child side of [`ChildPlan::spawn`], on the child's own stack in the agent's memory
    /// while the agent's thread is suspended (see the rules there). Only async-signal-safe
    /// calls, no allocation; it execs or exits, never returns.
    ///
    /// # Safety
    /// Only for a child started by `spawn`, with every signal blocked.
    unsafe fn child_main(&self, err_wr: RawFd) -> ! {
        unsafe fn report(err_wr: RawFd, stage: u32, errno: i32, index: u32) -> ! {
            let mut buf = [0u8; REPORT_LEN];
            buf[..4].copy_from_slice(&stage.to_ne_bytes());
            buf[4..8].copy_from_slice(&errno.to_ne_bytes());
            buf[8..].copy_from_slice(&index.to_ne_bytes());
            libc::write(err_wr, buf.as_ptr().cast(), buf.len());
            libc::_exit(127);
        }
        unsafe fn errno() -> i32 {
            *libc::__errno_location()
        }
        unsafe fn fail(err_wr: RawFd, stage: u32) -> ! {
            report(err_wr, stage, errno(), 0)
        }
        // Join the cgroups first, so everything the child does is accounted there. Writing
        // `0` moves the writer, which works from inside a new pid namespace too.
        for (index, procs) in self.join.iter().enumerate() {
            let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 {
                report(err_wr, STAGE_JOIN_CGROUP, errno(), index as u32);
            }
            let written = libc::write(fd, c"0".as_ptr().cast(), 1);
            let write_errno = if written < 0 { errno() } else { libc::EIO };
            libc::close(fd);
            if written != 1 {
                report(err_wr, STAGE_JOIN_CGROUP, write_errno, index as u32);
            }
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
        // Out of the agent's process group, undo the agent's signal handlers and ignored
        // signals (Rust ignores SIGPIPE), then unblock everything. Handlers first: until
        // then every signal stays blocked, so none of the agent's handlers can run here.
        for sig in 1..libc::SIGRTMIN() {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
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
            // Raw system calls: glibc's wrappers broadcast the change to every thread it
            // believes the process has, which in this child are the agent's threads, and
            // wait for them.
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

/// What the child's entry point is given.
struct ChildArgs<'a> {
    plan: &'a ChildPlan,
    /// The write end of the error pipe.
    err_wr: RawFd,
}

/// The child's entry point, called by glibc's `clone` on the child's stack.
extern "C" fn child_entry(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildArgs` on the stack of the thread in `ChildPlan::spawn`,
    // which stays suspended (CLONE_VFORK) until this child has exec'd or exited.
    let args = unsafe { &*arg.cast::<ChildArgs>() };
    // SAFETY: this is the child `spawn` started, with every signal blocked.
    unsafe { args.plan.child_main(args.err_wr) }
}

/// A stack for a child: anonymous memory with an inaccessible guard page at its low end
/// (stacks grow down on x86_64 and aarch64), unmapped on drop.
struct ChildStack {
    base: *mut libc::c_void,
    len: usize,
}

impl ChildStack {
    /// The usable size: the child makes a few libc calls from small frames.
    const SIZE: usize = 256 * 1024;

    fn new() -> io::Result<ChildStack> {
        let guard = super::procfs::page_size() as usize;
        let len = Self::SIZE + guard;
        // SAFETY: a new anonymous private mapping; no existing memory is touched.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = ChildStack { base, len };
        // SAFETY: the lowest page of the mapping just made, which nothing uses.
        if unsafe { libc::mprotect(base, guard, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// Where the child's stack starts: the end of the mapping, page-aligned, so 16-byte
    /// aligned as both ABIs want.
    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of the mapping, within the same allocation's bounds.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: the whole mapping made in `new`, which no one uses any more.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// Every signal blocked in the calling thread, until dropped: then the thread's previous
/// mask is back.
struct BlockedSignals(libc::sigset_t);

impl BlockedSignals {
    fn new() -> BlockedSignals {
        // SAFETY: sigfillset and pthread_sigmask only write the sets they are given; with a
        // valid `how` and sets, pthread_sigmask cannot fail.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
            BlockedSignals(old)
        }
    }
}

impl Drop for BlockedSignals {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `new`.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, std::ptr::null_mut()) };
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

/// Starts the command in a new session / process group; no namespaces, and no cgroups but
/// those the isolators give it to join.
#[derive(Debug)]
pub struct PosixLauncher {
    core: Core,
}

impl PosixLauncher {
    /// Creates a posix launcher.
    pub fn new() -> Self {
        PosixLauncher {
            core: Core {
                namespaces: false,
                cgroups: None,
                children: Mutex::new(HashMap::new()),
            },
        }
    }
}

impl Default for PosixLauncher {
    fn default() -> Self {
        Self::new()
    }
}

/// Starts the command as pid 1 of new pid and mount namespaces, with a private `/proc`, and
/// tracks its processes in a cgroup when cgroups are given.
#[derive(Debug)]
pub struct LinuxLauncher {
    core: Core,
}

impl LinuxLauncher {
    /// Creates a linux launcher. With `cgroups`, every container's processes are also put in
    /// its process-tracking cgroup (v1 freezer, v2 unified), which destroy kills and removes.
    pub fn new(cgroups: Option<Arc<Cgroups>>) -> Self {
        LinuxLauncher {
            core: Core {
                namespaces: true,
                cgroups,
                children: Mutex::new(HashMap::new()),
            },
        }
    }
}

macro_rules! delegate_launcher {
    ($t:ty, $name:literal) => {
        impl Launcher for $t {
            fn name(&self) -> &'static str {
                $name
            }
            fn launch(
                &self,
                container: &str,
                spec: &LaunchSpec,
                join: &[PathBuf],
            ) -> Result<i32, LaunchError> {
                self.core.launch(container, spec, join)
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
