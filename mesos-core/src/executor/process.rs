//! The task's process, as the command executor runs it: spawned in its own process group
//! with a given environment, working directory and user; waited for; killed with a grace
//! period (SIGTERM to the whole group, SIGKILL when the grace period is over).

use std::ffi::CString;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// Why a task process could not be started or handled.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The user to run as does not exist.
    #[error("failed to get user information for '{user}': no such user")]
    UnknownUser {
        /// The user name.
        user: String,
    },
    /// The user database could not be read.
    #[error("failed to get user information for '{user}': {source}")]
    UserLookup {
        /// The user name.
        user: String,
        /// What failed.
        source: io::Error,
    },
    /// The command has no program to run.
    #[error("the command has no program to run")]
    NoProgram,
    /// fork or exec failed.
    #[error("failed to launch '{program}': {source}")]
    Spawn {
        /// The program.
        program: String,
        /// What failed.
        source: io::Error,
    },
    /// Waiting for the process failed.
    #[error("failed to wait for process {pid}: {source}")]
    Wait {
        /// The process.
        pid: u32,
        /// What failed.
        source: io::Error,
    },
    /// A signal could not be sent to the process group.
    #[error("failed to send {signal} to process group {pgid}: {source}")]
    Signal {
        /// The process group.
        pgid: u32,
        /// The signal.
        signal: Signal,
        /// What failed.
        source: nix::Error,
    },
}

/// A user to run a process as: ids looked up in the user database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIds {
    /// The user name.
    pub name: String,
    /// Its user id.
    pub uid: libc::uid_t,
    /// Its primary group id.
    pub gid: libc::gid_t,
    /// Every group it belongs to (the primary one included).
    pub groups: Vec<libc::gid_t>,
}

impl UserIds {
    /// Looks `name` up in the user database (`getpwnam_r`, `getgrouplist`).
    pub fn lookup(name: &str) -> Result<UserIds, ProcessError> {
        let (c_name, uid, gid) = passwd_entry(name)?;
        Ok(UserIds::with_groups(name, &c_name, uid, gid))
    }

    /// Looks `name` up to switch to it: `None` when it is user `current` already. Its
    /// groups are only read for a switch, as reading them can load the C library's
    /// name-service modules (`getgrouplist` asks every group database).
    pub fn lookup_unless(
        name: &str,
        current: libc::uid_t,
    ) -> Result<Option<UserIds>, ProcessError> {
        let (c_name, uid, gid) = passwd_entry(name)?;
        Ok((uid != current).then(|| UserIds::with_groups(name, &c_name, uid, gid)))
    }

    fn with_groups(name: &str, c_name: &CString, uid: libc::uid_t, gid: libc::gid_t) -> Self {
        UserIds {
            name: name.to_string(),
            uid,
            gid,
            groups: group_list(c_name, gid),
        }
    }
}

/// The name as a C string, the uid and the primary gid of user `name`.
fn passwd_entry(name: &str) -> Result<(CString, libc::uid_t, libc::gid_t), ProcessError> {
    let unknown = || ProcessError::UnknownUser {
        user: name.to_string(),
    };
    let c_name = CString::new(name).map_err(|_| unknown())?;
    match passwd_ids(&c_name) {
        Ok((Some(uid), Some(gid))) => Ok((c_name, uid, gid)),
        Ok(_) => Err(unknown()),
        Err(source) => Err(ProcessError::UserLookup {
            user: name.to_string(),
            source,
        }),
    }
}

/// The uid and gid of a user, `None`s when there is no such user.
fn passwd_ids(name: &CString) -> io::Result<(Option<libc::uid_t>, Option<libc::gid_t>)> {
    let mut buffer = vec![0u8; 4096];
    loop {
        // SAFETY: passwd is plain data; getpwnam_r writes it and strings into `buffer`,
        // whose length it is told, and sets `result` to null or to `pwd`.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = unsafe {
            libc::getpwnam_r(
                name.as_ptr(),
                &mut pwd,
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                &mut result,
            )
        };
        match rc {
            0 if result.is_null() => return Ok((None, None)),
            0 => return Ok((Some(pwd.pw_uid), Some(pwd.pw_gid))),
            libc::ERANGE if buffer.len() < 1 << 20 => buffer.resize(buffer.len() * 2, 0),
            // "Not found" comes back as one of these on some C libraries.
            libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM => return Ok((None, None)),
            errno => return Err(io::Error::from_raw_os_error(errno)),
        }
    }
}

