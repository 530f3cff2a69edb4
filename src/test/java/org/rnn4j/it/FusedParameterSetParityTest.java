package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.rnn4j.testing.TensorAssert.assertClose;

import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.OptimizerStep;
import org.rnn4j.backend.ReferenceBackend;

/** The one-call-per-parameter-set kernels (optimizer step, sum of squares, scale): native vs reference. */
class FusedParameterSetParityTest {
    private static final int[][] SHAPES = {{7, 3}, {1}, {0, 4}, {64, 33}, {5}};

    private static Tensor[] randomSet(Generator g) {
        Tensor[] out = new Tensor[SHAPES.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Tensor.randn(g, SHAPES[i]);
        }
        return out;
    }

    private static Tensor[] copies(Tensor[] xs) {
        Tensor[] out = new Tensor[xs.length];
        for (int i = 0; i < xs.length; i++) {
            out[i] = xs[i].copy();
        }
        return out;
    }

    @Test
    void optimizerStepsOverASetMatchTheReference() {
        Backend nat = Backends.byName("native");
        Backend ref = ReferenceBackend.INSTANCE;
        for (OptimizerStep.Kind kind : OptimizerStep.Kind.values()) {
            try (Scope s = Scope.open()) {
                Generator g = new Generator(kind.ordinal() + 1);
                Tensor[] pN = randomSet(g);
                Tensor[] gr = randomSet(g);
                Tensor[] m = randomSet(g);
                Tensor[] v = randomSet(g);
                for (Tensor t : v) {
                    t.copyFrom(t.abs());
                }
                Tensor[] pR = copies(pN);
                Tensor[] mN = copies(m);
                Tensor[] mR = copies(m);
                Tensor[] vN = copies(v);
                Tensor[] vR = copies(v);
                for (long step = 1; step <= 3; step++) {
                    OptimizerStep u = new OptimizerStep(kind, 0.01f, 0.9f, 0.1f, false, 0.01f, 0.9f, 0.999f, 1e-8f, step,
                            step == 1);
                    boolean usesV = kind != OptimizerStep.Kind.SGD;
                    Direct.on(nat).optimizerStep(u, pN, gr, mN, usesV ? vN : null);
                    Direct.on(ref).optimizerStep(u, pR, gr, mR, usesV ? vR : null);
                }
                for (int i = 0; i < pN.length; i++) {
                    assertClose(pN[i], pR[i], 1e-6, 1e-6, kind + " param " + i);
                    assertClose(mN[i], mR[i], 1e-6, 1e-6, kind + " state1 " + i);
                }
            }
        }
    }

    @Test
    void sumOfSquaresAndScaleOverASet() {
        Backend nat = Backends.byName("native");
        try (Scope s = Scope.open()) {
            Tensor[] xs = randomSet(new Generator(9));
            double expected = Direct.on(ReferenceBackend.INSTANCE).sumSquares(xs);
            assertEquals(expected, Direct.on(nat).sumSquares(xs), 1e-9 * expected);
            Tensor[] ys = copies(xs);
            Direct.on(nat).scale(xs, 0.37f);
            Direct.on(ReferenceBackend.INSTANCE).scale(ys, 0.37f);
            for (int i = 0; i < xs.length; i++) {
                assertClose(xs[i], ys[i], 1e-7, 0, "scaled " + i);
            }
        }
    }
}
