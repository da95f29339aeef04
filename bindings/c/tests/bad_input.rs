//! Bad input from C (`tests/c/bad_input.c`): NULL handles and buffers, truncated and
//! incomplete protobuf, strings that are not UTF-8, calls on a driver that was never
//! started. Every call returns an error status with a message; none crashes. The program
//! runs once as it is and once under valgrind, which must find no error and no leak.

#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{libmesos, missing_c_tools, run_with_timeout, write_pkg_config};

/// Compiles `tests/c/bad_input.c` into `dir` through pkg-config.
fn build(dir: &Path) -> PathBuf {
    let pkg_config_path = write_pkg_config(dir);
    let program = dir.join("bad_input");
    support::compile(
        &pkg_config_path,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/bad_input.c"),
        &[],
        &[],
        &program,
    );
    program
}

/// Runs `program` (under `wrapper`) and asserts every check passed.
fn run(program: &Path, wrapper: &[&str]) -> String {
    let mut command = match wrapper.split_first() {
        Some((tool, args)) => {
            let mut command = Command::new(tool);
            command.args(args).arg(program);
            command
        }
        None => Command::new(program),
    };
    command.env("LD_LIBRARY_PATH", support::lib_dir());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MESOS_") {
            command.env_remove(name);
        }
    }
    let output = run_with_timeout(&mut command, Duration::from_secs(300));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("\n0 failures"),
        "bad_input failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    assert!(!stdout.contains("FAIL"), "{stdout}");
    stderr.to_string()
}

#[test]
fn bad_input_from_c_gets_error_statuses_and_messages() {
    if let Some(reason) = missing_c_tools(&[]) {
        skip_or_fail!(reason);
    }
    if let Err(reason) = libmesos() {
        skip_or_fail!(reason);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let program = build(dir.path());
    run(&program, &[]);
}

#[test]
fn bad_input_from_c_under_valgrind_has_no_errors_or_leaks() {
    if let Some(reason) = missing_c_tools(&["valgrind"]) {
        skip_or_fail!(reason);
    }
    if let Err(reason) = libmesos() {
        skip_or_fail!(reason);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let program = build(dir.path());
    let stderr = run(&program, support::VALGRIND);
    support::assert_valgrind_clean(&stderr);
}
