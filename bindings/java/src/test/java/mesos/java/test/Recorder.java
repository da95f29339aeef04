package mesos.java.test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** What callbacks delivered, in order, for a test thread to wait on. */
final class Recorder<T> {
  static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final BlockingQueue<T> queue = new LinkedBlockingQueue<>();
  /** Items received but not yet asked for, in order. */
  private final List<T> pending = new ArrayList<>();

  void add(T item) {
    queue.add(item);
  }

  /**
   * The first item that matches, of those not yet taken; the others stay for later calls.
   * Fails after {@link #TIMEOUT}.
   */
  synchronized T next(String what, Predicate<T> matches) throws InterruptedException {
    for (int i = 0; i < pending.size(); i++) {
      if (matches.test(pending.get(i))) {
        return pending.remove(i);
      }
    }
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      T item = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
      if (item == null) {
        throw new AssertionError("no " + what + " within " + TIMEOUT + "; saw " + pending);
      }
      if (matches.test(item)) {
        return item;
      }
      pending.add(item);
    }
  }
}
