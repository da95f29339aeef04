"""The base of the objects the native drivers call back with v0 bytes."""

import weakref


class Callbacks(object):
    """Delivers each callback to ``target`` (a ``Scheduler`` or an ``Executor``) with the
    driver as first argument. The driver is held weakly, so a driver nobody holds is
    collected (and aborts); callbacks that arrive after that are dropped."""

    def __init__(self, driver, target):
        self._driver = weakref.ref(driver)
        self._target = target

    def _deliver(self, name, *args):
        driver = self._driver()
        if driver is not None:
            getattr(self._target, name)(driver, *args)
