#!/usr/bin/env python3
"""Capture the JSON bodies that pymesos 0.3.15's real scheduler driver sends to a master.

Usage: capture_pymesos.py OUTDIR

A small Mesos-master stand-in on 127.0.0.1 (stdlib http.server) answers `GET /version`,
answers SUBSCRIBE with a chunked RecordIO event stream (SUBSCRIBED, then whatever events
the script pushes) and records the body of every `POST /api/v1/scheduler`. The unmodified
`pymesos.MesosSchedulerDriver` connects to it over TCP and is driven through its public
API; each call's body is written, byte for byte as pymesos sent it, to OUTDIR/<name>.json.
ACKNOWLEDGE (ACKNOWLEDGE_OPERATION_STATUS) is pymesos' implicit acknowledgement of an
UPDATE (UPDATE_OPERATION_STATUS) event the stand-in streams, so its `uuid` is what pymesos
echoes back of the event. TEARDOWN is what `driver.stop()`
sends. Exits non-zero if pymesos is missing or any capture fails.
"""

import base64
import http.server
import json
import os
import queue
import sys
import threading
import time
import uuid

import pymesos
from pymesos import MesosSchedulerDriver, Scheduler, encode_data

PYMESOS_VERSION = "0.3.15"
FRAMEWORK_ID = "4bd4e5a3-9e6f-4d7c-8a1e-1c1f2a0b0c0d-0000"
AGENT_ID = {"value": "4bd4e5a3-9e6f-4d7c-8a1e-1c1f2a0b0c0d-S0"}
STATUS_UUID = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0").bytes
WAIT_SECONDS = 20


class Master:
    """Records scheduler calls; streams events to the subscribed connection."""

    def __init__(self):
        self.lock = threading.Condition()
        self.calls = []  # (headers dict, raw body bytes), in arrival order
        self.events = queue.Queue()
        self.stopping = threading.Event()
        self.stream_id = str(uuid.uuid4())

    def record(self, headers, body):
        with self.lock:
            self.calls.append((headers, body))
            self.lock.notify_all()

    def wait_for(self, count):
        deadline = time.monotonic() + WAIT_SECONDS
        with self.lock:
            while len(self.calls) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("pymesos sent %d calls, expected %d" % (len(self.calls), count))
                self.lock.wait(left)
            return self.calls[count - 1]


def make_handler(master):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path != "/version":
                self.send_error(404)
                return
            self._reply(200, json.dumps({"version": "1.11.0", "git_tag": "1.11.0"}).encode())

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if self.path != "/api/v1/scheduler":
                self.send_error(404)
                return
            master.record(headers, body)
            if json.loads(body.decode("utf-8")).get("type") == "SUBSCRIBE":
                self._stream()
            else:
                self._reply(202, b"")

        def _reply(self, code, data):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Mesos-Stream-Id", master.stream_id)
            self.end_headers()
            self._event({
                "type": "SUBSCRIBED",
                "subscribed": {
                    "framework_id": {"value": FRAMEWORK_ID},
                    "heartbeat_interval_seconds": 15.0,
                },
            })
            while not master.stopping.is_set():
                try:
                    event = master.events.get(timeout=0.1)
                except queue.Empty:
                    continue
                try:
                    self._event(event)
                except OSError:
                    return
            self.close_connection = True

        def _event(self, event):
            record = json.dumps(event).encode("utf-8")
            frame = b"%d\n%s" % (len(record), record)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            self.wfile.flush()

    return Handler


class Recorder(Scheduler):
    def __init__(self):
        self.registered_event = threading.Event()
        self.updates = []

    def registered(self, driver, framework_id, master_info):
        self.registered_event.set()

    def reregistered(self, driver, master_info):
        self.registered_event.set()

    def statusUpdate(self, driver, status):
        self.updates.append(status)