/// The groups `name` belongs to, `gid` first; only `gid` if the list cannot be read.
fn group_list(name: &CString, gid: libc::gid_t) -> Vec<libc::gid_t> {
    let mut count: libc::c_int = 32;
    for _ in 0..8 {
        let mut groups = vec![0 as libc::gid_t; count.max(1) as usize];
        let mut found = groups.len() as libc::c_int;
        // SAFETY: `groups` holds `found` entries; getgrouplist writes at most that many
        // and sets `found` to the number it has (or needs).
        let rc = unsafe { libc::getgrouplist(name.as_ptr(), gid, groups.as_mut_ptr(), &mut found) };
        if rc >= 0 {
            groups.truncate(found.max(0) as usize);
            return groups;
        }
        count = found.max(count * 2);
    }
    vec![gid]
}

/// What to run and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    /// The program: a path, or a name looked up in the `PATH` of `env`.
    pub program: String,
    /// The arguments, `argv[0]` included.
    pub argv: Vec<String>,
    /// The whole environment of the process.
    pub env: Vec<(String, String)>,
    /// The working directory.
    pub cwd: PathBuf,
    /// The user to switch to before exec; `None`: stay who we are.
    pub user: Option<UserIds>,
}

impl ProcessSpec {
    /// `/bin/sh -c <command>`.
    pub fn shell(command: &str, env: Vec<(String, String)>, cwd: PathBuf) -> ProcessSpec {
        ProcessSpec {
            program: "/bin/sh".to_string(),
            argv: vec!["sh".to_string(), "-c".to_string(), command.to_string()],
            env,
            cwd,
            user: None,
        }
    }

    /// `program` run directly with `argv` (`argv[0]` included; empty: the program's name).
    pub fn exec(
        program: &str,
        argv: Vec<String>,
        env: Vec<(String, String)>,
        cwd: PathBuf,
    ) -> ProcessSpec {
        let argv = if argv.is_empty() {
            vec![program.to_string()]
        } else {
            argv
        };
        ProcessSpec {
            program: program.to_string(),
            argv,
            env,
            cwd,
            user: None,
        }
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// It exited with this status.
    Exited(i32),
    /// A signal (this number) ended it.
    Signaled(i32),
}

impl Termination {
    /// From a wait status.
    pub fn from_status(status: ExitStatus) -> Termination {
        match (status.code(), status.signal()) {
            (Some(code), _) => Termination::Exited(code),
            (None, Some(signal)) => Termination::Signaled(signal),
            (None, None) => Termination::Exited(-1),
        }
    }

    /// Whether it exited with status 0.
    pub fn succeeded(self) -> bool {
        self == Termination::Exited(0)
    }

