package org.rnn4j.stream;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Dynamic micro-batching for {@link FrozenRnn}: {@link #submit} from any number of threads; one
 * dispatcher thread gathers the waiting requests into one {@link FrozenRnn#stepBatch} call
 * (gather the states, one batched kernel step, scatter back) and completes their futures.
 *
 * <ul>
 *   <li><b>Batch bounds:</b> a batch closes when it holds {@code maxBatch} requests or when
 *       {@code maxWait} has passed since its first request arrived, whichever comes first (an idle
 *       dispatcher wakes at once for a lone request; maxWait only bounds how long it waits for
 *       company). The batch makeup changes every step; results do not (batch invariance).</li>
 *   <li><b>Threads:</b> one dispatcher thread steps the batches; with {@code parallelism(n)} a
 *       large batch is cut into n row ranges stepped at once (same results, rows are
 *       independent).</li>
 *   <li><b>Order per stream:</b> requests for the same state run in submission order, each in
 *       its own batch (a state never appears twice in one call).</li>
 *   <li><b>Backpressure:</b> a bounded queue of {@code queueCapacity} requests. When it is full,
 *       {@link Full#BLOCK} (default) makes {@code submit} wait for room; {@link Full#REJECT} makes
 *       it throw {@link RejectedExecutionException} at once.</li>
 *   <li><b>Results:</b> {@link #submit} returns a {@link CompletableFuture} completed on the
 *       dispatcher thread (chain heavy work with the {@code *Async} methods); {@link #step}
 *       blocks for it. Never block inside a dependent action that runs on the dispatcher (e.g. a
 *       {@code join} on another request, or a {@code submit} that may wait for room under BLOCK):
 *       that stalls every stream. A request whose state was closed or is busy in a direct call
 *       fails alone; the rest of its batch runs. While a state has a request pending, leave it
 *       alone (no direct step, snapshot or restore) until the future completes.</li>
 *   <li><b>Shutdown, none lost:</b> {@link #close()} stops accepting (later submits throw
 *       RejectedExecutionException), runs every request already accepted to completion, then
 *       stops the thread. {@link #shutdownNow()} stops after the batch in flight and fails every
 *       other pending future with {@link CancellationException}. Either way every future
 *       returned by {@code submit} completes normally or exceptionally.</li>
 * </ul>
 * Closing the batcher does not close the model.
 */
public final class MicroBatcher implements AutoCloseable {
    /** What {@link #submit} does when the queue is full. */
    public enum Full {
        /** Wait for room (callers are slowed to the dispatcher's pace). */
        BLOCK,
        /** Throw RejectedExecutionException at once (callers shed load themselves). */
        REJECT
    }

    private static final class Req {
        final StreamState state;
        final float[] x;
        final long arrived;
        final CompletableFuture<float[]> future = new CompletableFuture<>();

        Req(StreamState state, float[] x) {
            this.state = state;
            this.x = x;
            this.arrived = System.nanoTime();
        }
    }

    private final FrozenRnn model;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final Full whenFull;
    private final ArrayBlockingQueue<Req> queue;
    private final Thread dispatcher;
    private final int parallelism;
    private final java.util.concurrent.ExecutorService helpers;
    private volatile boolean accepting = true;
    private volatile boolean abort;
    private volatile boolean terminated;
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong stepped = new AtomicLong();

    private MicroBatcher(Builder b) {
        this.model = b.model;
        this.maxBatch = b.maxBatch;
        this.maxWaitNanos = b.maxWait.toNanos();
        this.whenFull = b.whenFull;
        this.queue = new ArrayBlockingQueue<>(b.queueCapacity);
        this.parallelism = b.parallelism;
        this.helpers = b.parallelism > 1 ? java.util.concurrent.Executors.newFixedThreadPool(b.parallelism - 1, r -> {
            Thread t = new Thread(r, b.threadName + "-helper");
            t.setDaemon(true);
            return t;
        }) : null;
        this.dispatcher = new Thread(this::loop, b.threadName);
        this.dispatcher.setDaemon(true);
        this.dispatcher.start();
    }

    /** A builder for a micro-batcher over {@code model}, with the defaults listed on {@link Builder}'s setters. */
    public static Builder builder(FrozenRnn model) {
        return new Builder(model);
    }

    /**
     * Queues one step of {@code state} with input {@code x} (I floats, copied). Argument errors
     * (wrong width, closed or foreign state) throw here, before anything is queued.
     *
     * @return the step's output (O floats)
     * @throws RejectedExecutionException when the batcher is closed, or the queue is full under
     *     {@link Full#REJECT}
     */
    public CompletableFuture<float[]> submit(StreamState state, float[] x) {
        model.checkState("submit", state);
        if (x == null || x.length != model.inputSize()) {
            throw new IllegalArgumentException("MicroBatcher.submit: x must hold input_size " + model.inputSize()
                    + " floats, got " + (x == null ? "null" : x.length));
        }
        if (!accepting) {
            throw new RejectedExecutionException("MicroBatcher.submit: the batcher is closed");
        }
        Req r = new Req(state, x.clone());
        if (whenFull == Full.REJECT) {
            if (!queue.offer(r)) {
                throw new RejectedExecutionException("MicroBatcher.submit: queue full (" + queue.size() + " requests)");
            }
        } else {
            try {
                while (!queue.offer(r, 10, TimeUnit.MILLISECONDS)) {
                    if (terminated) {
                        throw new RejectedExecutionException("MicroBatcher.submit: the batcher is closed");
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RejectedExecutionException("MicroBatcher.submit: interrupted while waiting for room", e);
            }
        }
        // the dispatcher may have drained for the last time between our check and the offer:
        // whoever removes the request (we or the final drain) completes it
        if (terminated && queue.remove(r)) {
            r.future.completeExceptionally(new RejectedExecutionException("MicroBatcher.submit: the batcher is closed"));
        }
        return r.future;
    }

    /** {@link #submit} and wait: the step's output, or the request's failure rethrown unchecked. */
    public float[] step(StreamState state, float[] x) throws InterruptedException {
        try {
            return submit(state, x).get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new CompletionException(c);
        }
    }

    /** Batched calls made so far. */
    public long batches() {
        return batches.get();
    }

    /** Requests completed by a batched call so far. */
    public long requestsStepped() {
        return stepped.get();
    }

    /** Most requests in one batched call. */
    public int maxBatch() {
        return maxBatch;
    }

    /** Longest a batch waits for more requests after its first arrived. */
    public Duration maxWait() {
        return Duration.ofNanos(maxWaitNanos);
    }

    private void loop() {
        ArrayDeque<Req> carry = new ArrayDeque<>(); // same-state requests deferred to a later batch, in order
        List<Req> batch = new ArrayList<>(maxBatch);
        IdentityHashMap<StreamState, Boolean> inBatch = new IdentityHashMap<>();
        try {
            while (!abort) {
                batch.clear();
                inBatch.clear();
                // the deferred ones first, in order; a state already taken stays deferred
                int n = carry.size();
                for (int i = 0; i < n; i++) {
                    Req r = carry.poll();
                    if (batch.size() < maxBatch && inBatch.put(r.state, Boolean.TRUE) == null) {
                        batch.add(r);
                    } else {
                        carry.add(r);
                    }
                }
                if (batch.isEmpty()) {
                    Req first = accepting ? queue.poll(50, TimeUnit.MILLISECONDS) : queue.poll();
                    if (first == null) {
                        if (!accepting && carry.isEmpty()) {
                            break; // closed and drained
                        }
                        continue;
                    }
                    batch.add(first);
                    inBatch.put(first.state, Boolean.TRUE);
                }
                long deadline = batch.get(0).arrived + maxWaitNanos;
                while (batch.size() < maxBatch) {
                    Req r = queue.poll();
                    if (r == null) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0 || !accepting) {
                            break;
                        }
                        r = queue.poll(left, TimeUnit.NANOSECONDS);
                        if (r == null) {
                            break;
                        }
                    }
                    if (inBatch.put(r.state, Boolean.TRUE) == null) {
                        batch.add(r);
                    } else {
                        carry.add(r);
                    }
                }
                runBatch(batch);
            }
        } catch (InterruptedException e) {
            abort = true;
        } catch (Throwable t) {
            for (Req r : batch) {
                r.future.completeExceptionally(t);
            }
            abort = true;
        } finally {
            if (helpers != null) {
                helpers.shutdown();
            }
            accepting = false;
            terminated = true;
            CancellationException why = new CancellationException("MicroBatcher: shut down before this request ran");
            // shutdownNow's interrupt can land while a gathered batch waits for company (the timed
            // poll): those requests are neither queued nor carried, and must not be lost. Requests
            // of a batch that ran are complete already, so this is a no-op for them.
            for (Req r : batch) {
                r.future.completeExceptionally(why);
            }
            for (Req r : carry) {
                r.future.completeExceptionally(why);
            }
            Req r;
            while ((r = queue.poll()) != null) {
                r.future.completeExceptionally(why);
            }
        }
    }

    private void runBatch(List<Req> batch) {
        // a request whose state was closed meanwhile fails alone
        List<Req> ok = new ArrayList<>(batch.size());
        for (Req r : batch) {
            if (r.state.isClosed()) {
                r.future.completeExceptionally(new IllegalStateException("MicroBatcher: the state was closed before its step ran"));
            } else {
                ok.add(r);
            }
        }
        int rows = ok.size();
        if (rows == 0) {
            return;
        }
        batches.incrementAndGet();
        int parts = Math.min(parallelism, rows / Builder.MIN_ROWS_PER_THREAD);
        if (parts <= 1) {
            runPart(ok);
            return;
        }
        List<java.util.concurrent.Future<?>> fs = new ArrayList<>(parts - 1);
        int per = (rows + parts - 1) / parts;
        for (int p = 1; p < parts; p++) {
            List<Req> part = ok.subList(Math.min(rows, p * per), Math.min(rows, (p + 1) * per));
            if (!part.isEmpty()) {
                fs.add(helpers.submit(() -> runPart(part)));
            }
        }
        runPart(ok.subList(0, Math.min(rows, per)));
        boolean interrupted = false;
        for (java.util.concurrent.Future<?> f : fs) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // finish the batch in flight first
                } catch (ExecutionException e) {
                    break; // runPart completes its own futures, even when it fails
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** One stepBatch call over some of a batch's requests; completes every one of their futures. */
    private void runPart(List<Req> ok) {
        int rows = ok.size();
        int in = model.inputSize();
        int out = model.outputSize();
        StreamState[] states = new StreamState[rows];
        float[] xs = new float[rows * in];
        float[] ys = new float[rows * out];
        for (int b = 0; b < rows; b++) {
            states[b] = ok.get(b).state;
            System.arraycopy(ok.get(b).x, 0, xs, b * in, in);
        }
        try {
            model.stepBatch(states, xs, ys);
        } catch (RuntimeException e) {
            if (rows == 1) {
                ok.get(0).future.completeExceptionally(e);
                return;
            }
            // e.g. one state busy in a direct call: run them one by one so only that one fails
            for (Req r : ok) {
                try {
                    float[] y = model.step(r.state, r.x);
                    stepped.incrementAndGet();
                    r.future.complete(y);
                } catch (RuntimeException e1) {
                    r.future.completeExceptionally(e1);
                }
            }
            return;
        } catch (Error e) {
            for (Req r : ok) {
                r.future.completeExceptionally(e);
            }
            throw e;
        }
        stepped.addAndGet(rows);
        for (int b = 0; b < rows; b++) {
            float[] y = new float[out];
            System.arraycopy(ys, b * out, y, 0, out);
            ok.get(b).future.complete(y);
        }
    }

    /**
     * Stops accepting, runs every accepted request, and waits for the dispatcher to finish
     * (interrupting the wait turns it into {@link #shutdownNow()}).
     */
    @Override
    public void close() {
        accepting = false;
        try {
            dispatcher.join();
        } catch (InterruptedException e) {
            shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /** Stops after the batch in flight; every other pending request fails with CancellationException. */
    public void shutdownNow() {
        accepting = false;
        abort = true;
        dispatcher.interrupt();
        boolean interrupted = false;
        while (dispatcher.isAlive()) {
            try {
                dispatcher.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the dispatcher loop has ended: after {@link #close()}, {@link #shutdownNow()} or an error in the dispatcher. */
    public boolean isTerminated() {
        return terminated;
    }

    /** Settings of a {@link MicroBatcher}. */
    public static final class Builder {
        private final FrozenRnn model;
        private int maxBatch = 64;
        private Duration maxWait = Duration.ofNanos(100_000);
        private int queueCapacity = 4096;
        private Full whenFull = Full.BLOCK;
        private String threadName = "rnn4j-microbatcher";
        private int parallelism = 1;

        private Builder(FrozenRnn model) {
            this.model = java.util.Objects.requireNonNull(model, "model");
        }

        /** Most requests per batched call (default 64). */
        public Builder maxBatch(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("MicroBatcher: maxBatch must be >= 1, got " + v);
            }
            maxBatch = v;
            return this;
        }

        /** Longest a batch waits for more requests after its first arrived (default 100 µs; 0 = never wait). */
        public Builder maxWait(Duration v) {
            if (v.isNegative()) {
                throw new IllegalArgumentException("MicroBatcher: maxWait must be >= 0, got " + v);
            }
            maxWait = v;
            return this;
        }

        /** Bound of the request queue (default 4096). */
        public Builder queueCapacity(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("MicroBatcher: queueCapacity must be >= 1, got " + v);
            }
            queueCapacity = v;
            return this;
        }

        /** Blocking or rejecting when the queue is full (default BLOCK). */
        public Builder whenFull(Full v) {
            whenFull = java.util.Objects.requireNonNull(v);
            return this;
        }

        /**
         * Threads that step one batch (default 1: the dispatcher alone). With n &gt; 1 a batch of
         * at least 2 * {@value #MIN_ROWS_PER_THREAD} requests is cut into up to n contiguous row
         * ranges, stepped at once by the dispatcher and n - 1 helper threads. Results do not
         * change (rows are independent and the kernel is batch-invariant).
         */
        public Builder parallelism(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("MicroBatcher: parallelism must be >= 1, got " + v);
            }
            parallelism = v;
            return this;
        }

        /** Fewest requests a helper thread is given. */
        public static final int MIN_ROWS_PER_THREAD = 8;

        /** Name of the dispatcher thread (default {@code "rnn4j-microbatcher"}); returns this builder. */
        public Builder threadName(String v) {
            threadName = v;
            return this;
        }

        /**
         * Creates the micro-batcher and starts its dispatcher thread.
         *
         * @throws IllegalStateException if the model is closed
         */
        public MicroBatcher build() {
            model.ensureOpen("MicroBatcher");
            return new MicroBatcher(this);
        }
    }
}
