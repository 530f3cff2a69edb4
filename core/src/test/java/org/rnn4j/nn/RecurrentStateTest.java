package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.nn.rnn.PackedSequence;
import org.rnn4j.nn.rnn.RnnUtils;

/**
 * The one recurrent API: {@link State}, {@code forward(input, State)} on {@link RNNBase} and
 * {@link RNNCellBase}, {@link RNNBase#builder(String)}. Every kind runs through the same code path
 * here, with no {@code instanceof}; the State overloads give bit-for-bit what the per-kind
 * overloads give (reference backend; the it module repeats this on every CPU backend).
 */
class RecurrentStateTest {
    static final List<String> MODES = List.of("RNN_TANH", "RNN_RELU", "LSTM", "GRU");

    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private static void assertMessage(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
        }
    }

    /** One builder chain for any kind; H_out = 2 under LSTM's projection. */
    static RNNBase build(String mode, int layers, boolean bidirectional, boolean batchFirst, long seed) {
        return RNNBase.builder(mode).inputSize(3).hiddenSize(4).numLayers(layers).bidirectional(bidirectional)
                .batchFirst(batchFirst).projSize(mode.equals("LSTM") ? 2 : 0).generator(new Generator(seed)).build();
    }

    /** The old per-kind overloads, the only place that needs to know the kind. */
    static RnnOutput oldForward(RNNBase m, Tensor x, Tensor h0, Tensor c0) {
        if (m instanceof LSTM l) {
            return l.forward(x, h0, c0);
        }
        return m instanceof GRU g ? g.forward(x, h0) : ((RNN) m).forward(x, h0);
    }

    static PackedRnnOutput oldForward(RNNBase m, PackedSequence x, Tensor h0, Tensor c0) {
        if (m instanceof LSTM l) {
            return l.forward(x, h0, c0);
        }
        return m instanceof GRU g ? g.forward(x, h0) : ((RNN) m).forward(x, h0);
    }

    /** A random state that fits {@code m} for batch n (n < 0: unbatched). */
    static State randomState(RNNBase m, Generator gen, int n) {
        int layers = m.numLayers() * m.directions();
        int[] hs = n < 0 ? new int[] {layers, m.outputSize()} : new int[] {layers, n, m.outputSize()};
        int[] cs = n < 0 ? new int[] {layers, m.hiddenSize()} : new int[] {layers, n, m.hiddenSize()};
        return m.mode().equals("LSTM") ? State.of(Tensor.randn(gen, hs), Tensor.randn(gen, cs)) : State.of(Tensor.randn(gen, hs));
    }

    private static void assertSameBits(Tensor expected, Tensor actual, String what) {
        if (expected == null) {
            assertNull(actual, what);
            return;
        }
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        assertArrayEquals(expected.toArray(), actual.toArray(), what);
    }

    @Test
    void builderByModeMakesEachKind() {
        assertInstanceOf(LSTM.class, build("LSTM", 1, false, false, 1));
        assertInstanceOf(GRU.class, build("gru", 1, false, false, 1));
        RNNBase relu = build("rnn_relu", 1, false, false, 1);
        assertEquals("relu", ((RNN) relu).nonlinearity());
        assertEquals("RNN_RELU", relu.mode());
        assertEquals("RNN_TANH", RNNBase.builder("RNN").inputSize(1).hiddenSize(1).build().mode());
        assertEquals(2, build("LSTM", 1, false, false, 1).outputSize());
        assertMessage(assertThrows(IllegalArgumentException.class, () -> RNNBase.builder("GRU").projSize(2)),
                "proj_size", "GRU");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> RNNBase.builder("ELMAN")), "ELMAN", "RNN_TANH");
        // the same seed and chain give the same weights as the per-kind builder
        try (RNNBase a = RNNBase.builder("GRU").inputSize(3).hiddenSize(4).generator(new Generator(5)).build();
             GRU b = GRU.builder().inputSize(3).hiddenSize(4).generator(new Generator(5)).build()) {
            assertArrayEquals(b.stateDict().get("weight_hh_l0").toArray(), a.stateDict().get("weight_hh_l0").toArray());
        }
    }

    @Test
    void stateOverloadsMatchTheOldOnesBitwise() {
        Generator gen = new Generator(11);
        for (String mode : MODES) {
            for (boolean batchFirst : new boolean[] {false, true}) {
                try (RNNBase m = build(mode, 2, true, batchFirst, 7)) {
                    String what = mode + (batchFirst ? " batch_first" : "");
                    Tensor x = batchFirst ? Tensor.randn(gen, 3, 5, 3) : Tensor.randn(gen, 5, 3, 3); // L = 5, N = 3
                    State s = randomState(m, gen, 3);
                    RnnOutput a = oldForward(m, x, s.h(), s.c());
                    RnnOutput b = m.forward(x, s);
                    assertSameBits(a.output(), b.output(), what + " output");
                    assertSameBits(a.hN(), b.state().h(), what + " h_n");
                    assertSameBits(a.cN(), b.state().c(), what + " c_n");
                    // null state = zeros = forward(x)
                    assertSameBits(m.forward(x).output(), m.forward(x, (State) null).output(), what + " zeros");
                    // unbatched
                    Tensor xu = Tensor.randn(gen, 5, 3);
                    State su = randomState(m, gen, -1);
                    RnnOutput au = oldForward(m, xu, su.h(), su.c());
                    RnnOutput bu = m.forward(xu, su);
                    assertSameBits(au.output(), bu.output(), what + " unbatched output");
                    assertSameBits(au.hN(), bu.state().h(), what + " unbatched h_n");
                    assertSameBits(au.cN(), bu.state().c(), what + " unbatched c_n");
                    // packed, unsorted: state in the caller's batch order
                    PackedSequence p = RnnUtils.packPaddedSequence(x, new int[] {2, 5, 3}, batchFirst, false);
                    PackedRnnOutput pa = oldForward(m, p, s.h(), s.c());
                    PackedRnnOutput pb = m.forward(p, s);
                    assertSameBits(pa.output().data(), pb.output().data(), what + " packed output");
                    assertSameBits(pa.hN(), pb.state().h(), what + " packed h_n");
                    assertSameBits(pa.cN(), pb.state().c(), what + " packed c_n");
                    assertSameBits(m.forward(p).hN(), m.forward(p, null).hN(), what + " packed zeros");
                }
            }
        }
    }

    /** Reads a sequence in chunks, carrying the state: the same code for every kind. */
    static RnnOutput readInChunks(RNNBase rnn, Tensor x, int chunk, List<Tensor> outputs) {
        State state = null;
        RnnOutput out = null;
        for (int t = 0; t < x.size(0); t += chunk) {
            out = rnn.forward(x.narrow(0, t, Math.min(chunk, x.size(0) - t)), state);
            outputs.add(out.output());
            state = out.state();
        }
        return out;
    }

    @Test
    void carryingTheStateEqualsOneLongCallForEveryKind() {
        Generator gen = new Generator(3);
        for (String mode : MODES) {
            try (RNNBase rnn = build(mode, 2, false, false, 9)) {
                Tensor x = Tensor.randn(gen, 7, 2, 3).requiresGrad(true);
                RnnOutput whole = rnn.forward(x, null);
                List<Tensor> parts = new java.util.ArrayList<>();
                RnnOutput last = readInChunks(rnn, x, 3, parts);
                Tensor chunked = Tensor.concat(parts, 0);
                assertArrayEquals(whole.output().toArray(), chunked.toArray(), 1e-6f, mode + " output");
                assertArrayEquals(whole.hN().toArray(), last.state().h().toArray(), 1e-6f, mode + " h_n");
                assertEquals(mode.equals("LSTM"), last.state().hasCell(), mode + " has c");
                if (last.state().hasCell()) {
                    assertArrayEquals(whole.cN().toArray(), last.state().c().toArray(), 1e-6f, mode + " c_n");
                    assertArrayEquals(new int[] {2, 2, 4}, last.state().c().shape(), mode + " c shape (D*layers, N, H_cell)");
                }
                assertArrayEquals(new int[] {2, 2, rnn.outputSize()}, last.state().h().shape(), mode + " h shape (D*layers, N, H_out)");
                // gradients flow through the carried (not detached) state into the first chunk
                last.state().h().sum().backward();
                float[] g = x.grad().toArray();
                assertTrue(Math.abs(g[0]) > 0, mode + " grad reaches step 0 through the carried state");
            }
        }
    }

    @Test
    void cellsStepAlikeAndMatchTheirOldOverloads() {
        Generator gen = new Generator(4);
        List<RNNCellBase> cells = List.of(new RNNCell(3, 4), new RNNCell(3, 4, true, "relu", gen), new LSTMCell(3, 4),
                new GRUCell(3, 4));
        for (RNNCellBase cell : cells) {
            try (cell) {
                Tensor xs = Tensor.randn(gen, 4, 2, 3);
                State s = null;
                Tensor h = null;
                Tensor c = null;
                for (int t = 0; t < 4; t++) {
                    Tensor x = xs.select(0, t);
                    s = cell.forward(x, s);
                    if (cell instanceof LSTMCell l) {
                        LSTMCell.State o = l.forward(x, h, c);
                        h = o.h();
                        c = o.c();
                    } else {
                        h = cell instanceof GRUCell g ? g.forward(x, h) : ((RNNCell) cell).forward(x, h);
                    }
                    assertSameBits(h, s.h(), cell + " h at step " + t);
                    assertSameBits(c, s.c(), cell + " c at step " + t);
                }
                assertEquals(cell instanceof LSTMCell, s.hasCell());
            }
        }
    }

    @Test
    void wrongStatesNameTheArgumentAndBothShapes() {
        try (RNNBase lstm = RNNBase.builder("LSTM").inputSize(3).hiddenSize(4).numLayers(2).build();
             RNNBase proj = build("LSTM", 1, false, false, 1);
             RNNBase gru = RNNBase.builder("GRU").inputSize(3).hiddenSize(4).numLayers(2).build()) {
            Tensor x = Tensor.zeros(5, 2, 3);
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(x, State.of(Tensor.zeros(2, 3, 4), Tensor.zeros(2, 3, 4)))),
                    "LSTM.forward", "'state.h'", "expected hidden size (2, 2, 4), got (2, 3, 4)");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(x, State.of(Tensor.zeros(2, 2, 4), Tensor.zeros(2, 2, 5)))),
                    "'state.c'", "expected cell size (2, 2, 4), got (2, 2, 5)");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(x, State.of(Tensor.zeros(1, 2, 4), Tensor.zeros(1, 2, 4)))),
                    "'state.h'", "expected hidden size (2, 2, 4), got (1, 2, 4)");
            // H_out vs H_cell under projection
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> proj.forward(x, State.of(Tensor.zeros(1, 2, 4), Tensor.zeros(1, 2, 4)))),
                    "'state.h'", "expected hidden size (1, 2, 2), got (1, 2, 4)");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> lstm.forward(x, State.of(Tensor.zeros(2, 2, 4)))),
                    "'state.c'", "needs both h and c");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> gru.forward(x, State.of(Tensor.zeros(2, 2, 4), Tensor.zeros(2, 2, 4)))),
                    "GRU.forward", "'state.c'", "must be null");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> gru.forward(x, State.of(Tensor.zeros(2, 4)))),
                    "batched 3-D input", "'state.h'", "(2, 2, 4)", "2-D");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> gru.forward(Tensor.zeros(5, 3), State.of(Tensor.zeros(2, 1, 4)))), "unbatched 2-D input", "'state.h'");
            PackedSequence p = RnnUtils.packPaddedSequence(x, new int[] {5, 2}, false, false);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> gru.forward(p, State.of(Tensor.zeros(2, 3, 4)))),
                    "'state.h'", "expected hidden size (2, 2, 4), got (2, 3, 4)");
        }
        try (GRUCell cell = new GRUCell(3, 4); LSTMCell lcell = new LSTMCell(3, 4)) {
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> cell.forward(Tensor.zeros(2, 3), State.of(Tensor.zeros(2, 5)))), "'state.h'", "hidden_size 4");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> cell.forward(Tensor.zeros(2, 3), State.of(Tensor.zeros(2, 4), Tensor.zeros(2, 4)))), "'state.c'", "must be null");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lcell.forward(Tensor.zeros(2, 3), State.of(Tensor.zeros(2, 4)))), "'state.c'", "needs both");
        }
        // the record checks itself
        assertThrows(NullPointerException.class, () -> State.of(null));
        assertMessage(assertThrows(IllegalArgumentException.class, () -> State.of(Tensor.zeros(2, 2, 4), Tensor.zeros(2, 3, 4))),
                "'h' (2, 2, 4)", "'c' (2, 3, 4)");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> State.of(Tensor.zeros(2, 2, 4), Tensor.zeros(2, 4))),
                "'h' (2, 2, 4)", "'c' (2, 4)");
        State.of(Tensor.zeros(2, 2, 2), Tensor.zeros(2, 2, 4)); // H_out != H_cell is fine
        Tensor closed = Tensor.zeros(1, 1, 1);
        closed.close();
        assertThrows(IllegalStateException.class, () -> State.of(closed));
    }

    @Test
    void detachKeepAndCloseCarryStateAcrossScopes() {
        Generator gen = new Generator(8);
        try (RNNBase lstm = build("LSTM", 1, false, false, 2)) {
            State carried = null;
            for (int batch = 0; batch < 3; batch++) {
                try (Scope step = Scope.open()) {
                    RnnOutput out = lstm.forward(Tensor.randn(gen, 4, 2, 3), carried);
                    out.output().sum().backward();
                    State next = out.state().detach().keep(step);
                    assertFalse(next.h().requiresGrad());
                    if (carried != null) {
                        carried.close();
                    }
                    carried = next;
                }
                assertFalse(carried.h().isClosed(), "kept past the scope");
                assertFalse(carried.c().isClosed(), "kept past the scope");
            }
            State last = carried;
            assertNotNull(last.c());
            last.close();
            assertTrue(last.h().isClosed() && last.c().isClosed());
            last.close(); // idempotent
        }
        try (GradMode.Guard g = GradMode.noGrad()) {
            Tensor h = Tensor.zeros(1, 2, 4);
            State s = State.of(h);
            assertSame(h, s.h());
            assertNull(s.c());
            assertEquals("State(h=(1, 2, 4))", s.toString());
        }
    }
}
