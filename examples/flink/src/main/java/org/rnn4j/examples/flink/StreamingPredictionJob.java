package org.rnn4j.examples.flink;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The Flink job: events (key, seq, x) → keyBy(key) → {@link StreamingPredictor} → predictions.
 * The demo source is a fixed, replayable list of synthetic events (swap it for a Kafka source in
 * production); the sink prints.
 *
 * <pre>
 *   flink run -c org.rnn4j.examples.flink.StreamingPredictionJob rnn4j-examples-flink.jar \
 *       --keys 100 --events 1000 --parallelism 2 --checkpoint-ms 1000
 * </pre>
 */
public final class StreamingPredictionJob {
    public static final int INPUT = 8;
    public static final int HIDDEN = 32;
    public static final int LAYERS = 2;
    public static final int OUT = 3;

    private StreamingPredictionJob() {
    }

    /** keys × eventsPerKey events, interleaved across keys, seq in order per key; deterministic in seed. */
    public static List<Event> events(int keys, int eventsPerKey, long seed) {
        Random r = new Random(seed);
        List<Event> out = new ArrayList<>(keys * eventsPerKey);
        for (int t = 0; t < eventsPerKey; t++) {
            for (int k = 0; k < keys; k++) {
                float[] x = new float[INPUT];
                for (int i = 0; i < INPUT; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                out.add(new Event("key-" + k, t, x));
            }
        }
        return out;
    }

    /** source → (optional extra step, e.g. failure injection in the test) → keyBy → predictor. */
    public static DataStream<Prediction> build(StreamExecutionEnvironment env, List<Event> events, ModelLoader loader,
                                               MapFunction<Event, Event> beforeKeyBy) {
        DataStream<Event> src = env.fromData(events).name("events").setParallelism(1);
        if (beforeKeyBy != null) {
            src = src.map(beforeKeyBy).name("before-keyBy").setParallelism(1);
        }
        return src.keyBy(e -> e.key).process(new StreamingPredictor(loader)).name("rnn4j-predictor");
    }

    public static void main(String[] args) throws Exception {
        int keys = intArg(args, "--keys", 100);
        int events = intArg(args, "--events", 1000);
        int parallelism = intArg(args, "--parallelism", 2);
        int checkpointMs = intArg(args, "--checkpoint-ms", 1000);
        String weights = strArg(args, "--weights", null);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        env.enableCheckpointing(checkpointMs);
        ModelLoader loader = weights == null ? ModelLoader.seededLstm(INPUT, HIDDEN, LAYERS, OUT, 42)
                : ModelLoader.lstmFromSafeTensors(weights, INPUT, HIDDEN, LAYERS, OUT);
        build(env, events(keys, events, 7), loader, null).print();
        env.execute("rnn4j streaming predictions");
    }

    private static int intArg(String[] args, String name, int dflt) {
        String v = strArg(args, name, null);
        return v == null ? dflt : Integer.parseInt(v);
    }

    private static String strArg(String[] args, String name, String dflt) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return dflt;
    }
}
