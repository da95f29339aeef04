//! The containerizer on this machine, for real: the linux launcher (pid + mount namespaces)
//! with the cgroups isolators on the host's cgroups (v1 here), and the posix launcher with
//! the posix isolators. Needs root; a test prints `SKIPPED: <why>` and returns when a
//! capability is absent.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_core::agent::containerizer::cgroups::{Cgroups, CgroupsVersion, Controller};
use mesos_core::agent::containerizer::isolator::ResourceLimits;
use mesos_core::agent::containerizer::isolators::parse_isolation;
use mesos_core::agent::containerizer::launcher::{ExitStatus, LaunchError, LaunchSpec};
use mesos_core::agent::containerizer::{Containerizer, ContainerizerError, LauncherKind};

const CGROUPS_ROOT: &str = "mesos_test";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The host's v1 cgroups with cpu, cpuacct, memory, pids and freezer, or why not.
fn v1_cgroups() -> Result<Arc<Cgroups>, String> {
    if !is_root() {
        return Err("not root".into());
    }
    let cg = Cgroups::detect(CGROUPS_ROOT).map_err(|e| format!("no cgroups: {e}"))?;
    if cg.version() != CgroupsVersion::V1 {
        return Err("host cgroups are not v1".into());
    }
    for c in [
        Controller::Cpu,
        Controller::Cpuacct,
        Controller::Memory,
        Controller::Pids,
        Controller::Freezer,
    ] {
        if !cg.has(c) {
            return Err(format!("cgroup controller {c} not mounted"));
        }
    }
    Ok(Arc::new(cg))
}

macro_rules! require {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(why) => {
                println!("SKIPPED: {why}");
                return;
            }
        }
    };
}

/// A unique container id per test and process, so tests can run in parallel.
fn container_id(test: &str) -> String {
    format!("{test}-{}", std::process::id())
}

/// Destroys the container on drop, and sweeps any cgroup directory left for it, so a failing
/// test leaves nothing behind.
struct Guard<'a> {
    containerizer: &'a Containerizer,
    id: String,
    _sandbox: tempfile::TempDir,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let _ = self.containerizer.destroy(&self.id);
        if let Some(cgroups) = self.containerizer.cgroups() {
            for c in Controller::ALL {
                if let Ok(cg) = cgroups.container(c, &self.id) {
                    let _ = cg.destroy(Duration::from_secs(5));
                }
            }
            if let Ok(cg) = cgroups.processes(&self.id) {
                let _ = cg.destroy(Duration::from_secs(5));
            }
        }
    }
}

fn containerizer(
    isolation: &str,
    launcher: LauncherKind,
    cgroups: Option<Arc<Cgroups>>,
) -> Containerizer {
    let kinds = parse_isolation(isolation).expect("isolation");
    Containerizer::with_cgroups(&kinds, launcher, cgroups, true).expect("containerizer")
}

fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

fn shell(script: &str, sandbox: &Path) -> LaunchSpec {
    LaunchSpec {
        argv: vec!["sh".into(), "-c".into(), script.into()],
        env: vec![("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into())],
        sandbox: sandbox.to_path_buf(),
        working_dir: None,
        user: None,
        sandbox_mount: None,
    }
}

fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `pid` is a live (not zombie) process.
fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            let state = s
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            state != Some("Z") && state != Some("X")
        }
        Err(_) => false,
    }
}

fn cgroup_dirs(cgroups: &Cgroups, id: &str) -> Vec<PathBuf> {
    [
        Controller::Cpu,
        Controller::Cpuacct,
        Controller::Memory,
        Controller::Pids,
        Controller::Freezer,
    ]
    .into_iter()
    .map(|c| cgroups.container(c, id).unwrap().path().to_path_buf())
    .collect()
}

