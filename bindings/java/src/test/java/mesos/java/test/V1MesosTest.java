package mesos.java.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.BiFunction;
import org.apache.mesos.v1.Protos.AgentID;
import org.apache.mesos.v1.Protos.CommandInfo;
import org.apache.mesos.v1.Protos.FrameworkID;
import org.apache.mesos.v1.Protos.FrameworkInfo;
import org.apache.mesos.v1.Protos.Offer;
import org.apache.mesos.v1.Protos.Resource;
import org.apache.mesos.v1.Protos.TaskID;
import org.apache.mesos.v1.Protos.TaskInfo;
import org.apache.mesos.v1.Protos.TaskState;
import org.apache.mesos.v1.Protos.TaskStatus;
import org.apache.mesos.v1.Protos.Value;
import org.apache.mesos.v1.scheduler.Mesos;
import org.apache.mesos.v1.scheduler.Protos.Call;
import org.apache.mesos.v1.scheduler.Protos.Event;
import org.apache.mesos.v1.scheduler.Scheduler;
import org.apache.mesos.v1.scheduler.V0Mesos;
import org.apache.mesos.v1.scheduler.V1Mesos;
import org.junit.jupiter.api.Test;

/** The v1 scheduler API of the jar, V1Mesos and V0Mesos, on mesos-local. */
class V1MesosTest extends WithLocalCluster {
  /** A v1 scheduler that subscribes when connected and records everything else. */
  static final class Subscriber implements Scheduler {
    final Recorder<Object> seen = new Recorder<>();
    private final FrameworkInfo framework;

    Subscriber(FrameworkInfo framework) {
      this.framework = framework;
    }

    @Override
    public void connected(Mesos mesos) {
      seen.add("connected");
      mesos.send(
          Call.newBuilder()
              .setType(Call.Type.SUBSCRIBE)
              .setSubscribe(Call.Subscribe.newBuilder().setFrameworkInfo(framework))
              .build());
    }

    @Override
    public void disconnected(Mesos mesos) {
      seen.add("disconnected");
    }

    @Override
    public void received(Mesos mesos, Event event) {
      seen.add(event);
      if (event.getType() == Event.Type.UPDATE && event.getUpdate().getStatus().hasUuid()) {
        TaskStatus status = event.getUpdate().getStatus();
        mesos.send(
            Call.newBuilder()
                .setFrameworkId(frameworkId)
                .setType(Call.Type.ACKNOWLEDGE)
                .setAcknowledge(
                    Call.Acknowledge.newBuilder()
                        .setAgentId(status.getAgentId())
                        .setTaskId(status.getTaskId())
                        .setUuid(status.getUuid()))
                .build());
      }
    }

    volatile FrameworkID frameworkId;

    Event next(Event.Type type) throws InterruptedException {
      return (Event) seen.next(type.toString(), e -> e instanceof Event ev && ev.getType() == type);
    }
  }

  private static FrameworkInfo framework(String name) {
    return FrameworkInfo.newBuilder()
        .setUser(System.getProperty("user.name"))
        .setName(name)
        .build();
  }

  private static Resource scalar(String name, double value) {
    return Resource.newBuilder()
        .setName(name)
        .setType(Value.Type.SCALAR)
        .setScalar(Value.Scalar.newBuilder().setValue(value))
        .build();
  }

  /**
   * Subscribes through the library {@code make} starts, runs a command task to completion
   * (acknowledging its updates) and tears the framework down.
   */
  private static void subscribesLaunchesAndTearsDown(
      String name, BiFunction<Scheduler, FrameworkInfo, Mesos> make) throws Exception {
    FrameworkInfo framework = framework(name);
    Subscriber scheduler = new Subscriber(framework);
    Mesos mesos = make.apply(scheduler, framework);
    scheduler.seen.next("connected", "connected"::equals);
    Event subscribed = scheduler.next(Event.Type.SUBSCRIBED);
    scheduler.frameworkId = subscribed.getSubscribed().getFrameworkId();
    assertTrue(scheduler.frameworkId.getValue().length() > 0);

    Offer offer = scheduler.next(Event.Type.OFFERS).getOffers().getOffers(0);
    AgentID agent = offer.getAgentId();
    TaskInfo task =
        TaskInfo.newBuilder()
            .setName("v1 task")
            .setTaskId(TaskID.newBuilder().setValue("v1-task"))
            .setAgentId(agent)
            .setCommand(CommandInfo.newBuilder().setValue("true"))
            .addResources(scalar("cpus", 0.1))
            .addResources(scalar("mem", 16))
            .build();
    mesos.send(
        Call.newBuilder()
            .setFrameworkId(scheduler.frameworkId)
            .setType(Call.Type.ACCEPT)
            .setAccept(
                Call.Accept.newBuilder()
                    .addOfferIds(offer.getId())
                    .addOperations(
                        Offer.Operation.newBuilder()
                            .setType(Offer.Operation.Type.LAUNCH)
                            .setLaunch(Offer.Operation.Launch.newBuilder().addTaskInfos(task))))
            .build());
    Event finished =
        (Event)
            scheduler.seen.next(
                "TASK_FINISHED of v1-task",
                e ->
                    e instanceof Event ev
                        && ev.getType() == Event.Type.UPDATE
                        && ev.getUpdate().getStatus().getState() == TaskState.TASK_FINISHED);
    assertEquals("v1-task", finished.getUpdate().getStatus().getTaskId().getValue());

    mesos.send(
        Call.newBuilder()
            .setFrameworkId(scheduler.frameworkId)
            .setType(Call.Type.TEARDOWN)
            .build());
    scheduler.seen.next("the stream's end after TEARDOWN", e -> e.equals("disconnected")
        || (e instanceof Event ev && ev.getType() == Event.Type.ERROR));
  }

  @Test
  void v1MesosSubscribesLaunchesAndTearsDown() throws Exception {
    subscribesLaunchesAndTearsDown(
        "java v1", (scheduler, framework) -> new V1Mesos(scheduler, cluster.master));
  }

  @Test
  void v0MesosSubscribesLaunchesAndTearsDown() throws Exception {
    subscribesLaunchesAndTearsDown(
        "java v0", (scheduler, framework) -> new V0Mesos(scheduler, framework, cluster.master));
  }

  @Test
  void aNullCallOrABadMasterThrowsWithAMessage() {
    Subscriber scheduler = new Subscriber(framework("java v1 nulls"));
    V1Mesos mesos = new V1Mesos(scheduler, "127.0.0.1:1");
    NullPointerException nullCall = assertThrows(NullPointerException.class, () -> mesos.send(null));
    assertTrue(nullCall.getMessage().contains("call"), nullCall.getMessage());
    IllegalArgumentException badMaster =
        assertThrows(IllegalArgumentException.class, () -> new V1Mesos(scheduler, "zk://"));
    assertTrue(badMaster.getMessage().contains("zk://"), badMaster.getMessage());
  }
}
