package org.rnn4j.examples.flink;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.rnn4j.stream.FrozenRnn;
import org.rnn4j.stream.StreamState;

/**
 * Per-key streaming inference: each key is one stream. The shared frozen model is built once per
 * parallel instance (task slot) in {@link #open}; each key's {@link StreamState} lives in Flink
 * keyed state as its {@link StreamState#snapshot()} bytes ({@code ValueState<byte[]>}), so it is
 * checkpointed, restored after a failure and redistributed on rescaling by Flink itself. A
 * snapshot carries the model's fingerprint: a job restarted with another model refuses the old
 * state loudly instead of emitting garbage.
 *
 * <p>Events of a key must arrive in order (Flink keeps the order of one key along one path); the
 * function checks that each event's seq is the number of steps the key has taken.
 */
public class StreamingPredictor extends KeyedProcessFunction<String, Event, Prediction> {
    private static final long serialVersionUID = 1L;

    private final ModelLoader loader;
    private transient FrozenRnn model;
    private transient ValueState<byte[]> state;

    public StreamingPredictor(ModelLoader loader) {
        this.loader = loader;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        model = loader.load();
        state = getRuntimeContext().getState(
                new ValueStateDescriptor<>("rnn4j-stream-state", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    }

    @Override
    public void processElement(Event e, Context ctx, Collector<Prediction> out) throws Exception {
        byte[] snap = state.value();
        try (StreamState s = snap == null ? model.newState() : model.restore(snap)) {
            if (s.steps() != e.seq) {
                throw new IllegalStateException("key " + e.key + ": event seq " + e.seq + " but the stream has taken "
                        + s.steps() + " steps (events of a key must arrive in order, once)");
            }
            float[] y = model.step(s, e.x);
            state.update(s.snapshot());
            out.collect(new Prediction(e.key, e.seq, y));
        }
    }

    @Override
    public void close() throws Exception {
        if (model != null) {
            model.close();
        }
    }
}