    /// What happened, as Mesos words it after "Command ": `exited with status 3`,
    /// `terminated with signal Killed`.
    pub fn describe(self) -> String {
        match self {
            Termination::Exited(code) => format!("exited with status {code}"),
            Termination::Signaled(signal) => {
                format!("terminated with signal {}", signal_name(signal))
            }
        }
    }
}

/// The description of a signal glibc's `strsignal` gives (`Killed`, `Terminated`).
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "Hangup",
        libc::SIGINT => "Interrupt",
        libc::SIGQUIT => "Quit",
        libc::SIGILL => "Illegal instruction",
        libc::SIGTRAP => "Trace/breakpoint trap",
        libc::SIGABRT => "Aborted",
        libc::SIGBUS => "Bus error",
        libc::SIGFPE => "Floating point exception",
        libc::SIGKILL => "Killed",
        libc::SIGUSR1 => "User defined signal 1",
        libc::SIGSEGV => "Segmentation fault",
        libc::SIGUSR2 => "User defined signal 2",
        libc::SIGPIPE => "Broken pipe",
        libc::SIGALRM => "Alarm clock",
        libc::SIGTERM => "Terminated",
        libc::SIGSTKFLT => "Stack fault",
        libc::SIGCHLD => "Child exited",
        libc::SIGCONT => "Continued",
        libc::SIGSTOP => "Stopped (signal)",
        libc::SIGTSTP => "Stopped",
        libc::SIGTTIN => "Stopped (tty input)",
        libc::SIGTTOU => "Stopped (tty output)",
        libc::SIGURG => "Urgent I/O condition",
        libc::SIGXCPU => "CPU time limit exceeded",
        libc::SIGXFSZ => "File size limit exceeded",
        libc::SIGVTALRM => "Virtual timer expired",
        libc::SIGPROF => "Profiling timer expired",
        libc::SIGWINCH => "Window changed",
        libc::SIGIO => "I/O possible",
        libc::SIGPWR => "Power failure",
        libc::SIGSYS => "Bad system call",
        other => return format!("Unknown signal {other}"),
    };
    name.to_string()
}

/// A running task process, the leader of its own process group. Its stdin, stdout and
/// stderr are the executor's.
#[derive(Debug)]
pub struct TaskProcess {
    pid: u32,
    /// The process until it is reaped; tokio waits for it with a pidfd, not a thread.
    child: Option<tokio::process::Child>,
    /// How it ended, once known.
    ended: Option<Termination>,
}

impl TaskProcess {
    /// Forks and execs `spec` in a new process group. Must be called within a tokio
    /// runtime, which waits for the process.
    pub fn spawn(spec: &ProcessSpec) -> Result<TaskProcess, ProcessError> {
        let (argv0, args) = spec.argv.split_first().ok_or(ProcessError::NoProgram)?;
        if spec.program.is_empty() {
            return Err(ProcessError::NoProgram);
        }
        let mut command = Command::new(&spec.program);
        command
            .arg0(argv0)
            .args(args)
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&spec.cwd)
            .process_group(0);
        if let Some(user) = &spec.user {
            let (uid, gid, groups) = (user.uid, user.gid, user.groups.clone());
            // SAFETY: the closure runs in the child between fork and exec; it only makes
            // async-signal-safe system calls on data prepared before the fork.
            unsafe {
                command.pre_exec(move || switch_user(uid, gid, &groups));
            }
        }
        let child = tokio::process::Command::from(command)
            .spawn()
            .map_err(|source| ProcessError::Spawn {
                program: spec.program.clone(),
                source,
            })?;
        let pid = child.id().ok_or_else(|| ProcessError::Spawn {
            program: spec.program.clone(),
            source: io::Error::other("the process has no id"),
        })?;
        Ok(TaskProcess {
            pid,
            child: Some(child),
            ended: None,
        })
    }

    /// The process id (also the process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Waits for the process to end, then kills whatever of its process group is left
    /// (background children), so nothing of the task outlives it. Cancel safe; once it has
    /// returned, it returns the same at once.
    pub async fn wait(&mut self) -> Result<Termination, ProcessError> {
        if let Some(ended) = self.ended {
            return Ok(ended);
        }
        let pid = self.pid;
        let Some(child) = self.child.as_mut() else {
            return Err(ProcessError::Wait {
                pid,
                source: io::Error::other("the process was already waited for"),
            });
        };
        let status = child
            .wait()
            .await
            .map_err(|source| ProcessError::Wait { pid, source })?;
        self.child = None;
        let ended = Termination::from_status(status);
        self.ended = Some(ended);
        if let Err(error) = self.signal_group(Signal::SIGKILL) {
            log_line!("Failed to kill what is left of the task's process group: {error}");
        }
        Ok(ended)
    }

    /// Sends `signal` to the whole process group; a group that is already gone is fine.
    pub fn signal_group(&self, signal: Signal) -> Result<(), ProcessError> {
        let pgid = Pid::from_raw(self.pid as i32);
        match killpg(pgid, signal) {
            Ok(()) | Err(nix::Error::ESRCH) => Ok(()),
            Err(source) => Err(ProcessError::Signal {
                pgid: self.pid,
                signal,
                source,
            }),
        }
    }

    /// Kills the process group: SIGTERM, then SIGKILL if the process has not ended after
    /// `grace`; returns how it ended.
    pub async fn kill(&mut self, grace: Duration) -> Result<Termination, ProcessError> {
        if let Some(ended) = self.ended {
            return Ok(ended);
        }
        self.signal_group(Signal::SIGTERM)?;
        if let Ok(ended) = tokio::time::timeout(grace, self.wait()).await {
            return ended;
        }
        self.signal_group(Signal::SIGKILL)?;
        self.wait().await
    }
}

