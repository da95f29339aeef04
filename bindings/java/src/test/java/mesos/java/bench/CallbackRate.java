package mesos.java.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.mesos.MesosSchedulerDriver;
import org.apache.mesos.Protos.ExecutorID;
import org.apache.mesos.Protos.FrameworkID;
import org.apache.mesos.Protos.FrameworkInfo;
import org.apache.mesos.Protos.MasterInfo;
import org.apache.mesos.Protos.Offer;
import org.apache.mesos.Protos.OfferID;
import org.apache.mesos.Protos.SlaveID;
import org.apache.mesos.Protos.TaskStatus;
import org.apache.mesos.Scheduler;
import org.apache.mesos.SchedulerDriver;
import org.apache.mesos.v1.Protos.AgentID;
import org.apache.mesos.v1.Protos.Resource;
import org.apache.mesos.v1.Protos.TaskID;
import org.apache.mesos.v1.Protos.TaskState;
import org.apache.mesos.v1.Protos.Value;
import org.apache.mesos.v1.scheduler.Protos.Event;

/**
 * Java callbacks per second through {@code MesosSchedulerDriver}: a canned master on
 * 127.0.0.1 answers SUBSCRIBE with SUBSCRIBED and then {@code events} pre-encoded events,
 * alternating OFFERS (one offer of three resources) and UPDATE (TASK_RUNNING without a
 * uuid, so nothing is acknowledged), the stream {@code mesos-core/benches/scheduler_driver.rs}
 * replays to the Rust driver. Each event is one Java callback ({@code resourceOffers} with a
 * one-offer list, or {@code statusUpdate}); the clock runs from {@code start()} to the last
 * callback. Prints the median rate of {@code runs} runs.
 *
 * <pre>java mesos.java.bench.CallbackRate [events] [runs]</pre>
 */
public final class CallbackRate {
  private static Resource scalar(String name, double value) {
    return Resource.newBuilder()
        .setName(name)
        .setType(Value.Type.SCALAR)
        .setScalar(Value.Scalar.newBuilder().setValue(value))
        .build();
  }

  /** The whole HTTP answer to SUBSCRIBE: headers, then the events in RecordIO, chunked. */
  static byte[] cannedStream(int events) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    Event subscribed =
        Event.newBuilder()
            .setType(Event.Type.SUBSCRIBED)
            .setSubscribed(
                Event.Subscribed.newBuilder()
                    .setFrameworkId(
                        org.apache.mesos.v1.Protos.FrameworkID.newBuilder().setValue("bench"))
                    .setHeartbeatIntervalSeconds(15))
            .build();
    record(body, subscribed);
    for (int i = 0; i < events; i++) {
      Event event;
      if (i % 2 == 0) {
        org.apache.mesos.v1.Protos.Offer offer =
            org.apache.mesos.v1.Protos.Offer.newBuilder()
                .setId(org.apache.mesos.v1.Protos.OfferID.newBuilder().setValue("o" + i))
                .setFrameworkId(
                    org.apache.mesos.v1.Protos.FrameworkID.newBuilder().setValue("bench"))
                .setAgentId(AgentID.newBuilder().setValue("a"))
                .setHostname("localhost")
                .addResources(scalar("cpus", 4))
                .addResources(scalar("mem", 4096))
                .addResources(scalar("disk", 1024))
                .build();
        event =
            Event.newBuilder()
                .setType(Event.Type.OFFERS)
                .setOffers(Event.Offers.newBuilder().addOffers(offer))
                .build();
      } else {
        event =
            Event.newBuilder()
                .setType(Event.Type.UPDATE)
                .setUpdate(
                    Event.Update.newBuilder()
                        .setStatus(
                            org.apache.mesos.v1.Protos.TaskStatus.newBuilder()
                                .setTaskId(TaskID.newBuilder().setValue("t" + i))
                                .setState(TaskState.TASK_RUNNING)
                                .setAgentId(AgentID.newBuilder().setValue("a"))))
                .build();
      }
      record(body, event);
    }
    ByteArrayOutputStream answer = new ByteArrayOutputStream();
    String head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nMesos-Stream-Id: s\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n"
            + Integer.toHexString(body.size())
            + "\r\n";
    answer.write(head.getBytes(StandardCharsets.US_ASCII));
    body.writeTo(answer);
    answer.write("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    return answer.toByteArray();
  }

