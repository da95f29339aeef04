"""A custom executor on pymesos 0.3.15's MesosExecutorDriver, for the agent's tests.

Each task it is given reports TASK_RUNNING, then runs the task's `data` (base64 of a shell
command) and reports TASK_FINISHED or TASK_FAILED with the exit status. A framework
message is echoed back prefixed with `echo:`. A kill reports TASK_KILLED.
"""

import subprocess
import threading

from pymesos import Executor, MesosExecutorDriver, decode_data, encode_data


class TestExecutor(Executor):
    def launchTask(self, driver, task):
        def run():
            driver.sendStatusUpdate(
                dict(task_id=task["task_id"], state="TASK_RUNNING"))
            command = decode_data(task.get("data", "")).decode() or "true"
            code = subprocess.call(["/bin/sh", "-c", command])
            state = "TASK_FINISHED" if code == 0 else "TASK_FAILED"
            driver.sendStatusUpdate(dict(
                task_id=task["task_id"], state=state,
                message="exit status %d" % code))

        threading.Thread(target=run, daemon=True).start()

    def killTask(self, driver, task_id):
        driver.sendStatusUpdate(dict(task_id=task_id, state="TASK_KILLED"))

    def frameworkMessage(self, driver, message):
        driver.sendFrameworkMessage(
            encode_data(b"echo:" + decode_data(message)))


if __name__ == "__main__":
    driver = MesosExecutorDriver(TestExecutor(), use_addict=True)
    driver.run()
