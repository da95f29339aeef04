//! `mesos-agent`. The agent itself is issue #4; until it lands this binary only reports
//! the wire version it is built against and exits with an error.

fn main() -> std::process::ExitCode {
    eprintln!(
        "mesos-agent {} (Mesos wire {}): the agent is not built yet",
        env!("CARGO_PKG_VERSION"),
        mesos_core::MESOS_WIRE_VERSION
    );
    std::process::ExitCode::FAILURE
}
