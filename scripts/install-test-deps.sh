#!/usr/bin/env bash
# Installs what the project's tests need beyond a Rust toolchain (cargo, rustfmt, clippy)
# and python3.11 with pip:
#   - Debian packages: a C toolchain (http-parser's C extension is compiled from source;
#     the C binding's tests compile C programs against libmesos), make, pkg-config,
#     protobuf-c (the C example framework's messages), valgrind (the C tests' leak and
#     memory checks), zookeeper (the HA tests start real servers from its jars), and
#     python3-venv and python3-pip (scripts/test-python.sh builds the `mesos` wheel and
#     runs its tests in a venv, where it installs maturin, pytest and protobuf itself),
#     and musl-tools (musl-gcc: scripts/test-static-executors.sh builds the executors
#     for x86_64-unknown-linux-musl, a Rust target this script also adds with rustup);
#   - a JDK and Maven, when javac or mvn is missing (scripts/test-java.sh runs the Java
#     binding's Maven tests; Maven fetches the Apache Mesos jar and JUnit itself);
#   - Python packages: Google's protobuf runtime (tests/python/protobuf_compat.py),
#     pymesos 0.3.15 (tests/python/capture_pymesos.py) and kazoo, with which pymesos
#     finds a leader in ZooKeeper.
#
# Idempotent: every step checks first and does nothing when its job is already done, so a
# second run takes a second. Run by scripts/test.sh; safe to run by hand.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
PROTOBUF_VERSION="6.33.6"
PYMESOS_VERSION="0.3.15"
KAZOO_VERSION="2.11.0"
HTTP_PARSER_VERSION="0.9.0"

log() { printf '==> [install-test-deps] %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        log "need root for: $*" >&2
        return 1
    fi
}

# --- Debian packages ----------------------------------------------------------------------
APT_PACKAGES=(build-essential pkg-config ca-certificates make protobuf-c-compiler libprotobuf-c-dev valgrind zookeeper python3-venv python3-pip musl-tools)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "apt: installing ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    log "apt: ${APT_PACKAGES[*]} already installed"
fi

# --- Java ---------------------------------------------------------------------------------
if ! command -v javac >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
    log "apt: installing default-jdk-headless maven"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends default-jdk-headless maven
fi
log "java: $(javac -version 2>&1), $(mvn -v 2>/dev/null | head -1)"

# --- Rust components ----------------------------------------------------------------------
for component in rustfmt clippy; do
    sub="fmt"
    [ "$component" = clippy ] && sub="clippy"
    if ! cargo "$sub" --version >/dev/null 2>&1; then
        log "rust: adding component $component"
        rustup component add "$component"
    fi
done
if ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
    log "rust: adding target x86_64-unknown-linux-musl"
    rustup target add x86_64-unknown-linux-musl ||
        log "rust: the musl target could not be added; scripts/test-static-executors.sh will skip"
fi
log "rust: $(cargo --version), $(cargo fmt --version), $(cargo clippy --version)"

# --- Python packages ----------------------------------------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 || { log "$PYTHON not found" >&2; exit 1; }
log "python: $("$PYTHON" --version 2>&1) at $(command -v "$PYTHON")"

# A Debian-managed interpreter refuses plain `pip install` (PEP 668); this is a test
# machine, so install into it anyway.
if [ -n "$("$PYTHON" -c 'import sys, sysconfig, os; p = os.path.join(sysconfig.get_paths()["stdlib"], "EXTERNALLY-MANAGED"); sys.stdout.write(p if os.path.exists(p) else "")')" ]; then
    export PIP_BREAK_SYSTEM_PACKAGES=1
fi
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
pip_install() { "$PYTHON" -m pip install --quiet "$@"; }

if "$PYTHON" - "$PROTOBUF_VERSION" "$PYMESOS_VERSION" 2>/dev/null <<'EOF'
import sys
from importlib.metadata import version
import google.protobuf
import kazoo
import pymesos
from google.protobuf import message_factory

assert version("protobuf") == sys.argv[1], version("protobuf")
assert version("pymesos") == sys.argv[2], version("pymesos")
assert hasattr(message_factory, "GetMessageClass")
EOF
then
    log "python: protobuf $PROTOBUF_VERSION and pymesos $PYMESOS_VERSION already installed"
    exit 0
fi

log "pip: protobuf==$PROTOBUF_VERSION"
pip_install "protobuf==$PROTOBUF_VERSION"

if ! "$PYTHON" -c 'import http_parser.parser' >/dev/null 2>&1; then
    # http-parser 0.9.0's shipped parser.c does not compile on Python 3.11: regenerate it
    # from parser.pyx with Cython<3, then build the package from the patched tree.
    log "pip: http-parser==$HTTP_PARSER_VERSION (rebuilt with Cython<3)"
    pip_install "cython<3"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    "$PYTHON" -m pip download --quiet \
        --no-binary :all: --no-deps --dest "$work" "http-parser==$HTTP_PARSER_VERSION"
    tar -xzf "$work"/http*parser-"$HTTP_PARSER_VERSION".tar.gz -C "$work"
    src="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name "http*parser-$HTTP_PARSER_VERSION")"
    rm -f "$src/http_parser/parser.c"
    (cd "$src" && "$PYTHON" -m cython -X language_level=2 http_parser/parser.pyx)
    pip_install "$src"
fi

log "pip: pymesos==$PYMESOS_VERSION addict six kazoo==$KAZOO_VERSION"
pip_install "pymesos==$PYMESOS_VERSION" addict six "kazoo==$KAZOO_VERSION"

"$PYTHON" -c 'import pymesos, google.protobuf, http_parser.parser; from google.protobuf import message_factory; message_factory.GetMessageClass'
log "python: protobuf and pymesos installed"
