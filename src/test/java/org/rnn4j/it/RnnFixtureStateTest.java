package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.nn.GRUCell;
import org.rnn4j.nn.LSTMCell;
import org.rnn4j.nn.Module;
import org.rnn4j.nn.PackedRnnOutput;
import org.rnn4j.nn.RNNBase;
import org.rnn4j.nn.RNNCell;
import org.rnn4j.nn.RNNCellBase;
import org.rnn4j.nn.RnnOutput;
import org.rnn4j.nn.State;
import org.rnn4j.nn.rnn.PackedSequence;
import org.rnn4j.nn.rnn.RnnUtils;
import org.rnn4j.testing.FixtureFile;

/**
 * The one recurrent API on the PyTorch fixtures, on every CPU backend: every layer and cell
 * fixture runs through {@code forward(input, State)} — the same code for RNN, LSTM and GRU, typed
 * {@link RNNBase} / {@link RNNCellBase} only — and must give, bit for bit, the forward values and
 * the gradients (input, h0, c0, every parameter) that the per-kind overloads give
 * ({@link RnnFixtureTest#forward}), and match PyTorch within {@link RnnFixtureTest}'s tolerances.
 */
class RnnFixtureStateTest {
    @TestFactory
    Stream<DynamicTest> layers() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            for (String group : List.of("rnn", "rnn_wide", "edge/rnn")) {
                for (String f : RnnFixtureTest.fixtures(group)) {
                    tests.add(DynamicTest.dynamicTest(b.name() + ": " + f, () -> runLayer(b, b.name() + ": " + f, f)));
                }
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> cells() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            for (String f : RnnFixtureTest.fixtures("cell")) {
                tests.add(DynamicTest.dynamicTest(b.name() + ": " + f, () -> runCell(b, b.name() + ": " + f, f)));
            }
        }
        return tests.stream();
    }

    /** Forward values then gradients of one run, as plain arrays keyed by name. */
    private static final class Run {
        final Map<String, float[]> values = new LinkedHashMap<>();
        final Map<String, int[]> shapes = new LinkedHashMap<>();

        void put(String name, Tensor t) {
            if (t != null) {
                values.put(name, t.toArray());
                shapes.put(name, t.shape());
            }
        }

        void assertSameBits(Run expected, String file) {
            assertEquals(expected.values.keySet(), values.keySet(), file + " same results");
            for (String k : expected.values.keySet()) {
                assertArrayEquals(expected.shapes.get(k), shapes.get(k), file + " " + k + " shape");
                assertArrayEquals(expected.values.get(k), values.get(k), file + " " + k + ": State overload differs from the old one");
            }
        }
    }

    private void runLayer(Backend backend, String file, String resource) {
        try (FixtureFile fx = FixtureFile.resource(resource);
             Backends.Override o = Backends.use(backend);
             Scope scope = Scope.open()) {
            RNNBase m = RnnFixtureTest.buildLayer(fx);
            try {
                RnnFixtureTest.loadParams(m, fx);
                Run old = layerRun(m, fx, file, false);
                Run now = layerRun(m, fx, file, true);
                now.assertSameBits(old, file);
            } finally {
                m.close();
            }
        }
    }

    /** One forward + backward through the old overloads or through forward(…, State), no instanceof on the State path. */
    private static Run layerRun(RNNBase m, FixtureFile fx, String file, boolean viaState) {
        boolean lstm = m.mode().equals("LSTM");
        boolean packed = Boolean.parseBoolean(fx.meta("packed"));
        boolean hasH0 = Boolean.parseBoolean(fx.meta("has_h0"));
        Tensor input = fx.get("input").copy().requiresGrad(true);
        Tensor h0 = hasH0 ? fx.get("h0").copy().requiresGrad(true) : null;
        Tensor c0 = hasH0 && lstm ? fx.get("c0").copy().requiresGrad(true) : null;
        State state = h0 == null ? null : new State(h0, c0);
        Tensor output;
        State last;
        if (packed) {
            int[] lengths = fx.get("lengths").toIntArray();
            boolean enforceSorted = fx.metaOrDefault("enforce_sorted", "false").equals("true");
            PackedSequence p = RnnUtils.packPaddedSequence(input, lengths, m.batchFirst(), enforceSorted);
            PackedRnnOutput r = viaState ? m.forward(p, state) : RnnFixtureTest.forwardPacked(m, p, h0, c0);
            output = RnnUtils.padPackedSequence(r.output(), m.batchFirst(), 0f, null).padded();
            last = r.state();
        } else {
            RnnOutput r = viaState ? m.forward(input, state) : RnnFixtureTest.forward(m, input, h0, c0);
            output = r.output();
            last = r.state();
        }
        if (!lstm) {
            assertNull(last.c(), file + " no cell state");
        }
        if (viaState) {
            assertClose(output, fx.get("output"), RnnFixtureTest.FWD, RnnFixtureTest.FWD, file + " output");
            assertClose(last.h(), fx.get("h_n"), RnnFixtureTest.FWD, RnnFixtureTest.FWD, file + " h_n");
            if (lstm) {
                assertClose(last.c(), fx.get("c_n"), RnnFixtureTest.FWD, RnnFixtureTest.FWD, file + " c_n");
            }
        }
        Tensor loss = output.mul(fx.get("grad_output")).sum().add(last.h().mul(fx.get("grad_h_n")).sum());
        if (lstm) {
            loss = loss.add(last.c().mul(fx.get("grad_c_n")).sum());
        }
        loss.backward();
        Run run = new Run();
        run.put("output", output);
        run.put("h_n", last.h());
        run.put("c_n", last.c());
        if (viaState) {
            assertClose(input.grad(), fx.get("grad.input"), RnnFixtureTest.BWD, RnnFixtureTest.BWD, file + " grad.input");
        }
        collectGrads(run, m, input, h0, c0);
        return run;
    }

    private static void collectGrads(Run run, Module m, Tensor input, Tensor h0, Tensor c0) {
        run.put("grad.input", input.grad());
        run.put("grad.h0", h0 == null ? null : h0.grad());
        run.put("grad.c0", c0 == null ? null : c0.grad());
        for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
            run.put("grad." + e.getKey(), e.getValue().grad());
        }
        m.zeroGrad();
        input.zeroGrad();
    }

    private void runCell(Backend backend, String file, String resource) {
        try (FixtureFile fx = FixtureFile.resource(resource);
             Backends.Override o = Backends.use(backend);
             Scope scope = Scope.open()) {
            String module = fx.meta("module");
            int in = Integer.parseInt(fx.meta("input_size"));
            int hid = Integer.parseInt(fx.meta("hidden_size"));
            boolean bias = Boolean.parseBoolean(fx.meta("bias"));
            Generator gen = new Generator(1);
            RNNCellBase cell = switch (module) {
                case "RNNCell" -> new RNNCell(in, hid, bias, fx.meta("nonlinearity"), gen);
                case "LSTMCell" -> new LSTMCell(in, hid, bias, gen);
                case "GRUCell" -> new GRUCell(in, hid, bias, gen);
                default -> throw new IllegalArgumentException(module);
            };
            try {
                RnnFixtureTest.loadParams(cell, fx);
                Run old = cellRun(cell, fx, file, false);
                Run now = cellRun(cell, fx, file, true);
                now.assertSameBits(old, file);
            } finally {
                cell.close();
            }
        }
    }

    private static Run cellRun(RNNCellBase cell, FixtureFile fx, String file, boolean viaState) {
        boolean lstm = cell instanceof LSTMCell;
        boolean hasH0 = Boolean.parseBoolean(fx.meta("has_h0"));
        Tensor input = fx.get("input").copy().requiresGrad(true);
        Tensor h0 = hasH0 ? fx.get("h0").copy().requiresGrad(true) : null;
        Tensor c0 = hasH0 && lstm ? fx.get("c0").copy().requiresGrad(true) : null;
        State next;
        if (viaState) {
            next = cell.forward(input, h0 == null ? null : new State(h0, c0));
        } else if (cell instanceof LSTMCell l) {
            next = l.forward(input, h0, c0).toState();
        } else {
            next = State.of(cell instanceof GRUCell g ? g.forward(input, h0) : ((RNNCell) cell).forward(input, h0));
        }
        if (viaState) {
            assertClose(next.h(), fx.get("h_n"), RnnFixtureTest.FWD, RnnFixtureTest.FWD, file + " h'");
            if (lstm) {
                assertClose(next.c(), fx.get("c_n"), RnnFixtureTest.FWD, RnnFixtureTest.FWD, file + " c'");
            }
        }
        Tensor loss = next.h().mul(fx.get("grad_h_n")).sum();
        if (lstm) {
            loss = loss.add(next.c().mul(fx.get("grad_c_n")).sum());
        }
        loss.backward();
        Run run = new Run();
        run.put("h'", next.h());
        run.put("c'", next.c());
        collectGrads(run, cell, input, h0, c0);
        return run;
    }
}
