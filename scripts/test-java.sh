#!/usr/bin/env bash
# Builds the Java binding's JNI library (bindings/java: libmesos_java.so) and mesos-local,
# then runs the binding's Maven module: JUnit 5 tests of the unmodified Apache Mesos jar
# (org.apache.mesos:mesos:1.11.0 from Maven Central) on our library, against a real
# mesos-local.
#
#   bash scripts/test-java.sh [mvn arguments, e.g. -Dtest=SchedulerDriverTest]
#
# Needs a JDK (17 or later) and Maven; scripts/install-test-deps.sh installs them.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"

log() { printf '==> [test-java] %s\n' "$*"; }

log "cargo build -p mesos-java (libmesos_java.so)"
cargo build -p mesos-java
log "cargo build -p mesos-examples --bin mesos-local"
cargo build -p mesos-examples --bin mesos-local

log "mvn test (bindings/java)"
cd bindings/java
mvn -B --no-transfer-progress test \
    -Dmesos.native.library="$target_dir/debug/libmesos_java.so" \
    -Dmesos.local.bin="$target_dir/debug/mesos-local" \
    "$@"
