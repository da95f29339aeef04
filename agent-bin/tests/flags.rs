//! The `mesos-agent` binary's flag handling, end to end: exit codes and where messages go.

#[path = "../../mesos-core/tests/common/daemon_cli.rs"]
mod daemon_cli;

use std::process::Output;

/// Runs the built `mesos-agent` with `args` and no `MESOS_*` variables.
fn run(args: &[&str]) -> Output {
    daemon_cli::run(env!("CARGO_BIN_EXE_mesos-agent"), args, &[])
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_exits_zero_and_lists_flags() {
    let output = run(&["--help"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("--work_dir"), "{text}");
    assert!(text.contains("--isolation"), "{text}");
}

#[test]
fn missing_and_bad_flags_exit_one_with_the_reason() {
    let output = run(&["--work_dir=/tmp/agent-flags-test"]);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains("--master is required"), "{text}");
    assert!(text.contains("--help"), "{text}");

    let output = run(&[
        "--master=127.0.0.1:5050",
        "--work_dir=/tmp/x",
        "--isolation=gpu/nvidia",
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("gpu/nvidia"),
        "{}",
        stderr(&output)
    );

    let output = run(&[
        "--master=127.0.0.1:5050",
        "--work_dir=/tmp/x",
        "--reconfiguration_policy=anything",
    ]);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains("neither 'equal' nor 'additive'"), "{text}");
}

#[test]
fn a_bad_zookeeper_master_is_refused_with_the_reason() {
    let work = tempfile::tempdir().unwrap();
    let output = run(&[
        "--master=zk://127.0.0.1/mesos",
        &format!("--work_dir={}", work.path().display()),
        "--ip=127.0.0.1",
        "--port=0",
        "--resources=cpus:1;mem:256;disk:256;ports:[31000-31001]",
        "--isolation=posix/cpu,posix/mem",
        "--launcher=posix",
    ]);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains("ZooKeeper URL"), "{text}");
    assert!(text.contains("not host:port"), "{text}");
}
