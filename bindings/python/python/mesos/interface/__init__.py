"""The interfaces of Apache Mesos' Python API: the ``Scheduler`` and ``Executor`` a
framework implements, and the ``SchedulerDriver`` and ``ExecutorDriver`` that call them
(implemented by :mod:`mesos.native`). Messages are :mod:`mesos.interface.mesos_pb2` objects.
"""

__all__ = ["Executor", "ExecutorDriver", "Scheduler", "SchedulerDriver"]


class Scheduler(object):
    """A framework's scheduler. The driver calls these methods, one at a time, on its
    callback thread; each does nothing unless overridden. An exception raised in one
    aborts the driver (its traceback is printed to stderr)."""

    def registered(self, driver, frameworkId, masterInfo):
        """The framework registered with the master: ``frameworkId`` is its
        ``FrameworkID``, ``masterInfo`` the master's ``MasterInfo``."""

    def reregistered(self, driver, masterInfo):
        """The framework registered again, with a newly elected or restarted master."""

    def disconnected(self, driver):
        """The driver lost the master; it keeps trying to register again."""

    def resourceOffers(self, driver, offers):
        """Resources offered to the framework: a list of ``Offer``. Launch tasks on them
        with ``driver.launchTasks`` or decline them with ``driver.declineOffer``."""

    def offerRescinded(self, driver, offerId):
        """The offer of ``offerId`` is no longer valid."""

    def statusUpdate(self, driver, status):
        """A task's status changed: ``status`` is its ``TaskStatus``."""

    def frameworkMessage(self, driver, executorId, slaveId, message):
        """An executor sent ``message`` (bytes)."""

    def slaveLost(self, driver, slaveId):
        """The agent of ``slaveId`` was lost."""

    def executorLost(self, driver, executorId, slaveId, status):
        """The executor of ``executorId`` on ``slaveId`` ended with exit ``status``."""

    def error(self, driver, message):
        """An unrecoverable error (the master removed the framework, or refused it); the
        driver aborts when this returns."""


class SchedulerDriver(object):
    """The interface a scheduler drives the framework through. Every method returns the
    driver's status (``mesos_pb2.DRIVER_RUNNING``, ``DRIVER_STOPPED``...)."""

    def start(self):
        """Starts the driver: it registers the framework with the master."""
        raise NotImplementedError

    def stop(self, failover=False):
        """Stops the driver. Without ``failover`` the framework is unregistered and its
        tasks killed; with it the master keeps the framework for a new driver."""
        raise NotImplementedError

    def abort(self):
        """Aborts the driver: no more callbacks; the framework is not unregistered."""
        raise NotImplementedError

    def join(self):
        """Waits until the driver is stopped or aborted and returns that status."""
        raise NotImplementedError

    def run(self):
        """Starts the driver and joins it."""
        raise NotImplementedError

    def requestResources(self, requests):
        """Asks the allocator for resources: a list of ``Request``."""
        raise NotImplementedError

    def launchTasks(self, offerIds, tasks, filters=None):
        """Launches ``tasks`` (a list of ``TaskInfo``) on the resources of ``offerIds``
        (an ``OfferID`` or a list of them); no tasks declines the offers."""
        raise NotImplementedError

    def killTask(self, taskId):
        """Kills the task of ``taskId``; a status update reports its end."""
        raise NotImplementedError

    def acceptOffers(self, offerIds, operations, filters=None):
        """Accepts ``offerIds`` with ``operations`` (a list of ``Offer.Operation``)."""
        raise NotImplementedError

    def declineOffer(self, offerId, filters=None):
        """Declines the offer of ``offerId``; ``filters`` keep its resources away."""
        raise NotImplementedError

    def reviveOffers(self, roles=None):
        """Removes offer filters and resumes offers (for ``roles``, or every role)."""
        raise NotImplementedError

    def suppressOffers(self, roles=None):
        """Stops offers (for ``roles``, or every role) until revived."""
        raise NotImplementedError

    def acknowledgeStatusUpdate(self, status):
        """Acknowledges ``status`` (with ``implicitAcknowledgements=False`` only)."""
        raise NotImplementedError

    def sendFrameworkMessage(self, executorId, slaveId, data):
        """Sends ``data`` (bytes) to the executor of ``executorId`` on ``slaveId``."""
        raise NotImplementedError

    def reconcileTasks(self, statuses):
        """Asks for the latest status of the tasks of ``statuses`` (a list of
        ``TaskStatus``), or of every task of the framework when empty."""
        raise NotImplementedError

    def updateFramework(self, frameworkInfo, suppressedRoles):
        """Replaces the framework's ``FrameworkInfo`` and its suppressed roles."""
        raise NotImplementedError


class Executor(object):
    """An executor. The driver calls these methods, one at a time, on its callback
    thread; each does nothing unless overridden. An exception raised in one aborts the
    driver (its traceback is printed to stderr)."""

    def registered(self, driver, executorInfo, frameworkInfo, slaveInfo):
        """The executor registered with its agent."""

    def reregistered(self, driver, slaveInfo):
        """The executor registered again, with a restarted agent."""

    def disconnected(self, driver):
        """The executor lost its agent."""

    def launchTask(self, driver, task):
        """A task to run: its ``TaskInfo``. Report its progress with
        ``driver.sendStatusUpdate``."""

    def killTask(self, driver, taskId):
        """The task of ``taskId`` is to be killed; report ``TASK_KILLED``."""

    def frameworkMessage(self, driver, message):
        """The scheduler sent ``message`` (bytes)."""

    def shutdown(self, driver):
        """The executor must end its tasks and exit; the driver stops afterwards."""

    def error(self, driver, message):
        """An unrecoverable error; the driver aborts when this returns."""


class ExecutorDriver(object):
    """The interface an executor talks to its agent through. Every method returns the
    driver's status (``mesos_pb2.DRIVER_RUNNING``...)."""

    def start(self):
        """Starts the driver: it registers the executor with its agent."""
        raise NotImplementedError

    def stop(self):
        """Stops the driver once what was sent before is delivered."""
        raise NotImplementedError

    def abort(self):
        """Aborts the driver: no more callbacks, nothing more is sent."""
        raise NotImplementedError

    def join(self):
        """Waits until the driver is stopped or aborted and returns that status."""
        raise NotImplementedError

    def run(self):
        """Starts the driver and joins it."""
        raise NotImplementedError

    def sendStatusUpdate(self, status):
        """Sends a task's ``TaskStatus`` to the scheduler (reliably)."""
        raise NotImplementedError

    def sendFrameworkMessage(self, data):
        """Sends ``data`` (bytes) to the scheduler (best effort)."""
        raise NotImplementedError
