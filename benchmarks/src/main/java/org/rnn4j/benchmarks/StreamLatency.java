package org.rnn4j.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.rnn4j.Generator;
import org.rnn4j.nn.LSTM;
import org.rnn4j.stream.FrozenRnn;
import org.rnn4j.stream.MicroBatcher;
import org.rnn4j.stream.StreamState;

/**
 * Per-step latency of the micro-batcher under open-loop load: what a server sees when requests
 * arrive at their own pace, not when the next one waits for the last (JMH's closed loop, which
 * hides queueing). JMH has no open-loop mode, so this is a plain program; it measures the peak
 * and then the load points in one JVM, against that peak.
 *
 * <ol>
 *   <li>Peak: {@code clients} threads step their share of the {@code streams} closed loop (submit
 *       one step of each own stream, join them all, repeat) for {@code peakSeconds}; peak =
 *       stream-steps/s.</li>
 *   <li>For each fraction f of {@code loads}: every client sends requests at fixed intended times
 *       (rate f x peak / clients, its streams in turn) whatever the state of earlier requests, and
 *       records latency = completion time - intended send time in an HdrHistogram (so a stalled
 *       sender does not hide the stall: no coordinated omission). A client wakes on a
 *       {@code tickMicros} grid and sends every request due by then: one wake-up per request
 *       (16 threads, ~10^5 wake-ups/s) would take a core of this 2-core machine from the model;
 *       the tick's wait is part of the measured latency. {@code warmupSeconds} are discarded,
 *       {@code seconds} measured.</li>
 * </ol>
 * Settings are system properties ({@code -Dstreams=1000 -Dclients=16 -Dloads=0.1,0.5,0.9
 * -Dseconds=10 -DwarmupSeconds=3 -DpeakSeconds=5 -DmaxBatch=1000 -Dparallelism=2
 * -DmaxWaitMicros=100 -DtickMicros=200}):
 *
 * <pre>
 * java -Drnn4j.threads=2 -cp benchmarks/target/benchmarks.jar org.rnn4j.benchmarks.StreamLatency
 * </pre>
 */
public final class StreamLatency {
    static final int I = 128;
    static final int H = 256;

    private StreamLatency() {
    }

    public static void main(String[] args) throws Exception {
        int streams = Integer.getInteger("streams", 1000);
        int clients = Integer.getInteger("clients", 16);
        int seconds = Integer.getInteger("seconds", 10);
        int warmup = Integer.getInteger("warmupSeconds", 3);
        int peakSeconds = Integer.getInteger("peakSeconds", 5);
        int maxBatch = Integer.getInteger("maxBatch", 1000);
        int parallelism = Integer.getInteger("parallelism", 2);
        int maxWaitMicros = Integer.getInteger("maxWaitMicros", 100);
        String loads = System.getProperty("loads", "0.1,0.5,0.9");
        int tickMicros = Integer.getInteger("tickMicros", 200);

        System.out.println(BenchEnv.ensure());
        try (LSTM lstm = LSTM.builder().inputSize(I).hiddenSize(H).generator(new Generator(3)).build()) {
            lstm.eval();
            try (FrozenRnn model = FrozenRnn.freeze(lstm);
                 MicroBatcher mb = MicroBatcher.builder(model).maxBatch(maxBatch).maxWait(Duration.ofNanos(maxWaitMicros * 1000L))
                         .parallelism(parallelism).queueCapacity(Math.max(4096, 4 * streams)).build()) {
                System.out.printf(Locale.ROOT, "# stream kernel: %s%n# LSTM I=%d H=%d, %d streams, %d client threads, "
                        + "maxBatch %d, maxWait %d us, parallelism %d, client tick %d us%n", model.describe(), I, H, streams, clients,
                        maxBatch, maxWaitMicros, parallelism, tickMicros);
                StreamState[][] mine = new StreamState[clients][];
                float[][][] xs = new float[clients][][];
                for (int k = 0; k < clients; k++) {
                    int from = (int) ((long) streams * k / clients);
                    int to = (int) ((long) streams * (k + 1) / clients);
                    mine[k] = new StreamState[to - from];
                    xs[k] = new float[to - from][I];
                    java.util.Random r = new java.util.Random(100 + k);
                    for (int s = 0; s < mine[k].length; s++) {
                        mine[k][s] = model.newState();
                        for (int i = 0; i < I; i++) {
                            xs[k][s][i] = (float) r.nextGaussian();
                        }
                    }
                }
                closedLoop(mb, mine, xs, warmup);
                double peak = closedLoop(mb, mine, xs, peakSeconds);
                System.out.printf(Locale.ROOT, "peak (closed loop, %d s): %.0f stream-steps/s%n", peakSeconds, peak);
                System.out.println();
                System.out.println("| load | offered stream-steps/s | achieved | mean batch | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs |");
                System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
                for (String f : loads.split(",")) {
                    double frac = Double.parseDouble(f.trim());
                    openLoop(mb, mine, xs, frac, peak, warmup, seconds, tickMicros * 1000L);
                }
                for (StreamState[] m : mine) {
                    for (StreamState s : m) {
                        s.close();
                    }
                }
            }
        }
    }

