package org.rnn4j.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.rnn4j.optim.OptimizerTest.assertMessage;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;

/**
 * The non-fused extension point ({@link Optimizer#apply}) and {@link RMSprop}, which uses it:
 * RMSprop against torch.optim.RMSprop's formulas written out in double precision, validation,
 * all-or-nothing steps, state names and loading.
 */
class OptimizerExtensionTest {
    /** Plain SGD written from tensor ops alone, with one state buffer counting its updates. */
    private static final class OpsSgd extends Optimizer {
        OpsSgd(List<Tensor> params, double lr) {
            super("OpsSgd", params, lr, "count");
        }

        @Override
        protected void apply(int i, Tensor param, Tensor grad, Tensor[] state, long step) {
            param.addInPlace(grad, (float) -getLr());
            state[0].add(1f);                       // a temporary: freed by the per-parameter scope
            state[0].addInPlace(Tensor.ones(param.shape()), 1f);
        }

        @Override
        protected boolean savesStep() {
            return true;
        }

        @Override
        protected Map<String, String> hyperParameters() {
            return Map.of();
        }

        @Override
        protected Runnable prepareHyperParameters(Map<String, String> values) {
            return () -> { };
        }
    }

    /** Not fused and no apply: a clear error. */
    private static final class Incomplete extends Optimizer {
        Incomplete(List<Tensor> params) {
            super("Incomplete", params, 0.1);
        }

        @Override
        protected Map<String, String> hyperParameters() {
            return Map.of();
        }

        @Override
        protected Runnable prepareHyperParameters(Map<String, String> values) {
            return () -> { };
        }
    }