class Capture:
    def __init__(self, outdir, master):
        self.outdir = outdir
        self.master = master
        self.names = []

    def expect(self, name, call_type, action):
        """Runs `action`, waits for exactly one new call of `call_type`, saves it as <name>.json."""
        index = len(self.master.calls) + 1
        action()
        headers, body = self.master.wait_for(index)
        sent = json.loads(body.decode("utf-8"))
        if sent.get("type") != call_type:
            raise AssertionError("%s: pymesos sent %r, expected type %s" % (name, sent, call_type))
        if headers.get("content-type") != "application/json":
            raise AssertionError("%s: Content-Type %r" % (name, headers.get("content-type")))
        if call_type != "SUBSCRIBE" and headers.get("mesos-stream-id") != self.master.stream_id:
            raise AssertionError("%s: Mesos-Stream-Id %r" % (name, headers.get("mesos-stream-id")))
        with open(os.path.join(self.outdir, name + ".json"), "wb") as f:
            f.write(body)
        self.names.append(name)


def run_driver(capture, master, address, framework, calls):
    """Starts a driver with `framework`, captures its SUBSCRIBE, runs `calls`, stops it."""
    sched = Recorder()
    driver = MesosSchedulerDriver(sched, framework, address, use_addict=False)
    subscribe_name, rest = calls[0], calls[1:]
    capture.expect(subscribe_name, "SUBSCRIBE", driver.start)
    if not sched.registered_event.wait(WAIT_SECONDS):
        raise TimeoutError("pymesos never saw SUBSCRIBED")
    for name, call_type, action in rest:
        capture.expect(name, call_type, lambda: action(driver))
    return driver


