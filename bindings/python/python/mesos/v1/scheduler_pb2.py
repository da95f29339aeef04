"""The v1 scheduler API's protobuf package ``mesos.v1.scheduler`` (``Call``, ``Event``)."""

from mesos import _protos
from mesos.v1 import mesos_pb2 as _mesos_pb2  # noqa: F401  (the schema this one imports)

_protos.build("mesos/v1/scheduler/scheduler.proto", __name__, globals())
