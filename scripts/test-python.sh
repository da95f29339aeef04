#!/usr/bin/env bash
# Builds the `mesos` Python wheel (bindings/python) with maturin and runs its pytest tests
# against a real mesos-local:
#   1. a virtualenv (python3 -m venv) with maturin, pytest and protobuf==6.33.6;
#   2. `maturin build --release` of bindings/python into a wheel, installed into the venv;
#   3. `cargo build -p mesos-examples --bin mesos-local`;
#   4. pytest bindings/python/tests (the wheel is also installed into a second, clean venv
#      by test_wheel.py).
#
#   bash scripts/test-python.sh [pytest arguments]
#
# MESOS_PYTHON_VENV picks the venv (default: <cargo target dir>/python-venv, reused).
# With MESOS_REQUIRE_PYTHON_DEPS=1 (scripts/test.sh sets it) tests fail instead of
# skipping when something they need is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"

PYTHON="${PYTHON:-python3}"
PROTOBUF_VERSION="6.33.6"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
venv="${MESOS_PYTHON_VENV:-$target_dir/python-venv}"
dist="$target_dir/python-wheels"

log() { printf '==> [test-python] %s\n' "$*"; }
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

if [ ! -x "$venv/bin/python" ]; then
    log "venv: creating $venv"
    "$PYTHON" -m venv "$venv"
fi
log "venv: maturin, pytest, protobuf==$PROTOBUF_VERSION"
"$venv/bin/python" -m pip install --quiet "maturin>=1.5,<2" pytest "protobuf==$PROTOBUF_VERSION"

log "wheel: maturin build --release (bindings/python)"
rm -rf "$dist"
"$venv/bin/maturin" build --release --compatibility linux \
    --interpreter "$venv/bin/python" \
    --manifest-path bindings/python/Cargo.toml --out "$dist"
wheel="$(ls "$dist"/mesos-*.whl)"
"$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps "$wheel"
log "wheel: installed $(basename "$wheel")"

log "cargo build -p mesos-examples --bin mesos-local"
cargo build -p mesos-examples --bin mesos-local

log "pytest bindings/python/tests"
# Run from the tests' directory so `mesos` is imported from the installed wheel.
cd bindings/python/tests
MESOS_PYTHON_WHEEL="$wheel" MESOS_PROTOBUF_VERSION="$PROTOBUF_VERSION" \
    MESOS_LOCAL_BIN="$target_dir/debug/mesos-local" \
    "$venv/bin/python" -m pytest -v -rs -p no:cacheprovider "$@" .