def resource_scalar(name, value, role=None):
    resource = {"name": name, "type": "SCALAR", "scalar": {"value": value}}
    if role is not None:
        resource["allocation_info"] = {"role": role}
    return resource


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: capture_pymesos.py OUTDIR")
    if pymesos.__VERSION__ != PYMESOS_VERSION:
        sys.exit("pymesos %s installed, this capture is for %s" % (pymesos.__VERSION__, PYMESOS_VERSION))
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)

    master = Master()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(master))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = "127.0.0.1:%d" % server.server_address[1]
    capture = Capture(outdir, master)

    offer_id = {"value": FRAMEWORK_ID + "-O1"}
    offer_id_2 = {"value": FRAMEWORK_ID + "-O2"}
    task_id = {"value": "task-1"}
    executor_id = {"value": "executor-1"}

    task = {
        "name": "sleeper",
        "task_id": task_id,
        "agent_id": AGENT_ID,
        "command": {
            "shell": True,
            "value": "sleep 10",
            "environment": {"variables": [{"name": "GREETING", "value": "hello"}]},
            "uris": [{"value": "http://example.com/app.tgz", "extract": True}],
        },
        "resources": [
            resource_scalar("cpus", 0.5, "web"),
            resource_scalar("mem", 128.0, "web"),
            {
                "name": "ports",
                "type": "RANGES",
                "ranges": {"range": [{"begin": 31000, "end": 31001}, {"begin": 31005, "end": 31005}]},
                "allocation_info": {"role": "web"},
            },
        ],
        "labels": {"labels": [{"key": "team", "value": "infra"}]},
    }
    reservation = {"type": "DYNAMIC", "role": "web", "principal": "ops"}
    reserve = {
        "type": "RESERVE",
        "reserve": {
            "resources": [
                dict(resource_scalar("cpus", 1.0, "web"), reservations=[reservation]),
                dict(resource_scalar("disk", 64.0, "web"), reservations=[reservation]),
            ]
        },
    }
    volume = dict(
        resource_scalar("disk", 64.0, "web"),
        reservations=[reservation],
        disk={
            "persistence": {"id": "volume-1", "principal": "ops"},
            "volume": {"container_path": "data", "mode": "RW"},
        },
    )
    create = {"type": "CREATE", "create": {"volumes": [volume]}}
    status_update = {
        "type": "UPDATE",
        "update": {
            "status": {
                "task_id": task_id,
                "state": "TASK_RUNNING",
                "source": "SOURCE_EXECUTOR",
                "agent_id": AGENT_ID,
                "executor_id": executor_id,
                "timestamp": 1700000000.25,
                "uuid": base64.b64encode(STATUS_UUID).decode("ascii"),
                "data": base64.b64encode(b"\x00\x01binary").decode("ascii"),
            }
        },
    }

    operation_update = {
        "type": "UPDATE_OPERATION_STATUS",
        "update_operation_status": {
            "status": {
                "operation_id": {"value": "op-1"},
                "state": "OPERATION_FINISHED",
                "uuid": {"value": base64.b64encode(STATUS_UUID).decode("ascii")},
                "agent_id": AGENT_ID,
            }
        },
    }

    def acknowledge(driver):
        master.events.put(status_update)

    def acknowledge_operation_status(driver):
        master.events.put(operation_update)

    # A new framework: no id, no capabilities of its own, no failover_timeout.
    first = run_driver(capture, master, address, {
        "user": "root",
        "name": "pymesos-capture",
        "hostname": "localhost",
    }, [
        "subscribe",
        ("accept_launch", "ACCEPT", lambda d: d.launchTasks(offer_id, [task], filters={"refuse_seconds": 5.0})),
        ("accept_operations", "ACCEPT", lambda d: d.acceptOffers([offer_id, offer_id_2], [reserve, create])),
        ("decline", "DECLINE", lambda d: d.declineOffer([offer_id], filters={"refuse_seconds": 3600.0})),
        ("acknowledge", "ACKNOWLEDGE", acknowledge),
        # pymesos echoes the whole OperationStatus, whose `uuid` is a mesos.v1.UUID message,
        # where Call.AcknowledgeOperationStatus wants `bytes`: Mesos rejects this call.
        ("acknowledge_operation_status", "ACKNOWLEDGE_OPERATION_STATUS", acknowledge_operation_status),
        ("revive", "REVIVE", lambda d: d.reviveOffers()),
        ("revive_roles", "REVIVE", lambda d: d.reviveOffers(["web"])),
        ("suppress", "SUPPRESS", lambda d: d.suppressOffers()),
        ("suppress_roles", "SUPPRESS", lambda d: d.suppressOffers(["web", "batch"])),
        ("kill", "KILL", lambda d: d.killTask(task_id)),
        ("reconcile", "RECONCILE", lambda d: d.reconcileTasks([{"task_id": task_id, "agent_id": AGENT_ID}])),
        ("message", "MESSAGE", lambda d: d.sendFrameworkMessage(executor_id, AGENT_ID, encode_data(b"ping\x00"))),
        ("request", "REQUEST", lambda d: d.requestResources(
            [{"agent_id": AGENT_ID, "resources": [resource_scalar("cpus", 2.0)]}])),
        ("accept_inverse_offers", "ACCEPT_INVERSE_OFFERS", lambda d: d.acceptInverseOffers(
            [{"value": "inverse-1"}], filters={"refuse_seconds": 1.5})),
        ("decline_inverse_offers", "DECLINE_INVERSE_OFFERS", lambda d: d.declineInverseOffer(
            [{"value": "inverse-1"}])),
        ("reconcile_operations", "RECONCILE_OPERATIONS", lambda d: d.reconcileOperations(
            [{"operation_id": {"value": "op-1"}, "agent_id": AGENT_ID}])),
    ])
    if not first.sched.updates or first.sched.updates[0]["uuid"] != status_update["update"]["status"]["uuid"]:
        raise AssertionError("pymesos did not deliver the UPDATE: %r" % first.sched.updates)
    # driver.stop() without failover tears the framework down (sent from the IO thread).
    capture.expect("teardown", "TEARDOWN", first.stop)
    first.join()

    # A framework re-subscribing with its id, several roles and capabilities of its own.
    second = run_driver(capture, master, address, {
        "id": {"value": FRAMEWORK_ID},
        "user": "root",
        "name": "pymesos-capture",
        "roles": ["web", "batch"],
        "capabilities": [{"type": "MULTI_ROLE"}, {"type": "PARTITION_AWARE"}, {"type": "RESERVATION_REFINEMENT"}],
        "failover_timeout": 604800.0,
        "checkpoint": True,
        "principal": "ops",
        "labels": {"labels": [{"key": "owner", "value": "capture"}]},
    }, ["subscribe_with_framework_id"])
    second.stop(failover=True)
    second.join()

    master.stopping.set()
    server.shutdown()
    server.server_close()
    print("captured %d pymesos %s calls into %s: %s" % (
        len(capture.names), PYMESOS_VERSION, outdir, " ".join(capture.names)))


if __name__ == "__main__":
    main()
