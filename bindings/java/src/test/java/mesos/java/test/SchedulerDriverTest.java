package mesos.java.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.mesos.MesosSchedulerDriver;
import org.apache.mesos.Protos.FrameworkID;
import org.apache.mesos.Protos.FrameworkInfo;
import org.apache.mesos.Protos.MasterInfo;
import org.apache.mesos.Protos.SlaveID;
import org.apache.mesos.Protos.Status;
import org.apache.mesos.Protos.TaskID;
import org.apache.mesos.Protos.TaskState;
import org.apache.mesos.Protos.TaskStatus;
import org.apache.mesos.SchedulerDriver;
import org.junit.jupiter.api.Test;

/** A Java framework with a Java executor, through MesosSchedulerDriver, on mesos-local. */
class SchedulerDriverTest extends WithLocalCluster {
  private static FrameworkID registered(RecordingScheduler scheduler) throws InterruptedException {
    return (FrameworkID) scheduler.calls.next("registered", c -> c.name().equals("registered")).args()[0];
  }

  @Test
  void launchesMessagesReconcilesAndKillsTasksOfAJavaExecutor() throws Exception {
    RecordingScheduler scheduler = new RecordingScheduler();
    MesosSchedulerDriver driver =
        new MesosSchedulerDriver(scheduler, Tasks.framework("java launch"), cluster.master);
    assertEquals(Status.DRIVER_RUNNING, driver.start());
    registered(scheduler);

    scheduler.launchOnNextOffer(
        offer -> List.of(Tasks.task(offer, "done", "finish"), Tasks.task(offer, "long", "run")));
    scheduler.status("done", TaskState.TASK_FINISHED);
    TaskStatus running = scheduler.status("long", TaskState.TASK_RUNNING);
    SlaveID slave = running.getSlaveId();

    driver.sendFrameworkMessage(
        Tasks.EXECUTOR_ID, slave, "hello".getBytes(StandardCharsets.UTF_8));
    RecordingScheduler.Call echo =
        scheduler.calls.next("the executor's answer", c -> c.name().equals("frameworkMessage"));
    assertEquals("echo:hello", new String((byte[]) echo.args()[2], StandardCharsets.UTF_8));
    assertEquals(Tasks.EXECUTOR_ID, echo.args()[0]);

    TaskID longTask = TaskID.newBuilder().setValue("long").build();
    driver.reconcileTasks(
        List.of(
            TaskStatus.newBuilder()
                .setTaskId(longTask)
                .setSlaveId(slave)
                .setState(TaskState.TASK_STAGING)
                .build()));
    TaskStatus reconciled =
        (TaskStatus)
            scheduler
                .calls
                .next(
                    "reconciliation of long",
                    c ->
                        c.name().equals("statusUpdate")
                            && ((TaskStatus) c.args()[0]).getReason()
                                == TaskStatus.Reason.REASON_RECONCILIATION)
                .args()[0];
    assertEquals(TaskState.TASK_RUNNING, reconciled.getState());

    driver.killTask(longTask);
    scheduler.status("long", TaskState.TASK_KILLED);
    assertEquals(Status.DRIVER_STOPPED, driver.stop());
    assertEquals(Status.DRIVER_STOPPED, driver.join());
  }

  @Test
  void aFrameworkStoppedWithFailoverResumesWithItsTasks() throws Exception {
    FrameworkInfo framework =
        Tasks.framework("java failover").toBuilder().setFailoverTimeout(300).build();
    RecordingScheduler first = new RecordingScheduler();
    MesosSchedulerDriver driver = new MesosSchedulerDriver(first, framework, cluster.master);
    driver.start();
    FrameworkID id = registered(first);
    first.launchOnNextOffer(offer -> List.of(Tasks.task(offer, "survivor", "run")));
    first.status("survivor", TaskState.TASK_RUNNING);
    assertEquals(Status.DRIVER_STOPPED, driver.stop(true));

    RecordingScheduler second = new RecordingScheduler();
    MesosSchedulerDriver resumed =
        new MesosSchedulerDriver(
            second, framework.toBuilder().setId(id).build(), cluster.master);
    resumed.start();
    assertEquals(id, registered(second));
    resumed.reconcileTasks(List.of());
    TaskStatus status = second.status("survivor", TaskState.TASK_RUNNING);
    assertEquals(TaskStatus.Reason.REASON_RECONCILIATION, status.getReason());

    resumed.killTask(TaskID.newBuilder().setValue("survivor").build());
    second.status("survivor", TaskState.TASK_KILLED);
    assertEquals(Status.DRIVER_STOPPED, resumed.stop(false));
  }

  @Test
  void anExceptionInACallbackAbortsTheDriverAndTheJvmGoesOn() {
    RecordingScheduler throwing =
        new RecordingScheduler() {
          @Override
          public void registered(SchedulerDriver driver, FrameworkID id, MasterInfo master) {
            throw new IllegalStateException("thrown on purpose by the test");
          }
        };
    MesosSchedulerDriver driver =
        new MesosSchedulerDriver(throwing, Tasks.framework("java throws"), cluster.master);
    Status status = assertTimeoutPreemptively(Duration.ofSeconds(60), driver::run);
    assertEquals(Status.DRIVER_ABORTED, status);
    assertEquals(Status.DRIVER_ABORTED, driver.abort());
  }

  @Test
  void nullsAndBadArgumentsThrowWithAMessage() {
    MesosSchedulerDriver driver =
        new MesosSchedulerDriver(
            new RecordingScheduler(), Tasks.framework("java nulls"), "127.0.0.1:1");
    NullPointerException nullTask =
        assertThrows(NullPointerException.class, () -> driver.killTask(null));
    assertTrue(nullTask.getMessage().contains("taskId"), nullTask.getMessage());
    NullPointerException nullTasks =
        assertThrows(
            NullPointerException.class,
            () -> driver.launchTasks(List.of(), null, null));
    assertTrue(nullTasks.getMessage().contains("tasks"), nullTasks.getMessage());
    java.util.ArrayList<TaskStatus> withNull = new java.util.ArrayList<>();
    withNull.add(null);
    NullPointerException nullElement =
        assertThrows(NullPointerException.class, () -> driver.reconcileTasks(withNull));
    assertTrue(nullElement.getMessage().contains("statuses"), nullElement.getMessage());
    NullPointerException nullData =
        assertThrows(
            NullPointerException.class,
            () ->
                driver.sendFrameworkMessage(
                    Tasks.EXECUTOR_ID, SlaveID.newBuilder().setValue("s").build(), null));
    assertTrue(nullData.getMessage().contains("data"), nullData.getMessage());
    // Calls on a driver that was never started do nothing and say so.
    assertEquals(
        Status.DRIVER_NOT_STARTED, driver.killTask(TaskID.newBuilder().setValue("t").build()));

    IllegalArgumentException badMaster =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new MesosSchedulerDriver(
                    new RecordingScheduler(), Tasks.framework("java bad master"), "zk://"));
    assertTrue(badMaster.getMessage().contains("zk://"), badMaster.getMessage());

    IllegalStateException notAnExecutor =
        assertThrows(
            IllegalStateException.class,
            () -> new org.apache.mesos.MesosExecutorDriver(new TestExecutor()));
    assertTrue(notAnExecutor.getMessage().contains("MESOS_"), notAnExecutor.getMessage());
  }
}
