package mesos.java.test;

import java.nio.charset.StandardCharsets;
import org.apache.mesos.Executor;
import org.apache.mesos.ExecutorDriver;
import org.apache.mesos.MesosExecutorDriver;
import org.apache.mesos.Protos.ExecutorInfo;
import org.apache.mesos.Protos.FrameworkInfo;
import org.apache.mesos.Protos.SlaveInfo;
import org.apache.mesos.Protos.Status;
import org.apache.mesos.Protos.TaskID;
import org.apache.mesos.Protos.TaskInfo;
import org.apache.mesos.Protos.TaskState;
import org.apache.mesos.Protos.TaskStatus;

/**
 * A Java executor, run by the agent as {@code java mesos.java.test.TestExecutor}: each task
 * runs until killed, except one whose data is {@code finish}, which finishes at once. A
 * framework message is answered with {@code echo:} and the message.
 */
public final class TestExecutor implements Executor {
  private static void update(ExecutorDriver driver, TaskID task, TaskState state) {
    driver.sendStatusUpdate(TaskStatus.newBuilder().setTaskId(task).setState(state).build());
  }

  @Override
  public void registered(
      ExecutorDriver driver, ExecutorInfo executor, FrameworkInfo framework, SlaveInfo slave) {
    System.err.println("registered on " + slave.getHostname());
  }

  @Override
  public void reregistered(ExecutorDriver driver, SlaveInfo slave) {}

  @Override
  public void disconnected(ExecutorDriver driver) {}

  @Override
  public void launchTask(ExecutorDriver driver, TaskInfo task) {
    update(driver, task.getTaskId(), TaskState.TASK_RUNNING);
    if (task.getData().toStringUtf8().equals("finish")) {
      update(driver, task.getTaskId(), TaskState.TASK_FINISHED);
    }
  }

  @Override
  public void killTask(ExecutorDriver driver, TaskID task) {
    update(driver, task, TaskState.TASK_KILLED);
  }

  @Override
  public void frameworkMessage(ExecutorDriver driver, byte[] data) {
    String message = new String(data, StandardCharsets.UTF_8);
    driver.sendFrameworkMessage(("echo:" + message).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void shutdown(ExecutorDriver driver) {}

  @Override
  public void error(ExecutorDriver driver, String message) {
    System.err.println("executor error: " + message);
  }

  public static void main(String[] args) {
    Status status = new MesosExecutorDriver(new TestExecutor()).run();
    System.exit(status == Status.DRIVER_STOPPED ? 0 : 1);
  }
}