#[test]
fn linux_launcher_pid_namespace_cgroups_and_destroy() {
    let cgroups = require!(v1_cgroups());
    let c = containerizer(
        "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid",
        LauncherKind::Linux,
        Some(cgroups.clone()),
    );
    let id = container_id("linux-pidns");
    let guard = Guard {
        containerizer: &c,
        id: id.clone(),
        _sandbox: sandbox(),
    };
    let sb = guard._sandbox.path().to_path_buf();
    let spec = shell(
        "echo pid=$$; ls /proc | grep -c '^[0-9][0-9]*$' > nprocs; sleep 30 & sleep 30",
        &sb,
    );
    let limits = ResourceLimits {
        cpus: Some(0.5),
        mem_bytes: Some(64 << 20),
        pids: Some(100),
    };
    let pid = c.launch(&id, &spec, &limits).expect("launch");

    // The task sees itself as pid 1, with a private /proc showing only its namespace.
    assert!(
        eventually(Duration::from_secs(10), || {
            fs::read_to_string(sb.join("stdout")).is_ok_and(|s| s.contains("pid="))
                && fs::read_to_string(sb.join("nprocs")).is_ok_and(|s| !s.trim().is_empty())
        }),
        "task produced no output"
    );
    assert_eq!(fs::read_to_string(sb.join("stdout")).unwrap(), "pid=1\n");
    let nprocs: u32 = fs::read_to_string(sb.join("nprocs"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        (1..10).contains(&nprocs),
        "private /proc shows {nprocs} pids"
    );
    // Our own /proc is untouched.
    assert_eq!(
        fs::read_link("/proc/self").unwrap(),
        PathBuf::from(std::process::id().to_string())
    );

    // sh and its two sleeps are in every cgroup of the container.
    let freezer = cgroups.processes(&id).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || freezer
            .procs()
            .is_ok_and(|p| p.len() == 3)),
        "expected 3 processes, got {:?}",
        freezer.procs()
    );
    let pids = freezer.procs().unwrap();
    assert!(pids.contains(&pid));
    for dir in cgroup_dirs(&cgroups, &id) {
        let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        for p in &pids {
            assert!(
                procs.lines().any(|l| l == p.to_string()),
                "{p} not in {}",
                dir.display()
            );
        }
    }
    let cpu = cgroups.container(Controller::Cpu, &id).unwrap();
    assert_eq!(cpu.read("cpu.shares").unwrap().trim(), "512");
    assert_eq!(cpu.read("cpu.cfs_quota_us").unwrap().trim(), "50000");
    assert_eq!(cpu.read("cpu.cfs_period_us").unwrap().trim(), "100000");
    let mem = cgroups.container(Controller::Memory, &id).unwrap();
    assert_eq!(
        mem.read("memory.limit_in_bytes").unwrap().trim(),
        (64u64 << 20).to_string()
    );
    let pids_cg = cgroups.container(Controller::Pids, &id).unwrap();
    assert_eq!(pids_cg.read("pids.max").unwrap().trim(), "100");

    let usage = c.usage(&id).unwrap();
    assert_eq!(usage.processes, Some(3));
    assert_eq!(usage.threads, Some(3));
    assert_eq!(usage.cpus_limit, Some(0.5));
    assert_eq!(usage.mem_limit_bytes, Some(64 << 20));
    assert!(usage.mem_total_bytes.unwrap() > 0);

    // Destroy kills every process and removes every cgroup.
    let t = c.destroy(&id).expect("destroy");
    assert_eq!(t.status, Some(ExitStatus::Signaled(libc::SIGKILL)));
    assert!(t.limitations.is_empty(), "{:?}", t.limitations);
    for p in &pids {
        assert!(!alive(*p), "pid {p} survived destroy");
    }
    for dir in cgroup_dirs(&cgroups, &id) {
        assert!(!dir.exists(), "{} not removed", dir.display());
    }
    assert!(matches!(c.usage(&id), Err(ContainerizerError::Unknown(_))));
    drop(guard);
}

