"""``mesos.native.MesosSchedulerDriver`` and ``MesosExecutorDriver`` against a real
``mesos-local``: tasks run by a custom Python executor finish, are killed, reconciled and
survive a scheduler failover."""

import conftest

conftest.require_module("mesos.native")

from mesos.interface import Scheduler, mesos_pb2  # noqa: E402
from mesos.native import MesosSchedulerDriver  # noqa: E402

from support import (  # noqa: E402
    QUICK_REOFFER,
    Recorder,
    framework_info,
    run_in_thread,
    task_info,
)


class FinishingScheduler(Scheduler):
    """Launches ``count`` tasks that finish on the first offer, sends the executor a
    message, and stops the driver once every task finished and the echo came back."""

    def __init__(self, count):
        self.count = count
        self.launched = False
        self.states = {}
        self.finished_data = []
        self.echo = None
        self.framework_id = None

    def registered(self, driver, frameworkId, masterInfo):
        self.framework_id = frameworkId.value

    def resourceOffers(self, driver, offers):
        for offer in offers:
            if self.launched:
                driver.declineOffer(offer.id, QUICK_REOFFER)
                continue
            self.launched = True
            tasks = [task_info(offer, "finish-%d" % i, b"finish") for i in range(self.count)]
            assert driver.launchTasks(offer.id, tasks, QUICK_REOFFER) == mesos_pb2.DRIVER_RUNNING

    def statusUpdate(self, driver, status):
        self.states.setdefault(status.task_id.value, []).append(status.state)
        if status.state == mesos_pb2.TASK_RUNNING and len(self.states) == 1:
            driver.sendFrameworkMessage(status.executor_id, status.slave_id, b"hello")
        if status.state == mesos_pb2.TASK_FINISHED:
            self.finished_data.append(status.data)
        self.stop_when_done(driver)

    def frameworkMessage(self, driver, executorId, slaveId, message):
        self.echo = (executorId.value, message)
        self.stop_when_done(driver)

    def stop_when_done(self, driver):
        if len(self.finished_data) == self.count and self.echo is not None:
            driver.stop()


def test_tasks_of_a_python_executor_finish_and_messages_go_both_ways(cluster):
    scheduler = FinishingScheduler(3)
    driver = MesosSchedulerDriver(scheduler, framework_info("python-finish"), cluster.master)
    status = run_in_thread(driver)
    assert status == mesos_pb2.DRIVER_STOPPED, cluster.sandbox_logs()
    assert scheduler.framework_id
    assert sorted(scheduler.states) == ["finish-0", "finish-1", "finish-2"]
    for states in scheduler.states.values():
        assert states[-1] == mesos_pb2.TASK_FINISHED, states
        assert mesos_pb2.TASK_RUNNING in states
    assert scheduler.finished_data == [b"done by python"] * 3
    assert scheduler.echo == ("python-executor", b"echo:hello")


def start(cluster, name, **framework):
    recorder = Recorder()
    driver = MesosSchedulerDriver(recorder, framework_info(name, **framework), cluster.master)
    assert driver.start() == mesos_pb2.DRIVER_RUNNING
    return recorder, driver


def launch_running_task(recorder, driver, name):
    """Launches a task that runs until killed and waits for its TASK_RUNNING."""
    (offer,) = recorder.wait_for("offer")
    task = task_info(offer, name, b"run")
    assert driver.launchTasks([offer.id], [task], QUICK_REOFFER) == mesos_pb2.DRIVER_RUNNING
    return recorder.wait_for_state(name, mesos_pb2.TASK_RUNNING)


def test_killing_a_running_task_reports_task_killed(cluster):
    recorder, driver = start(cluster, "python-kill")
    try:
        running = launch_running_task(recorder, driver, "sleeper")
        assert running.slave_id.value
        task_id = mesos_pb2.TaskID(value="sleeper")
        assert driver.killTask(task_id) == mesos_pb2.DRIVER_RUNNING
        killed = recorder.wait_for_state("sleeper", mesos_pb2.TASK_KILLED)
        assert killed.source == mesos_pb2.TaskStatus.SOURCE_EXECUTOR
    finally:
        assert driver.stop() == mesos_pb2.DRIVER_STOPPED
    assert driver.join() == mesos_pb2.DRIVER_STOPPED


