#!/usr/bin/env bash
# The quick start: builds mesos-local and runs it with two agents and the demo framework,
# which runs five command tasks and prints their status updates; the cluster then stops
# (leaving no process or cgroup behind) and the exit status is the demo's.
#
#   bash scripts/demo.sh [more mesos-local flags]
#
# Needs a Rust toolchain (cargo); installs a C toolchain from Debian's packages when the
# linker is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cc >/dev/null 2>&1; then
    echo "==> [demo] installing a C toolchain (the linker)"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -q
    $sudo apt-get install -y -q build-essential pkg-config ca-certificates
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "==> [demo] cargo is missing: install Rust 1.85 or newer (https://rustup.rs)" >&2
    exit 1
fi

cargo build --release -q -p mesos-examples --bin mesos-local
exec target/release/mesos-local --demo --num_agents=2 --port=0 --logging_level=WARNING "$@"
