"""Failures a framework author can cause: an exception in a callback aborts the driver
with its traceback printed; arguments of the wrong type or invalid messages raise
TypeError or ValueError instead of crashing."""

import os

import pytest

import conftest

conftest.require_module("mesos.native")

from mesos import _native  # noqa: E402
from mesos.interface import Scheduler, mesos_pb2  # noqa: E402
from mesos.native import MesosExecutorDriver, MesosSchedulerDriver  # noqa: E402
from mesos.interface import Executor  # noqa: E402

from support import framework_info, run_in_thread  # noqa: E402


class Failing(Scheduler):
    """Raises in its first callback."""

    def __init__(self):
        self.errors = []

    def registered(self, driver, frameworkId, masterInfo):
        raise RuntimeError("boom in registered")

    def error(self, driver, message):
        self.errors.append(message)


def test_an_exception_in_a_callback_aborts_the_driver_and_prints_its_traceback(cluster, capfd):
    driver = MesosSchedulerDriver(Failing(), framework_info("python-failing"), cluster.master)
    assert run_in_thread(driver) == mesos_pb2.DRIVER_ABORTED
    assert driver.join() == mesos_pb2.DRIVER_ABORTED
    assert driver.stop() == mesos_pb2.DRIVER_ABORTED
    assert driver.killTask(mesos_pb2.TaskID(value="t")) == mesos_pb2.DRIVER_ABORTED
    err = capfd.readouterr().err
    assert "Traceback (most recent call last)" in err, err
    assert "RuntimeError: boom in registered" in err, err
    assert "registered" in err


def not_started_driver():
    return MesosSchedulerDriver(Scheduler(), framework_info("python-bad-input"), "127.0.0.1:1")


def test_status_codes_are_those_of_mesos_pb2():
    driver = not_started_driver()
    assert driver.killTask(mesos_pb2.TaskID(value="t")) == mesos_pb2.DRIVER_NOT_STARTED
    assert driver.reviveOffers() == mesos_pb2.DRIVER_NOT_STARTED
    assert driver.suppressOffers(["a-role"]) == mesos_pb2.DRIVER_NOT_STARTED
    assert driver.join() == mesos_pb2.DRIVER_NOT_STARTED
    assert (mesos_pb2.DRIVER_NOT_STARTED, mesos_pb2.DRIVER_RUNNING) == (1, 2)
    assert (mesos_pb2.DRIVER_ABORTED, mesos_pb2.DRIVER_STOPPED) == (3, 4)


def test_arguments_of_the_wrong_type_raise_type_error():
    with pytest.raises(TypeError, match="framework must be a mesos.FrameworkInfo, not str"):
        MesosSchedulerDriver(Scheduler(), "framework", "127.0.0.1:1")
    with pytest.raises(TypeError, match="master must be a str"):
        MesosSchedulerDriver(Scheduler(), framework_info("f"), 5050)
    driver = not_started_driver()
    offer_id = mesos_pb2.OfferID(value="o")
    with pytest.raises(TypeError, match=r"tasks\[0\] must be a mesos.TaskInfo, not str"):
        driver.launchTasks(offer_id, ["not a task"])
    with pytest.raises(TypeError, match="offerIds must be a list of mesos.OfferID"):
        driver.launchTasks("offer", [])
    with pytest.raises(TypeError, match="taskId must be a mesos.TaskID, not TaskStatus"):
        driver.killTask(mesos_pb2.TaskStatus())
    with pytest.raises(TypeError, match="filters must be a mesos.Filters"):
        driver.declineOffer(offer_id, {"refuse_seconds": 1})
    with pytest.raises(TypeError, match="data must be bytes"):
        driver.sendFrameworkMessage(mesos_pb2.ExecutorID(value="e"), mesos_pb2.SlaveID(value="s"), 5)
    with pytest.raises(TypeError, match="roles"):
        driver.reviveOffers([1, 2])


def test_invalid_messages_raise_value_error():
    incomplete = mesos_pb2.TaskInfo(name="no id, no agent")
    driver = not_started_driver()
    with pytest.raises(ValueError, match="missing required fields: task_id"):
        driver.launchTasks(mesos_pb2.OfferID(value="o"), [incomplete])
    with pytest.raises(ValueError, match="invalid mesos.TaskID"):
        driver._native.kill_task(b"\x0a\xff\xff")
    with pytest.raises(ValueError, match="invalid mesos.FrameworkInfo"):
        _native.SchedulerDriver(object(), b"\xff\xff", "127.0.0.1:1", True)
    with pytest.raises(ValueError, match="master"):
        MesosSchedulerDriver(Scheduler(), framework_info("f"), "")
    with pytest.raises(TypeError):
        driver._native.kill_task("a str, not bytes")


def test_an_executor_driver_outside_an_agent_raises(monkeypatch):
    for name in list(os.environ):
        if name.startswith("MESOS_") and name != "MESOS_REQUIRE_PYTHON_DEPS":
            monkeypatch.delenv(name)
    with pytest.raises(RuntimeError, match="MESOS_"):
        MesosExecutorDriver(Executor())
