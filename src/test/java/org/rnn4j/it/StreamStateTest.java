package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Generator;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.Linear;
import org.rnn4j.stream.FrozenRnn;
import org.rnn4j.stream.StreamState;

/**
 * StreamState handles: snapshot/restore round trip (into another model instance frozen from the
 * same weights, continuing bitwise), copy and reset, and the refusals: a snapshot of another
 * model (kind, sizes, weights, head), garbage, truncated or future-version bytes; a closed or
 * foreign state; a wrong input width; a closed model; a bidirectional model. Every refusal is a
 * clear exception thrown before any kernel runs.
 */
class StreamStateTest {

    @TestFactory
    Stream<DynamicTest> snapshotRoundTrip() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            for (StreamTesting.Net net : StreamTesting.nets(21)) {
                tests.add(DynamicTest.dynamicTest(b.name() + ": " + net, () -> {
                    try (net) {
                        roundTrip(b, net);
                    }
                }));
            }
        }
        return tests.stream();
    }

    private static void roundTrip(Backend backend, StreamTesting.Net net) {
        Random r = new Random(3);
        try (FrozenRnn a = FrozenRnn.freeze(net.rnn(), net.head(), backend);
             FrozenRnn b = FrozenRnn.freeze(net.rnn(), net.head(), backend)) {
            assertEquals(a.fingerprint(), b.fingerprint());
            int in = a.inputSize();
            StreamState s = a.newState();
            for (int t = 0; t < 4; t++) {
                a.step(s, StreamTesting.randn(r, in));
            }
            byte[] snap = s.snapshot();
            StreamState copy = s.copy();
            StreamState restored = b.restore(snap);
            assertEquals(4, restored.steps());
            assertArrayEquals(StreamTesting.bits(s.toArray()), StreamTesting.bits(restored.toArray()));
            for (int t = 0; t < 5; t++) {
                float[] x = StreamTesting.randn(r, in);
                int[] y1 = StreamTesting.bits(a.step(s, x));
                assertArrayEquals(y1, StreamTesting.bits(b.step(restored, x)), "restored continues bitwise");
                assertArrayEquals(y1, StreamTesting.bits(a.step(copy, x)), "copy continues bitwise");
            }
            // restore in place rewinds
            s.restore(snap);
            assertEquals(4, s.steps());
            assertArrayEquals(snap, s.snapshot());
            s.reset();
            assertEquals(0, s.steps());
            for (float v : s.toArray()) {
                assertEquals(0f, v);
            }
            s.close();
            copy.close();
            restored.close();
        }
    }

    @Test
    void wrongModelRestoreIsRefused() {
        Backend be = Backends.cpu();
        try (FrozenRnn m = StreamTesting.freezeAndClose(
                LSTM.builder().inputSize(4).hiddenSize(8).numLayers(2).generator(new Generator(1)).build(), null, be)) {
            StreamState s = m.newState();
            m.step(s, new float[4]);
            byte[] snap = s.snapshot();
            List<FrozenRnn> others = List.of(
                    StreamTesting.freezeAndClose(LSTM.builder().inputSize(4).hiddenSize(8).numLayers(2).generator(new Generator(2)).build(), null, be),
                    StreamTesting.freezeAndClose(LSTM.builder().inputSize(4).hiddenSize(9).numLayers(2).generator(new Generator(1)).build(), null, be),
                    StreamTesting.freezeAndClose(LSTM.builder().inputSize(4).hiddenSize(8).numLayers(1).generator(new Generator(1)).build(), null, be),
                    StreamTesting.freezeAndClose(LSTM.builder().inputSize(5).hiddenSize(8).numLayers(2).generator(new Generator(1)).build(), null, be),
                    StreamTesting.freezeAndClose(GRU.builder().inputSize(4).hiddenSize(8).numLayers(2).generator(new Generator(1)).build(), null, be),
                    StreamTesting.freezeAndClose(LSTM.builder().inputSize(4).hiddenSize(8).numLayers(2)
                            .generator(new Generator(1)).build(), new Linear(8, 2, true, new Generator(3)), be));
            for (FrozenRnn o : others) {
                try (o) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.restore(snap), o.toString());
                    assertTrue(e.getMessage().contains("different model") || e.getMessage().contains("other weights"),
                            e.getMessage());
                    StreamState mine = o.newState();
                    float[] before = mine.toArray();
                    assertThrows(IllegalArgumentException.class, () -> mine.restore(snap));
                    assertArrayEquals(before, mine.toArray(), "a refused restore leaves the state unchanged");
                    // a state of another model is refused by step
                    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                            () -> o.step(s, new float[o.inputSize()]));
                    assertTrue(e2.getMessage().contains("another model"), e2.getMessage());
                }
            }
            assertThrows(IllegalArgumentException.class, () -> m.restore(new byte[3]));
            assertThrows(IllegalArgumentException.class, () -> m.restore(new byte[200]));
            byte[] truncated = java.util.Arrays.copyOf(snap, snap.length - 4);
            assertThrows(IllegalArgumentException.class, () -> m.restore(truncated));
            byte[] future = snap.clone();
            future[4] = 2;
            IllegalArgumentException ev = assertThrows(IllegalArgumentException.class, () -> m.restore(future));
            assertTrue(ev.getMessage().contains("version"), ev.getMessage());
            // the original still restores
            assertArrayEquals(s.toArray(), m.restore(snap).toArray());
        }
    }

    @Test
    void badInputIsRefusedBeforeTheKernel() {
        for (Backend be : CpuBackends.available()) {
            FrozenRnn m = StreamTesting.freezeAndClose(GRU.builder().inputSize(3).hiddenSize(5).generator(new Generator(4))
                    .build(), null, be);
            StreamState s = m.newState();
            assertThrows(IllegalArgumentException.class, () -> m.step(s, new float[4]));
            assertThrows(IllegalArgumentException.class, () -> m.advance(s, new float[7], false));
            assertThrows(IllegalArgumentException.class, () -> m.stepBatch(new StreamState[] {s, s}, new float[6], new float[10]));
            assertThrows(IllegalArgumentException.class, () -> m.stepBatch(new StreamState[] {s}, new float[4], new float[5]));
            assertEquals(0, s.steps(), "nothing ran");
            s.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> m.step(s, new float[3]));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
            assertThrows(IllegalStateException.class, s::snapshot);
            StreamState live = m.newState();
            m.close();
            assertThrows(IllegalStateException.class, () -> m.step(live, new float[3]));
            assertThrows(IllegalStateException.class, m::newState);
            m.close(); // idempotent
        }
    }

    @Test
    void bidirectionalIsRefused() {
        try (LSTM bi = LSTM.builder().inputSize(3).hiddenSize(4).bidirectional(true).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FrozenRnn.freeze(bi));
            assertTrue(e.getMessage().contains("bidirectional"), e.getMessage());
        }
    }

    @Test
    void frozenMeansFrozen() {
        try (GRU gru = GRU.builder().inputSize(3).hiddenSize(5).generator(new Generator(4)).build();
             FrozenRnn m = FrozenRnn.freeze(gru)) {
            StreamState s = m.newState();
            float[] y0 = m.step(s, new float[] {1, 2, 3});
            long hash = m.weightHash();
            try (org.rnn4j.autograd.GradMode.Guard g = org.rnn4j.autograd.GradMode.noGrad()) {
                gru.parameters().get(0).fill(0.5f);
            }
            s.reset();
            assertArrayEquals(StreamTesting.bits(y0), StreamTesting.bits(m.step(s, new float[] {1, 2, 3})));
            try (FrozenRnn m2 = FrozenRnn.freeze(gru)) {
                assertNotEquals(hash, m2.weightHash());
            }
        }
    }
}
