//! The cgroups v2 code paths, for real, on whatever v2 hierarchy this machine has.
//!
//! These machines mount a v2 hierarchy at `/sys/fs/cgroup/unified` next to the v1 ones, with
//! no cpu/memory/pids controllers in it; so this exercises what works there: creating a
//! container cgroup, moving processes in, freezing, killing everything (`cgroup.kill`),
//! removing, and the linux launcher tracking a container's processes in the unified
//! hierarchy. The v2 control file formats are unit-tested in `cgroups::formats`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_core::agent::containerizer::cgroups::{
    detect, Cgroups, CgroupsError, CgroupsVersion, Controller,
};
use mesos_core::agent::containerizer::isolator::{IsolatorError, ResourceLimits};
use mesos_core::agent::containerizer::isolators::{build_isolators, IsolationKind};
use mesos_core::agent::containerizer::launcher::{ExitStatus, LaunchSpec};
use mesos_core::agent::containerizer::{Containerizer, LauncherKind};

const CGROUPS_ROOT: &str = "mesos_test_v2";

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

fn v2_mount() -> Result<PathBuf, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root".into());
    }
    let text = fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
    detect::parse_mountinfo(&text)
        .v2
        .ok_or_else(|| "no cgroup2 mount on this host".to_string())
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

/// Kills and removes a cgroup on drop, and kills and reaps a std child.
struct Cleanup {
    cgroup: Option<mesos_core::agent::containerizer::cgroups::Cgroup>,
    child: Option<std::process::Child>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(cg) = &self.cgroup {
            let _ = cg.destroy(Duration::from_secs(5));
        }
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn v2_create_move_freeze_kill_remove() {
    let mount = require!(v2_mount());
    let cgroups = Cgroups::v2(&mount, CGROUPS_ROOT).expect("v2 handle");
    assert_eq!(cgroups.version(), CgroupsVersion::V2);
    let id = format!("raw-{}", std::process::id());
    let cg = cgroups.processes(&id).unwrap();
    assert_eq!(cg.path(), mount.join(CGROUPS_ROOT).join(&id));
    let mut cleanup = Cleanup {
        cgroup: Some(cg.clone()),
        child: None,
    };
    cg.create().expect("create");
    cg.create().expect("create is idempotent");
    assert!(cg.exists());

    // The shell waits for a line on stdin before forking, so it is moved in first.
    let mut child = std::process::Command::new("sh")
        .args(["-c", "read x; sleep 30 & sleep 30"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id() as i32;
    let mut stdin = child.stdin.take().unwrap();
    cleanup.child = Some(child);
    cg.assign(pid).expect("assign");
    use std::io::Write;
    stdin.write_all(b"go\n").unwrap();
    drop(stdin);
    // The shell forks its sleeps after being moved, so they are in the cgroup too.
    assert!(
        eventually(Duration::from_secs(10), || cg
            .procs()
            .is_ok_and(|p| p.len() == 3)),
        "{:?}",
        cg.procs()
    );
    assert!(cg.procs().unwrap().contains(&pid));
    assert_eq!(cg.thread_count().unwrap(), 3);

    if cg.has_file("cgroup.freeze") {
        assert!(cg.set_frozen(true, Duration::from_secs(10)).unwrap());
        assert_eq!(cg.read_keyed("cgroup.events").unwrap()["frozen"], 1);
        assert!(cg.set_frozen(false, Duration::from_secs(10)).unwrap());
        assert_eq!(cg.read_keyed("cgroup.events").unwrap()["frozen"], 0);
    } else {
        println!(
            "SKIPPED (part): no cgroup.freeze in {}",
            cg.path().display()
        );
    }
    // cpu.stat has core usage fields on v2 even without the cpu controller.
    assert!(cg
        .read_keyed("cpu.stat")
        .unwrap()
        .contains_key("usage_usec"));

    cg.kill_all(Duration::from_secs(10)).expect("kill_all");
    assert!(cg.procs().unwrap().is_empty());
    let status = cleanup.child.as_mut().unwrap().wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    cg.remove(Duration::from_secs(10)).expect("remove");
    assert!(!cg.exists());
    drop(cleanup);
}

#[test]
fn v2_controllers_are_read_from_cgroup_controllers() {
    let mount = require!(v2_mount());
    let cgroups = Cgroups::v2(&mount, CGROUPS_ROOT).unwrap();
    let listed = fs::read_to_string(mount.join("cgroup.controllers")).unwrap();
    for c in Controller::ALL {
        assert_eq!(
            cgroups.has(c),
            listed.split_whitespace().any(|n| n == c.name()),
            "{c}"
        );
    }
    // An isolator whose controller is not enabled fails with a clear error.
    if !cgroups.has(Controller::Memory) {
        let err = build_isolators(&[IsolationKind::CgroupsMem], Some(&Arc::new(cgroups)), true)
            .unwrap_err();
        assert!(
            matches!(
                err,
                IsolatorError::Cgroups {
                    source: CgroupsError::ControllerUnavailable {
                        controller: Controller::Memory,
                        version: CgroupsVersion::V2
                    },
                    ..
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn linux_launcher_tracks_processes_in_v2_cgroup() {
    let mount = require!(v2_mount());
    let cgroups = Arc::new(Cgroups::v2(&mount, CGROUPS_ROOT).unwrap());
    let c = Containerizer::with_cgroups(
        &[IsolationKind::NamespacesPid],
        LauncherKind::Linux,
        Some(cgroups.clone()),
        true,
    )
    .unwrap();
    let id = format!("launcher-{}", std::process::id());
    let cg = cgroups.processes(&id).unwrap();
    let cleanup = Cleanup {
        cgroup: Some(cg.clone()),
        child: None,
    };
    let sandbox = tempfile::tempdir().unwrap();
    let spec = LaunchSpec {
        argv: vec![
            "sh".into(),
            "-c".into(),
            "echo $$; sleep 30 & sleep 30".into(),
        ],
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        sandbox: sandbox.path().to_path_buf(),
        working_dir: None,
        user: None,
        sandbox_mount: None,
    };
    let pid = c
        .launch(&id, &spec, &ResourceLimits::default())
        .expect("launch");
    assert!(
        eventually(Duration::from_secs(10), || cg
            .procs()
            .is_ok_and(|p| p.len() == 3)),
        "{:?}",
        cg.procs()
    );
    assert!(cg.procs().unwrap().contains(&pid));
    // The container's first process joined the unified cgroup itself, before exec.
    let own = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let unified = format!("0::/{CGROUPS_ROOT}/{id}");
    assert!(own.lines().any(|l| l == unified), "{own}");
    assert!(eventually(Duration::from_secs(10), || read(sandbox.path()) == "1\n"));
    let pids = cg.procs().unwrap();
    let t = c.destroy(&id).expect("destroy");
    assert_eq!(t.status, Some(ExitStatus::Signaled(libc::SIGKILL)));
    assert!(!cg.exists(), "{} not removed", cg.path().display());
    for p in pids {
        assert!(
            !Path::new(&format!("/proc/{p}")).exists(),
            "pid {p} survived"
        );
    }
    drop(cleanup);
}

fn read(sandbox: &Path) -> String {
    fs::read_to_string(sandbox.join("stdout")).unwrap_or_default()
}