#[test]
fn oom_kill_is_reported_as_memory_limitation() {
    let cgroups = require!(v1_cgroups());
    let c = containerizer(
        "cgroups/mem,cgroups/pids,namespaces/pid",
        LauncherKind::Linux,
        Some(cgroups.clone()),
    );
    let id = container_id("oom");
    let guard = Guard {
        containerizer: &c,
        id: id.clone(),
        _sandbox: sandbox(),
    };
    // The shell keeps 256MB of command substitution output in memory: over the 32MB limit.
    let spec = shell(
        "x=$(head -c 268435456 /dev/zero | tr '\\000' a); echo survived ${#x}",
        guard._sandbox.path(),
    );
    let limits = ResourceLimits {
        mem_bytes: Some(32 << 20),
        ..Default::default()
    };
    c.launch(&id, &spec, &limits).expect("launch");
    let status = c.wait(&id, Some(Duration::from_secs(60))).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || !c
            .limitations(&id)
            .unwrap()
            .is_empty()),
        "no limitation reported; status {status:?}"
    );
    let limitations = c.limitations(&id).unwrap();
    assert_eq!(limitations[0].resource, "mem");
    assert_eq!(limitations[0].reason, "REASON_CONTAINER_LIMITATION_MEMORY");
    let stdout = fs::read_to_string(guard._sandbox.path().join("stdout")).unwrap();
    assert!(!stdout.contains("survived"), "{stdout}");
    let t = c.destroy(&id).unwrap();
    assert_eq!(t.limitations.len(), 1);
    assert!(t.status.is_some());
    for dir in cgroup_dirs(&cgroups, &id) {
        assert!(!dir.exists(), "{} not removed", dir.display());
    }
}

#[test]
fn cgroups_usage_of_busy_process_is_nonzero() {
    let cgroups = require!(v1_cgroups());
    let c = containerizer(
        "cgroups/cpu,cgroups/mem",
        LauncherKind::Linux,
        Some(cgroups),
    );
    let id = container_id("busy-cgroups");
    let guard = Guard {
        containerizer: &c,
        id: id.clone(),
        _sandbox: sandbox(),
    };
    let spec = shell("while :; do :; done", guard._sandbox.path());
    c.launch(&id, &spec, &ResourceLimits::default())
        .expect("launch");
    assert!(
        eventually(Duration::from_secs(20), || {
            let u = c.usage(&id).unwrap();
            u.cpus_user_time_secs.unwrap_or(0.0) + u.cpus_system_time_secs.unwrap_or(0.0) >= 0.2
        }),
        "cpu usage stayed at {:?}",
        c.usage(&id)
    );
    let u = c.usage(&id).unwrap();
    assert!(u.mem_total_bytes.unwrap() > 0, "{u:?}");
    assert!(u.timestamp > 0.0);
    assert_eq!(u.mem_limit_bytes, None);
    assert!(u.cpus_nr_periods.is_some());
    c.destroy(&id).unwrap();
    drop(guard);
}

#[test]
fn posix_usage_of_busy_process_is_nonzero() {
    let c = containerizer("posix/cpu,posix/mem", LauncherKind::Posix, None);
    let id = container_id("busy-posix");
    let guard = Guard {
        containerizer: &c,
        id: id.clone(),
        _sandbox: sandbox(),
    };
    let spec = shell("while :; do :; done", guard._sandbox.path());
    c.launch(&id, &spec, &ResourceLimits::default())
        .expect("launch");
    assert!(
        eventually(Duration::from_secs(20), || {
            c.usage(&id).unwrap().cpus_user_time_secs.unwrap_or(0.0) >= 0.1
        }),
        "cpu usage stayed at {:?}",
        c.usage(&id)
    );
    let u = c.usage(&id).unwrap();
    assert!(u.mem_rss_bytes.unwrap() > 0, "{u:?}");
    assert_eq!(u.processes, Some(1));
    c.destroy(&id).unwrap();
    drop(guard);
}

