package org.rnn4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;

/**
 * Optimizers against torch.optim's formulas, written out here in double precision (independent
 * of OptimizerStep and the backends), and against values printed by PyTorch 1.13.
 */
class OptimizerTest {
    private static final double RTOL = 1e-5;
    private static final double ATOL = 1e-6;
    private static final int STEPS = 5;

    /** Hyper-parameters for the oracle. */
    private record Hp(String kind, double lr, double momentum, double dampening, boolean nesterov, double wd,
                      double b1, double b2, double eps) {
    }

    /** torch.optim single-tensor update, one parameter, over per-step gradients (null = skipped step). */
    private static double[] oracle(Hp h, float[] p0, float[][] grads) {
        int n = p0.length;
        double[] p = new double[n];
        for (int i = 0; i < n; i++) {
            p[i] = p0[i];
        }
        double[] buf = null;
        double[] m = new double[n];
        double[] v = new double[n];
        int t = 0;
        for (float[] gr : grads) {
            if (gr == null) {
                continue;   // PyTorch skips parameters whose grad is None
            }
            t++;
            for (int i = 0; i < n; i++) {
                double g = gr[i];
                switch (h.kind) {
                    case "SGD" -> {
                        g += h.wd * p[i];
                        if (h.momentum != 0) {
                            if (buf == null) {
                                buf = new double[n];
                                buf[i] = g;
                            } else if (t == 1) {
                                buf[i] = g;
                            } else {
                                buf[i] = h.momentum * buf[i] + (1 - h.dampening) * g;
                            }
                            g = h.nesterov ? g + h.momentum * buf[i] : buf[i];
                        }
                        p[i] -= h.lr * g;
                    }
                    case "Adam", "AdamW" -> {
                        if (h.kind.equals("AdamW")) {
                            p[i] *= 1 - h.lr * h.wd;
                        } else {
                            g += h.wd * p[i];
                        }
                        m[i] = h.b1 * m[i] + (1 - h.b1) * g;
                        v[i] = h.b2 * v[i] + (1 - h.b2) * g * g;
                        double bc1 = 1 - Math.pow(h.b1, t);
                        double bc2 = 1 - Math.pow(h.b2, t);
                        p[i] -= h.lr / bc1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + h.eps);
                    }
                    default -> throw new AssertionError(h.kind);
                }
            }
        }
        return p;
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    /** Runs {@code opt} over two parameters (the second skips step 2) and compares with the oracle. */
    private static void checkAgainstOracle(Hp h, Function<List<Tensor>, Optimizer> make) {
        Generator gen = new Generator(h.kind.hashCode() + (long) (h.momentum * 100) + (h.nesterov ? 7 : 0));
        float[] a0 = Tensor.randn(gen, 3, 4).toArray();
        float[] b0 = Tensor.randn(gen, 6).toArray();
        float[][] ga = new float[STEPS][];
        float[][] gb = new float[STEPS][];
        for (int s = 0; s < STEPS; s++) {
            ga[s] = Tensor.randn(gen, 3, 4).toArray();
            gb[s] = s == 2 ? null : Tensor.randn(gen, 6).toArray();
        }
        Tensor a = Tensor.fromArray(a0, 3, 4).requiresGrad(true);
        Tensor b = Tensor.fromArray(b0, 6).requiresGrad(true);
        try (Optimizer opt = make.apply(List.of(a, b))) {
            for (int s = 0; s < STEPS; s++) {
                opt.zeroGrad();
                a.setGrad(Tensor.fromArray(ga[s], 3, 4));
                b.setGrad(gb[s] == null ? null : Tensor.fromArray(gb[s], 6));
                opt.step();
            }
            assertEquals(STEPS, opt.stepCount(0));
            assertEquals(STEPS - 1, opt.stepCount(1), "a parameter without grad does not advance");
        }
        assertClose(a.toArray(), toFloat(oracle(h, a0, ga)), a.shape(), RTOL, ATOL, h + " a");
        assertClose(b.toArray(), toFloat(oracle(h, b0, gb)), b.shape(), RTOL, ATOL, h + " b");
        a.close();
        b.close();
    }

