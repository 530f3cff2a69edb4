package org.rnn4j.testing;

import java.util.Arrays;
import org.rnn4j.Tensor;

/** Closeness checks that name the worst element when they fail. */
public final class TensorAssert {
    private TensorAssert() {
    }

    /** |actual - expected| <= atol + rtol * |expected| elementwise, shapes equal. */
    public static void assertClose(Tensor actual, Tensor expected, double rtol, double atol, String name) {
        if (!Arrays.equals(actual.shape(), expected.shape())) {
            throw new AssertionError(name + ": shape " + Arrays.toString(actual.shape()) + " != expected "
                    + Arrays.toString(expected.shape()));
        }
        assertClose(actual.toArray(), expected.toArray(), actual.shape(), rtol, atol, name);
    }

    public static void assertClose(float[] actual, float[] expected, int[] shape, double rtol, double atol, String name) {
        if (actual.length != expected.length) {
            throw new AssertionError(name + ": " + actual.length + " elements != expected " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0;
        double maxAbs = 0;
        int bad = 0;
        for (int i = 0; i < actual.length; i++) {
            double a = actual[i];
            double e = expected[i];
            double diff = Math.abs(a - e);
            if (Double.isNaN(a) != Double.isNaN(e) || (!Double.isNaN(a) && Double.isInfinite(e) && a != e)) {
                diff = Double.POSITIVE_INFINITY;
            } else if (Double.isNaN(a)) {
                diff = 0;
            }
            maxAbs = Math.max(maxAbs, diff);
            double excess = diff - (atol + rtol * Math.abs(e));
            if (excess > 0) {
                bad++;
                if (worst < 0 || excess > worstExcess) {
                    worst = i;
                    worstExcess = excess;
                }
            }
        }
        if (worst >= 0) {
            throw new AssertionError(String.format("%s: %d of %d elements differ (rtol=%g, atol=%g); worst at %s: actual %.9g, expected %.9g, |diff| %.3g; max |diff| %.3g",
                    name, bad, actual.length, rtol, atol, index(worst, shape), actual[worst], expected[worst],
                    Math.abs(actual[worst] - expected[worst]), maxAbs));
        }
    }

    /** Multi-index of flat position {@code i} in {@code shape}, as text. */
    public static String index(int i, int[] shape) {
        if (shape == null || shape.length == 0) {
            return "[" + i + "]";
        }
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            int s = Math.max(shape[d], 1);
            idx[d] = i % s;
            i /= s;
        }
        return Arrays.toString(idx);
    }
}