/// In the child: takes on `uid`, `gid` and `groups` (groups first, while still root).
fn switch_user(uid: libc::uid_t, gid: libc::gid_t, groups: &[libc::gid_t]) -> io::Result<()> {
    // SAFETY: plain system calls on valid pointers and lengths.
    unsafe {
        if libc::setgroups(groups.len(), groups.as_ptr()) != 0
            || libc::setgid(gid) != 0
            || libc::setuid(uid) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn base_env() -> Vec<(String, String)> {
        vec![(
            "PATH".to_string(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        )]
    }

    fn shell(command: &str) -> ProcessSpec {
        ProcessSpec::shell(command, base_env(), std::env::temp_dir())
    }

    /// Runs `spec` with its stdout captured in a file anyone may write (the process may
    /// run as another user); returns how it ended and the output.
    async fn run_capturing(mut spec: ProcessSpec) -> (Termination, String) {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let out = dir.path().join("out");
        let command = spec.argv.pop().unwrap();
        spec.argv.push(format!("({command}) > {}", out.display()));
        let mut process = TaskProcess::spawn(&spec).unwrap();
        let ended = process.wait().await.unwrap();
        (ended, std::fs::read_to_string(out).unwrap())
    }

    /// Whether a process of group `pgid` is alive: not a zombie (an orphan killed here may
    /// stay a zombie until init reaps it).
    fn group_alive(pgid: u32) -> bool {
        std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                return false;
            };
            // After "pid (comm) ": state, ppid, pgrp.
            let Some((_, rest)) = stat.rsplit_once(") ") else {
                return false;
            };
            let fields: Vec<&str> = rest.split(' ').collect();
            fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
        })
    }

    #[tokio::test]
    async fn reports_the_exit_status() {
        let mut process = TaskProcess::spawn(&shell("exit 3")).unwrap();
        assert_eq!(process.wait().await.unwrap(), Termination::Exited(3));
        assert_eq!(
            process.wait().await.unwrap(),
            Termination::Exited(3),
            "again"
        );
        let mut process = TaskProcess::spawn(&shell("true")).unwrap();
        assert!(process.wait().await.unwrap().succeeded());
    }

    #[tokio::test]
    async fn reports_the_signal() {
        let mut process = TaskProcess::spawn(&shell("kill -9 $$")).unwrap();
        let ended = process.wait().await.unwrap();
        assert_eq!(ended, Termination::Signaled(libc::SIGKILL));
        assert_eq!(ended.describe(), "terminated with signal Killed");
        assert_eq!(Termination::Exited(0).describe(), "exited with status 0");
    }

    #[tokio::test]
    async fn sees_its_environment_and_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = base_env();
        env.push(("FOO".to_string(), "bar baz".to_string()));
        let spec = ProcessSpec::shell("echo \"$FOO\"; pwd", env, dir.path().to_path_buf());
        let (ended, out) = run_capturing(spec).await;
        assert!(ended.succeeded());
        let canonical = dir.path().canonicalize().unwrap();
        assert_eq!(out, format!("bar baz\n{}\n", canonical.display()));
    }

    #[tokio::test]
    async fn runs_a_program_without_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source");
        std::fs::write(&source, "some bytes").unwrap();
        let out = dir.path().join("copy");
        let spec = ProcessSpec::exec(
            "cp",
            vec![
                "cp".to_string(),
                source.display().to_string(),
                out.display().to_string(),
            ],
            base_env(),
            dir.path().to_path_buf(),
        );
        let mut process = TaskProcess::spawn(&spec).unwrap();
        assert!(process.wait().await.unwrap().succeeded());
        assert_eq!(std::fs::read_to_string(out).unwrap(), "some bytes");
    }

    #[tokio::test]
    async fn a_missing_program_fails_to_spawn() {
        let spec = ProcessSpec::exec("/nonexistent/program", vec![], base_env(), "/".into());
        let error = TaskProcess::spawn(&spec).unwrap_err();
        assert!(matches!(error, ProcessError::Spawn { .. }), "{error}");
        assert!(error.to_string().contains("/nonexistent/program"));
    }

    #[tokio::test]
    async fn sigterm_reaches_a_process_that_traps_it() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("got-term");
        let command = format!(
            "trap 'echo term > {}; exit 7' TERM; while true; do sleep 0.1; done",
            marker.display()
        );
        let mut process = TaskProcess::spawn(&shell(&command)).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let ended = process.kill(Duration::from_secs(10)).await.unwrap();
        assert_eq!(ended, Termination::Exited(7));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not the SIGKILL"
        );
        assert_eq!(std::fs::read_to_string(marker).unwrap(), "term\n");
    }

    #[tokio::test]
    async fn sigkill_follows_the_grace_period() {
        let command = "trap '' TERM; while true; do sleep 0.1; done";
        let mut process = TaskProcess::spawn(&shell(command)).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let ended = process.kill(Duration::from_millis(500)).await.unwrap();
        assert_eq!(ended, Termination::Signaled(libc::SIGKILL));
        assert!(started.elapsed() >= Duration::from_millis(500));
        assert!(!group_alive(process.pid()));
    }

    #[tokio::test]
    async fn a_kill_reaches_the_whole_process_group() {
        let mut process = TaskProcess::spawn(&shell("sleep 100 & sleep 100")).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(group_alive(process.pid()));
        let ended = process.kill(Duration::from_secs(5)).await.unwrap();
        assert_eq!(ended, Termination::Signaled(libc::SIGTERM));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !group_alive(process.pid()),
            "a member of the group survived"
        );
    }

    #[tokio::test]
    async fn background_children_do_not_outlive_the_task() {
        let mut process = TaskProcess::spawn(&shell("sleep 100 & exit 0")).unwrap();
        assert!(process.wait().await.unwrap().succeeded());
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!group_alive(process.pid()));
    }

    #[test]
    fn looks_up_users() {
        let root = UserIds::lookup("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert!(root.groups.contains(&0));
        let error = UserIds::lookup("no-such-user-here").unwrap_err();
        assert!(matches!(error, ProcessError::UnknownUser { .. }), "{error}");
        assert!(error.to_string().contains("no-such-user-here"));
    }

    #[test]
    fn only_a_user_other_than_the_current_one_is_looked_up_to_switch() {
        assert_eq!(UserIds::lookup_unless("root", 0).unwrap(), None);
        let nobody = UserIds::lookup_unless("nobody", 0).unwrap().unwrap();
        assert_eq!(nobody, UserIds::lookup("nobody").unwrap());
        assert_eq!(UserIds::lookup_unless("nobody", nobody.uid).unwrap(), None);
        let error = UserIds::lookup_unless("no-such-user-here", 0).unwrap_err();
        assert!(matches!(error, ProcessError::UnknownUser { .. }), "{error}");
    }

    #[tokio::test]
    async fn switches_to_another_user_when_root() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIPPED: switching users needs root");
            return;
        }
        let nobody = UserIds::lookup("nobody").unwrap();
        let mut spec = ProcessSpec::shell("id -u; id -g", base_env(), "/".into());
        spec.user = Some(nobody.clone());
        let (ended, out) = run_capturing(spec).await;
        assert!(ended.succeeded());
        assert_eq!(out, format!("{}\n{}\n", nobody.uid, nobody.gid));
    }
}
