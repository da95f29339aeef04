"""A custom executor in Python on ``mesos.native.MesosExecutorDriver``, run by the agent
for the tests' frameworks. A task's ``data`` says what it does: ``finish`` reports
TASK_RUNNING then TASK_FINISHED; ``run`` reports TASK_RUNNING and runs until killed;
``raise`` raises in ``launchTask``, which aborts the driver and ends the executor.
A framework message is answered with ``echo:`` and the message."""

import sys

from mesos.interface import Executor, mesos_pb2
from mesos.native import MesosExecutorDriver


def update(driver, task_id, state, data=b""):
    status = mesos_pb2.TaskStatus(state=state, data=data)
    status.task_id.CopyFrom(task_id)
    driver.sendStatusUpdate(status)


class TestExecutor(Executor):
    """Runs the tasks described above."""

    def registered(self, driver, executorInfo, frameworkInfo, slaveInfo):
        sys.stderr.write("registered on %s for %s\n" % (slaveInfo.hostname, frameworkInfo.name))

    def launchTask(self, driver, task):
        if task.data == b"raise":
            raise RuntimeError("the task asked the executor to fail")
        update(driver, task.task_id, mesos_pb2.TASK_RUNNING)
        if task.data == b"finish":
            update(driver, task.task_id, mesos_pb2.TASK_FINISHED, b"done by python")

    def killTask(self, driver, taskId):
        update(driver, taskId, mesos_pb2.TASK_KILLED)

    def frameworkMessage(self, driver, message):
        driver.sendFrameworkMessage(b"echo:" + message)


if __name__ == "__main__":
    status = MesosExecutorDriver(TestExecutor()).run()
    # 3 tells the tests the driver aborted (an uncaught exception would exit with 1).
    sys.exit({mesos_pb2.DRIVER_STOPPED: 0, mesos_pb2.DRIVER_ABORTED: 3}.get(status, 1))