  private static void record(ByteArrayOutputStream out, Event event) throws IOException {
    byte[] data = event.toByteArray();
    out.write((data.length + "\n").getBytes(StandardCharsets.US_ASCII));
    out.write(data);
  }

  /** Serves the canned answer to every connection, keeping it open until the driver hangs up. */
  static ServerSocket cannedMaster(byte[] answer) throws IOException {
    ServerSocket listener = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
    Thread acceptor =
        new Thread(
            () -> {
              while (!listener.isClosed()) {
                try {
                  Socket connection = listener.accept();
                  Thread serve = new Thread(() -> serve(connection, answer));
                  serve.setDaemon(true);
                  serve.start();
                } catch (IOException closed) {
                  return;
                }
              }
            });
    acceptor.setDaemon(true);
    acceptor.start();
    return listener;
  }

  private static void serve(Socket connection, byte[] answer) {
    try (connection;
        InputStream in = connection.getInputStream();
        OutputStream out = connection.getOutputStream()) {
      if (in.read(new byte[65536]) > 0) {
        out.write(answer);
        out.flush();
        while (in.read() >= 0) {}
      }
    } catch (IOException hungUp) {
      // the driver hung up before reading everything
    }
  }

  /** Counts callbacks and notes when the last expected one arrived. */
  static final class Counter implements Scheduler {
    private final int expected;
    private int seen;
    final CountDownLatch done = new CountDownLatch(1);
    volatile long finished;

    Counter(int expected) {
      this.expected = expected;
    }

    private void one() {
      if (++seen == expected) {
        finished = System.nanoTime();
        done.countDown();
      }
    }

    @Override
    public void resourceOffers(SchedulerDriver driver, List<Offer> offers) {
      one();
    }

    @Override
    public void statusUpdate(SchedulerDriver driver, TaskStatus status) {
      one();
    }

    @Override
    public void registered(SchedulerDriver driver, FrameworkID id, MasterInfo master) {}

    @Override
    public void reregistered(SchedulerDriver driver, MasterInfo master) {}

    @Override
    public void offerRescinded(SchedulerDriver driver, OfferID offerId) {}

    @Override
    public void frameworkMessage(
        SchedulerDriver driver, ExecutorID executorId, SlaveID slaveId, byte[] data) {}

    @Override
    public void disconnected(SchedulerDriver driver) {}

    @Override
    public void slaveLost(SchedulerDriver driver, SlaveID slaveId) {}

    @Override
    public void executorLost(
        SchedulerDriver driver, ExecutorID executorId, SlaveID slaveId, int status) {}

    @Override
    public void error(SchedulerDriver driver, String message) {
      System.err.println("driver error: " + message);
    }
  }

  /** Seconds from {@code start()} to the last of {@code events} callbacks. */
  static double run(String master, int events) throws InterruptedException {
    Counter counter = new Counter(events);
    FrameworkInfo framework = FrameworkInfo.newBuilder().setUser("bench").setName("bench").build();
    MesosSchedulerDriver driver = new MesosSchedulerDriver(counter, framework, master);
    long start = System.nanoTime();
    driver.start();
    if (!counter.done.await(600, TimeUnit.SECONDS)) {
      driver.abort();
      throw new IllegalStateException("not every callback arrived");
    }
    driver.abort();
    driver.join();
    return (counter.finished - start) / 1e9;
  }

  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    try (ServerSocket master = cannedMaster(cannedStream(events))) {
      String address = "127.0.0.1:" + master.getLocalPort();
      run(address, Math.min(events, 20_000)); // warm-up: JIT and class loading
      double[] times = new double[runs];
      for (int i = 0; i < runs; i++) {
        times[i] = run(address, events);
      }
      Arrays.sort(times);
      double median = times[runs / 2];
      System.out.printf(
          "Java MesosSchedulerDriver: %10.0f callbacks/s (%.0f ms)%n",
          events / median, median * 1000);
    }
  }
}
