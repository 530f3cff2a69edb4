package org.rnn4j.benchmarks;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.rnn4j.Generator;
import org.rnn4j.nn.LSTM;
import org.rnn4j.stream.FrozenRnn;
import org.rnn4j.stream.MicroBatcher;
import org.rnn4j.stream.StreamState;

/**
 * Issue 14's server shape: {@code streams} concurrent streams (default 1,000; LSTM I=128, H=256,
 * one layer) owned by 16 client threads, each thread stepping its own share of the streams over
 * and over, closed loop. Throughput mode; the {@code streamSteps} counter (JMH's secondary result)
 * is the number that matters: stream-steps per second over all 16 threads.
 *
 * <ul>
 *   <li>{@code batched}: a client submits one step of each of its streams to the shared
 *       {@link MicroBatcher}, then joins the futures; the dispatcher gathers the requests of all
 *       clients into batched calls.</li>
 *   <li>{@code oneCallAtATime} (the named reference): a client steps each of its streams with its
 *       own {@link FrozenRnn#step} call (the same batch-invariant kernel, one row per call, 16
 *       threads calling at once).</li>
 * </ul>
 * Sixteen threads on a small machine oversubscribe it on purpose: that is what a server with many
 * request threads does. The batcher's own threads (dispatcher, {@code parallelism - 1} helpers)
 * come on top.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Threads(StreamClientsBenchmark.CLIENTS)
public class StreamClientsBenchmark {
    static final int CLIENTS = 16;
    static final int I = 128;
    static final int H = 256;

    /** The model, the batcher and every stream, shared by the client threads. */
    @State(Scope.Benchmark)
    public static class Server {
        @Param({"1000"})
        public int streams;

        @Param({"1000"})
        public int maxBatch;

        @Param({"2"})
        public int parallelism;

        /** The batcher's maxWait in microseconds. */
        @Param({"100"})
        public int maxWaitMicros;

        LSTM lstm;
        FrozenRnn model;
        MicroBatcher batcher;
        StreamState[] states;
        final AtomicInteger nextClient = new AtomicInteger();

        @Setup(Level.Trial)
        public void setup() {
            BenchEnv.ensure();
            lstm = LSTM.builder().inputSize(I).hiddenSize(H).generator(new Generator(3)).build();
            lstm.eval();
            model = FrozenRnn.freeze(lstm);
            System.out.println("# stream kernel: " + model.describe());
            batcher = MicroBatcher.builder(model).maxBatch(maxBatch).maxWait(Duration.ofNanos(maxWaitMicros * 1000L))
                    .parallelism(parallelism).queueCapacity(Math.max(4096, 2 * streams)).build();
            states = new StreamState[streams];
            for (int s = 0; s < streams; s++) {
                states[s] = model.newState();
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            batcher.close();
            for (StreamState s : states) {
                s.close();
            }
            model.close();
            lstm.close();
        }
    }

    /** One client thread: its streams (a contiguous share of the server's) and their inputs. */
    @State(Scope.Thread)
    public static class Client {
        StreamState[] mine;
        float[][] xs;
        CompletableFuture<float[]>[] futures;

        @Setup(Level.Trial)
        @SuppressWarnings("unchecked")
        public void setup(Server server) {
            int k = server.nextClient.getAndIncrement();
            int from = (int) ((long) server.streams * k / CLIENTS);
            int to = (int) ((long) server.streams * (k + 1) / CLIENTS);
            mine = java.util.Arrays.copyOfRange(server.states, from, to);
            java.util.Random r = new java.util.Random(100 + k);
            xs = new float[mine.length][I];
            for (float[] x : xs) {
                for (int i = 0; i < I; i++) {
                    x[i] = (float) r.nextGaussian();
                }
            }
            futures = new CompletableFuture[mine.length];
        }
    }

    /** Stream-steps done by one thread, reported by JMH as a rate summed over the threads. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counted {
        public long streamSteps;

        @Setup(Level.Iteration)
        public void clear() {
            streamSteps = 0;
        }
    }

    @Benchmark
    public float batched(Server server, Client client, Counted counted) {
        int n = client.mine.length;
        for (int s = 0; s < n; s++) {
            client.futures[s] = server.batcher.submit(client.mine[s], client.xs[s]);
        }
        float acc = 0;
        for (int s = 0; s < n; s++) {
            acc += client.futures[s].join()[0];
        }
        counted.streamSteps += n;
        return acc;
    }

    @Benchmark
    public float oneCallAtATime(Server server, Client client, Counted counted) {
        int n = client.mine.length;
        float acc = 0;
        for (int s = 0; s < n; s++) {
            acc += server.model.step(client.mine[s], client.xs[s])[0];
        }
        counted.streamSteps += n;
        return acc;
    }
}
