"""``mesos.v1.aio``: the asyncio client of the v1 scheduler API against a real
``mesos-local``."""

import asyncio
import getpass

import pytest

import conftest

conftest.require_module("mesos.v1.aio")

from mesos.v1 import aio, mesos_pb2, scheduler_pb2  # noqa: E402


def framework(name, **fields):
    return mesos_pb2.FrameworkInfo(user=getpass.getuser(), name=name, **fields)


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, conftest.EVENT_TIMEOUT))


def test_a_subscription_gets_offers_and_sends_calls(cluster):
    async def scenario():
        async with aio.Subscription(framework("python-aio"), cluster.master) as subscription:
            kinds = []
            async for event in subscription:
                kinds.append(event.type)
                if event.type == scheduler_pb2.Event.OFFERS:
                    offer = event.offers.offers[0]
                    decline = scheduler_pb2.Call(type=scheduler_pb2.Call.DECLINE)
                    decline.decline.offer_ids.add().CopyFrom(offer.id)
                    await subscription.send(decline)
                    refused = scheduler_pb2.Call(type=scheduler_pb2.Call.KILL)
                    with pytest.raises(aio.CallError):
                        await subscription.send(refused)
                    return kinds, offer, subscription.framework_id

    kinds, offer, framework_id = run(scenario())
    assert kinds[0] == scheduler_pb2.Event.SUBSCRIBED
    assert offer.agent_id.value
    assert offer.framework_id == framework_id
    assert any(r.name == "cpus" for r in offer.resources)


def test_closing_ends_the_iteration(cluster):
    async def scenario():
        subscription = aio.Subscription(framework("python-aio-close"), cluster.master)
        subscription.start()
        first = await subscription.__anext__()
        subscription.close()
        rest = [event async for event in subscription]
        return first, rest

    first, rest = run(scenario())
    assert first.type == scheduler_pb2.Event.SUBSCRIBED
    assert all(event.type != scheduler_pb2.Event.SUBSCRIBED for event in rest)


def test_a_refused_subscription_raises(cluster):
    async def scenario():
        refused = framework("python-aio-refused", roles=["/invalid role"])
        refused.capabilities.add(type=mesos_pb2.FrameworkInfo.Capability.MULTI_ROLE)
        async with aio.Subscription(refused, cluster.master) as subscription:
            async for _ in subscription:
                pass

    with pytest.raises(aio.SubscriptionError):
        run(scenario())


def test_bad_arguments_raise():
    with pytest.raises(TypeError, match="mesos.v1.FrameworkInfo"):
        aio.Subscription("framework", "127.0.0.1:1")
    with pytest.raises(ValueError, match="missing required fields: user"):
        aio.Subscription(mesos_pb2.FrameworkInfo(name="no user"), "127.0.0.1:1")
