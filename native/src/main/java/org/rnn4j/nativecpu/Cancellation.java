package org.rnn4j.nativecpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Lets {@link Thread#interrupt()} (and so {@code Future.cancel(true)}) stop a recurrent layer call
 * that runs in native code, between two time steps. Each call registers its thread with an int
 * flag in native-readable memory; a daemon watcher polls the registered threads every
 * 10 ms while calls run and sets the flag of an interrupted one; the kernel reads the flag
 * before each step, frees its scratch and returns {@code RNN_INTERRUPTED}, and the call throws
 * {@link CancellationException} with the thread's interrupt status left set.
 *
 * <p>Cost per call: a map put and remove, no allocation (one flag per thread, reused). The
 * watcher sleeps on a 10 ms timer only while calls are running and parks after a second idle.
 */
final class Cancellation {
    private static final Map<Thread, Ticket> RUNNING = new ConcurrentHashMap<>();
    private static final ThreadLocal<Ticket> TICKETS = ThreadLocal.withInitial(Ticket::new);
    private static final long IDLE_PARK_NANOS = 1_000_000_000L;
    /**
     * How often the watcher looks while calls run: 10 ms. A third runnable thread waking at 1 kHz
     * on a machine whose cores the layer's two threads keep busy preempts them often enough to
     * cost whole percent of a layer call; at 100 Hz the cost is below noise and a cancel still
     * lands within ~10 ms plus one time step.
     */
    private static final long POLL_NANOS = 10_000_000L;
    private static volatile Thread watcher;
    private static volatile boolean watcherParked;

    private Cancellation() {
    }

    /** Registers the calling thread's call; close() unregisters. */
    static Ticket enter() {
        Ticket t = TICKETS.get();
        t.flag.putInt(0, Thread.currentThread().isInterrupted() ? 1 : 0);
        RUNNING.put(Thread.currentThread(), t);
        Thread w = watcher;
        if (w == null) {
            startWatcher();
        } else if (watcherParked) {
            LockSupport.unpark(w);
        }
        return t;
    }

    static CancellationException interrupted(String op) {
        return new CancellationException(op + ": interrupted between time steps (Thread.interrupt); scratch freed,"
                + " outputs incomplete");
    }

    private static synchronized void startWatcher() {
        if (watcher != null) {
            return;
        }
        Thread w = new Thread(Cancellation::watch, "rnn4j-interrupt-watcher");
        w.setDaemon(true);
        watcher = w;
        w.start();
    }

    private static void watch() {
        long idleSince = System.nanoTime();
        while (true) {
            if (RUNNING.isEmpty()) {
                if (System.nanoTime() - idleSince > IDLE_PARK_NANOS) {
                    watcherParked = true;
                    if (RUNNING.isEmpty()) {
                        LockSupport.park();
                    }
                    watcherParked = false;
                    idleSince = System.nanoTime();
                }
            } else {
                idleSince = System.nanoTime();
                for (Map.Entry<Thread, Ticket> e : RUNNING.entrySet()) {
                    if (e.getKey().isInterrupted()) {
                        e.getValue().flag.putInt(0, 1);
                    }
                }
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    /** One thread's flag: an int at a stable native address (a direct buffer kept for the thread's life). */
    static final class Ticket implements AutoCloseable {
        private final ByteBuffer flag = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());
        private final long address = NativeKernels.address_of(flag.asFloatBuffer());

        long flagAddress() {
            return address;
        }

        @Override
        public void close() {
            RUNNING.remove(Thread.currentThread());
        }
    }
}