    /** Stream-steps per second with every client submitting its streams' steps and joining them, for {@code secs}. */
    private static double closedLoop(MicroBatcher mb, StreamState[][] mine, float[][][] xs, int secs) throws InterruptedException {
        int clients = mine.length;
        AtomicLong done = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> ts = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int k = 0; k < clients; k++) {
            final int kk = k;
            Thread t = new Thread(() -> {
                @SuppressWarnings("unchecked")
                CompletableFuture<float[]>[] fs = new CompletableFuture[mine[kk].length];
                while (!stop.get()) {
                    for (int s = 0; s < fs.length; s++) {
                        fs[s] = mb.submit(mine[kk][s], xs[kk][s]);
                    }
                    for (CompletableFuture<float[]> f : fs) {
                        f.join();
                    }
                    done.addAndGet(fs.length);
                }
            }, "client-" + k);
            t.start();
            ts.add(t);
        }
        Thread.sleep(secs * 1000L);
        stop.set(true);
        for (Thread t : ts) {
            t.join();
        }
        return done.get() / ((System.nanoTime() - t0) / 1e9);
    }

    private static void openLoop(MicroBatcher mb, StreamState[][] mine, float[][][] xs, double frac, double peak,
            int warmupSecs, int secs, long tick) throws InterruptedException {
        int clients = mine.length;
        double rate = frac * peak;
        long interval = (long) (1e9 * clients / rate); // per client
        Recorder rec = new Recorder(3);
        AtomicLong completed = new AtomicLong();
        long start = System.nanoTime() + 10_000_000L;
        long measureFrom = start + warmupSecs * 1_000_000_000L;
        long end = measureFrom + secs * 1_000_000_000L;
        CountDownLatch finished = new CountDownLatch(clients);
        List<Thread> ts = new ArrayList<>();
        for (int k = 0; k < clients; k++) {
            final int kk = k;
            Thread t = new Thread(() -> {
                List<CompletableFuture<float[]>> last = new ArrayList<>();
                // clients start staggered across one interval, so arrivals are spread evenly
                long intended = start + interval * kk / clients;
                int s = 0;
                while (intended < end) {
                    long now = System.nanoTime();
                    if (now < intended) {
                        // sleep to the next tick at or after the intended time: requests due
                        // meanwhile go out together (their latency still counts from their own
                        // intended time, so the tick's delay is charged to the result)
                        long wake = intended + tick - 1 - Math.floorMod(intended - start + tick - 1, tick);
                        while ((now = System.nanoTime()) < wake) {
                            LockSupport.parkNanos(wake - now);
                        }
                    }
                    final long sent = intended;
                    final boolean measured = sent >= measureFrom;
                    CompletableFuture<float[]> f = mb.submit(mine[kk][s], xs[kk][s]);
                    f.whenComplete((y, e) -> {
                        if (measured) {
                            rec.recordValue(Math.max(0, System.nanoTime() - sent));
                            completed.incrementAndGet();
                        }
                    });
                    if (intended + interval >= end) {
                        last.add(f);
                    }
                    s = (s + 1) % mine[kk].length;
                    intended += interval;
                }
                for (CompletableFuture<float[]> f : last) {
                    f.join();
                }
                finished.countDown();
            }, "client-" + k);
            t.start();
            ts.add(t);
        }
        // the warm-up is not recorded (only requests sent from measureFrom on are); the batch
        // counters are read when the measured window opens
        long now;
        while ((now = System.nanoTime()) < measureFrom) {
            LockSupport.parkNanos(measureFrom - now);
        }
        long batches0 = mb.batches();
        long stepped0 = mb.requestsStepped();
        finished.await();
        long batches = mb.batches() - batches0;
        long stepped = mb.requestsStepped() - stepped0;
        for (Thread t : ts) {
            t.join();
        }
        Thread.sleep(50); // the last whenComplete callbacks
        Histogram h = rec.getIntervalHistogram();
        double achieved = completed.get() / (double) secs;
        System.out.printf(Locale.ROOT, "| %.0f%% | %.0f | %.0f | %.1f | %.0f | %.0f | %.0f | %.0f | %.0f |%n",
                frac * 100, rate, achieved, batches == 0 ? 0.0 : stepped / (double) batches,
                h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3,
                h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3);
    }
}
