//! `mesos-master`. The master itself is issue #3; until it lands this binary only reports
//! the wire version it is built against and exits with an error.

fn main() -> std::process::ExitCode {
    eprintln!(
        "mesos-master {} (Mesos wire {}): the master is not built yet",
        env!("CARGO_PKG_VERSION"),
        mesos_core::MESOS_WIRE_VERSION
    );
    std::process::ExitCode::FAILURE
}