    @Test
    void sgdMatchesFormulas() {
        checkAgainstOracle(new Hp("SGD", 0.1, 0, 0, false, 0, 0, 0, 0), ps -> new SGD(ps, 0.1));
        checkAgainstOracle(new Hp("SGD", 0.05, 0, 0, false, 0.1, 0, 0, 0),
                ps -> SGD.builder(ps).lr(0.05).weightDecay(0.1).build());
        checkAgainstOracle(new Hp("SGD", 0.1, 0.9, 0, false, 0, 0, 0, 0),
                ps -> SGD.builder(ps).lr(0.1).momentum(0.9).build());
        checkAgainstOracle(new Hp("SGD", 0.1, 0.8, 0.3, false, 0.01, 0, 0, 0),
                ps -> SGD.builder(ps).lr(0.1).momentum(0.8).dampening(0.3).weightDecay(0.01).build());
        checkAgainstOracle(new Hp("SGD", 0.1, 0.9, 0, true, 0.01, 0, 0, 0),
                ps -> SGD.builder(ps).lr(0.1).momentum(0.9).nesterov(true).weightDecay(0.01).build());
    }

    @Test
    void adamMatchesFormulas() {
        checkAgainstOracle(new Hp("Adam", 1e-3, 0, 0, false, 0, 0.9, 0.999, 1e-8), ps -> new Adam(ps, 1e-3));
        checkAgainstOracle(new Hp("Adam", 0.02, 0, 0, false, 0.05, 0.8, 0.99, 1e-6),
                ps -> Adam.builder(ps).lr(0.02).betas(0.8, 0.99).eps(1e-6).weightDecay(0.05).build());
    }

    @Test
    void adamWMatchesFormulas() {
        checkAgainstOracle(new Hp("AdamW", 1e-3, 0, 0, false, 1e-2, 0.9, 0.999, 1e-8), ps -> new AdamW(ps, 1e-3));
        checkAgainstOracle(new Hp("AdamW", 0.03, 0, 0, false, 0.1, 0.85, 0.995, 1e-7),
                ps -> AdamW.builder(ps).lr(0.03).betas(0.85, 0.995).eps(1e-7).weightDecay(0.1).build());
    }

    // ---- values printed by PyTorch 1.13 (torch.optim, float32) ------------------------------

    private static final float[] P0 = {0.5f, -1.25f, 2.0f, 0.125f, -0.75f};
    private static final float[][] GRADS = {
        {-0.2f, 0f, 0.2f, -0.1f, 0.1f},
        {0.13f, -0.17f, 0.03f, 0.23f, -0.07f},
        {-0.04f, 0.16f, -0.14f, 0.06f, 0.26f},
        {0.29f, -0.01f, 0.19f, -0.11f, 0.09f},
    };

    private static float[] runTorchCase(Function<List<Tensor>, Optimizer> make) {
        try (Scope s = Scope.open()) {
            Tensor p = Tensor.of(P0.clone()).requiresGrad(true);
            try (Optimizer opt = make.apply(List.of(p))) {
                for (float[] g : GRADS) {
                    p.setGrad(Tensor.of(g.clone()));
                    opt.step();
                }
            }
            return p.toArray();
        }
    }

    @Test
    void matchesPyTorchPrintedValues() {
        // p = torch.tensor(P0); 4 steps with p.grad = GRADS[s]; print(p.tolist())
        assertClose(runTorchCase(ps -> SGD.builder(ps).lr(0.1).momentum(0.9).dampening(0.1).weightDecay(0.01).build()),
                new float[] {0.513449371f, -1.22444129f, 1.9139514f, 0.101867914f, -0.81343925f}, new int[] {5},
                RTOL, ATOL, "SGD(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)");
        assertClose(runTorchCase(ps -> SGD.builder(ps).lr(0.1).momentum(0.9).nesterov(true).weightDecay(0.01).build()),
                new float[] {0.486591816f, -1.21797693f, 1.88578928f, 0.0900348052f, -0.845130086f}, new int[] {5},
                RTOL, ATOL, "SGD(nesterov)");
        assertClose(runTorchCase(ps -> Adam.builder(ps).lr(0.01).betas(0.8, 0.99).eps(1e-6).weightDecay(0.01).build()),
                new float[] {0.507713318f, -1.23078132f, 1.97513795f, 0.12431176f, -0.772613347f}, new int[] {5},
                RTOL, ATOL, "Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)");
        assertClose(runTorchCase(ps -> new AdamW(ps, 0.01)),
                new float[] {0.510316253f, -1.24215949f, 1.97582018f, 0.124993093f, -0.773671627f}, new int[] {5},
                RTOL, ATOL, "AdamW(lr=0.01)");
    }

    // ---- memory, state dict, validation ------------------------------------------------------

