"""``MesosSchedulerDriver``: the scheduler driver of Apache's Python API, on the Rust
``SchedulerDriver`` of ``mesos-core`` (re-exported by :mod:`mesos.native`)."""

from mesos import _lifecycle, _native, _protos
from mesos._callbacks import Callbacks
from mesos.interface import SchedulerDriver
from mesos.interface import mesos_pb2

__all__ = ["MesosSchedulerDriver"]


class _Callbacks(Callbacks):
    """What the native scheduler driver calls: turns the v0 bytes of each callback into
    ``mesos_pb2`` objects for the scheduler."""

    def registered(self, frameworkId, masterInfo):
        self._deliver(
            "registered",
            mesos_pb2.FrameworkID.FromString(frameworkId),
            mesos_pb2.MasterInfo.FromString(masterInfo),
        )

    def reregistered(self, masterInfo):
        self._deliver("reregistered", mesos_pb2.MasterInfo.FromString(masterInfo))

    def disconnected(self):
        self._deliver("disconnected")

    def resourceOffers(self, offers):
        parse = mesos_pb2.Offer.FromString
        self._deliver("resourceOffers", [parse(offer) for offer in offers])

    def offerRescinded(self, offerId):
        self._deliver("offerRescinded", mesos_pb2.OfferID.FromString(offerId))

    def statusUpdate(self, status):
        self._deliver("statusUpdate", mesos_pb2.TaskStatus.FromString(status))

    def frameworkMessage(self, executorId, slaveId, data):
        self._deliver(
            "frameworkMessage",
            mesos_pb2.ExecutorID.FromString(executorId),
            mesos_pb2.SlaveID.FromString(slaveId),
            data,
        )

    def slaveLost(self, slaveId):
        self._deliver("slaveLost", mesos_pb2.SlaveID.FromString(slaveId))

    def executorLost(self, executorId, slaveId, status):
        self._deliver(
            "executorLost",
            mesos_pb2.ExecutorID.FromString(executorId),
            mesos_pb2.SlaveID.FromString(slaveId),
            status,
        )

    def error(self, message):
        self._deliver("error", message)


class MesosSchedulerDriver(SchedulerDriver):
    """Connects a :class:`mesos.interface.Scheduler` to the Mesos master at ``master``
    (``host:port``, a comma-separated list of them, or ``zk://...``) for the framework
    ``framework`` (a ``mesos_pb2.FrameworkInfo``; set its ``id`` to fail over a framework
    that is already registered).

    With ``implicitAcknowledgements`` (the default) each status update is acknowledged
    when ``statusUpdate`` returns; otherwise call :meth:`acknowledgeStatusUpdate`.
    ``credential`` (a ``mesos_pb2.Credential``) is accepted for compatibility but not used:
    this driver does not authenticate.

    Arguments of the wrong type raise ``TypeError``, incomplete or invalid messages
    ``ValueError``. Methods return the driver's status (``mesos_pb2.DRIVER_RUNNING``...).
    ``join`` and ``run`` release the GIL while they wait.
    """

    def __init__(self, scheduler, framework, master, implicitAcknowledgements=True, credential=None):
        if not isinstance(master, str):
            raise TypeError("master must be a str, not %s" % type(master).__name__)
        framework = _protos.serialize(framework, mesos_pb2.FrameworkInfo, "framework")
        if credential is not None:
            credential = _protos.serialize(credential, mesos_pb2.Credential, "credential")
        self.scheduler = scheduler
        self._native = _native.SchedulerDriver(
            _Callbacks(self, scheduler),
            framework,
            master,
            bool(implicitAcknowledgements),
            credential,
        )
        _lifecycle.track(self)

    def _shutdown(self):
        """At interpreter exit: abort, and wait until no callback runs."""
        self._native.abort()
        self._native.join()

    def start(self):
        """Starts the driver; see :meth:`SchedulerDriver.start`."""
        return self._native.start()

    def stop(self, failover=False):
        """Stops the driver; see :meth:`SchedulerDriver.stop`."""
        return self._native.stop(bool(failover))

    def abort(self):
        """Aborts the driver; see :meth:`SchedulerDriver.abort`."""
        return self._native.abort()

    def join(self):
        """Waits for the driver to stop or abort; see :meth:`SchedulerDriver.join`."""
        return self._native.join()

    def run(self):
        """Starts and joins the driver; see :meth:`SchedulerDriver.run`."""
        return self._native.run()

    def requestResources(self, requests):
        """See :meth:`SchedulerDriver.requestResources`."""
        return self._native.request_resources(
            _protos.serialize_all(requests, mesos_pb2.Request, "requests")
        )

    def launchTasks(self, offerIds, tasks, filters=None):
        """See :meth:`SchedulerDriver.launchTasks`."""
        return self._native.launch_tasks(
            _protos.serialize_all(offerIds, mesos_pb2.OfferID, "offerIds"),
            _protos.serialize_all(tasks, mesos_pb2.TaskInfo, "tasks"),
            _filters(filters),
        )

    def killTask(self, taskId):
        """See :meth:`SchedulerDriver.killTask`."""
        return self._native.kill_task(_protos.serialize(taskId, mesos_pb2.TaskID, "taskId"))

    def acceptOffers(self, offerIds, operations, filters=None):
        """See :meth:`SchedulerDriver.acceptOffers`."""
        return self._native.accept_offers(
            _protos.serialize_all(offerIds, mesos_pb2.OfferID, "offerIds"),
            _protos.serialize_all(operations, mesos_pb2.Offer.Operation, "operations"),
            _filters(filters),
        )

    def declineOffer(self, offerId, filters=None):
        """See :meth:`SchedulerDriver.declineOffer`."""
        return self._native.decline_offer(
            _protos.serialize(offerId, mesos_pb2.OfferID, "offerId"), _filters(filters)
        )

    def reviveOffers(self, roles=None):
        """See :meth:`SchedulerDriver.reviveOffers`."""
        return self._native.revive_offers(_protos.roles(roles, "roles"))

    def suppressOffers(self, roles=None):
        """See :meth:`SchedulerDriver.suppressOffers`."""
        return self._native.suppress_offers(_protos.roles(roles, "roles"))

    def acknowledgeStatusUpdate(self, status):
        """See :meth:`SchedulerDriver.acknowledgeStatusUpdate`."""
        return self._native.acknowledge_status_update(
            _protos.serialize(status, mesos_pb2.TaskStatus, "status")
        )

    def sendFrameworkMessage(self, executorId, slaveId, data):
        """See :meth:`SchedulerDriver.sendFrameworkMessage`."""
        return self._native.send_framework_message(
            _protos.serialize(executorId, mesos_pb2.ExecutorID, "executorId"),
            _protos.serialize(slaveId, mesos_pb2.SlaveID, "slaveId"),
            _protos.data_bytes(data, "data"),
        )

    def reconcileTasks(self, statuses):
        """See :meth:`SchedulerDriver.reconcileTasks`."""
        return self._native.reconcile_tasks(
            _protos.serialize_all(statuses, mesos_pb2.TaskStatus, "statuses")
        )

    def updateFramework(self, frameworkInfo, suppressedRoles=None):
        """See :meth:`SchedulerDriver.updateFramework`."""
        return self._native.update_framework(
            _protos.serialize(frameworkInfo, mesos_pb2.FrameworkInfo, "frameworkInfo"),
            _protos.roles(suppressedRoles, "suppressedRoles"),
        )


def _filters(filters):
    """The bytes of optional ``Filters``."""
    if filters is None:
        return None
    return _protos.serialize(filters, mesos_pb2.Filters, "filters")
