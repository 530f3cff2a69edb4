package org.rnn4j.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.testing.FixtureFile;

/** Losses against PyTorch fixtures (fixtures/loss) and finite differences. */
class LossesTest {
    // fixtures hold the float32 rounding of a float64 computation: float32 ops land within ~1e-6
    private static final double RTOL = 1e-5;
    private static final double ATOL = 1e-6;

    @ParameterizedTest
    @ValueSource(strings = {"mean", "sum", "none", "mean_ignore", "sum_ignore", "none_ignore", "mean_ignore_index2",
        "kdim_mean_ignore", "kdim_none", "unbatched_sum"})
    void crossEntropyMatchesPyTorch(String name) {
        try (FixtureFile f = FixtureFile.resource("loss/cross_entropy_" + name + ".safetensors"); Scope s = Scope.open()) {
            Reduction reduction = Reduction.parse(f.meta("reduction"));
            int ignore = Integer.parseInt(f.meta("ignore_index"));
            Tensor logits = f.get("logits").copy().requiresGrad(true);
            Tensor loss = Losses.crossEntropy(logits, f.get("targets").toIntArray(), reduction, ignore);
            assertClose(loss.toArray(), f.get("loss").toArray(), loss.shape(), RTOL, ATOL, name + " loss");
            backward(loss, f);
            assertClose(logits.grad(), f.get("grad.logits"), RTOL, ATOL, name + " grad.logits");
            logits.zeroGrad();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mean", "sum", "none", "mean_ignore", "none_ignore", "mean_ignore_index2", "kdim_mean_ignore",
        "kdim_none"})
    void nllOfLogSoftmaxMatchesCrossEntropyFixtures(String name) {
        try (FixtureFile f = FixtureFile.resource("loss/cross_entropy_" + name + ".safetensors"); Scope s = Scope.open()) {
            Reduction reduction = Reduction.parse(f.meta("reduction"));
            int ignore = Integer.parseInt(f.meta("ignore_index"));
            Tensor logits = f.get("logits").copy().requiresGrad(true);
            Tensor loss = Losses.nllLoss(logits.logSoftmax(1), f.get("targets").toIntArray(), reduction, ignore);
            assertClose(loss.toArray(), f.get("loss").toArray(), loss.shape(), RTOL, ATOL, name + " nll loss");
            backward(loss, f);
            assertClose(logits.grad(), f.get("grad.logits"), RTOL, ATOL, name + " nll grad.logits");
            logits.zeroGrad();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mean", "sum", "none"})
    void mseMatchesPyTorch(String name) {
        try (FixtureFile f = FixtureFile.resource("loss/mse_" + name + ".safetensors"); Scope s = Scope.open()) {
            Tensor input = f.get("input").copy().requiresGrad(true);
            Tensor target = f.get("target").copy().requiresGrad(true);
            Tensor loss = MSELoss.builder().reduction(Reduction.parse(f.meta("reduction"))).build().forward(input, target);
            assertClose(loss.toArray(), f.get("loss").toArray(), loss.shape(), RTOL, ATOL, name + " loss");
            backward(loss, f);
            assertClose(input.grad(), f.get("grad.input"), RTOL, ATOL, name + " grad.input");
            assertClose(target.grad(), f.get("grad.target"), RTOL, ATOL, name + " grad.target");
            input.zeroGrad();
            target.zeroGrad();
        }
    }

    private static void backward(Tensor loss, FixtureFile f) {
        if (f.has("grad_loss")) {
            loss.backward(f.get("grad_loss"));
        } else {
            loss.backward();
        }
    }

    // ---- finite differences ----------------------------------------------------------------

    /**
     * Double-sided differences in float32 with eps = 1e-2: the truncation error is
     * O(eps^2 * f''') ~ 1e-5 and the rounding error ~ 6e-8 * |loss| / eps ~ 1e-5, so analytic
     * and numeric gradients must agree to atol 2e-4 + rtol 1e-2.
     */
    private static void gradCheck(Tensor x, Function<Tensor, Tensor> f, String name) {
        final float eps = 1e-2f;
        try (Scope s = Scope.open()) {
            Tensor leaf = x.copy().requiresGrad(true);
            f.apply(leaf).backward();
            float[] analytic = leaf.grad().toArray();
            leaf.zeroGrad();
            float[] base = x.toArray();
            float[] numeric = new float[base.length];
            try (GradMode.Guard g = GradMode.noGrad()) {
                for (int i = 0; i < base.length; i++) {
                    float[] plus = base.clone();
                    float[] minus = base.clone();
                    plus[i] += eps;
                    minus[i] -= eps;
                    double lp = f.apply(Tensor.fromArray(plus, x.shape())).item();
                    double lm = f.apply(Tensor.fromArray(minus, x.shape())).item();
                    numeric[i] = (float) ((lp - lm) / (2 * eps));
                }
            }
            assertClose(analytic, numeric, x.shape(), 1e-2, 2e-4, name);
        }
    }

    @Test
    void crossEntropyGradientMatchesFiniteDifferences() {
        Generator gen = new Generator(7);
        try (Scope s = Scope.open()) {
            Tensor logits = Tensor.randn(gen, 6, 5);
            int[] target = {3, 0, -100, 4, 1, 4};
            for (Reduction r : new Reduction[] {Reduction.MEAN, Reduction.SUM}) {
                gradCheck(logits, z -> Losses.crossEntropy(z, target, r, -100), "cross_entropy " + r);
            }
            Tensor w = Tensor.randn(gen, 6);   // NONE: check sum(loss * w), w random so rows differ
            gradCheck(logits, z -> Losses.crossEntropy(z, target, Reduction.NONE, -100).mul(w).sum(), "cross_entropy NONE");
        }
    }

    @Test
    void crossEntropyKDimGradientMatchesFiniteDifferences() {
        Generator gen = new Generator(8);
        try (Scope s = Scope.open()) {
            Tensor logits = Tensor.randn(gen, 2, 4, 3);   // (N, C, d1)
            int[] target = {0, 3, 1, 2, -100, 3};        // (N, d1)
            gradCheck(logits, z -> Losses.crossEntropy(z, target, Reduction.MEAN, -100), "cross_entropy (N,C,d1)");
        }
    }

    @Test
    void mseGradientMatchesFiniteDifferences() {
        Generator gen = new Generator(9);
        try (Scope s = Scope.open()) {
            Tensor input = Tensor.randn(gen, 3, 4);
            Tensor target = Tensor.randn(gen, 3, 4);
            gradCheck(input, x -> Losses.mse(x, target, Reduction.MEAN), "mse mean");
            gradCheck(input, x -> Losses.mse(x, target, Reduction.SUM), "mse sum");
            gradCheck(target, t -> Losses.mse(input, t, Reduction.MEAN), "mse mean wrt target");
        }
    }

    // ---- shapes, edge cases, inference -----------------------------------------------------

    @Test
    void kDimFormEqualsRowForm() {
        Generator gen = new Generator(3);
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(gen, 2, 3, 4, 2);   // (N, C, d1, d2)
            int[] target = new int[2 * 4 * 2];
            for (int i = 0; i < target.length; i++) {
                target[i] = gen.nextInt(3);
            }
            Tensor rows = x.permute(0, 2, 3, 1).reshape(-1, 3);
            Tensor none = Losses.crossEntropy(x, target, Reduction.NONE, -100);
            assertArrayEquals(new int[] {2, 4, 2}, none.shape());
            assertClose(none.reshape(-1), Losses.crossEntropy(rows, target, Reduction.NONE, -100), 1e-6, 1e-7, "k-dim none");
            assertClose(Losses.crossEntropy(x, target, Reduction.MEAN, -100),
                    Losses.crossEntropy(rows, target, Reduction.MEAN, -100), 1e-6, 1e-7, "k-dim mean");
        }
    }

    @Test
    void unbatchedLogitsGiveScalar() {
        try (Scope s = Scope.open()) {
            Tensor z = Tensor.of(1f, 2f, 3f).requiresGrad(true);
            Tensor loss = Losses.crossEntropy(z, new int[] {2}, Reduction.NONE, -100);
            assertEquals(0, loss.dim());
            double lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
            assertEquals(lse - 3, loss.item(), 1e-6);
            loss.backward();
            assertArrayEquals(new int[] {3}, z.grad().shape());
        }
    }

    @Test
    void allIgnoredMeanIsNaNWithZeroGradient() {
        try (Scope s = Scope.open()) {
            Tensor z = Tensor.of(new float[][] {{1f, 2f}, {0f, -1f}}).requiresGrad(true);
            Tensor loss = Losses.crossEntropy(z, new int[] {-100, -100}, Reduction.MEAN, -100);
            assertTrue(Float.isNaN(loss.item()), "PyTorch gives nan for 0/0");
            loss.backward();
            assertArrayEquals(new float[4], z.grad().toArray());
        }
    }

    @Test
    void noGradRecordsNothing() {
        try (Scope s = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            Tensor z = Tensor.randn(new Generator(1), 4, 3).requiresGrad(true);
            Tensor ce = Losses.crossEntropy(z, new int[] {0, 1, 2, 1});
            Tensor nll = Losses.nllLoss(z.logSoftmax(1), new int[] {0, 1, 2, 1});
            Tensor mse = Losses.mse(z, Tensor.zeros(4, 3));
            assertNull(ce.gradFn());
            assertNull(nll.gradFn());
            assertNull(mse.gradFn());
            assertEquals(ce.item(), nll.item(), 1e-6);
        }
    }

    @Test
    void wrappersUsePyTorchDefaults() {
        CrossEntropyLoss ce = new CrossEntropyLoss();
        assertEquals(Reduction.MEAN, ce.reduction());
        assertEquals(-100, ce.ignoreIndex());
        CrossEntropyLoss custom = CrossEntropyLoss.builder().ignoreIndex(0).reduction(Reduction.SUM).build();
        assertEquals(0, custom.ignoreIndex());
        assertEquals(Reduction.SUM, custom.reduction());
        assertEquals(Reduction.MEAN, new MSELoss().reduction());
        try (Scope s = Scope.open()) {
            Tensor z = Tensor.of(new float[][] {{1f, 2f, 0.5f}, {0f, -1f, 3f}});
            assertEquals(Losses.crossEntropy(z, new int[] {1, 0}, Reduction.SUM, 0).item(),
                    custom.forward(z, Tensor.of(1f, 0f)).item(), 0f);
        }
    }

    @Test
    void badArgumentsNameTheValue() {
        try (Scope s = Scope.open()) {
            Tensor z = Tensor.zeros(2, 3);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> Losses.crossEntropy(z, new int[] {0, 3}, Reduction.MEAN, -100));
            assertTrue(e.getMessage().contains("target 3"), e.getMessage());
            IllegalArgumentException n = assertThrows(IllegalArgumentException.class,
                    () -> Losses.crossEntropy(z, new int[] {0}, Reduction.MEAN, -100));
            assertTrue(n.getMessage().contains("expected 2 targets"), n.getMessage());
            IllegalArgumentException m = assertThrows(IllegalArgumentException.class,
                    () -> Losses.mse(z, Tensor.zeros(2, 1)));
            assertTrue(m.getMessage().contains("[2, 1]"), m.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Reduction.parse("avg"));
        }
    }
}