    @Test
    void tensorOpOptimizerMatchesFusedSgdAndKeepsItsState() {
        Generator gen = new Generator(3);
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.randn(gen, 3, 2).requiresGrad(true);
            Tensor b = a.detach().copy().requiresGrad(true);
            try (OpsSgd ops = new OpsSgd(List.of(a), 0.1); SGD fused = new SGD(List.of(b), 0.1)) {
                for (int k = 0; k < 3; k++) {
                    Tensor g = Tensor.randn(gen, 3, 2);
                    a.setGrad(g.copy());
                    b.setGrad(g.copy());
                    ops.step();
                    fused.step();
                    assertClose(a, b, 1e-6, 1e-7, "ops vs fused after step " + (k + 1));
                }
                assertEquals(3, ops.stepCount(0));
                Map<String, Tensor> st = ops.stateDict();
                assertEquals(List.of("state.0.count"), List.copyOf(st.keySet()));
                assertArrayEquals(new float[] {3, 3, 3, 3, 3, 3}, st.get("state.0.count").toArray());
                assertEquals("3", ops.scalarState().get("state.0.step"));
            }
        }
    }

    @Test
    void notFusedWithoutApplySaysSo() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.zeros(2).requiresGrad(true);
            try (Incomplete opt = new Incomplete(List.of(a))) {
                a.setGrad(Tensor.ones(2));
                UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, opt::step);
                assertTrue(e.getMessage().contains("apply()"), e.getMessage());
            }
        }
    }

    /** torch.optim.RMSprop (single tensor) in double precision. */
    private static double[] oracle(float[] p0, float[][] grads, double lr, double alpha, double eps, double wd,
                                   double momentum, boolean centered) {
        int n = p0.length;
        double[] p = new double[n];
        double[] sq = new double[n];
        double[] ga = new double[n];
        double[] buf = new double[n];
        for (int i = 0; i < n; i++) {
            p[i] = p0[i];
        }
        for (float[] gs : grads) {
            for (int i = 0; i < n; i++) {
                double g = gs[i] + wd * p[i];
                sq[i] = alpha * sq[i] + (1 - alpha) * g * g;
                double avg;
                if (centered) {
                    ga[i] = alpha * ga[i] + (1 - alpha) * g;
                    avg = Math.sqrt(sq[i] - ga[i] * ga[i]) + eps;
                } else {
                    avg = Math.sqrt(sq[i]) + eps;
                }
                if (momentum > 0) {
                    buf[i] = momentum * buf[i] + g / avg;
                    p[i] -= lr * buf[i];
                } else {
                    p[i] -= lr * g / avg;
                }
            }
        }
        return p;
    }

    @Test
    void rmspropMatchesFormulas() {
        Object[][] cases = {
            {0.01, 0.99, 1e-8, 0.0, 0.0, false},
            {0.005, 0.9, 1e-6, 0.1, 0.0, false},
            {0.003, 0.95, 1e-8, 0.0, 0.9, false},
            {0.002, 0.9, 1e-8, 0.05, 0.5, true},
            {0.01, 0.99, 1e-8, 0.0, 0.0, true},
        };
        Generator gen = new Generator(21);
        for (Object[] c : cases) {
            double lr = (double) c[0], alpha = (double) c[1], eps = (double) c[2], wd = (double) c[3];
            double momentum = (double) c[4];
            boolean centered = (boolean) c[5];
            try (Scope s = Scope.open()) {
                Tensor p = Tensor.randn(gen, 7).requiresGrad(true);
                float[] p0 = p.toArray();
                float[][] grads = new float[5][];
                try (RMSprop opt = RMSprop.builder(List.of(p)).lr(lr).alpha(alpha).eps(eps).weightDecay(wd)
                        .momentum(momentum).centered(centered).build()) {
                    for (int k = 0; k < grads.length; k++) {
                        Tensor g = Tensor.randn(gen, 7);
                        grads[k] = g.toArray();
                        p.setGrad(g);
                        opt.step();
                    }
                    double[] want = oracle(p0, grads, lr, alpha, eps, wd, momentum, centered);
                    float[] w = new float[want.length];
                    for (int i = 0; i < w.length; i++) {
                        w[i] = (float) want[i];
                    }
                    assertClose(p.toArray(), w, new int[] {7}, 1e-5, 1e-6, opt.toString());
                }
            }
        }
    }

    @Test
    void rmspropStateKeysDefaultsAndValidation() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.zeros(2, 2).requiresGrad(true);
            List<Tensor> ps = List.of(a);
            try (RMSprop d = RMSprop.builder(ps).build();
                 RMSprop all = RMSprop.builder(ps).momentum(0.9).centered(true).build()) {
                assertEquals(0.01, d.getLr());
                assertEquals(0.99, d.alpha());
                assertEquals(1e-8, d.eps());
                assertEquals(0.0, d.weightDecay());
                assertEquals(0.0, d.momentum());
                assertEquals(false, d.centered());
                a.setGrad(Tensor.ones(2, 2));
                d.step();
                assertEquals(List.of("state.0.square_avg"), List.copyOf(d.stateDict().keySet()));
                all.step();
                assertEquals(List.of("state.0.square_avg", "state.0.momentum_buffer", "state.0.grad_avg"),
                        List.copyOf(all.stateDict().keySet()));
                assertEquals("1", all.scalarState().get("state.0.step"));
                assertEquals("true", all.scalarState().get("centered"));

                // structure (which buffers) is fixed; values may change
                Map<String, String> sc = new java.util.LinkedHashMap<>(d.scalarState());
                sc.put("centered", "true");
                assertMessage(() -> d.loadStateDict(d.stateDict(), sc), "'centered'");
                sc.put("centered", "false");
                sc.put("momentum", "0.5");
                assertMessage(() -> d.loadStateDict(d.stateDict(), sc), "'momentum'");
                sc.put("momentum", "0.0");
                sc.put("alpha", "-1");
                assertMessage(() -> d.loadStateDict(d.stateDict(), sc), "alpha value: -1.0");
                sc.put("alpha", "0.5");
                d.loadStateDict(d.stateDict(), sc);
                assertEquals(0.5, d.alpha());
                assertMessage(() -> d.loadStateDict(all.stateDict(), all.scalarState()), "momentum_buffer");
            }
            assertMessage(() -> RMSprop.builder(ps).lr(-1).build(), "learning rate: -1.0");
            assertMessage(() -> RMSprop.builder(ps).eps(-1e-8).build(), "epsilon value: -1.0E-8");
            assertMessage(() -> RMSprop.builder(ps).momentum(-0.1).build(), "momentum value: -0.1");
            assertMessage(() -> RMSprop.builder(ps).weightDecay(-0.1).build(), "weight_decay value: -0.1");
            assertMessage(() -> RMSprop.builder(ps).alpha(-0.5).build(), "alpha value: -0.5");
            assertMessage(() -> RMSprop.builder(ps).alpha(Double.NaN).build(), "alpha value: NaN");
        }
    }

    @Test
    void badGradientChangesNothing() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.ones(3).requiresGrad(true);
            Tensor b = Tensor.ones(2).requiresGrad(true);
            try (RMSprop opt = RMSprop.builder(List.of(a, b)).momentum(0.9).build()) {
                a.setGrad(Tensor.ones(3));
                b.setGrad(Tensor.ones(3));      // wrong shape
                IllegalStateException e = assertThrows(IllegalStateException.class, opt::step);
                assertTrue(e.getMessage().contains("parameter 1"), e.getMessage());
                assertArrayEquals(new float[] {1, 1, 1}, a.toArray());
                assertEquals(0, opt.stepCount(0));
                assertTrue(opt.stateDict().isEmpty());
                b.setGrad(Tensor.ones(2));
                opt.step();                      // and the gradients were released
                assertEquals(1, opt.stepCount(0));
                assertEquals(1, opt.stepCount(1));
            }
        }
    }
}
