"""Python callbacks per second through ``mesos.native.MesosSchedulerDriver``, against
the Rust ``SchedulerDriver``'s rate on the same canned stream in the same run.

A canned master on 127.0.0.1 answers SUBSCRIBE with SUBSCRIBED and then ``events``
pre-encoded protobuf events, alternating OFFERS (one offer of three resources) and UPDATE
(TASK_RUNNING without uuid, so nothing is acknowledged), as
``mesos-core/benches/scheduler_driver.rs`` does for the Rust driver, which this script
runs first (``cargo bench``) for the reference rate. Each event becomes one Python
callback (``resourceOffers`` with one ``mesos_pb2.Offer``, or ``statusUpdate`` with a
``mesos_pb2.TaskStatus``); the clock runs from ``start()`` to the last callback.

    python bindings/python/bench/callback_rate.py [--events N] [--runs R] [--no-rust]

Run it with the interpreter the wheel is installed in (scripts/test-python.sh makes one).
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

from mesos.interface import Scheduler, mesos_pb2
from mesos.native import MesosSchedulerDriver
from mesos.v1 import mesos_pb2 as v1
from mesos.v1 import scheduler_pb2

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def scalar(offer, name, value):
    resource = offer.resources.add(name=name, type=v1.Value.SCALAR)
    resource.scalar.value = value


def canned_stream(events):
    """The whole HTTP answer to SUBSCRIBE: headers, then the events in RecordIO, chunked."""
    records = []

    def record(event):
        data = event.SerializeToString()
        records.append(b"%d\n" % len(data))
        records.append(data)

    subscribed = scheduler_pb2.Event(type=scheduler_pb2.Event.SUBSCRIBED)
    subscribed.subscribed.framework_id.value = "bench"
    subscribed.subscribed.heartbeat_interval_seconds = 15.0
    record(subscribed)
    for i in range(events):
        if i % 2 == 0:
            event = scheduler_pb2.Event(type=scheduler_pb2.Event.OFFERS)
            offer = event.offers.offers.add(hostname="localhost")
            offer.id.value = "o%d" % i
            offer.framework_id.value = "bench"
            offer.agent_id.value = "a"
            scalar(offer, "cpus", 4.0)
            scalar(offer, "mem", 4096.0)
            scalar(offer, "disk", 1024.0)
        else:
            event = scheduler_pb2.Event(type=scheduler_pb2.Event.UPDATE)
            status = event.update.status
            status.task_id.value = "t%d" % i
            status.state = v1.TASK_RUNNING
            status.agent_id.value = "a"
        record(event)
    body = b"".join(records)
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nMesos-Stream-Id: s\r\n"
        "Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(body)
    ).encode()
    return head + body + b"\r\n0\r\n\r\n"


def serve_canned_master(events):
    """Serves the canned stream to every connection and keeps it open, printing
    ``host:port`` first; runs in a child process, so serving takes no GIL from the
    driver's callbacks."""
    answer = canned_stream(events)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def serve(connection):
        with connection:
            try:
                if connection.recv(65536):
                    connection.sendall(answer)
                    connection.recv(1)  # until the driver hangs up
            except OSError:
                pass  # the driver hung up before reading everything

    print("127.0.0.1:%d" % listener.getsockname()[1], flush=True)
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=serve, args=(connection,), daemon=True).start()


def canned_master(events):
    """Starts the canned master in a child process; returns it and its ``host:port``."""
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--serve", "--events", str(events)],
        stdout=subprocess.PIPE,
        text=True,
    )
    return child, child.stdout.readline().strip()


class Counter(Scheduler):
    """Counts callbacks and notes when the last expected one arrived."""

    def __init__(self, expected):
        self.seen = 0
        self.expected = expected
        self.done = threading.Event()
        self.finished = None

    def _one(self):
        self.seen += 1
        if self.seen == self.expected:
            self.finished = time.perf_counter()
            self.done.set()

    def resourceOffers(self, driver, offers):
        self._one()

    def statusUpdate(self, driver, status):
        self._one()


def through_python_driver(master, events):
    counter = Counter(events)
    framework = mesos_pb2.FrameworkInfo(user="bench", name="bench")
    driver = MesosSchedulerDriver(counter, framework, master)
    start = time.perf_counter()
    driver.start()
    if not counter.done.wait(600):
        driver.abort()
        raise SystemExit("only %d of %d callbacks arrived" % (counter.seen, events))
    driver.abort()
    driver.join()
    return counter.finished - start


def rust_rate(events, runs):
    """The Rust driver's events/s from ``cargo bench --bench scheduler_driver``."""
    output = subprocess.run(
        ["cargo", "bench", "-q", "-p", "mesos-core", "--bench", "scheduler_driver", "--", str(events), str(runs)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    print(output.rstrip())
    return float(re.search(r"callback driver:\s+([0-9.]+) events/s", output).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-rust", action="store_true", help="skip the Rust reference run")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_canned_master(args.events)
        return
    rust = None if args.no_rust else rust_rate(args.events, args.runs)
    child, master = canned_master(args.events)
    try:
        times = [through_python_driver(master, args.events) for _ in range(args.runs)]
    finally:
        child.kill()
        child.wait()
    python = statistics.median(times)
    rate = args.events / python
    print("Python MesosSchedulerDriver: %10.0f callbacks/s (%.0f ms)" % (rate, python * 1000))
    if rust is not None:
        print("Python / Rust driver rate: %.1f%%" % (100 * rate / rust))


if __name__ == "__main__":
    main()
