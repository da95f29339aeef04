//! What the C tests share: finding the freshly built libmesos and `mesos-local`, checking
//! the C toolchain, writing a `mesos.pc` for them, compiling C programs with pkg-config,
//! and running a real `mesos-local`.
//!
//! A test that needs a tool that is missing prints `SKIPPED: <why>` and passes, unless
//! `MESOS_REQUIRE_PYTHON_DEPS=1` (set by `scripts/test.sh`, and so by CI), which makes it
//! fail: the C toolchain is installed by `scripts/install-test-deps.sh` with the rest.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Set to `1` to make a test fail, not skip, when something it needs is missing.
pub const REQUIRE: &str = "MESOS_REQUIRE_PYTHON_DEPS";

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The directory of the profile this test was built in (`target/debug`): the test binary
/// is in its `deps/`, next to libmesos and the workspace's binaries.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary is in <target>/<profile>/deps")
        .to_path_buf()
}

/// Skips (or, when required, fails) the test with `reason`. Returns from the test.
#[macro_export]
macro_rules! skip_or_fail {
    ($reason:expr) => {{
        let reason: String = $reason;
        assert_ne!(
            std::env::var(support::REQUIRE).as_deref(),
            Ok("1"),
            "{reason} (required because {}=1)",
            support::REQUIRE
        );
        println!("SKIPPED: {reason}");
        return;
    }};
}

/// Why one of `tools` (programs) is not usable, if one is not; with `protoc-c`, also
/// protobuf-c's library.
pub fn missing_c_tools(tools: &[&str]) -> Option<String> {
    for tool in tools {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !found {
            return Some(format!(
                "`{tool}` is not installed (scripts/install-test-deps.sh installs it)"
            ));
        }
    }
    if !tools.contains(&"protoc-c") {
        return None;
    }
    let protobuf_c = Command::new("pkg-config")
        .args(["--exists", "libprotobuf-c"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !protobuf_c {
        return Some(
            "libprotobuf-c is not installed (Debian: libprotobuf-c-dev; \
             scripts/install-test-deps.sh installs it)"
                .to_string(),
        );
    }
    None
}

/// The freshly built libmesos, or why it is missing. A test build leaves it in
/// `<profile>/deps` (cargo copies it up to `<profile>` only for `cargo build`), built in
/// the same compiler run as the rlib the tests link, so that copy is never stale.
pub fn libmesos() -> Result<PathBuf, String> {
    let lib = profile_dir().join("deps/libmesos.so");
    if lib.exists() {
        Ok(lib)
    } else {
        Err(format!(
            "{} is missing: build it with `cargo test -p mesos-c --no-run`",
            lib.display()
        ))
    }
}

/// The directory of [`libmesos`], for `-L` and `LD_LIBRARY_PATH`.
pub fn lib_dir() -> PathBuf {
    profile_dir().join("deps")
}

/// Writes a `mesos.pc` (from `bindings/c/mesos.pc.in`) for the libmesos of this build and
/// the checked-in header into `dir`; returns the `PKG_CONFIG_PATH` to use.
pub fn write_pkg_config(dir: &Path) -> String {
    let template = std::fs::read_to_string(workspace().join("bindings/c/mesos.pc.in"))
        .expect("bindings/c/mesos.pc.in");
    let include = workspace().join("include");
    let pc = template
        .replace("@PREFIX@", &workspace().display().to_string())
        .replace("@LIBDIR@", &lib_dir().display().to_string())
        .replace("@INCLUDEDIR@", &include.display().to_string())
        .replace("@VERSION@", env!("CARGO_PKG_VERSION"));
    std::fs::write(dir.join("mesos.pc"), pc).expect("write mesos.pc");
    let mut path = dir.display().to_string();
    if let Ok(existing) = std::env::var("PKG_CONFIG_PATH") {
        path = format!("{path}:{existing}");
    }
    path
}

/// Runs `command`, panicking with its output when it fails.
pub fn run_ok(command: &mut Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Compiles the C source `source` (plus `extra` sources and flags) into `out` against
/// libmesos, with the flags `pkg-config --cflags --libs mesos <packages>` gives.
pub fn compile(
    pkg_config_path: &str,
    source: &Path,
    extra: &[&str],
    packages: &[&str],
    out: &Path,
) {
    let flags = run_ok(
        Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", pkg_config_path)
            .args(["--cflags", "--libs", "mesos"])
            .args(packages),
        "pkg-config --cflags --libs mesos",
    );
    let flags = String::from_utf8(flags.stdout).expect("pkg-config prints text");
    run_ok(
        Command::new("cc")
            .args(["-std=c11", "-g", "-O1", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(out)
            .arg(source)
            .args(extra)
            .args(flags.split_whitespace()),
        &format!("cc {}", source.display()),
    );
}

/// A running `mesos-local`, killed when dropped.
pub struct MesosLocal {
    child: Child,
    /// The master's `host:port`.
    pub master: String,
}

impl Drop for MesosLocal {
    fn drop(&mut self) {
        // SIGINT lets it stop its agents and executors; SIGKILL when it does not end.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the workspace's `mesos-local` with one agent under `work_dir`, or says why it
/// cannot.
pub fn start_mesos_local(work_dir: &Path) -> Result<MesosLocal, String> {
    let binary = profile_dir().join("mesos-local");
    if !binary.exists() {
        return Err(format!(
            "{} is missing: build it with `cargo build -p mesos-examples --bin mesos-local` \
             (`cargo test --workspace` builds it)",
            binary.display()
        ));
    }
    let mut child = Command::new(&binary)
        .args([
            "--num_agents=1",
            "--port=0",
            "--ip=127.0.0.1",
            "--logging_level=WARNING",
        ])
        .arg(format!("--work_dir={}", work_dir.display()))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Master: ") {
                let _ = tx.send(url.trim_start_matches("http://").to_string());
            }
        }
    });
    let master = rx.recv_timeout(Duration::from_secs(60));
    let mut local = MesosLocal {
        child,
        master: String::new(),
    };
    local.master = master.map_err(|_| "mesos-local printed no `Master:` line".to_string())?;
    Ok(local)
}

/// Runs `command` to its end or `timeout`, killing it then; its output.
pub fn run_with_timeout(command: &mut Command, timeout: Duration) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        if rx.recv_timeout(timeout).is_err() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    });
    let output = child.wait_with_output().expect("the program's output");
    let _ = tx.send(());
    let _ = waiter.join();
    output
}

/// valgrind and its options for the C tests: every invalid access is an error, and so is
/// a definitely lost block (the "possibly lost" and "still reachable" blocks are statics
/// and thread-local caches of libmesos' Rust runtime, alive until exit by design).
pub const VALGRIND: &[&str] = &[
    "valgrind",
    "--error-exitcode=99",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite",
    "--show-leak-kinds=definite",
];

/// Asserts valgrind's report (its stderr) shows no error and no definite leak; prints
/// its summary.
pub fn assert_valgrind_clean(stderr: &str) {
    for line in stderr.lines() {
        if line.contains("ERROR SUMMARY") || line.contains("definitely lost") {
            println!("{line}");
        }
    }
    assert!(
        stderr.contains("ERROR SUMMARY: 0 errors"),
        "valgrind found errors:\n{stderr}"
    );
    assert!(
        stderr.contains("definitely lost: 0 bytes") || stderr.contains("no leaks are possible"),
        "valgrind found a definite leak:\n{stderr}"
    );
}