#[test]
fn failed_launch_leaves_nothing_behind() {
    let cgroups = require!(v1_cgroups());
    let c = containerizer(
        "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid",
        LauncherKind::Linux,
        Some(cgroups.clone()),
    );
    let id = container_id("failed-launch");
    let guard = Guard {
        containerizer: &c,
        id: id.clone(),
        _sandbox: sandbox(),
    };
    let sb = guard._sandbox.path().to_path_buf();
    let limits = ResourceLimits {
        cpus: Some(1.0),
        mem_bytes: Some(64 << 20),
        pids: Some(10),
    };

    // exec fails in the child: the error comes back with the stage and errno.
    let mut spec = shell("true", &sb);
    spec.argv = vec!["/nonexistent/binary".into()];
    let err = c.launch(&id, &spec, &limits).unwrap_err();
    match &err {
        ContainerizerError::Launch(LaunchError::Child { stage, source, .. }) => {
            assert_eq!(*stage, "exec");
            assert_eq!(*source, nix::Error::ENOENT);
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains("/nonexistent/binary"), "{err}");
    assert!(c.launcher().pid(&id).is_none());
    for dir in cgroup_dirs(&cgroups, &id) {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }

    // A bare name that is not on PATH fails before forking.
    spec.argv = vec!["no-such-binary-anywhere".into()];
    assert!(matches!(
        c.launch(&id, &spec, &limits),
        Err(ContainerizerError::Launch(LaunchError::NotFound { .. }))
    ));
    for dir in cgroup_dirs(&cgroups, &id) {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }

    // A bad working directory fails in the child, after isolation.
    let mut spec = shell("true", &sb);
    spec.working_dir = Some(sb.join("missing"));
    let err = c.launch(&id, &spec, &limits).unwrap_err();
    assert!(err.to_string().contains("chdir"), "{err}");
    for dir in cgroup_dirs(&cgroups, &id) {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }

    // An invalid limit fails in prepare.
    let err = c
        .launch(
            &id,
            &shell("true", &sb),
            &ResourceLimits {
                mem_bytes: Some(1024),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, ContainerizerError::Isolator(_)), "{err}");
    for dir in cgroup_dirs(&cgroups, &id) {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }

    // The id is free again and a good launch works.
    c.launch(&id, &shell("exit 7", &sb), &limits)
        .expect("launch");
    assert_eq!(
        c.wait(&id, Some(Duration::from_secs(10))).unwrap(),
        Some(ExitStatus::Exited(7))
    );
    c.destroy(&id).unwrap();
    for dir in cgroup_dirs(&cgroups, &id) {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    drop(guard);
}

#[test]
fn posix_launcher_env_cwd_stdio_and_exit_status() {
    let c = containerizer("posix/cpu", LauncherKind::Posix, None);
    let id = container_id("posix-env");
    let guard = Guard {
        containerizer: &c,
        id: id.clone(),
        _sandbox: sandbox(),
    };
    let sb = guard._sandbox.path().to_path_buf();
    let work = sb.join("work");
    fs::create_dir(&work).unwrap();
    let mut spec = shell("echo $FOO; pwd; echo oops >&2; exit 3", &sb);
    spec.env.push(("FOO".into(), "bar baz".into()));
    spec.working_dir = Some(work.clone());
    c.launch(&id, &spec, &ResourceLimits::default()).unwrap();
    assert_eq!(
        c.wait(&id, Some(Duration::from_secs(10))).unwrap(),
        Some(ExitStatus::Exited(3))
    );
    assert_eq!(
        fs::read_to_string(sb.join("stdout")).unwrap(),
        format!("bar baz\n{}\n", work.display())
    );
    assert_eq!(fs::read_to_string(sb.join("stderr")).unwrap(), "oops\n");
    let t = c.destroy(&id).unwrap();
    assert_eq!(t.status, Some(ExitStatus::Exited(3)));
    drop(guard);
}

#[test]
fn posix_launcher_switches_user() {
    require!(if is_root() { Ok(()) } else { Err("not root") });
    let c = containerizer("posix/mem", LauncherKind::Posix, None);
    let id = container_id("posix-user");
    let guard = Guard {
        containerizer: &c,
        id: id.clone(),
        _sandbox: sandbox(),
    };
    let sb = guard._sandbox.path().to_path_buf();
    let mut spec = shell("id -u; id -g; id -G", &sb);
    spec.user = Some((65534, 65534));
    c.launch(&id, &spec, &ResourceLimits::default()).unwrap();
    assert_eq!(
        c.wait(&id, Some(Duration::from_secs(10))).unwrap(),
        Some(ExitStatus::Exited(0))
    );
    assert_eq!(
        fs::read_to_string(sb.join("stdout")).unwrap(),
        "65534\n65534\n65534\n"
    );
    c.destroy(&id).unwrap();
    drop(guard);
}

#[test]
fn posix_destroy_kills_the_process_group() {
    let c = containerizer("posix/cpu,posix/mem", LauncherKind::Posix, None);
    let id = container_id("posix-destroy");
    let guard = Guard {
        containerizer: &c,
        id: id.clone(),
        _sandbox: sandbox(),
    };
    let spec = shell("sleep 30 & sleep 30", guard._sandbox.path());
    let pid = c.launch(&id, &spec, &ResourceLimits::default()).unwrap();
    assert!(eventually(Duration::from_secs(10), || {
        c.usage(&id).unwrap().processes == Some(3)
    }));
    let tree: Vec<i32> = mesos_core::agent::containerizer::procfs::process_tree(pid)
        .unwrap()
        .iter()
        .map(|s| s.pid)
        .collect();
    assert_eq!(tree.len(), 3);
    let t = c.destroy(&id).unwrap();
    assert_eq!(t.status, Some(ExitStatus::Signaled(libc::SIGKILL)));
    for p in tree {
        assert!(
            eventually(Duration::from_secs(5), || !alive(p)),
            "pid {p} survived destroy"
        );
    }
    drop(guard);
}

#[test]
fn duplicate_and_invalid_ids_are_rejected() {
    let c = containerizer("posix/cpu", LauncherKind::Posix, None);
    let id = container_id("dup");
    let guard = Guard {
        containerizer: &c,
        id: id.clone(),
        _sandbox: sandbox(),
    };
    let spec = shell("sleep 30", guard._sandbox.path());
    c.launch(&id, &spec, &ResourceLimits::default()).unwrap();
    assert!(matches!(
        c.launch(&id, &spec, &ResourceLimits::default()),
        Err(ContainerizerError::Duplicate(_))
    ));
    assert!(matches!(
        c.launch("../escape", &spec, &ResourceLimits::default()),
        Err(ContainerizerError::InvalidContainerId(_))
    ));
    // The running container is untouched by the rejected launch.
    assert_eq!(c.wait(&id, None).unwrap(), None);
    c.destroy(&id).unwrap();
    drop(guard);
}

#[test]
fn v1_freezer_kill_all_kills_forked_processes() {
    let cgroups = require!(v1_cgroups());
    let id = container_id("v1-kill-all");
    let cg = cgroups.processes(&id).unwrap();
    assert!(cg.path().starts_with("/sys/fs/cgroup/freezer") || cg.has_file("freezer.state"));
    struct Cleanup(
        mesos_core::agent::containerizer::cgroups::Cgroup,
        Option<std::process::Child>,
    );
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = self.0.destroy(Duration::from_secs(5));
            if let Some(c) = &mut self.1 {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
    let mut cleanup = Cleanup(cg.clone(), None);
    cg.create().unwrap();
    // The shell forks only after a line on stdin, i.e. after it is in the cgroup.
    let mut child = std::process::Command::new("sh")
        .args(["-c", "read x; sleep 30 & sleep 30"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let pid = child.id() as i32;
    cleanup.1 = Some(child);
    cg.assign(pid).unwrap();
    use std::io::Write;
    stdin.write_all(b"go\n").unwrap();
    drop(stdin);
    assert!(eventually(Duration::from_secs(10), || cg
        .procs()
        .is_ok_and(|p| p.len() == 3)));
    assert!(cg.set_frozen(true, Duration::from_secs(10)).unwrap());
    assert_eq!(cg.read("freezer.state").unwrap().trim(), "FROZEN");
    assert!(cg.set_frozen(false, Duration::from_secs(10)).unwrap());
    let pids = cg.procs().unwrap();
    cg.kill_all(Duration::from_secs(10)).unwrap();
    assert!(cg.procs().unwrap().is_empty());
    use std::os::unix::process::ExitStatusExt;
    let status = cleanup.1.as_mut().unwrap().wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    for p in pids {
        assert!(
            eventually(Duration::from_secs(5), || !alive(p)),
            "pid {p} survived"
        );
    }
    cg.remove(Duration::from_secs(10)).unwrap();
    assert!(!cg.exists());
}

#[test]
fn a_cgroup_the_child_cannot_join_fails_the_launch_and_leaves_nothing() {
    use mesos_core::agent::containerizer::cgroups::Cgroup;
    use mesos_core::agent::containerizer::launcher::{Launcher, LinuxLauncher};
    struct Remove(Cgroup);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = self.0.destroy(Duration::from_secs(5));
        }
    }
    let cgroups = require!(v1_cgroups());
    let launcher = LinuxLauncher::new(Some(cgroups.clone()));
    let id = container_id("join-fails");
    let sb = sandbox();
    // The child joins `probe` first, then fails on a cgroup that does not exist. `probe` is
    // a pids cgroup: it counts the child until the child is reaped, zombie or not.
    let probe = cgroups
        .container(Controller::Pids, &format!("{id}-probe"))
        .unwrap();
    let _remove = Remove(probe.clone());
    probe.create().unwrap();
    let missing = probe
        .path()
        .with_file_name(format!("{id}-missing"))
        .join("cgroup.procs");
    let err = launcher
        .launch(
            &id,
            &shell("echo ran", sb.path()),
            &[probe.procs_file(), missing.clone()],
        )
        .unwrap_err();
    match &err {
        LaunchError::JoinCgroup { procs, source, .. } => {
            assert_eq!(procs, &missing);
            assert_eq!(*source, nix::Error::ENOENT);
        }
        other => panic!("unexpected error {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("joining cgroup"), "{message}");
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );

    // No child is left, not even a zombie, and it never ran the command.
    assert_eq!(probe.read_u64("pids.current").unwrap(), 0);
    assert!(probe.procs().unwrap().is_empty());
    assert_eq!(fs::read_to_string(sb.path().join("stdout")).unwrap(), "");
    // The launcher's own cgroup is removed and the container unknown.
    let own = cgroups.processes(&id).unwrap();
    assert!(!own.exists(), "{} left behind", own.path().display());
    assert_eq!(launcher.pid(&id), None);

    // The id is free again.
    let pid = launcher
        .launch(&id, &shell("exit 3", sb.path()), &[probe.procs_file()])
        .expect("launch");
    assert_eq!(
        launcher.wait(&id, Some(Duration::from_secs(10))).unwrap(),
        Some(ExitStatus::Exited(3))
    );
    assert!(!alive(pid));
    launcher.destroy(&id).unwrap();
    assert!(!own.exists(), "{} left behind", own.path().display());
}

/// Controller name -> cgroup path, from a `/proc/<pid>/cgroup` file (v1 lines only).
fn v1_cgroups_of(text: &str) -> std::collections::HashMap<String, String> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            Some(
                controllers
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(|c| (c.to_string(), path.to_string()))
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
        .collect()
}

#[test]
fn launched_process_is_in_its_cgroups_from_its_first_instruction() {
    let cgroups = require!(v1_cgroups());
    let cases = [
        (
            LauncherKind::Linux,
            "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid",
            &["cpu", "cpuacct", "memory", "pids", "freezer"][..],
            &[][..],
        ),
        // The posix launcher has no cgroup of its own; the child joins the isolators'.
        (
            LauncherKind::Posix,
            "cgroups/cpu,cgroups/mem",
            &["cpu", "cpuacct", "memory"][..],
            &["pids", "freezer"][..],
        ),
    ];
    for (kind, isolation, inside, outside) in cases {
        let c = containerizer(isolation, kind, Some(cgroups.clone()));
        let id = container_id(&format!("in-cgroups-{}", c.launcher().name()));
        let guard = Guard {
            containerizer: &c,
            id: id.clone(),
            _sandbox: sandbox(),
        };
        let sb = guard._sandbox.path().to_path_buf();
        // The first thing the command does is print its own cgroups: it is in them before
        // it runs, not moved in afterwards.
        let spec = shell("cat /proc/$$/cgroup; exec sleep 30", &sb);
        let pid = c.launch(&id, &spec, &ResourceLimits::default()).unwrap();
        let expected = format!("/{CGROUPS_ROOT}/{id}");
        assert!(
            eventually(Duration::from_secs(10), || {
                fs::read_to_string(sb.join("stdout")).is_ok_and(|s| s.contains("memory"))
            }),
            "{kind:?}: no output"
        );
        let own_view = v1_cgroups_of(&fs::read_to_string(sb.join("stdout")).unwrap());
        let host_view = v1_cgroups_of(&fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap());
        for view in [&own_view, &host_view] {
            for controller in inside {
                assert_eq!(
                    view.get(*controller),
                    Some(&expected),
                    "{kind:?}: {controller} in {view:?}"
                );
            }
            for controller in outside {
                assert_ne!(
                    view.get(*controller),
                    Some(&expected),
                    "{kind:?}: {controller} in {view:?}"
                );
            }
        }
        c.destroy(&id).unwrap();
        drop(guard);
    }
}

#[test]
fn filesystem_linux_bind_mounts_the_sandbox_in_the_container_only() {
    if !is_root() {
        println!("SKIPPED: not root");
        return;
    }
    let c = containerizer("filesystem/linux,namespaces/pid", LauncherKind::Linux, None);
    let mount = c
        .sandbox_mount_point()
        .expect("filesystem/linux mounts the sandbox")
        .to_path_buf();
    assert_eq!(mount, Path::new("/mnt/mesos/sandbox"));
    let id = container_id("fs-linux");
    let guard = Guard {
        containerizer: &c,
        id: id.clone(),
        _sandbox: sandbox(),
    };
    let sb = guard._sandbox.path().to_path_buf();
    let mut spec = shell("pwd; touch /mnt/mesos/sandbox/made-inside", &sb);
    spec.sandbox_mount = Some(mount.clone());
    c.launch(&id, &spec, &ResourceLimits::default())
        .expect("launch");
    let status = c.wait(&id, Some(Duration::from_secs(30))).unwrap();
    assert_eq!(status, Some(ExitStatus::Exited(0)));
    let stdout = fs::read_to_string(sb.join("stdout")).unwrap();
    assert_eq!(
        stdout.trim(),
        "/mnt/mesos/sandbox",
        "the working directory is the mount"
    );
    assert!(sb.join("made-inside").exists(), "the mount is the sandbox");
    assert!(
        !mount.join("made-inside").exists(),
        "the bind mount leaked out of the container's mount namespace"
    );
    c.destroy(&id).unwrap();

    // The posix launcher cannot provide it.
    let kinds = parse_isolation("filesystem/linux").unwrap();
    let err = Containerizer::with_cgroups(&kinds, LauncherKind::Posix, None, false).unwrap_err();
    assert!(err.to_string().contains("filesystem/linux"), "{err}");
}