    @Test
    void stateSurvivesPerStepScopes() {
        Tensor a = Tensor.fromArray(P0.clone(), 5).requiresGrad(true);
        Tensor ref = Tensor.fromArray(P0.clone(), 5).requiresGrad(true);
        try (Adam opt = Adam.builder(List.of(a)).lr(0.01).betas(0.8, 0.99).eps(1e-6).weightDecay(0.01).build();
             Adam plain = Adam.builder(List.of(ref)).lr(0.01).betas(0.8, 0.99).eps(1e-6).weightDecay(0.01).build()) {
            for (float[] g : GRADS) {
                try (Scope s = Scope.open()) {   // a training step: everything made here dies with it
                    a.setGrad(Tensor.of(g.clone()).mul(1f));
                    opt.step();
                }
                ref.setGrad(Tensor.of(g.clone()));
                plain.step();
            }
            for (Tensor t : opt.stateDict().values()) {
                t.ensureOpen("state buffer after scopes");
            }
        }
        assertClose(a, ref, 0, 0, "Adam stepped inside scopes");
        assertClose(a.toArray(), new float[] {0.507713318f, -1.23078132f, 1.97513795f, 0.12431176f, -0.772613347f},
                new int[] {5}, RTOL, ATOL, "Adam inside scopes vs PyTorch");
    }

    @Test
    void stepWorksUnderNoGrad() {
        try (Scope s = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            Tensor p = Tensor.of(1f, 2f).requiresGrad(true);
            try (SGD opt = new SGD(List.of(p), 0.5)) {
                p.setGrad(Tensor.of(1f, -2f));
                opt.step();
            }
            assertClose(p.toArray(), new float[] {0.5f, 3f}, new int[] {2}, 0, 0, "sgd under noGrad");
        }
    }

    @Test
    void stateDictRoundTripContinuesIdentically() {
        Generator gen = new Generator(11);
        for (String kind : new String[] {"SGD", "Adam", "AdamW", "RMSprop"}) {
            try (Scope s = Scope.open()) {
                Tensor a = Tensor.randn(gen, 2, 3).requiresGrad(true);
                Tensor b = Tensor.randn(gen, 4).requiresGrad(true);
                Function<List<Tensor>, Optimizer> make = switch (kind) {
                    case "SGD" -> ps -> SGD.builder(ps).lr(0.1).momentum(0.9).build();
                    case "Adam" -> ps -> Adam.builder(ps).lr(0.01).build();
                    case "RMSprop" -> ps -> RMSprop.builder(ps).lr(0.01).momentum(0.9).centered(true).build();
                    default -> ps -> AdamW.builder(ps).lr(0.01).build();
                };
                Optimizer first = make.apply(List.of(a, b));
                for (int i = 0; i < 3; i++) {
                    a.setGrad(Tensor.randn(gen, 2, 3));
                    b.setGrad(i == 0 ? Tensor.randn(gen, 4) : null);   // b has state from step 1 only
                    first.step();
                }
                first.setLr(0.02);
                Map<String, Tensor> tensors = first.stateDict();
                Map<String, String> scalars = first.scalarState();
                if (!kind.equals("SGD")) {
                    assertEquals("3", scalars.get("state.0.step"));
                    assertEquals("1", scalars.get("state.1.step"));
                    String last = kind.equals("RMSprop") ? "state.1.grad_avg" : "state.1.exp_avg_sq";
                    assertTrue(tensors.containsKey(last), tensors.keySet().toString());
                } else {
                    assertTrue(tensors.containsKey("state.0.momentum_buffer"), tensors.keySet().toString());
                }
                assertEquals(kind, scalars.get("optimizer"));
                assertEquals("0.02", scalars.get("lr"));

                Tensor a2 = a.detach().copy().requiresGrad(true);
                Tensor b2 = b.detach().copy().requiresGrad(true);
                Optimizer second = make.apply(List.of(a2, b2));
                second.loadStateDict(tensors, scalars);
                assertEquals(0.02, second.getLr());
                for (int i = 0; i < 2; i++) {
                    Tensor ga = Tensor.randn(gen, 2, 3);
                    Tensor gb = Tensor.randn(gen, 4);
                    a.setGrad(ga.copy());
                    b.setGrad(gb.copy());
                    a2.setGrad(ga.copy());
                    b2.setGrad(gb.copy());
                    first.step();
                    second.step();
                }
                assertClose(a2, a, 0, 0, kind + " a after reload");
                assertClose(b2, b, 0, 0, kind + " b after reload");
                first.close();
                second.close();
            }
        }
    }

