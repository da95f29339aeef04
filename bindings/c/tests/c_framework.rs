//! The C example framework and executor (`examples/c/`, protobuf-c for their messages)
//! built with their Makefile against the freshly built libmesos through pkg-config, run
//! against a real `mesos-local`: the framework registers, launches tasks (command tasks,
//! or tasks of the C executor), sees them finish and exits 0. Then each under valgrind: no
//! invalid access, no definite leak.

#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use support::{
    libmesos, missing_c_tools, run_ok, run_with_timeout, start_mesos_local, workspace,
    write_pkg_config, MesosLocal,
};

/// How many tasks the framework runs.
const TASKS: usize = 4;

/// Builds `examples/c` into `dir` with `make`; the directory of the framework and the
/// executor.
fn build_examples(dir: &Path) -> PathBuf {
    let pkg_config_path = write_pkg_config(dir);
    let build = dir.join("build");
    run_ok(
        Command::new("make")
            .arg("-C")
            .arg(workspace().join("examples/c"))
            .arg(format!("BUILD={}", build.display()))
            .arg(format!(
                "PROTO_DIR={}",
                workspace().join("mesos-core/proto").display()
            ))
            .env("PKG_CONFIG_PATH", pkg_config_path)
            .env("CFLAGS", "-O1 -g"),
        "make -C examples/c",
    );
    build
}

/// Runs the framework (under `wrapper` when given; its tasks on the executor command
/// `executor` when given) against `local`.
fn run_framework(
    local: &MesosLocal,
    framework: &Path,
    wrapper: &[&str],
    executor: Option<&str>,
    timeout: Duration,
) -> Output {
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(framework);
            command
        }
        None => Command::new(framework),
    };
    command
        .arg(&local.master)
        .arg(TASKS.to_string())
        .arg("echo hello from C")
        .args(executor);
    run_with_timeout(&mut command, timeout)
}

/// A fresh mesos-local.
fn mesos_local(work: &Path) -> MesosLocal {
    start_mesos_local(work).unwrap_or_else(|reason| panic!("{reason}"))
}

/// Asserts the framework ran every task to TASK_FINISHED and exited 0.
fn assert_all_finished(output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the C framework failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    assert!(stdout.contains("registered as framework "), "{stdout}");
    for i in 0..TASKS {
        let finished = format!("status update: task-{i} is TASK_FINISHED");
        assert!(stdout.contains(&finished), "no `{finished}` in:\n{stdout}");
    }
    assert!(
        stdout.contains(&format!(
            "all {TASKS} tasks done: {TASKS} finished, 0 failed"
        )),
        "{stdout}"
    );
}

/// The toolchain, libmesos and mesos-local, or why the test cannot run.
fn prerequisites(extra_tools: &[&str]) -> Result<(), String> {
    let tools = ["cc", "make", "pkg-config", "protoc-c"];
    if let Some(reason) = missing_c_tools(&[&tools[..], extra_tools].concat()) {
        return Err(reason);
    }
    libmesos()?;
    let local = support::profile_dir().join("mesos-local");
    if !local.exists() {
        return Err(format!(
            "{} is missing: build it with `cargo build -p mesos-examples --bin mesos-local` \
             (`cargo test --workspace` builds it)",
            local.display()
        ));
    }
    Ok(())
}

#[test]
fn c_framework_runs_command_tasks_on_mesos_local() {
    if let Err(reason) = prerequisites(&[]) {
        skip_or_fail!(reason);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let build = build_examples(dir.path());
    let local = mesos_local(dir.path());
    let output = run_framework(
        &local,
        &build.join("framework"),
        &[],
        None,
        Duration::from_secs(120),
    );
    assert_all_finished(&output);
}

#[test]
fn c_framework_runs_tasks_on_the_c_executor() {
    if let Err(reason) = prerequisites(&[]) {
        skip_or_fail!(reason);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let build = build_examples(dir.path());
    let local = mesos_local(dir.path());
    let executor = build.join("executor").display().to_string();
    let output = run_framework(
        &local,
        &build.join("framework"),
        &[],
        Some(&executor),
        Duration::from_secs(120),
    );
    assert_all_finished(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("TASK_FINISHED: C executor: command exited with status 0"),
        "the tasks did not run on the C executor:\n{stdout}"
    );
}

#[test]
fn c_framework_under_valgrind_has_no_errors_or_leaks() {
    if let Err(reason) = prerequisites(&["valgrind"]) {
        skip_or_fail!(reason);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let build = build_examples(dir.path());
    let local = mesos_local(dir.path());
    let output = run_framework(
        &local,
        &build.join("framework"),
        support::VALGRIND,
        None,
        Duration::from_secs(600),
    );
    assert_all_finished(&output);
    support::assert_valgrind_clean(&String::from_utf8_lossy(&output.stderr));
}

#[test]
fn c_executor_under_valgrind_has_no_errors_or_leaks() {
    if let Err(reason) = prerequisites(&["valgrind"]) {
        skip_or_fail!(reason);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let build = build_examples(dir.path());
    let local = mesos_local(dir.path());
    // The agent starts the executor through the shell: valgrind writes its report to a
    // file of ours, as the executor's stderr goes to its sandbox. The shells the executor
    // forks for its tasks stay silent (they are not ours to check).
    let logs = dir.path().join("valgrind");
    std::fs::create_dir(&logs).expect("log dir");
    let executor = format!(
        "{} --child-silent-after-fork=yes --log-file={}/executor-%p.log {}",
        support::VALGRIND.join(" "),
        logs.display(),
        build.join("executor").display()
    );
    let output = run_framework(
        &local,
        &build.join("framework"),
        &[],
        Some(&executor),
        Duration::from_secs(600),
    );
    assert_all_finished(&output);
    // The executor ends once the agent shuts it down, after the framework is gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let report = loop {
        let reports: Vec<String> = std::fs::read_dir(&logs)
            .expect("log dir")
            .flatten()
            .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
            .filter(|report| !report.is_empty())
            .collect();
        if reports.len() == 1 && reports[0].contains("ERROR SUMMARY") {
            break reports.into_iter().next().unwrap_or_default();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no complete valgrind report of one executor: {reports:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    support::assert_valgrind_clean(&report);
}
