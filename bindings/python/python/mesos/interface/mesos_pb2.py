"""The v0 Mesos protobuf package ``mesos`` (``mesos/mesos.proto``), as Apache's
``mesos.interface.mesos_pb2``: every message, enum and top-level enum value at module level
(``TaskInfo``, ``TaskState``, ``TASK_RUNNING``, ``DRIVER_RUNNING``, ``Value.SCALAR``...).
"""

from mesos import _protos

_protos.build("mesos/mesos.proto", __name__, globals())
