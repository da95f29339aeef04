#!/usr/bin/env bash
# Java callbacks per second through MesosSchedulerDriver (the Apache Mesos jar on
# libmesos_java.so, release build), against the Rust SchedulerDriver's rate on the same
# canned stream in the same run (`cargo bench -p mesos-core --bench scheduler_driver`).
# The Java side is mesos.java.bench.CallbackRate (bindings/java/src/test/java).
#
#   bash bindings/java/bench/callback_rate.sh [events] [runs]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
repo="$(pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
events="${1:-200000}"
runs="${2:-5}"

rust="$(cargo bench -q -p mesos-core --bench scheduler_driver -- "$events" "$runs")"
printf '%s\n' "$rust"
rust_rate="$(printf '%s\n' "$rust" | sed -n 's/.*callback driver: *\([0-9.]*\) events\/s.*/\1/p')"

cargo build -q --release -p mesos-java
cd bindings/java
mvn -B -q --no-transfer-progress test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath >/dev/null
output="$(MESOS_NATIVE_JAVA_LIBRARY="$target_dir/release/libmesos_java.so" \
    java -cp "target/test-classes:$(cat target/bench.classpath)" \
    mesos.java.bench.CallbackRate "$events" "$runs")"
printf '%s\n' "$output"
java_rate="$(printf '%s\n' "$output" | sed -n 's/.*Driver: *\([0-9.]*\) callbacks\/s.*/\1/p')"
awk -v j="$java_rate" -v r="$rust_rate" 'BEGIN { printf "Java / Rust driver rate: %.1f%%\n", 100 * j / r }'
