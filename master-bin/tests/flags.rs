//! The `mesos-master` binary's flag handling, end to end: exit codes and where messages go.

#[path = "../../mesos-core/tests/common/daemon_cli.rs"]
mod daemon_cli;

use std::process::{Command, Output};

/// Runs the built `mesos-master` with `args` and only the `MESOS_*` variables in `env`.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    daemon_cli::run(env!("CARGO_BIN_EXE_mesos-master"), args, env)
}

/// The process' stderr as text.
fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the run failed with a flags error whose message mentions `needle`.
fn assert_flags_error(output: &Output, needle: &str) {
    assert!(!output.status.success(), "exited successfully");
    let text = stderr(output);
    assert!(text.contains("Failed to load flags"), "{text}");
    assert!(text.contains(needle), "{needle} missing from: {text}");
    assert!(text.contains("--help"), "no --help hint in: {text}");
}

#[test]
fn help_exits_zero_and_lists_flags_with_defaults() {
    let output = run(&["--help"], &[]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("--allocation_interval"), "{text}");
    assert!(text.contains("[default: 1secs]"), "{text}");
}

#[test]
fn bad_duration_exits_non_zero() {
    let output = run(&["--registry=in_memory", "--allocation_interval=fast"], &[]);
    assert_flags_error(&output, "--allocation_interval");
}

#[test]
fn bad_weight_exits_non_zero() {
    let output = run(&["--registry=in_memory", "--weights=a=-1"], &[]);
    assert_flags_error(&output, "--weights");
}

#[test]
fn unknown_flag_exits_non_zero() {
    let output = run(&["--registry=in_memory", "--frobnicate=yes"], &[]);
    assert_flags_error(&output, "--frobnicate");
}

#[test]
fn missing_work_dir_exits_non_zero() {
    let output = run(&[], &[]);
    assert_flags_error(&output, "--work_dir");
}

#[test]
fn bad_environment_value_exits_non_zero() {
    let output = run(&["--registry=in_memory"], &[("MESOS_PORT", "http")]);
    assert_flags_error(&output, "MESOS_PORT");
}

/// A plain HTTP/1.0 GET; the status line and body.
fn http_get(addr: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the master");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("send request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read answer");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

#[test]
fn runs_with_flags_from_environment_and_command_line_until_sigterm() {
    use std::io::{BufRead, BufReader};
    let mut command = Command::new(env!("CARGO_BIN_EXE_mesos-master"));
    command
        .args(["--ip=127.0.0.1", "--port=0"])
        .env("MESOS_REGISTRY", "in_memory")
        .env("MESOS_ALLOCATION_INTERVAL", "2secs")
        .stdout(std::process::Stdio::piped());
    let mut child = command.spawn().expect("mesos-master starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("first line");
    let addr = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("address at the end")
        .to_string();
    assert!(line.contains("listening on 127.0.0.1:"), "{line}");
    let (status, body) = http_get(&addr, "/flags");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("\"registry\":\"in_memory\""), "{body}");
    assert!(body.contains("\"allocation_interval\":\"2secs\""), "{body}");
    let (status, _) = http_get(&addr, "/health");
    assert!(status.contains("200"), "{status}");
    nix_kill(child.id());
    let exit = child.wait().expect("mesos-master exits");
    assert!(exit.success(), "{exit:?}");
}

/// Sends SIGTERM to `pid`.
fn nix_kill(pid: u32) {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}
