"""A process that exits while its driver still delivers callbacks exits cleanly: the
drivers are aborted at exit and no callback reaches the finalized interpreter."""

import subprocess
import sys

import conftest

conftest.require_module("mesos.native")

# A child process: a canned master streaming status updates (without uuid, so nothing is
# acknowledged) to a driver, and an exit while the callbacks flow.
CHILD = r"""
import socket, threading, time
from mesos.interface import Scheduler, mesos_pb2
from mesos.native import MesosSchedulerDriver
from mesos.v1 import scheduler_pb2

def record(event):
    data = event.SerializeToString()
    return b"%d\n" % len(data) + data

subscribed = scheduler_pb2.Event(type=scheduler_pb2.Event.SUBSCRIBED)
subscribed.subscribed.framework_id.value = "exiting"
update = scheduler_pb2.Event(type=scheduler_pb2.Event.UPDATE)
update.update.status.task_id.value = "t"
update.update.status.state = mesos_pb2.TASK_RUNNING
body = record(subscribed) + record(update) * 200000
answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
          b"Mesos-Stream-Id: s\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(4)

def serve():
    connection, _ = listener.accept()
    connection.recv(65536)
    try:
        connection.sendall(answer)
    except OSError:
        pass

threading.Thread(target=serve, daemon=True).start()

class Counting(Scheduler):
    seen = 0
    def statusUpdate(self, driver, status):
        Counting.seen += 1

framework = mesos_pb2.FrameworkInfo(user="", name="exiting")
driver = MesosSchedulerDriver(Counting(), framework, "127.0.0.1:%d" % listener.getsockname()[1])
driver.start()
while Counting.seen < 1000:
    time.sleep(0.01)
print("exiting after", Counting.seen, "callbacks", flush=True)
"""


def test_exiting_with_a_running_driver_is_clean():
    for _ in range(3):
        result = subprocess.run(
            [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert "exiting after" in result.stdout
        assert "panicked" not in result.stderr, result.stderr
