//! The C example framework (`examples/c/framework.c`, protobuf-c for its messages) built
//! with its Makefile against the freshly built libmesos through pkg-config, run against a
//! real `mesos-local`: it registers, launches command tasks, sees them finish and exits 0.
//! Then the same under valgrind: no invalid access, no definite leak.

#[allow(dead_code)]
mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use support::{
    libmesos, missing_c_tools, run_ok, run_with_timeout, start_mesos_local, workspace,
    write_pkg_config,
};

/// How many tasks the framework runs.
const TASKS: usize = 4;

/// Builds `examples/c` into `dir` with `make`; the framework's path.
fn build_framework(dir: &Path) -> std::path::PathBuf {
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
    build.join("framework")
}

/// Runs the framework (under `wrapper` when given) against a fresh mesos-local.
fn run_framework(framework: &Path, wrapper: &[&str], timeout: Duration) -> Output {
    let work = tempfile::tempdir().expect("temp dir");
    let local = match start_mesos_local(work.path()) {
        Ok(local) => local,
        Err(reason) => panic!("{reason}"),
    };
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
        .env("LD_LIBRARY_PATH", support::lib_dir());
    let output = run_with_timeout(&mut command, timeout);
    drop(local);
    output
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
    if let Some(reason) = missing_c_tools(extra_tools) {
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
    let framework = build_framework(dir.path());
    let output = run_framework(&framework, &[], Duration::from_secs(120));
    assert_all_finished(&output);
}

#[test]
fn c_framework_under_valgrind_has_no_errors_or_leaks() {
    if let Err(reason) = prerequisites(&["valgrind"]) {
        skip_or_fail!(reason);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let framework = build_framework(dir.path());
    let output = run_framework(&framework, support::VALGRIND, Duration::from_secs(600));
    assert_all_finished(&output);
    support::assert_valgrind_clean(&String::from_utf8_lossy(&output.stderr));
}