    @Test
    void loadStateDictRejectsMismatches() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.zeros(2, 3).requiresGrad(true);
            try (Adam adam = new Adam(List.of(a), 0.1); SGD sgd = SGD.builder(List.of(a)).momentum(0.9).build()) {
                a.setGrad(Tensor.ones(2, 3));
                adam.step();
                IllegalArgumentException wrongKind = assertThrows(IllegalArgumentException.class,
                        () -> sgd.loadStateDict(adam.stateDict(), adam.scalarState()));
                assertTrue(wrongKind.getMessage().contains("saved by Adam"), wrongKind.getMessage());

                Map<String, String> scalars = adam.scalarState();
                IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                        () -> adam.loadStateDict(Map.of("state.0.exp_avg", Tensor.zeros(3, 2), "state.0.exp_avg_sq", Tensor.zeros(2, 3)), scalars));
                assertTrue(shape.getMessage().contains("[3, 2]") && shape.getMessage().contains("[2, 3]"), shape.getMessage());

                IllegalArgumentException index = assertThrows(IllegalArgumentException.class,
                        () -> adam.loadStateDict(Map.of("state.4.exp_avg", Tensor.zeros(2, 3)), Map.of()));
                assertTrue(index.getMessage().contains("parameter 4"), index.getMessage());

                IllegalArgumentException partial = assertThrows(IllegalArgumentException.class,
                        () -> adam.loadStateDict(Map.of("state.0.exp_avg", Tensor.zeros(2, 3)), scalars));
                assertTrue(partial.getMessage().contains("only some"), partial.getMessage());

                IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
                        () -> adam.loadStateDict(Map.of("state.0.momentum_buffer", Tensor.zeros(2, 3)), Map.of()));
                assertTrue(name.getMessage().contains("momentum_buffer"), name.getMessage());

                IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                        () -> adam.loadStateDict(Map.of(), Map.of("num_params", "2")));
                assertTrue(count.getMessage().contains("2 parameters"), count.getMessage());
                assertEquals(1, adam.stepCount(0), "a failed load changes nothing");
            }
        }
    }

    @Test
    void buildersValidateLikePyTorch() {
        try (Scope s = Scope.open()) {
            List<Tensor> ps = List.of(Tensor.zeros(2).requiresGrad(true));
            assertMessage(() -> SGD.builder(ps).lr(-0.1).build(), "-0.1");
            assertMessage(() -> SGD.builder(ps).momentum(-1).build(), "momentum value: -1.0");
            assertMessage(() -> SGD.builder(ps).nesterov(true).build(), "Nesterov momentum requires a momentum and zero dampening");
            assertMessage(() -> SGD.builder(ps).nesterov(true).momentum(0.9).dampening(0.1).build(), "dampening=0.1");
            assertMessage(() -> SGD.builder(ps).weightDecay(-1e-4).build(), "weight_decay value: -1.0E-4");
            assertMessage(() -> Adam.builder(ps).betas(1.0, 0.999).build(), "beta parameter at index 0: 1.0");
            assertMessage(() -> Adam.builder(ps).betas(0.9, -0.5).build(), "beta parameter at index 1: -0.5");
            assertMessage(() -> AdamW.builder(ps).eps(-1e-8).build(), "epsilon value: -1.0E-8");
            assertMessage(() -> new SGD(List.of(Tensor.zeros(2)), 0.1), "does not require grad");
            assertMessage(() -> new SGD(List.of(), 0.1), "empty parameter list");
            assertMessage(() -> new SGD(List.of(ps.get(0), ps.get(0)), 0.1), "more than once");
            Tensor leaf = Tensor.zeros(2).requiresGrad(true);
            assertMessage(() -> new SGD(List.of(leaf.mul(2f)), 0.1), "non-leaf");
            try (AdamW w = AdamW.builder(ps).build(); Adam a = Adam.builder(ps).build(); SGD sgd = SGD.builder(ps).build()) {
                assertEquals(1e-2, w.weightDecay());
                assertEquals(0.0, a.weightDecay());
                assertEquals(1e-3, a.getLr());
                assertEquals(0.9, a.beta1());
                assertEquals(0.999, a.beta2());
                assertEquals(1e-8, a.eps());
                assertEquals(1e-3, sgd.getLr());
                assertMessage(() -> sgd.setLr(Double.NaN), "NaN");
            }
        }
    }

    @Test
    void closedOptimizerRefusesToStep() {
        try (Scope s = Scope.open()) {
            Tensor p = Tensor.zeros(2).requiresGrad(true);
            Adam opt = new Adam(List.of(p), 0.1);
            p.setGrad(Tensor.ones(2));
            opt.step();
            opt.close();
            opt.close();
            assertThrows(IllegalStateException.class, opt::step);
        }
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable body, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, body);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
    }
}
