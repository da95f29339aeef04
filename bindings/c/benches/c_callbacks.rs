//! Callbacks per second delivered to C: a scheduler driver of libmesos whose C callbacks
//! (`benches/callbacks.c`) only count, against the Rust `SchedulerDriver` with a
//! `Scheduler` that only counts, in the same run, on the same canned master stream
//! ([`mesos_core::scheduler::canned`]: alternating OFFERS and UPDATE events, protobuf).
//! The C path costs the Rust one plus re-encoding each message for C.
//!
//! `cargo bench -p mesos-c --bench c_callbacks -- [events] [runs]`
//! (defaults: 200000 events, 5 runs of each, interleaved; medians reported). Needs `cc`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use mesos_core::scheduler::canned::{canned_master, canned_stream, time_rust_driver};

/// The same through libmesos and C callbacks: the C program measures and prints it.
fn through_c(program: &Path, lib_dir: &Path, master: &str, events: usize) -> Duration {
    let output = Command::new(program)
        .arg(master)
        .arg(events.to_string())
        .env("LD_LIBRARY_PATH", lib_dir)
        .output()
        .expect("the C bench runs");
    assert!(
        output.status.success(),
        "the C bench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let nanos: u64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("the C bench prints nanoseconds");
    Duration::from_nanos(nanos)
}

/// Compiles `benches/callbacks.c` against the libmesos of this build; the program's path.
fn build_c(lib_dir: &Path, out_dir: &Path) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let program = out_dir.join("callbacks");
    let status = Command::new("cc")
        .args(["-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-o"])
        .arg(&program)
        .arg(crate_dir.join("benches/callbacks.c"))
        .arg(format!("-I{}", crate_dir.join("../../include").display()))
        .arg(format!("-L{}", lib_dir.display()))
        .args(["-lmesos", "-lpthread"])
        .status()
        .expect("cc runs");
    assert!(status.success(), "cc failed on benches/callbacks.c");
    program
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let events = args.first().copied().unwrap_or(200_000);
    let runs = args.get(1).copied().unwrap_or(5).max(1);

    // The bench binary is in <target>/release/deps, with the libmesos of the same build.
    let exe = std::env::current_exe().expect("the bench's path");
    let lib_dir = exe.parent().expect("<target>/release/deps");
    assert!(
        lib_dir.join("libmesos.so").exists(),
        "{} is missing",
        lib_dir.join("libmesos.so").display()
    );
    let out_dir = tempfile::tempdir().expect("temp dir");
    let program = build_c(lib_dir, out_dir.path());

    let master = canned_master(canned_stream(events)).expect("a canned master on 127.0.0.1");
    let mut rust = Vec::new();
    let mut c = Vec::new();
    for _ in 0..runs {
        rust.push(time_rust_driver(&master, events));
        c.push(through_c(&program, lib_dir, &master, events));
    }
    let (rust, c) = (median(rust), median(c));
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    println!("events per run: {events}, runs: {runs} of each (medians)");
    println!(
        "Rust Scheduler callbacks: {:>10.0} events/s ({rust:?})",
        rate(rust)
    );
    println!(
        "C callbacks (libmesos):   {:>10.0} events/s ({c:?})",
        rate(c)
    );
    println!("C / Rust rate:            {:.3}", rate(c) / rate(rust));
}
