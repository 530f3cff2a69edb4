package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.UnaryOp;

/**
 * Error bounds of the native exp/tanh/sigmoid approximations (common.h), measured in ulps of
 * the float result against the correctly rounded double result, on a dense sweep. Stated bounds:
 * exp <= 2 ulp, tanh and sigmoid <= 3 ulp, all within 1e-6 relative for normal results.
 */
class NativeMathTest {

    static double ulpError(float actual, double exact) {
        float rounded = (float) exact;
        if (actual == rounded) {
            return 0;
        }
        return Math.abs(actual - exact) / Math.ulp(rounded);
    }

    static void sweep(UnaryOp op, float lo, float hi, int n, double maxUlp) {
        Backend nat = Backends.byName("native");
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = lo + (hi - lo) * i / (n - 1);
        }
        try (Tensor in = Tensor.fromArray(x, n); Tensor out = Tensor.zeros(n)) {
            Direct.on(nat).unary(op, out, in);
            float[] y = out.toArray();
            double worst = 0;
            float at = 0;
            for (int i = 0; i < n; i++) {
                double exact = switch (op) {
                    case EXP -> Math.exp(x[i]);
                    case TANH -> Math.tanh(x[i]);
                    default -> 1 / (1 + Math.exp(-x[i]));
                };
                if (Math.abs(exact) < Float.MIN_NORMAL) {
                    continue;    // denormal results: absolute error below 1e-38 is all that matters
                }
                double e = ulpError(y[i], exact);
                if (e > worst) {
                    worst = e;
                    at = x[i];
                }
                assertTrue(Math.abs(y[i] - exact) <= 1e-6 * Math.abs(exact),
                        op + "(" + x[i] + ") = " + y[i] + ", exact " + exact);
            }
            System.out.printf("%s on [%g, %g]: max error %.2f ulp at x = %g%n", op, lo, hi, worst, at);
            assertTrue(worst <= maxUlp, op + ": " + worst + " ulp at x = " + at);
        }
    }

    @Test
    void expWithinTwoUlp() {
        sweep(UnaryOp.EXP, -87f, 88.7f, 2_000_001, 2);
        sweep(UnaryOp.EXP, -1f, 1f, 2_000_001, 2);
    }

    @Test
    void tanhWithinThreeUlp() {
        sweep(UnaryOp.TANH, -10f, 10f, 2_000_001, 3);
        sweep(UnaryOp.TANH, -0.7f, 0.7f, 2_000_001, 3);
        sweep(UnaryOp.TANH, -1e-3f, 1e-3f, 200_001, 3);
    }

    @Test
    void sigmoidWithinThreeUlp() {
        sweep(UnaryOp.SIGMOID, -80f, 30f, 2_000_001, 3);
    }
}
