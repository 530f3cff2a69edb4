package org.rnn4j.examples.flink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rnn4j.stream.FrozenRnn;
import org.rnn4j.stream.StreamState;

/**
 * On Flink's MiniCluster with checkpointing on, a failure injected mid-stream (after a checkpoint
 * completed, only in the first attempt) makes Flink restore the keyed StreamState snapshots and
 * replay the source from the checkpoint; every key's outputs then equal an uninterrupted run's
 * bitwise, and both equal the model stepped directly.
 *
 * <p>Guarantee: exactly-once STATE (checkpointed keyed state + a replayable source), but the
 * collecting sink here is a plain side effect, so it is at-least-once: the events between the
 * last checkpoint and the failure are emitted twice. The test dedupes by (key, seq) and checks
 * that each duplicate is bitwise the same prediction (deterministic replay); an exactly-once sink
 * (a transactional Kafka sink, say) would need no dedupe.
 */
class StreamingPredictorFailoverTest {
    private static final int KEYS = 8;
    private static final int EVENTS = 150;

    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    /** The run's emitted predictions, in emission order (the sink). */
    static final ConcurrentLinkedQueue<Prediction> SINK = new ConcurrentLinkedQueue<>();
    static final AtomicInteger FAILURES = new AtomicInteger();

    /** Slows the source down and, in the first attempt only, throws once after a checkpoint and N records. */
    static final class FailOnce extends RichMapFunction<Event, Event> implements CheckpointListener {
        private final long failAfter;
        private transient long seen;
        private transient volatile boolean checkpointed;

        FailOnce(long failAfter) {
            this.failAfter = failAfter;
        }

        @Override
        public Event map(Event e) throws Exception {
            seen++;
            if (seen % 4 == 0) {
                Thread.sleep(1);
            }
            if (getRuntimeContext().getTaskInfo().getAttemptNumber() == 0 && checkpointed && seen >= failAfter) {
                FAILURES.incrementAndGet();
                throw new RuntimeException("injected failure after " + seen + " records");
            }
            return e;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            checkpointed = true;
        }
    }

    private static Map<String, int[]> run(boolean injectFailure) throws Exception {
        SINK.clear();
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(50);
        List<Event> events = StreamingPredictionJob.events(KEYS, EVENTS, 7);
        ModelLoader loader = ModelLoader.seededLstm(StreamingPredictionJob.INPUT, StreamingPredictionJob.HIDDEN,
                StreamingPredictionJob.LAYERS, StreamingPredictionJob.OUT, 42);
        StreamingPredictionJob.build(env, events, loader, new FailOnce(injectFailure ? KEYS * EVENTS / 2 : Long.MAX_VALUE))
                .map(p -> {
                    SINK.add(p);
                    return p;
                })
                .sinkTo(new DiscardingSink<>());
        env.execute(injectFailure ? "failover" : "uninterrupted");
        // dedupe by (key, seq): a replayed duplicate must be bitwise the first emission
        Map<String, int[]> out = new HashMap<>();
        for (Prediction p : SINK) {
            int[] bits = bits(p.y);
            int[] prev = out.putIfAbsent(p.key + "#" + p.seq, bits);
            if (prev != null) {
                assertArrayEquals(prev, bits, "replayed " + p.key + "#" + p.seq + " differs");
            }
        }
        return out;
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    @Test
    void failoverRestoresEveryKeysStreamExactly() throws Exception {
        Map<String, int[]> clean = run(false);
        int cleanEmitted = SINK.size();
        assertEquals(0, FAILURES.get());
        Map<String, int[]> recovered = run(true);
        int recoveredEmitted = SINK.size();
        assertEquals(1, FAILURES.get(), "the failure was injected once");
        assertEquals(KEYS * EVENTS, clean.size());
        assertEquals(KEYS * EVENTS, cleanEmitted, "no failure, no duplicates");
        assertEquals(clean.keySet(), recovered.keySet(), "every (key, seq) emitted after recovery");
        for (Map.Entry<String, int[]> e : clean.entrySet()) {
            assertArrayEquals(e.getValue(), recovered.get(e.getKey()), e.getKey());
        }
        assertTrue(recoveredEmitted >= KEYS * EVENTS, "at-least-once to the sink: " + recoveredEmitted + " emitted");
        System.out.println("StreamingPredictorFailoverTest: uninterrupted run emitted " + cleanEmitted
                + ", run with one injected failure emitted " + recoveredEmitted + " (" + (recoveredEmitted - KEYS * EVENTS)
                + " replayed duplicates, all bitwise equal), " + clean.size() + " distinct (key, seq)");
        // and both equal the model stepped directly, key by key
        try (FrozenRnn m = ModelLoader.seededLstm(StreamingPredictionJob.INPUT, StreamingPredictionJob.HIDDEN,
                StreamingPredictionJob.LAYERS, StreamingPredictionJob.OUT, 42).load()) {
            Map<String, StreamState> states = new HashMap<>();
            for (Event ev : StreamingPredictionJob.events(KEYS, EVENTS, 7)) {
                StreamState s = states.computeIfAbsent(ev.key, k -> m.newState());
                assertArrayEquals(bits(m.step(s, ev.x)), clean.get(ev.key + "#" + ev.seq), ev.toString());
            }
        }
    }
}
