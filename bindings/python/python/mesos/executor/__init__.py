"""``MesosExecutorDriver``: the executor driver of Apache's Python API, on the Rust
``ExecutorDriver`` of ``mesos-core`` (re-exported by :mod:`mesos.native`)."""

import weakref

from mesos import _lifecycle, _native, _protos
from mesos.interface import ExecutorDriver
from mesos.interface import mesos_pb2

__all__ = ["MesosExecutorDriver"]


class _Callbacks(object):
    """What the native driver calls: turns the v0 bytes of each callback into
    ``mesos_pb2`` objects and calls the executor with its driver (held weakly)."""

    def __init__(self, driver, executor):
        self._driver = weakref.ref(driver)
        self._executor = executor

    def registered(self, executorInfo, frameworkInfo, slaveInfo):
        driver = self._driver()
        if driver is not None:
            self._executor.registered(
                driver,
                mesos_pb2.ExecutorInfo.FromString(executorInfo),
                mesos_pb2.FrameworkInfo.FromString(frameworkInfo),
                mesos_pb2.SlaveInfo.FromString(slaveInfo),
            )

    def reregistered(self, slaveInfo):
        driver = self._driver()
        if driver is not None:
            self._executor.reregistered(driver, mesos_pb2.SlaveInfo.FromString(slaveInfo))

    def disconnected(self):
        driver = self._driver()
        if driver is not None:
            self._executor.disconnected(driver)

    def launchTask(self, task):
        driver = self._driver()
        if driver is not None:
            self._executor.launchTask(driver, mesos_pb2.TaskInfo.FromString(task))

    def killTask(self, taskId):
        driver = self._driver()
        if driver is not None:
            self._executor.killTask(driver, mesos_pb2.TaskID.FromString(taskId))

    def frameworkMessage(self, message):
        driver = self._driver()
        if driver is not None:
            self._executor.frameworkMessage(driver, message)

    def shutdown(self):
        driver = self._driver()
        if driver is not None:
            self._executor.shutdown(driver)

    def error(self, message):
        driver = self._driver()
        if driver is not None:
            self._executor.error(driver, message.decode("utf-8", "replace"))


class MesosExecutorDriver(ExecutorDriver):
    """Connects a :class:`mesos.interface.Executor` to the agent that started this
    process, found through the ``MESOS_*`` environment the agent sets (``RuntimeError``
    when it is missing). Methods return the driver's status; ``join`` and ``run``
    release the GIL while they wait."""

    def __init__(self, executor):
        self.executor = executor
        self._native = _native.ExecutorDriver(_Callbacks(self, executor))
        _lifecycle.track(self)

    def _shutdown(self):
        """At interpreter exit: abort and wait for the driver to end."""
        self._native.abort()
        self._native.join()

    def start(self):
        """Starts the driver; see :meth:`ExecutorDriver.start`."""
        return self._native.start()

    def stop(self):
        """Stops the driver; see :meth:`ExecutorDriver.stop`."""
        return self._native.stop()

    def abort(self):
        """Aborts the driver; see :meth:`ExecutorDriver.abort`."""
        return self._native.abort()

    def join(self):
        """Waits for the driver to stop or abort; see :meth:`ExecutorDriver.join`."""
        return self._native.join()

    def run(self):
        """Starts and joins the driver; see :meth:`ExecutorDriver.run`."""
        return self._native.run()

    def sendStatusUpdate(self, status):
        """See :meth:`ExecutorDriver.sendStatusUpdate`."""
        return self._native.send_status_update(
            _protos.serialize(status, mesos_pb2.TaskStatus, "status")
        )

    def sendFrameworkMessage(self, data):
        """See :meth:`ExecutorDriver.sendFrameworkMessage`."""
        return self._native.send_framework_message(_protos.data_bytes(data, "data"))
