package mesos.java.test;

import com.google.protobuf.ByteString;
import java.io.File;
import org.apache.mesos.Protos.CommandInfo;
import org.apache.mesos.Protos.Environment;
import org.apache.mesos.Protos.ExecutorID;
import org.apache.mesos.Protos.ExecutorInfo;
import org.apache.mesos.Protos.FrameworkInfo;
import org.apache.mesos.Protos.Offer;
import org.apache.mesos.Protos.Resource;
import org.apache.mesos.Protos.TaskID;
import org.apache.mesos.Protos.TaskInfo;
import org.apache.mesos.Protos.Value;

/** Frameworks, executors and tasks the tests launch. */
final class Tasks {
  static final ExecutorID EXECUTOR_ID = ExecutorID.newBuilder().setValue("java-executor").build();

  private Tasks() {}

  static FrameworkInfo framework(String name) {
    return FrameworkInfo.newBuilder().setUser("").setName(name).build();
  }

  static Resource scalar(String name, double value) {
    return Resource.newBuilder()
        .setName(name)
        .setType(Value.Type.SCALAR)
        .setScalar(Value.Scalar.newBuilder().setValue(value))
        .build();
  }

  /** The classpath of this JVM: the jar, protobuf and the test classes. */
  static String classpath() {
    return System.getProperty("java.class.path");
  }

  /** {@link TestExecutor}, run by the agent in a JVM of its own. */
  static ExecutorInfo javaExecutor() {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    String command =
        "exec '" + java + "' -Xmx64m -cp '" + classpath() + "' " + TestExecutor.class.getName();
    return ExecutorInfo.newBuilder()
        .setExecutorId(EXECUTOR_ID)
        .setName("Java test executor")
        .setCommand(
            CommandInfo.newBuilder()
                .setValue(command)
                .setEnvironment(
                    Environment.newBuilder()
                        .addVariables(
                            Environment.Variable.newBuilder()
                                .setName("MESOS_NATIVE_JAVA_LIBRARY")
                                .setValue(System.getenv("MESOS_NATIVE_JAVA_LIBRARY")))))
        .addResources(scalar("cpus", 0.1))
        .addResources(scalar("mem", 128))
        .build();
  }

  /** A task of {@link TestExecutor}; data {@code finish} makes it finish at once. */
  static TaskInfo task(Offer offer, String id, String data) {
    return TaskInfo.newBuilder()
        .setName(id)
        .setTaskId(TaskID.newBuilder().setValue(id))
        .setSlaveId(offer.getSlaveId())
        .setExecutor(javaExecutor())
        .setData(ByteString.copyFromUtf8(data))
        .addResources(scalar("cpus", 0.1))
        .addResources(scalar("mem", 16))
        .build();
  }
}
