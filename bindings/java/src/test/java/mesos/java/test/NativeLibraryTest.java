package mesos.java.test;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.mesos.MesosNativeLibrary;
import org.junit.jupiter.api.Test;

/** How the jar finds and loads the library. */
class NativeLibraryTest {
  @Test
  void theLibraryReportsTheMesosVersionItSpeaks() {
    MesosNativeLibrary.load();
    MesosNativeLibrary.Version version = MesosNativeLibrary.version();
    assertEquals(0, version.compareTo(new MesosNativeLibrary.Version(1, 11, 0)));
  }

  /** Without MESOS_NATIVE_JAVA_LIBRARY the jar loads {@code libmesos.so} from java.library.path. */
  @Test
  void theJarLoadsItAsLibmesosFromTheJavaLibraryPath() throws Exception {
    Path dir = Files.createTempDirectory("mesos-java-library");
    Path library = Path.of(System.getProperty("mesos.native.library")).toAbsolutePath();
    Files.createSymbolicLink(dir.resolve("libmesos.so"), library);
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    ProcessBuilder builder =
        new ProcessBuilder(
            java,
            "-Djava.library.path=" + dir,
            "-cp",
            System.getProperty("java.class.path"),
            PrintVersion.class.getName());
    builder.environment().remove("MESOS_NATIVE_JAVA_LIBRARY");
    builder.environment().remove("MESOS_NATIVE_LIBRARY");
    builder.redirectErrorStream(true);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    process.waitFor(60, TimeUnit.SECONDS);
    Files.delete(dir.resolve("libmesos.so"));
    Files.delete(dir);
    assertEquals(0, process.exitValue(), output);
    assertEquals("1.11.0", output.strip());
  }
}
