"""Shared fixtures: a real ``mesos-local`` process, and skipping (or, with
``MESOS_REQUIRE_PYTHON_DEPS=1``, failing) when something a test needs is absent."""

import os
import pathlib
import queue
import signal
import subprocess
import tempfile
import threading

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
REQUIRED = os.environ.get("MESOS_REQUIRE_PYTHON_DEPS") == "1"
EVENT_TIMEOUT = 30


def absent(reason):
    """Skips the test because ``reason``; fails it instead when dependencies are required."""
    if REQUIRED:
        pytest.fail("%s (MESOS_REQUIRE_PYTHON_DEPS=1)" % reason, pytrace=False)
    pytest.skip(reason)


def mesos_local_binary():
    """The ``mesos-local`` to run: ``$MESOS_LOCAL_BIN``, else the debug build of the
    workspace (under ``$CARGO_TARGET_DIR`` when set)."""
    explicit = os.environ.get("MESOS_LOCAL_BIN")
    if explicit:
        return pathlib.Path(explicit)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "mesos-local"


class LocalCluster(object):
    """A ``mesos-local`` process with one agent on a free port and a temporary work dir."""

    def __init__(self, binary, work_dir):
        self.process = subprocess.Popen(
            [
                str(binary),
                "--num_agents=1",
                "--port=0",
                "--work_dir=%s" % work_dir,
                "--logging_level=WARNING",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.work_dir = work_dir
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        printed = {}
        while "Agents registered" not in printed:
            try:
                line = self.lines.get(timeout=EVENT_TIMEOUT)
            except queue.Empty:
                self.stop()
                raise AssertionError("mesos-local printed no 'Agents registered' line: %r" % printed)
            if line is None:
                raise AssertionError("mesos-local ended early: %r" % printed)
            key, _, value = line.strip().partition(": ")
            printed[key] = value
        self.master = printed["Master"].replace("http://", "")

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def stop(self):
        """Stops the cluster (SIGINT, then SIGKILL if it lingers)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def sandbox_logs(self):
        """The stdout and stderr of every executor sandbox, for failure messages."""
        logs = []
        for path in sorted(pathlib.Path(self.work_dir).rglob("std*")):
            if path.is_file() and path.name in ("stdout", "stderr"):
                logs.append("--- %s\n%s" % (path, path.read_text(errors="replace")[-4000:]))
        return "\n".join(logs)


@pytest.fixture
def cluster():
    """A running ``mesos-local`` with one agent; its master is ``cluster.master``."""
    binary = mesos_local_binary()
    if not binary.is_file():
        absent("no mesos-local at %s (cargo build -p mesos-examples --bin mesos-local)" % binary)
    with tempfile.TemporaryDirectory(prefix="mesos-python-") as work_dir:
        local = LocalCluster(binary, work_dir)
        try:
            yield local
        finally:
            local.stop()


def require_module(name):
    """Imports ``name`` for a test module, skipping the module (or failing, when
    dependencies are required) if it is not installed."""
    try:
        __import__(name)
    except ImportError as error:
        if REQUIRED:
            raise
        pytest.skip("cannot import %s: %s" % (name, error), allow_module_level=True)
