package mesos.java.test;

import java.util.List;
import java.util.function.Function;
import org.apache.mesos.Protos.ExecutorID;
import org.apache.mesos.Protos.Filters;
import org.apache.mesos.Protos.FrameworkID;
import org.apache.mesos.Protos.MasterInfo;
import org.apache.mesos.Protos.Offer;
import org.apache.mesos.Protos.OfferID;
import org.apache.mesos.Protos.SlaveID;
import org.apache.mesos.Protos.TaskInfo;
import org.apache.mesos.Protos.TaskStatus;
import org.apache.mesos.Scheduler;
import org.apache.mesos.SchedulerDriver;

/**
 * A scheduler that records what it is told. Offers go to a one-shot launcher when one is
 * set (its tasks are launched on the offer), and are declined otherwise.
 */
class RecordingScheduler implements Scheduler {
  /** One callback: its name and its arguments. */
  record Call(String name, Object... args) {
    @Override
    public String toString() {
      return name + java.util.Arrays.toString(args);
    }
  }

  final Recorder<Call> calls = new Recorder<>();
  private volatile Function<Offer, List<TaskInfo>> launcher;

  /** Launches the tasks {@code launcher} makes of the next offer. */
  void launchOnNextOffer(Function<Offer, List<TaskInfo>> launcher) {
    this.launcher = launcher;
  }

  /** The next status update of {@code taskId} in {@code state}. */
  TaskStatus status(String taskId, org.apache.mesos.Protos.TaskState state)
      throws InterruptedException {
    return (TaskStatus)
        calls.next(
                taskId + " " + state,
                c -> {
                  if (!c.name.equals("statusUpdate")) return false;
                  TaskStatus s = (TaskStatus) c.args[0];
                  return s.getTaskId().getValue().equals(taskId) && s.getState() == state;
                })
            .args[0];
  }

  @Override
  public void registered(SchedulerDriver driver, FrameworkID id, MasterInfo master) {
    calls.add(new Call("registered", id, master));
  }

  @Override
  public void reregistered(SchedulerDriver driver, MasterInfo master) {
    calls.add(new Call("reregistered", master));
  }

  @Override
  public void resourceOffers(SchedulerDriver driver, List<Offer> offers) {
    for (Offer offer : offers) {
      Function<Offer, List<TaskInfo>> launch = launcher;
      launcher = null;
      if (launch != null) {
        driver.launchTasks(List.of(offer.getId()), launch.apply(offer));
      } else {
        driver.declineOffer(offer.getId(), Filters.newBuilder().setRefuseSeconds(1).build());
      }
    }
  }

  @Override
  public void offerRescinded(SchedulerDriver driver, OfferID offerId) {}

  @Override
  public void statusUpdate(SchedulerDriver driver, TaskStatus status) {
    calls.add(new Call("statusUpdate", status));
  }

  @Override
  public void frameworkMessage(
      SchedulerDriver driver, ExecutorID executorId, SlaveID slaveId, byte[] data) {
    calls.add(new Call("frameworkMessage", executorId, slaveId, data));
  }

  @Override
  public void disconnected(SchedulerDriver driver) {
    calls.add(new Call("disconnected"));
  }

  @Override
  public void slaveLost(SchedulerDriver driver, SlaveID slaveId) {}

  @Override
  public void executorLost(
      SchedulerDriver driver, ExecutorID executorId, SlaveID slaveId, int status) {}

  @Override
  public void error(SchedulerDriver driver, String message) {
    calls.add(new Call("error", message));
  }
}
