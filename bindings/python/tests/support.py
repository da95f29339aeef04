"""Helpers of the driver tests: a scheduler that records its callbacks, and the tasks
that run on the Python executor (``python_executor.py``)."""

import os
import queue
import sys
import threading

import mesos
from mesos.interface import Scheduler, mesos_pb2

from conftest import EVENT_TIMEOUT

EXECUTOR_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python_executor.py")
# The executor must import the same `mesos` package as the tests.
MESOS_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(mesos.__file__)))
QUICK_REOFFER = mesos_pb2.Filters(refuse_seconds=0.1)


def framework_info(name, failover_timeout=None):
    """A FrameworkInfo for the current user (empty: the driver fills it in)."""
    info = mesos_pb2.FrameworkInfo(user="", name=name)
    if failover_timeout is not None:
        info.failover_timeout = failover_timeout
    return info


def executor_info():
    """The Python executor, run by the agent with this interpreter by absolute path."""
    info = mesos_pb2.ExecutorInfo(name="Test Executor (Python)")
    info.executor_id.value = "python-executor"
    info.command.value = "exec %s %s" % (sys.executable, EXECUTOR_SCRIPT)
    variable = info.command.environment.variables.add()
    variable.name = "PYTHONPATH"
    variable.value = MESOS_PACKAGE_ROOT
    add_scalars(info.resources, cpus=0.1, mem=32)
    return info


def add_scalars(resources, **amounts):
    for name, amount in sorted(amounts.items()):
        resource = resources.add(name=name, type=mesos_pb2.Value.SCALAR)
        resource.scalar.value = amount


def task_info(offer, name, data):
    """A task of the Python executor on ``offer``'s agent; ``data`` is what it does."""
    task = mesos_pb2.TaskInfo(name=name, data=data)
    task.task_id.value = name
    task.slave_id.CopyFrom(offer.slave_id)
    add_scalars(task.resources, cpus=0.1, mem=32)
    task.executor.CopyFrom(executor_info())
    return task


class Recorder(Scheduler):
    """Records every callback as ``(kind, ...)`` for the test thread to wait on."""

    def __init__(self):
        self.events = queue.Queue()
        self.backlog = []

    def registered(self, driver, frameworkId, masterInfo):
        self.events.put(("registered", frameworkId, masterInfo))

    def reregistered(self, driver, masterInfo):
        self.events.put(("reregistered", masterInfo))

    def resourceOffers(self, driver, offers):
        for offer in offers:
            self.events.put(("offer", offer))

    def statusUpdate(self, driver, status):
        self.events.put(("status", status))

    def frameworkMessage(self, driver, executorId, slaveId, message):
        self.events.put(("message", executorId, slaveId, message))

    def error(self, driver, message):
        self.events.put(("error", message))

    def wait_for(self, kind, matches=lambda *args: True, timeout=EVENT_TIMEOUT):
        """The first event of ``kind`` whose arguments ``matches``; other events are kept
        for later waits."""
        for index, event in enumerate(self.backlog):
            if event[0] == kind and matches(*event[1:]):
                return self.backlog.pop(index)[1:]
        while True:
            try:
                event = self.events.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError("no %s event in %ss; saw %r" % (kind, timeout, self.backlog))
            if event[0] == kind and matches(*event[1:]):
                return event[1:]
            self.backlog.append(event)

    def wait_for_state(self, task_name, state, timeout=EVENT_TIMEOUT):
        """The status update putting ``task_name`` in ``state``."""
        (status,) = self.wait_for(
            "status",
            lambda s: s.task_id.value == task_name and s.state == state,
            timeout,
        )
        return status


def run_in_thread(driver, timeout=2 * EVENT_TIMEOUT):
    """``driver.run()`` on another thread; its status, or AssertionError (after aborting
    the driver) if it did not return in ``timeout`` seconds."""
    result = []
    thread = threading.Thread(target=lambda: result.append(driver.run()), daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        driver.abort()
        raise AssertionError("run() did not return in %ss" % timeout)
    return result[0]
