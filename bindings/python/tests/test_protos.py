"""``mesos.interface.mesos_pb2`` and the v1 modules, built at import time from the
schemas compiled into the native module, behave as protoc's generated code."""

import conftest

conftest.require_module("mesos.interface.mesos_pb2")

from google.protobuf import descriptor_pool  # noqa: E402

from mesos.interface import mesos_pb2  # noqa: E402
from mesos.v1 import mesos_pb2 as v1  # noqa: E402
from mesos.v1 import scheduler_pb2  # noqa: E402


def test_messages_enums_and_values_are_at_module_level():
    assert mesos_pb2.DESCRIPTOR.package == "mesos"
    assert mesos_pb2.TASK_RUNNING == mesos_pb2.TaskState.Value("TASK_RUNNING")
    assert mesos_pb2.TaskState.Name(mesos_pb2.TASK_KILLED) == "TASK_KILLED"
    assert (mesos_pb2.Value.SCALAR, mesos_pb2.Value.RANGES) == (0, 1)
    assert mesos_pb2.DRIVER_RUNNING == 2
    assert mesos_pb2.TaskStatus.REASON_RECONCILIATION
    assert mesos_pb2.Offer.Operation.LAUNCH
    assert "slave_id" in mesos_pb2.Offer.DESCRIPTOR.fields_by_name
    assert descriptor_pool.Default().FindMessageTypeByName("mesos.TaskInfo")


def test_v0_and_v1_messages_convert_through_their_bytes():
    offer = mesos_pb2.Offer(hostname="h")
    offer.id.value = "o"
    offer.framework_id.value = "f"
    offer.slave_id.value = "a"
    resource = offer.resources.add(name="cpus", type=mesos_pb2.Value.SCALAR)
    resource.scalar.value = 1.5
    new = v1.Offer.FromString(offer.SerializeToString())
    assert new.agent_id.value == "a"
    assert new.resources[0].scalar.value == 1.5
    assert mesos_pb2.Offer.FromString(new.SerializeToString()) == offer


def test_the_v1_scheduler_package_is_there():
    call = scheduler_pb2.Call(type=scheduler_pb2.Call.DECLINE)
    call.decline.offer_ids.add(value="o")
    assert scheduler_pb2.Event.OFFERS
    assert scheduler_pb2.Call.FromString(call.SerializeToString()) == call
