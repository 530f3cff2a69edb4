package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.CellKind;
import org.rnn4j.nativecpu.NativeBackend;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.LSTM;
import org.rnn4j.testing.TensorAssert;

/**
 * Both directions of a bidirectional layer add their input gradient into one dx buffer. With a
 * thread budget of two or more the native kernel runs the directions concurrently; their dx adds
 * must take turns. Two unguarded adds of small layers, whose directions finish within
 * microseconds of each other, now and then lose one direction's whole contribution (found by
 * tools/fuzz_parity.py as a flaky grad.input of about one bidirectional case in a few hundred),
 * so the layer runs many times; the oracle is the same layer run one direction per call, which is
 * sequential by construction.
 */
class NativeBidirectionalDxTest {
    private static final NativeBackend NATIVE = new NativeBackend();
    private static final int ROUNDS = Integer.getInteger("dxtest.rounds", 3000);

    @Test
    void concurrentDirectionsSumDxLikeSequentialCalls() {
        assumeTrue(NATIVE.isAvailable(), NATIVE.unavailableReason());
        assumeTrue(NativeBackend.blasThreads() >= 2,
                "the directions only run concurrently with 2+ threads; this JVM has " + NativeBackend.blasThreads());
        int steps = 12;
        int n = 5;
        int in = 40;
        int hid = 33;
        int gh = 4 * hid;
        int rows = steps * n;
        int[] bs = new int[steps];
        Arrays.fill(bs, n);
        Generator g = new Generator(20261202);
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.uniform(g, -1, 1, rows, in);
            Tensor dy = Tensor.uniform(g, -1, 1, rows, 2 * hid);
            float s = (float) (1 / Math.sqrt(hid));
            Tensor[] wIh = {Tensor.uniform(g, -s, s, gh, in), Tensor.uniform(g, -s, s, gh, in)};
            Tensor[] wHh = {Tensor.uniform(g, -s, s, gh, hid), Tensor.uniform(g, -s, s, gh, hid)};
            Tensor[] bIh = {Tensor.uniform(g, -s, s, gh), Tensor.uniform(g, -s, s, gh)};
            Tensor[] bHh = {Tensor.uniform(g, -s, s, gh), Tensor.uniform(g, -s, s, gh)};
            for (int round = 0; round < ROUNDS; round++) {
                try (Scope perRound = Scope.open()) {
                    Tensor dxTogether = Tensor.zeros(rows, in);
                    Tensor dxApart = Tensor.zeros(rows, in);
                    TensorArgs[] together = new TensorArgs[2];
                    TensorArgs[] apart = new TensorArgs[2];
                    for (int k = 0; k < 2; k++) {
                        together[k] = args(k, bs, in, hid, x, dy, wIh[k], wHh[k], bIh[k], bHh[k], rows, dxTogether);
                        apart[k] = args(k, bs, in, hid, x, dy, wIh[k], wHh[k], bIh[k], bHh[k], rows, dxApart);
                    }
                    NATIVE.rnnForward(TensorArgs.views(together));
                    NATIVE.rnnBackward(TensorArgs.views(together)); // both directions in one call: concurrent
                    for (int k = 0; k < 2; k++) {
                        NATIVE.rnnForward(TensorArgs.views(apart[k]));
                        NATIVE.rnnBackward(TensorArgs.views(apart[k])); // one direction per call: sequential
                    }
                    TensorAssert.assertClose(dxTogether, dxApart, 1e-5, 1e-5, "round " + round + " dx");
                }
            }
        }
    }

    /**
     * OpenBLAS's thread count is process-wide (its "_local" setter too, in the build we link): a
     * bidirectional layer, whose directions run concurrently, and a large-batch layer, whose
     * steps are split with the step worker, must leave it at the configured count, else every
     * later GEMM in the process silently runs on one core.
     */
    @Test
    void layersLeaveTheBlasThreadCountAsConfigured() {
        assumeTrue(NATIVE.isAvailable(), NATIVE.unavailableReason());
        int configured = NativeBackend.blasThreads();
        assumeTrue(configured >= 2, "one thread configured: nothing to lower");
        Generator g = new Generator(7);
        try (Scope scope = Scope.open();
             Backends.Override o = Backends.use(NATIVE)) {
            LSTM bi = LSTM.builder().inputSize(16).hiddenSize(64).bidirectional(true)
                    .generator(g).build();
            GRU wide = GRU.builder().inputSize(16).hiddenSize(128).generator(g).build();
            Tensor x = Tensor.uniform(g, -1, 1, 6, 32, 16).requiresGrad(true);
            bi.forward(x).output().sum().backward();
            assertEquals(configured, NativeBackend.blasThreads(),
                    "OpenBLAS threads after a bidirectional layer's forward and backward");
            wide.forward(x).output().sum().backward();
            assertEquals(configured, NativeBackend.blasThreads(),
                    "OpenBLAS threads after a unidirectional layer over 32 rows");
            bi.close();
            wide.close();
        }
    }

    private static TensorArgs args(int k, int[] bs, int in, int hid, Tensor x, Tensor dy, Tensor wIh, Tensor wHh,
                                     Tensor bIh, Tensor bHh, int rows, Tensor dx) {
        CellKind kind = CellKind.LSTM;
        TensorArgs a = new TensorArgs();
        a.kind = kind;
        a.reverse = k == 1;
        a.batchSizes = bs.clone();
        a.inputSize = in;
        a.hiddenSize = hid;
        a.projSize = 0;
        a.x = x;
        a.h0 = Tensor.zeros(bs[0], hid);
        a.c0 = Tensor.zeros(bs[0], hid);
        a.wIh = wIh;
        a.wHh = wHh;
        a.bIh = bIh;
        a.bHh = bHh;
        a.y = Tensor.zeros(rows, hid);
        a.hN = Tensor.zeros(bs[0], hid);
        a.cN = Tensor.zeros(bs[0], hid);
        a.workspace = Tensor.zeros(rows, kind.workspaceRow(hid, 0));
        a.dy = dy.narrow(1, k * hid, hid);
        a.dx = dx;
        a.dh0 = Tensor.zeros(bs[0], hid);
        a.dc0 = Tensor.zeros(bs[0], hid);
        a.dWIh = Tensor.zeros(4 * hid, in);
        a.dWHh = Tensor.zeros(4 * hid, hid);
        a.dBIh = Tensor.zeros(4 * hid);
        a.dBHh = Tensor.zeros(4 * hid);
        return a;
    }
}
