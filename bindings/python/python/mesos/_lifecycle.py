"""Ends what still runs when the interpreter exits.

A driver (or asyncio session) left running calls Python from its own threads; after the
interpreter is finalized it must not. At exit every tracked object is shut down (drivers
are aborted and joined, so their callback threads are done), then the native module stops
delivering callbacks at all.
"""

import atexit
import weakref

from mesos import _native

_running = weakref.WeakSet()


def track(obj):
    """Shuts ``obj`` down at exit by calling its ``_shutdown()``, unless it is gone."""
    _running.add(obj)


def _shutdown():
    for obj in list(_running):
        obj._shutdown()
    _native.finalize()


atexit.register(_shutdown)
