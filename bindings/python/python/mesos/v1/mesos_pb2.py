"""The v1 Mesos protobuf package ``mesos.v1`` (``mesos/v1/mesos.proto``)."""

from mesos import _protos

_protos.build("mesos/v1/mesos.proto", __name__, globals())
