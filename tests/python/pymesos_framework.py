"""A framework on pymesos 0.3.15's unmodified MesosSchedulerDriver against our master.

Usage: pymesos_framework.py HOST:PORT

Phase 1: subscribe (failover_timeout 1 hour), launch three tasks from the first offer,
decline every later offer with a long filter, wait for them to run, kill t0, wait for
TASK_KILLED, then stop with failover (the tasks keep running).
Phase 2: a new driver re-subscribes with the framework id, reconciles all tasks (t1, t2
must be RUNNING), then stops without failover (teardown).

Prints one JSON object with what happened; the Rust test checks it.
"""

import json
import sys
import threading

from pymesos import MesosSchedulerDriver, Scheduler

WAIT_SECONDS = 30


class Launcher(Scheduler):
    def __init__(self, launch):
        self.launch = launch
        self.launched = False
        self.lock = threading.Lock()
        self.states = {}
        self.updates = []
        self.framework_id = None
        self.registered_event = threading.Event()
        self.running = threading.Event()
        self.killed = threading.Event()
        self.reconciled = threading.Event()
        self.declined = 0

    def registered(self, driver, framework_id, master_info):
        self.framework_id = framework_id["value"]
        self.registered_event.set()

    def reregistered(self, driver, master_info):
        self.registered_event.set()

    def resourceOffers(self, driver, offers):
        for offer in offers:
            if self.launch and not self.launched:
                self.launched = True
                tasks = []
                for i in range(3):
                    tasks.append({
                        "name": "t%d" % i,
                        "task_id": {"value": "t%d" % i},
                        "agent_id": offer["agent_id"],
                        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1},
                                       "allocation_info": offer["allocation_info"]},
                                      {"name": "mem", "type": "SCALAR", "scalar": {"value": 32},
                                       "allocation_info": offer["allocation_info"]}],
                        "command": {"value": "sleep 1000"},
                    })
                driver.launchTasks(offer["id"], tasks)
            else:
                self.declined += 1
                driver.declineOffer(offer["id"], {"refuse_seconds": 3600})

    def statusUpdate(self, driver, status):
        with self.lock:
            task = status["task_id"]["value"]
            self.states[task] = status["state"]
            self.updates.append({"task": task, "state": status["state"],
                                 "reason": status.get("reason"), "source": status.get("source")})
            if sum(1 for t in ("t0", "t1", "t2") if self.states.get(t) == "TASK_RUNNING") == 3:
                self.running.set()
            if self.states.get("t0") == "TASK_KILLED":
                self.killed.set()
            if status.get("reason") == "REASON_RECONCILIATION" and \
                    all(t in self.states for t in ("t1", "t2")):
                self.reconciled.set()


def wait(event, what):
    if not event.wait(WAIT_SECONDS):
        raise TimeoutError("timed out waiting for " + what)


def main():
    master = sys.argv[1]
    framework = {"user": "root", "name": "pymesos-test", "failover_timeout": 3600.0,
                 "roles": ["pytest"], "capabilities": [{"type": "MULTI_ROLE"}]}

    first = Launcher(launch=True)
    driver = MesosSchedulerDriver(first, framework, master, use_addict=False)
    driver.start()
    wait(first.registered_event, "SUBSCRIBED")
    wait(first.running, "three tasks RUNNING")
    driver.killTask({"value": "t0"})
    wait(first.killed, "t0 KILLED")
    driver.stop(failover=True)
    driver.join()

    second = Launcher(launch=False)
    framework["id"] = {"value": first.framework_id}
    driver = MesosSchedulerDriver(second, framework, master, use_addict=False)
    driver.start()
    wait(second.registered_event, "re-SUBSCRIBED")
    driver.reconcileTasks([])
    wait(second.reconciled, "reconciliation of t1 and t2")
    driver.stop(failover=False)
    driver.join()

    print(json.dumps({
        "framework_id": first.framework_id,
        "first_updates": first.updates,
        "second_framework_id": second.framework_id,
        "reconciled": second.states,
    }))


if __name__ == "__main__":
    main()
