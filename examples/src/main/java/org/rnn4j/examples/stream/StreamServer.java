package org.rnn4j.examples.stream;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.rnn4j.Generator;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.Linear;
import org.rnn4j.stream.FrozenRnn;
import org.rnn4j.stream.MicroBatcher;
import org.rnn4j.stream.StreamState;

/**
 * The README's "Streaming for servers" example as a program: one frozen LSTM + head shared by
 * {@code --clients} request threads, each serving {@code --sessions} sessions of its own through
 * one {@link MicroBatcher}; then it checks one session against stepping it alone (bitwise), parks
 * a session as bytes and resumes it on a second model instance frozen from the same weights.
 *
 * <pre>java -jar examples/target/rnn4j-examples.jar stream --clients 8 --sessions 16 --steps 200</pre>
 */
public final class StreamServer {
    private final PrintStream out;

    public StreamServer(PrintStream out) {
        this.out = out;
    }

    public int run(String[] args) throws InterruptedException, java.util.concurrent.ExecutionException {
        int clients = arg(args, "--clients", 8);
        int sessions = arg(args, "--sessions", 16);
        int steps = arg(args, "--steps", 200);
        int input = 128;
        int hidden = 256;
        LSTM lstm = LSTM.builder().inputSize(input).hiddenSize(hidden).generator(new Generator(1)).build();
        Linear head = new Linear(hidden, 10, true, new Generator(2));
        try (FrozenRnn model = FrozenRnn.freeze(lstm, head);
             MicroBatcher batcher = MicroBatcher.builder(model).maxBatch(256).maxWait(Duration.ofNanos(100_000))
                     .queueCapacity(4096).whenFull(MicroBatcher.Full.BLOCK).build()) {
            out.println("model " + model.describe());
            float[][] firstSession = new float[steps][];
            float[][] firstInputs = new float[steps][];
            List<Thread> threads = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int c = 0; c < clients; c++) {
                final int client = c;
                Thread th = new Thread(() -> {
                    Random r = new Random(client);
                    StreamState[] mine = new StreamState[sessions];
                    for (int s = 0; s < sessions; s++) {
                        mine[s] = model.newState();
                    }
                    List<CompletableFuture<float[]>> pending = new ArrayList<>(sessions);
                    for (int t = 0; t < steps; t++) {
                        pending.clear();
                        for (int s = 0; s < sessions; s++) {
                            float[] x = new float[input];
                            for (int i = 0; i < input; i++) {
                                x[i] = (float) r.nextGaussian();
                            }
                            if (client == 0 && s == 0) {
                                firstInputs[t] = x;
                            }
                            pending.add(batcher.submit(mine[s], x));
                        }
                        float[] y0 = pending.get(0).join();
                        for (CompletableFuture<float[]> f : pending) {
                            f.join();
                        }
                        if (client == 0) {
                            firstSession[t] = y0;
                        }
                    }
                    for (StreamState s : mine) {
                        s.close();
                    }
                }, "client-" + c);
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                th.join();
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            long requests = batcher.requestsStepped();
            out.printf("%d clients x %d sessions x %d steps: %,d steps in %.2f s = %,.0f stream-steps/s, %,d batched calls (%.1f streams per call)%n",
                    clients, sessions, steps, requests, secs, requests / secs, batcher.batches(),
                    requests / (double) batcher.batches());
            // the same session stepped alone: the same bits
            StreamState alone = model.newState();
            boolean same = true;
            for (int t = 0; t < steps; t++) {
                same &= Arrays.equals(model.step(alone, firstInputs[t]), firstSession[t]);
            }
            out.println("client 0 session 0 stepped alone equals its batched outputs bitwise: " + same);
            // park it and resume it on another instance frozen from the same weights
            byte[] parked = alone.snapshot();
            try (FrozenRnn replica = FrozenRnn.freeze(lstm, head)) {
                StreamState resumed = replica.restore(parked);
                float[] x = new float[input];
                boolean resumedSame = Arrays.equals(model.step(alone, x), replica.step(resumed, x));
                out.println("parked as " + parked.length + " bytes, resumed on a replica after " + resumed.steps()
                        + " steps, next output equal: " + resumedSame);
                return same && resumedSame ? 0 : 1;
            }
        } finally {
            lstm.close();
            head.close();
        }
    }

    private static int arg(String[] args, String name, int dflt) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return Integer.parseInt(args[i + 1]);
            }
        }
        return dflt;
    }
}
