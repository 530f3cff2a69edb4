package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.RNN;
import org.rnn4j.nn.RnnOutput;
import org.rnn4j.stream.FrozenRnn;
import org.rnn4j.stream.StreamState;

/**
 * Streaming step by step gives the module's ordinary full-sequence forward (and its head) within
 * 1e-5, for RNN tanh/relu, LSTM with and without proj_size, GRU, one and several layers, on every
 * CPU backend; the final state equals the forward's h_n (and c_n).
 */
class StreamForwardParityTest {
    private static final float TOL = 1e-5f;

    @TestFactory
    Stream<DynamicTest> streamingEqualsForward() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            for (StreamTesting.Net net : StreamTesting.nets(3)) {
                tests.add(DynamicTest.dynamicTest(b.name() + ": " + net, () -> {
                    try (net) {
                        run(b, net);
                    }
                }));
            }
        }
        return tests.stream();
    }

    private static void close(float expected, float actual, String what) {
        float tol = TOL * Math.max(1f, Math.abs(expected));
        assertTrue(Math.abs(expected - actual) <= tol, what + ": expected " + expected + ", got " + actual);
    }

    private static void run(Backend backend, StreamTesting.Net net) {
        final int steps = 15;
        final int batch = 3;
        try (Backends.Override o = Backends.use(backend); Scope scope = Scope.open(); GradMode.Guard g = GradMode.noGrad();
             FrozenRnn m = FrozenRnn.freeze(net.rnn(), net.head(), backend)) {
            int in = m.inputSize();
            int layers = m.numLayers();
            float[] x = StreamTesting.randn(new Random(9), steps * batch * in);
            Tensor xt = Tensor.fromArray(x, steps, batch, in).to(net.rnn().parameters().get(0).device());
            RnnOutput ref = forward(net, xt);
            Tensor y = net.head() == null ? ref.output() : net.head().forward(ref.output());
            float[] ys = y.toArray(); // (steps, batch, O)
            float[] hN = ref.hN().toArray(); // (layers, batch, R)
            float[] cN = ref.cN() == null ? null : ref.cN().toArray();
            int out = m.outputSize();
            int r = m.layerOutputSize();
            for (int b = 0; b < batch; b++) {
                try (StreamState st = m.newState()) {
                    for (int t = 0; t < steps; t++) {
                        float[] xb = new float[in];
                        System.arraycopy(x, (t * batch + b) * in, xb, 0, in);
                        float[] yb = m.step(st, xb);
                        assertEquals(out, yb.length);
                        for (int j = 0; j < out; j++) {
                            close(ys[(t * batch + b) * out + j], yb[j], net + " seq " + b + " step " + t + " out " + j);
                        }
                    }
                    for (int l = 0; l < layers; l++) {
                        float[] h = st.hidden(l);
                        for (int j = 0; j < r; j++) {
                            close(hN[(l * batch + b) * r + j], h[j], net + " h_n layer " + l);
                        }
                        if (cN != null) {
                            float[] c = st.cell(l);
                            int hid = m.hiddenSize();
                            for (int j = 0; j < hid; j++) {
                                close(cN[(l * batch + b) * hid + j], c[j], net + " c_n layer " + l);
                            }
                        }
                    }
                }
            }
        }
    }

    private static RnnOutput forward(StreamTesting.Net net, Tensor x) {
        if (net.rnn() instanceof LSTM l) {
            return l.forward(x);
        }
        if (net.rnn() instanceof GRU gr) {
            return gr.forward(x);
        }
        return ((RNN) net.rnn()).forward(x);
    }
}
