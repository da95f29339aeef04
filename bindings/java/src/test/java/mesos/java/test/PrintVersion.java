package mesos.java.test;

import org.apache.mesos.MesosNativeLibrary;

/** Loads the native library the way the jar does and prints the version it reports. */
public final class PrintVersion {
  public static void main(String[] args) {
    MesosNativeLibrary.load();
    MesosNativeLibrary.Version version = MesosNativeLibrary.version();
    System.out.println(version.major + "." + version.minor + "." + version.patch);
  }
}