def test_reconciliation_returns_the_latest_statuses(cluster):
    recorder, driver = start(cluster, "python-reconcile")
    try:
        running = launch_running_task(recorder, driver, "reconciled")

        explicit = mesos_pb2.TaskStatus(state=mesos_pb2.TASK_STAGING)
        explicit.task_id.value = "reconciled"
        explicit.slave_id.CopyFrom(running.slave_id)
        assert driver.reconcileTasks([explicit]) == mesos_pb2.DRIVER_RUNNING
        status = recorder.wait_for_state("reconciled", mesos_pb2.TASK_RUNNING)
        assert status.reason == mesos_pb2.TaskStatus.REASON_RECONCILIATION

        assert driver.reconcileTasks([]) == mesos_pb2.DRIVER_RUNNING
        status = recorder.wait_for_state("reconciled", mesos_pb2.TASK_RUNNING)
        assert status.reason == mesos_pb2.TaskStatus.REASON_RECONCILIATION
        assert status.slave_id == running.slave_id
    finally:
        driver.stop()


def test_a_failed_over_scheduler_resumes_with_its_running_tasks(cluster):
    recorder, driver = start(cluster, "python-failover", failover_timeout=60)
    framework_id, _ = recorder.wait_for("registered")
    launch_running_task(recorder, driver, "survivor")
    assert driver.stop(failover=True) == mesos_pb2.DRIVER_STOPPED
    assert driver.join() == mesos_pb2.DRIVER_STOPPED

    info = framework_info("python-failover", failover_timeout=60)
    info.id.CopyFrom(framework_id)
    recorder = Recorder()
    driver = MesosSchedulerDriver(recorder, info, cluster.master)
    assert driver.start() == mesos_pb2.DRIVER_RUNNING
    try:
        resumed_id, _ = recorder.wait_for("registered")
        assert resumed_id == framework_id
        assert driver.reconcileTasks([]) == mesos_pb2.DRIVER_RUNNING
        status = recorder.wait_for_state("survivor", mesos_pb2.TASK_RUNNING)
        assert status.reason == mesos_pb2.TaskStatus.REASON_RECONCILIATION
        driver.killTask(mesos_pb2.TaskID(value="survivor"))
        recorder.wait_for_state("survivor", mesos_pb2.TASK_KILLED)
    finally:
        driver.stop()


def test_explicit_acknowledgements_let_the_next_update_through(cluster):
    recorder = Recorder()
    driver = MesosSchedulerDriver(
        recorder,
        framework_info("python-explicit"),
        cluster.master,
        implicitAcknowledgements=False,
    )
    assert driver.start() == mesos_pb2.DRIVER_RUNNING
    try:
        (offer,) = recorder.wait_for("offer")
        launch = mesos_pb2.Offer.Operation(type=mesos_pb2.Offer.Operation.LAUNCH)
        launch.launch.task_infos.add().CopyFrom(task_info(offer, "acknowledged", b"finish"))
        assert driver.acceptOffers([offer.id], [launch], QUICK_REOFFER) == mesos_pb2.DRIVER_RUNNING
        # The agent holds TASK_FINISHED back until TASK_RUNNING is acknowledged.
        for state in (mesos_pb2.TASK_RUNNING, mesos_pb2.TASK_FINISHED):
            status = recorder.wait_for_state("acknowledged", state)
            assert driver.acknowledgeStatusUpdate(status) == mesos_pb2.DRIVER_RUNNING
        assert driver.suppressOffers() == mesos_pb2.DRIVER_RUNNING
        assert driver.reviveOffers(["*"]) == mesos_pb2.DRIVER_RUNNING
        assert driver.requestResources([mesos_pb2.Request()]) == mesos_pb2.DRIVER_RUNNING
        renamed = framework_info("python-explicit-renamed")
        assert driver.updateFramework(renamed, []) == mesos_pb2.DRIVER_RUNNING
    finally:
        driver.stop()


def test_an_exception_in_an_executor_callback_ends_the_executor_and_fails_its_task(cluster):
    recorder, driver = start(cluster, "python-executor-raises")
    try:
        (offer,) = recorder.wait_for("offer")
        task = task_info(offer, "doomed", b"raise")
        assert driver.launchTasks([offer.id], [task], QUICK_REOFFER) == mesos_pb2.DRIVER_RUNNING
        ended = (mesos_pb2.TASK_FAILED, mesos_pb2.TASK_LOST, mesos_pb2.TASK_GONE)
        (status,) = recorder.wait_for(
            "status", lambda s: s.task_id.value == "doomed" and s.state in ended
        )
        # run() returned DRIVER_ABORTED: python_executor.py exits with 3 then.
        assert "exited with status 3" in status.message, status.message
    finally:
        driver.stop()
