package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Memory;
import org.rnn4j.nn.LSTM;
import org.rnn4j.stream.FrozenRnn;
import org.rnn4j.stream.MicroBatcher;
import org.rnn4j.stream.StreamState;

/**
 * Issue 14's memory target: 10^6 steps across 1,000 streams (LSTM I=128, H=256, one layer),
 * submitted by 16 client threads through a {@link MicroBatcher}, leave native memory flat.
 *
 * <p>The soak runs in a child JVM with a fixed, pre-touched heap ({@code -Xms = -Xmx},
 * {@code AlwaysPreTouch}, serial GC), so the process's resident set (VmRSS) moves only with
 * native memory (kernel scratch, JIT, direct buffers), not with the Java heap growing. The child
 * samples RSS, direct-buffer bytes and rnn4j's tensor bytes ({@link Memory#bytesInUse()}) every
 * 20,000 steps; the first 100,000 steps are warm-up (JIT, the dispatcher's scratch growing to its
 * largest batch). Bounds: RSS at the end within 16 MiB of the start and never more than 32 MiB
 * above it (a leak of 20 bytes per step would cross the first); direct and tensor bytes exactly
 * flat. The numbers are printed for benchmarks/README.md.
 */
class StreamMemorySoakTest {
    static final int STREAMS = 1000;
    static final int CLIENTS = 16;
    static final int ROUNDS = 1000; // one round = one step of every stream: 10^6 steps
    static final int SAMPLE_EVERY = 20; // rounds
    static final int WARMUP_ROUNDS = 100;

    @Test
    void millionStepsLeaveNativeMemoryFlat() throws Exception {
        Assumptions.assumeTrue(new File("/proc/self/status").exists(),
                "the soak reads the resident set from /proc/self/status, which only Linux has");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xms256m");
        cmd.add("-Xmx256m");
        cmd.add("-XX:+AlwaysPreTouch");
        cmd.add("-XX:+UseSerialGC");
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--enable-native-access") || a.startsWith("-Dorg.bytedeco") || a.startsWith("-Drnn4j.")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Child.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<long[]> samples = new ArrayList<>();
        StringBuilder log = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                log.append(line).append('\n');
                if (line.startsWith("sample ")) {
                    String[] f = line.split(" ");
                    samples.add(new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4])});
                }
            }
        }
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the soak finishes");
        assertEquals(0, p.exitValue(), "the soak child exits cleanly:\n" + log);
        assertEquals(ROUNDS / SAMPLE_EVERY + 1, samples.size(), "samples:\n" + log);
        long[] start = null;
        long max = 0;
        for (long[] s : samples) {
            if (s[0] < (long) WARMUP_ROUNDS * STREAMS) {
                continue;
            }
            if (start == null) {
                start = s;
            }
            max = Math.max(max, s[1]);
            assertEquals(start[2], s[2], "direct-buffer bytes stay flat, at step " + s[0] + ":\n" + log);
            assertEquals(start[3], s[3], "rnn4j tensor bytes stay flat, at step " + s[0] + ":\n" + log);
        }
        long[] end = samples.get(samples.size() - 1);
        assertEquals((long) ROUNDS * STREAMS, end[0]);
        String summary = String.format(java.util.Locale.ROOT,
                "stream soak, %,d steps across %,d streams: RSS start %.1f MiB (after %,d warm-up steps), end %.1f MiB, max %.1f MiB; "
                        + "direct buffers %,d bytes, rnn4j tensors %,d bytes (flat)",
                end[0], STREAMS, start[1] / 1024.0, start[0], end[1] / 1024.0, max / 1024.0, end[2], end[3]);
        System.out.println(summary);
        System.out.print(log);
        assertTrue(end[1] - start[1] <= 16 * 1024, "RSS grew by more than 16 MiB: " + summary);
        assertTrue(max - start[1] <= 32 * 1024, "RSS peaked more than 32 MiB above the start: " + summary);
    }

    /** The soak itself, in its own JVM. Prints {@code sample <steps> <rss KiB> <direct bytes> <tensor bytes>}. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            try (LSTM lstm = LSTM.builder().inputSize(128).hiddenSize(256).generator(new Generator(14)).build()) {
                lstm.eval();
                try (FrozenRnn model = FrozenRnn.freeze(lstm);
                     MicroBatcher mb = MicroBatcher.builder(model).maxBatch(STREAMS).maxWait(Duration.ofNanos(100_000))
                             .parallelism(2).build()) {
                    System.out.println("# " + model.describe());
                    StreamState[] states = new StreamState[STREAMS];
                    for (int s = 0; s < STREAMS; s++) {
                        states[s] = model.newState();
                    }
                    sample(0);
                    java.util.concurrent.CyclicBarrier round = new java.util.concurrent.CyclicBarrier(CLIENTS);
                    List<Thread> ts = new ArrayList<>();
                    List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
                    for (int k = 0; k < CLIENTS; k++) {
                        final int kk = k;
                        Thread t = new Thread(() -> {
                            int from = STREAMS * kk / CLIENTS;
                            int to = STREAMS * (kk + 1) / CLIENTS;
                            java.util.Random r = new java.util.Random(kk);
                            float[] x = new float[model.inputSize()];
                            @SuppressWarnings("unchecked")
                            CompletableFuture<float[]>[] fs = new CompletableFuture[to - from];
                            try {
                                for (int rd = 1; rd <= ROUNDS; rd++) {
                                    for (int s = from; s < to; s++) {
                                        for (int i = 0; i < x.length; i++) {
                                            x[i] = (float) r.nextGaussian();
                                        }
                                        fs[s - from] = mb.submit(states[s], x);
                                    }
                                    for (CompletableFuture<float[]> f : fs) {
                                        f.join();
                                    }
                                    if (rd % SAMPLE_EVERY == 0) {
                                        // every client has finished round rd: sample once, then go on together
                                        if (round.await() == 0) {
                                            sample((long) rd * STREAMS);
                                        }
                                        round.await();
                                    }
                                }
                            } catch (Throwable e) {
                                errors.add(e);
                                round.reset();
                            }
                        }, "soak-client-" + k);
                        t.start();
                        ts.add(t);
                    }
                    for (Thread t : ts) {
                        t.join();
                    }
                    if (!errors.isEmpty()) {
                        errors.get(0).printStackTrace(System.out);
                        System.exit(2);
                    }
                    if (mb.requestsStepped() != (long) ROUNDS * STREAMS) {
                        System.out.println("stepped " + mb.requestsStepped());
                        System.exit(3);
                    }
                    System.out.printf("# %d batched calls, mean batch %.1f%n", mb.batches(),
                            mb.requestsStepped() / (double) mb.batches());
                    for (StreamState s : states) {
                        s.close();
                    }
                }
            }
        }

        private static void sample(long steps) throws Exception {
            long rssKib = -1;
            // FileInputStream reads into heap arrays: Files.readAllLines would take an 8 KiB
            // temporary direct buffer per sampling thread and show up as direct-buffer growth
            String status;
            try (java.io.FileInputStream in = new java.io.FileInputStream("/proc/self/status")) {
                status = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            }
            for (String l : status.split("\n")) {
                if (l.startsWith("VmRSS:")) {
                    rssKib = Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
            long direct = 0;
            for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if (b.getName().equals("direct")) {
                    direct = b.getMemoryUsed();
                }
            }
            System.out.println("sample " + steps + " " + rssKib + " " + direct + " " + Memory.bytesInUse());
            System.out.flush();
        }
    }
}
