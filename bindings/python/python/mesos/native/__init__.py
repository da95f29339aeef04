"""The drivers, as Apache's ``mesos.native``: ``MesosSchedulerDriver`` and
``MesosExecutorDriver``."""

from mesos.executor import MesosExecutorDriver
from mesos.scheduler import MesosSchedulerDriver

__all__ = ["MesosExecutorDriver", "MesosSchedulerDriver"]
