#!/usr/bin/env bash
# The project's test command: installs the test dependencies, then checks formatting,
# lints and runs every test of the workspace, then the command-task tests again with the
# static musl executors (scripts/test-static-executors.sh), then builds the Python wheel
# and runs its pytest tests (scripts/test-python.sh), then the Java binding's JUnit tests
# (scripts/test-java.sh). Stops at the first failure.
#
#   bash scripts/test.sh
#
# Needs a Rust toolchain (rustup's cargo with rustfmt and clippy) and python3 with pip;
# scripts/install-test-deps.sh adds the rest (a C toolchain, Google's protobuf runtime and
# pymesos for the wire-compatibility tests; protobuf-c and valgrind for the C binding's
# tests; a JDK and Maven for the Java binding's). MESOS_REQUIRE_PYTHON_DEPS=1 makes those tests fail, rather than skip, when their
# Python or C dependencies are missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS
trap 'status=$?; if [ "$status" -ne 0 ]; then printf "\n==> FAILED (exit %s) after %ss\n" "$status" "$((SECONDS - started))" >&2; fi' EXIT

export MESOS_REQUIRE_PYTHON_DEPS=1
# Every mesos-agent the tests start keeps its sandboxes whatever the disk's fill: on a
# shared CI machine the disk can be over 90% full, where the default --gc_disk_headroom
# (0.1) would remove a finished task's sandbox before the test reads it.
export MESOS_GC_DISK_HEADROOM=0
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A one-off build gains nothing from incremental state, which took ~5 GB of the target dir.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step "install test dependencies (scripts/install-test-deps.sh)"
bash scripts/install-test-deps.sh

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace"
log="$(mktemp)"
cargo test --workspace 2>&1 | tee "$log"

step "static executors: the command-task tests with musl builds (scripts/test-static-executors.sh)"
bash scripts/test-static-executors.sh 2>&1 | tee -a "$log"

step "Python binding: wheel and pytest (scripts/test-python.sh)"
bash scripts/test-python.sh 2>&1 | tee -a "$log"

step "Java binding: JUnit tests (scripts/test-java.sh)"
bash scripts/test-java.sh 2>&1 | tee -a "$log"

step "all checks passed in $((SECONDS - started))s"
# One closing line for the whole run: the sum of every test binary's result line, of
# pytest's summary line ("== 12 passed, 1 skipped in 3.2s ==") and of Maven's total
# ("[INFO] Tests run: 9, Failures: 0, Errors: 0, Skipped: 0", the line without a time).
awk '/^test result:/ { passed += $4; failed += $6; ignored += $8 }
     /^=+ .*(passed|failed|skipped).* in [0-9.]+s/ {
         for (i = 2; i <= NF; i++) {
             word = $i; sub(/,$/, "", word)
             if (word == "passed") passed += $(i - 1)
             if (word == "failed" || word == "error" || word == "errors") failed += $(i - 1)
             if (word == "skipped") ignored += $(i - 1)
         }
     }
     /^\[[A-Z]+\] Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$/ {
         gsub(/,/, "")
         passed += $4 - $6 - $8 - $10; failed += $6 + $8; ignored += $10
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, ignored }' "$log"
rm -f "$log"
