"""An asyncio client of the v1 scheduler API, for new frameworks.

Events are :mod:`mesos.v1.scheduler_pb2` ``Event`` objects (v1 protobuf, not dicts);
calls are ``Call`` objects. The subscription is kept alive across lost masters (with
backoff, heartbeat-loss detection and failover re-subscription) by the Rust
``mesos-core`` session underneath::

    from mesos.v1 import aio, mesos_pb2, scheduler_pb2

    framework = mesos_pb2.FrameworkInfo(user="root", name="example")
    async with aio.Subscription(framework, "127.0.0.1:5050") as subscription:
        async for event in subscription:
            if event.type == scheduler_pb2.Event.OFFERS:
                call = scheduler_pb2.Call(type=scheduler_pb2.Call.DECLINE)
                call.decline.offer_ids.extend(o.id for o in event.offers.offers)
                await subscription.send(call)

``send`` fills in the framework id and raises :class:`CallError` when the master refuses
the call or there is no subscription. The iteration ends when the subscription is closed
and raises :class:`SubscriptionError` when the master ends it for good (an ERROR event,
a refused subscription).
"""

import asyncio
import logging

from mesos import _lifecycle, _native, _protos
from mesos.v1 import mesos_pb2, scheduler_pb2

__all__ = ["CallError", "Subscription", "SubscriptionError"]

_log = logging.getLogger(__name__)


class SubscriptionError(Exception):
    """The master ended the subscription for good; the message says why."""


class CallError(Exception):
    """A call was not taken by the master; the message says why."""


class Subscription(object):
    """A framework's subscription: an async context manager and an async iterator of
    ``scheduler_pb2.Event``.

    ``framework`` is a ``mesos.v1.mesos_pb2.FrameworkInfo`` (with an ``id`` to fail over
    a registered framework), ``master`` is ``host:port``, a comma-separated list of them
    or ``zk://...``, ``suppressed_roles`` are roles whose offers are suppressed from the
    start. The subscription starts on entering the ``async with`` (or on
    :meth:`start`) and ends on leaving it (or on :meth:`close`); the framework then stays
    registered for its failover timeout.
    """

    def __init__(self, framework, master, suppressed_roles=None):
        if not isinstance(master, str):
            raise TypeError("master must be a str, not %s" % type(master).__name__)
        self._framework = _protos.serialize(framework, mesos_pb2.FrameworkInfo, "framework")
        self._master = master
        self._suppressed_roles = _protos.roles(suppressed_roles, "suppressed_roles")
        self._native = None
        self._loop = None
        self._queue = None
        self._ended = False

    def start(self):
        """Starts subscribing; must be called from a running event loop."""
        if self._native is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._native = _native.Session(
            self._framework, self._master, self._suppressed_roles, self._on_event
        )
        _lifecycle.track(self)

    def _shutdown(self):
        """At interpreter exit: end the subscription."""
        self.close()

    def close(self):
        """Ends the subscription; iteration stops once the events before it are read."""
        if self._native is not None:
            self._native.close()

    async def __aenter__(self):
        self.start()
        return self

    async def __aexit__(self, *exc_info):
        self.close()
        return False

    def _on_event(self, kind, payload):
        """Called from the session's thread: moves an event onto the loop."""
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (kind, payload))
        except RuntimeError:
            # The loop is closed: nobody is iterating any more.
            pass

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self._native is None:
            raise RuntimeError("the subscription is not started (use async with)")
        while not self._ended:
            kind, payload = await self._queue.get()
            if kind == "event":
                return scheduler_pb2.Event.FromString(payload)
            if kind == "error":
                self._ended = True
                raise SubscriptionError(payload)
            if kind == "closed":
                self._ended = True
            elif kind == "disconnected":
                _log.warning("lost the master (%s); subscribing again", payload)
            else:
                _log.info("subscribed at the master at %s", payload)
        raise StopAsyncIteration

    @property
    def framework_id(self):
        """The ``mesos.v1.mesos_pb2.FrameworkID`` the master gave, or None before."""
        if self._native is None:
            return None
        data = self._native.framework_id()
        return None if data is None else mesos_pb2.FrameworkID.FromString(data)

    async def send(self, call):
        """Sends ``call`` (a ``scheduler_pb2.Call``) and waits until the master took it;
        raises :class:`CallError` when it did not."""
        if self._native is None:
            raise RuntimeError("the subscription is not started (use async with)")
        data = _protos.serialize(call, scheduler_pb2.Call, "call")
        loop = self._loop
        done = loop.create_future()

        def settle(error):
            if not done.done():
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(CallError(error))

        def on_done(error):
            try:
                loop.call_soon_threadsafe(settle, error)
            except RuntimeError:
                # The loop is closed: nobody waits for the answer any more.
                pass

        self._native.call(data, on_done)
        await done
