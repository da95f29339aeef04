"""The wheel that scripts/test-python.sh built installs into a clean venv and imports
there, with nothing from the source tree on the path."""

import os
import pathlib
import subprocess
import sys
import tempfile

import conftest


def test_the_wheel_installs_and_imports_in_a_clean_venv():
    wheel = os.environ.get("MESOS_PYTHON_WHEEL")
    if not wheel or not pathlib.Path(wheel).is_file():
        conftest.absent("no built wheel in MESOS_PYTHON_WHEEL (scripts/test-python.sh sets it)")
    with tempfile.TemporaryDirectory(prefix="mesos-wheel-") as venv:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        python = os.path.join(venv, "bin", "python")
        protobuf = "protobuf==%s" % os.environ.get("MESOS_PROTOBUF_VERSION", "6.33.6")
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, protobuf],
            check=True,
        )
        check = (
            "from mesos.interface import Scheduler, Executor, mesos_pb2\n"
            "from mesos.native import MesosSchedulerDriver, MesosExecutorDriver\n"
            "from mesos.scheduler import MesosSchedulerDriver as S\n"
            "from mesos.executor import MesosExecutorDriver as E\n"
            "from mesos.v1 import aio\n"
            "import mesos\n"
            "assert S is MesosSchedulerDriver and E is MesosExecutorDriver\n"
            "assert mesos_pb2.DRIVER_RUNNING == 2\n"
            "print(mesos.__file__)\n"
        )
        result = subprocess.run(
            [python, "-c", check],
            cwd=venv,
            env={"PATH": os.environ.get("PATH", "")},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().startswith(venv), result.stdout
