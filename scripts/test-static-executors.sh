#!/usr/bin/env bash
# Builds the agent's built-in executors, `mesos-executor` and `mesos-default-executor`, as
# static musl binaries (the build README.md advises for agents) and runs the command-task
# tests (agent-bin/tests/command_tasks.rs) again with them. Prints why and skips when
# musl-gcc or the x86_64-unknown-linux-musl target is missing (scripts/install-test-deps.sh
# installs both).
#
#   bash scripts/test-static-executors.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
TARGET=x86_64-unknown-linux-musl

if ! command -v musl-gcc >/dev/null 2>&1; then
    echo "static executors: SKIPPED: musl-gcc is missing (apt-get install musl-tools)"
    exit 0
fi
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
    echo "static executors: SKIPPED: the $TARGET target is missing (rustup target add $TARGET)"
    exit 0
fi

cargo build --target "$TARGET" -p agent-bin --bin mesos-executor --bin mesos-default-executor
target="${CARGO_TARGET_DIR:-target}"
dir="$(cd "$target/$TARGET/debug" && pwd)"
for exe in mesos-executor mesos-default-executor; do
    if readelf -d "$dir/$exe" | grep -q NEEDED; then
        echo "static executors: $dir/$exe needs shared libraries:" >&2
        readelf -d "$dir/$exe" | grep NEEDED >&2
        exit 1
    fi
done
MESOS_TEST_EXECUTORS_DIR="$dir" cargo test -p agent-bin --test command_tasks
