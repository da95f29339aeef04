//! Bad input from C (`tests/c/bad_input.c`): NULL handles and buffers, truncated and
//! incomplete protobuf, strings that are not UTF-8, calls on a driver that was never
//! started. Every call returns an error status with a message; none crashes. The program
//! runs linked to libmesos.so, under valgrind (which must find no error and no leak), and
//! linked statically to libmesos.a with the libraries `pkg-config --static` names.

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

/// Compiles `tests/c/bad_input.c` into `dir` linked statically to libmesos.a, with the
/// compiler flags and the private libraries `mesos.pc` gives for a static link.
fn build_static(dir: &Path) -> PathBuf {
    let pkg_config_path = write_pkg_config(dir);
    let flags = support::run_ok(
        Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", &pkg_config_path)
            .args(["--static", "--cflags", "--libs-only-l", "mesos"]),
        "pkg-config --static --cflags --libs-only-l mesos",
    );
    let flags = String::from_utf8(flags.stdout).expect("pkg-config prints text");
    let program = dir.join("bad_input_static");
    support::run_ok(
        Command::new("cc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&program)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/bad_input.c"))
            .arg(support::lib_dir().join("libmesos.a"))
            .args(flags.split_whitespace().filter(|flag| *flag != "-lmesos")),
        "cc bad_input.c libmesos.a",
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
    if let Some(reason) = missing_c_tools(&["cc", "pkg-config"]) {
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
    if let Some(reason) = missing_c_tools(&["cc", "pkg-config", "valgrind"]) {
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

#[test]
fn bad_input_from_c_linked_statically() {
    if let Some(reason) = missing_c_tools(&["cc", "pkg-config"]) {
        skip_or_fail!(reason);
    }
    if let Err(reason) = libmesos() {
        skip_or_fail!(reason);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let program = build_static(dir.path());
    let needed = support::run_ok(Command::new("ldd").arg(&program), "ldd");
    assert!(
        !String::from_utf8_lossy(&needed.stdout).contains("libmesos"),
        "the static program still loads libmesos.so"
    );
    run(&program, &[]);
}
