package mesos.java.test;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A real {@code mesos-local} process: one master and one agent on free ports. */
final class LocalCluster implements AutoCloseable {
  private final Process process;
  private final Path workDir;
  final String master;

  private LocalCluster(Process process, Path workDir, String master) {
    this.process = process;
    this.workDir = workDir;
    this.master = master;
  }

  /** The {@code mesos-local} binary: the {@code mesos.local.bin} system property. */
  static File binary() {
    return new File(System.getProperty("mesos.local.bin", "../../target/debug/mesos-local"));
  }

  /** Starts a cluster and waits until its agent has registered. */
  static LocalCluster start() throws IOException {
    File binary = binary();
    if (!binary.canExecute()) {
      throw new IllegalStateException(
          "mesos-local not found at " + binary + " (run scripts/test-java.sh, which builds it)");
    }
    Path workDir = Files.createTempDirectory("mesos-java-test");
    ProcessBuilder builder =
        new ProcessBuilder(
                binary.getPath(),
                "--num_agents=1",
                "--port=0",
                "--work_dir=" + workDir,
                "--logging_level=WARNING")
            .redirectError(ProcessBuilder.Redirect.INHERIT);
    Process process = builder.start();
    BufferedReader lines =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    Map<String, String> printed = new HashMap<>();
    String line;
    while (!printed.containsKey("Agents registered") && (line = lines.readLine()) != null) {
      int colon = line.indexOf(": ");
      if (colon > 0) {
        printed.put(line.substring(0, colon).trim(), line.substring(colon + 2).trim());
      }
    }
    if (!printed.containsKey("Agents registered")) {
      process.destroyForcibly();
      throw new IllegalStateException("mesos-local ended early; it printed " + printed);
    }
    Thread drain =
        new Thread(
            () -> {
              try {
                while (lines.readLine() != null) {}
              } catch (IOException ignored) {
                // the process is gone
              }
            });
    drain.setDaemon(true);
    drain.start();
    return new LocalCluster(process, workDir, printed.get("Master").replace("http://", ""));
  }

  /** Stops the cluster (SIGTERM; SIGKILL if it lingers); its agent kills every executor. */
  @Override
  public void close() throws InterruptedException, IOException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor();
    }
    try (var paths = Files.walk(workDir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }
}
