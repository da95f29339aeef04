"""``MesosExecutorDriver``: the executor driver of Apache's Python API, on the Rust
``ExecutorDriver`` of ``mesos-core`` (re-exported by :mod:`mesos.native`)."""

from mesos import _lifecycle, _native, _protos
from mesos._callbacks import Callbacks
from mesos.interface import ExecutorDriver
from mesos.interface import mesos_pb2

__all__ = ["MesosExecutorDriver"]


class _Callbacks(Callbacks):
    """What the native executor driver calls: turns the v0 bytes of each callback into
    ``mesos_pb2`` objects for the executor."""

    def registered(self, executorInfo, frameworkInfo, slaveInfo):
        self._deliver(
            "registered",
            mesos_pb2.ExecutorInfo.FromString(executorInfo),
            mesos_pb2.FrameworkInfo.FromString(frameworkInfo),
            mesos_pb2.SlaveInfo.FromString(slaveInfo),
        )

    def reregistered(self, slaveInfo):
        self._deliver("reregistered", mesos_pb2.SlaveInfo.FromString(slaveInfo))

    def disconnected(self):
        self._deliver("disconnected")

    def launchTask(self, task):
        self._deliver("launchTask", mesos_pb2.TaskInfo.FromString(task))

    def killTask(self, taskId):
        self._deliver("killTask", mesos_pb2.TaskID.FromString(taskId))

    def frameworkMessage(self, message):
        self._deliver("frameworkMessage", message)

    def shutdown(self):
        self._deliver("shutdown")

    def error(self, message):
        self._deliver("error", message.decode("utf-8", "replace"))


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
