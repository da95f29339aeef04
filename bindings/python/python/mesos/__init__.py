"""Apache Mesos' Python framework API on the Rust ``mesos-core``.

- :mod:`mesos.interface`: the ``Scheduler`` and ``Executor`` classes a framework
  implements, the driver interfaces, and ``mesos_pb2`` (the v0 ``mesos`` protobuf package);
- :mod:`mesos.native` (also :mod:`mesos.scheduler` and :mod:`mesos.executor`):
  ``MesosSchedulerDriver`` and ``MesosExecutorDriver``;
- :mod:`mesos.v1.aio`: an asyncio client of the v1 scheduler API for new code.
"""

from mesos._native import MESOS_WIRE_VERSION

__all__ = ["MESOS_WIRE_VERSION"]
