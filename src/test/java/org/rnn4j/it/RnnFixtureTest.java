package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.GRUCell;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.LSTMCell;
import org.rnn4j.nn.Module;
import org.rnn4j.nn.RNN;
import org.rnn4j.nn.RNNBase;
import org.rnn4j.nn.RNNCell;
import org.rnn4j.nn.RNNCellBase;
import org.rnn4j.nn.RnnOutput;
import org.rnn4j.nn.PackedRnnOutput;
import org.rnn4j.nn.rnn.PackedSequence;
import org.rnn4j.nn.rnn.RnnUtils;
import org.rnn4j.testing.FixtureFile;

/**
 * PyTorch golden parity for every recurrent module fixture (tools/gen_fixtures.py), forward and
 * backward, on every available CPU backend. Forward: |diff| &lt;= 1e-5 + 1e-5|expected|;
 * gradients: 1e-4 + 1e-4|expected|.
 */
class RnnFixtureTest {
    static final double FWD = 1e-5;
    static final double BWD = 1e-4;

    static List<String> fixtures(String group) throws IOException {
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                RnnFixtureTest.class.getResourceAsStream("/fixtures/index.txt"), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.startsWith(group + "/")) {
                    out.add(line.trim());
                }
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("no fixtures in group " + group);
        }
        return out;
    }

    /**
     * A directory of extra layer cases in the same format (tools/fuzz_parity.py writes them),
     * given with {@code -Drnn4j.fixtures.extra=DIR}; its index.txt lists the files. Unset in CI,
     * where only the committed fixtures run.
     */
    static final String EXTRA = System.getProperty("rnn4j.fixtures.extra", "");

    static List<String> extraFixtures() throws IOException {
        if (EXTRA.isBlank()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(EXTRA, "index.txt"))) {
            if (!line.isBlank()) {
                out.add(line.trim());
            }
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> layers() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        List<String> extra = extraFixtures();
        for (Backend b : CpuBackends.available()) {
            for (String group : List.of("rnn", "rnn_wide", "edge/rnn")) {
                for (String f : fixtures(group)) {
                    tests.add(DynamicTest.dynamicTest(b.name() + ": " + f,
                            () -> runLayer(b, b.name() + ": " + f, FixtureFile.resource(f))));
                }
            }
            for (String f : extra) {
                if (f.startsWith("cell")) {
                    continue;
                }
                tests.add(DynamicTest.dynamicTest(b.name() + ": " + EXTRA + "/" + f,
                        () -> runLayer(b, b.name() + ": " + f, FixtureFile.load(Path.of(EXTRA, f)))));
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> cells() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        List<String> extra = extraFixtures();
        for (Backend b : CpuBackends.available()) {
            for (String f : fixtures("cell")) {
                tests.add(DynamicTest.dynamicTest(b.name() + ": " + f, () -> runCell(b, f, FixtureFile.resource(f))));
            }
            for (String f : extra) {
                if (f.startsWith("cell")) {
                    tests.add(DynamicTest.dynamicTest(b.name() + ": " + EXTRA + "/" + f,
                            () -> runCell(b, b.name() + ": " + f, FixtureFile.load(Path.of(EXTRA, f)))));
                }
            }
        }
        return tests.stream();
    }

    static RNNBase buildLayer(FixtureFile fx) {
        String module = fx.meta("module");
        int in = Integer.parseInt(fx.meta("input_size"));
        int hid = Integer.parseInt(fx.meta("hidden_size"));
        int layers = Integer.parseInt(fx.meta("num_layers"));
        boolean bias = Boolean.parseBoolean(fx.meta("bias"));
        boolean bf = Boolean.parseBoolean(fx.meta("batch_first"));
        boolean bi = Boolean.parseBoolean(fx.meta("bidirectional"));
        int proj = Integer.parseInt(fx.meta("proj_size"));
        // "0" everywhere but edge/rnn's dropout=1 cases, which PyTorch ran in training mode
        float dropout = Float.parseFloat(fx.meta("dropout"));
        return switch (module) {
            case "RNN" -> RNN.builder().nonlinearity(fx.meta("nonlinearity")).inputSize(in).hiddenSize(hid)
                    .numLayers(layers).bias(bias).batchFirst(bf).bidirectional(bi).dropout(dropout).build();
            case "LSTM" -> LSTM.builder().inputSize(in).hiddenSize(hid).numLayers(layers).bias(bias).batchFirst(bf)
                    .bidirectional(bi).projSize(proj).dropout(dropout).build();
            case "GRU" -> GRU.builder().inputSize(in).hiddenSize(hid).numLayers(layers).bias(bias).batchFirst(bf)
                    .bidirectional(bi).dropout(dropout).build();
            default -> throw new IllegalArgumentException("unknown module " + module);
        };
    }

    static void loadParams(Module m, FixtureFile fx) {
        Map<String, Tensor> mine = m.namedParameters();
        Map<String, Tensor> state = new java.util.LinkedHashMap<>();
        for (String name : mine.keySet()) {
            state.put(name, fx.get(name));
        }
        m.loadStateDict(state);
    }

    private void runLayer(Backend backend, String file, FixtureFile loaded) {
        try (FixtureFile fx = loaded;
             Backends.Override o = Backends.use(backend);
             Scope scope = Scope.open()) {
            RNNBase m = buildLayer(fx);
            try {
                loadParams(m, fx);
                boolean lstm = m instanceof LSTM;
                boolean packed = Boolean.parseBoolean(fx.meta("packed"));
                boolean hasH0 = Boolean.parseBoolean(fx.meta("has_h0"));
                Tensor input = fx.get("input").copy().requiresGrad(true);
                Tensor h0 = hasH0 ? fx.get("h0").copy().requiresGrad(true) : null;
                Tensor c0 = hasH0 && lstm ? fx.get("c0").copy().requiresGrad(true) : null;
                Tensor output;
                Tensor hN;
                Tensor cN;
                if (packed) {
                    int[] lengths = fx.get("lengths").toIntArray();
                    // edge/rnn records enforce_sorted; rnn/ and rnn_wide/ always pack unsorted
                    boolean enforceSorted = fx.metaOrDefault("enforce_sorted", "false").equals("true");
                    PackedSequence p = RnnUtils.packPaddedSequence(input, lengths, m.batchFirst(), enforceSorted);
                    assertEquals(enforceSorted, p.isSorted(), file + " sorted_indices is None");
                    PackedRnnOutput r = forwardPacked(m, p, h0, c0);
                    output = RnnUtils.padPackedSequence(r.output(), m.batchFirst(), 0f, null).padded();
                    hN = r.hN();
                    cN = r.cN();
                } else {
                    RnnOutput r = forward(m, input, h0, c0);
                    output = r.output();
                    hN = r.hN();
                    cN = r.cN();
                }
                assertClose(output, fx.get("output"), FWD, FWD, file + " output");
                assertClose(hN, fx.get("h_n"), FWD, FWD, file + " h_n");
                if (lstm) {
                    assertClose(cN, fx.get("c_n"), FWD, FWD, file + " c_n");
                }
                Tensor loss = output.mul(fx.get("grad_output")).sum().add(hN.mul(fx.get("grad_h_n")).sum());
                if (lstm) {
                    loss = loss.add(cN.mul(fx.get("grad_c_n")).sum());
                }
                loss.backward();
                assertClose(input.grad(), fx.get("grad.input"), BWD, BWD, file + " grad.input");
                if (h0 != null) {
                    assertClose(h0.grad(), fx.get("grad.h0"), BWD, BWD, file + " grad.h0");
                }
                if (c0 != null) {
                    assertClose(c0.grad(), fx.get("grad.c0"), BWD, BWD, file + " grad.c0");
                }
                for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
                    assertClose(e.getValue().grad(), fx.get("grad." + e.getKey()), BWD, BWD, file + " grad." + e.getKey());
                }
                input.zeroGrad();
            } finally {
                m.close();
            }
        }
    }

    static RnnOutput forward(RNNBase m, Tensor input, Tensor h0, Tensor c0) {
        if (m instanceof LSTM l) {
            return l.forward(input, h0, c0);
        }
        if (m instanceof GRU g) {
            return g.forward(input, h0);
        }
        return ((RNN) m).forward(input, h0);
    }

    static PackedRnnOutput forwardPacked(RNNBase m, PackedSequence p, Tensor h0, Tensor c0) {
        if (m instanceof LSTM l) {
            return l.forward(p, h0, c0);
        }
        if (m instanceof GRU g) {
            return g.forward(p, h0);
        }
        return ((RNN) m).forward(p, h0);
    }

    private void runCell(Backend backend, String file, FixtureFile loaded) {
        try (FixtureFile fx = loaded;
             Backends.Override o = Backends.use(backend);
             Scope scope = Scope.open()) {
            String module = fx.meta("module");
            int in = Integer.parseInt(fx.meta("input_size"));
            int hid = Integer.parseInt(fx.meta("hidden_size"));
            boolean bias = Boolean.parseBoolean(fx.meta("bias"));
            boolean hasH0 = Boolean.parseBoolean(fx.meta("has_h0"));
            org.rnn4j.Generator gen = new org.rnn4j.Generator(1);
            RNNCellBase cell = switch (module) {
                case "RNNCell" -> new RNNCell(in, hid, bias, fx.meta("nonlinearity"), gen);
                case "LSTMCell" -> new LSTMCell(in, hid, bias, gen);
                case "GRUCell" -> new GRUCell(in, hid, bias, gen);
                default -> throw new IllegalArgumentException(module);
            };
            try {
                loadParams(cell, fx);
                Tensor input = fx.get("input").copy().requiresGrad(true);
                Tensor h0 = hasH0 ? fx.get("h0").copy().requiresGrad(true) : null;
                Tensor c0 = hasH0 && cell instanceof LSTMCell ? fx.get("c0").copy().requiresGrad(true) : null;
                Tensor h;
                Tensor c = null;
                if (cell instanceof LSTMCell l) {
                    LSTMCell.State s = l.forward(input, h0, c0);
                    h = s.h();
                    c = s.c();
                } else if (cell instanceof GRUCell g) {
                    h = g.forward(input, h0);
                } else {
                    h = ((RNNCell) cell).forward(input, h0);
                }
                assertClose(h, fx.get("h_n"), FWD, FWD, file + " h'");
                Tensor loss = h.mul(fx.get("grad_h_n")).sum();
                if (c != null) {
                    assertClose(c, fx.get("c_n"), FWD, FWD, file + " c'");
                    loss = loss.add(c.mul(fx.get("grad_c_n")).sum());
                }
                loss.backward();
                assertClose(input.grad(), fx.get("grad.input"), BWD, BWD, file + " grad.input");
                if (h0 != null) {
                    assertClose(h0.grad(), fx.get("grad.h0"), BWD, BWD, file + " grad.h0");
                }
                if (c0 != null) {
                    assertClose(c0.grad(), fx.get("grad.c0"), BWD, BWD, file + " grad.c0");
                }
                for (Map.Entry<String, Tensor> e : cell.namedParameters().entrySet()) {
                    assertClose(e.getValue().grad(), fx.get("grad." + e.getKey()), BWD, BWD, file + " grad." + e.getKey());
                }
                input.zeroGrad();
            } finally {
                cell.close();
            }
        }
    }
}
