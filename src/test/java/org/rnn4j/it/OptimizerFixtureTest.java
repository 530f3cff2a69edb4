package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.rnn4j.testing.TensorAssert.assertClose;

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
import org.rnn4j.optim.Adam;
import org.rnn4j.optim.AdamBase;
import org.rnn4j.optim.AdamW;
import org.rnn4j.optim.GradClip;
import org.rnn4j.optim.Optimizer;
import org.rnn4j.optim.RMSprop;
import org.rnn4j.optim.SGD;
import org.rnn4j.testing.FixtureFile;

/**
 * Optimizers and gradient clipping against PyTorch (fixtures/optim, tools/gen_fixtures.py
 * gen_optim): SGD with momentum, dampening, Nesterov and weight decay, Adam with weight decay and
 * its own betas/eps, AdamW, RMSprop (defaults, momentum, centered, weight decay and all
 * together); six steps on three parameters with PyTorch's gradients, the parameters compared
 * after every step; clip_grad_norm_ with norm types 2, 1 and inf (clipping and not) and
 * clip_grad_value_. On every CPU backend (SGD/Adam/AdamW: one fused native call; RMSprop: tensor
 * ops through Optimizer.apply). RMSprop also goes through a state-dict round trip after the
 * third step (a fresh optimizer continues from the loaded state and must still match PyTorch)
 * and its final buffers are compared with PyTorch's optimizer state.
 * Tolerance 1e-5 relative + 1e-6 absolute: PyTorch ran in float64 from the stored values.
 */
class OptimizerFixtureTest {
    private static final double RTOL = 1e-5;
    private static final double ATOL = 1e-6;

    @TestFactory
    Stream<DynamicTest> optimizersAndClipping() throws java.io.IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            for (String f : RnnFixtureTest.fixtures("optim")) {
                String name = b.name() + ": " + f;
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    try (FixtureFile fx = FixtureFile.resource(f); Backends.Override o = Backends.use(b);
                         Scope scope = Scope.open()) {
                        if (fx.metadata().containsKey("optimizer")) {
                            runOptimizer(fx, name);
                        } else {
                            runClip(fx, name);
                        }
                    }
                }));
            }
        }
        return tests.stream();
    }

    /** A metadata float as Python's repr wrote it ("inf" included). */
    private static double num(FixtureFile fx, String key) {
        String v = fx.meta(key);
        return v.equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(v);
    }

    private static Optimizer build(FixtureFile fx, List<Tensor> params) {
        String opt = fx.meta("optimizer");
        if (opt.equals("SGD")) {
            SGD.Builder b = SGD.builder(params).lr(num(fx, "lr"));
            if (fx.metadata().containsKey("momentum")) {
                b.momentum(num(fx, "momentum"));
            }
            if (fx.metadata().containsKey("dampening")) {
                b.dampening(num(fx, "dampening"));
            }
            if (fx.metadata().containsKey("nesterov")) {
                b.nesterov(Boolean.parseBoolean(fx.meta("nesterov")));
            }
            if (fx.metadata().containsKey("weight_decay")) {
                b.weightDecay(num(fx, "weight_decay"));
            }
            return b.build();
        }
        return switch (opt) {
            case "Adam" -> adamLike(Adam.builder(params), fx).build();
            case "AdamW" -> adamLike(AdamW.builder(params), fx).build();
            case "RMSprop" -> rmsprop(fx, params);
            default -> throw new AssertionError("unknown optimizer in fixture: " + opt);
        };
    }

    /** RMSprop: what the fixture gives; the builder's (PyTorch's) defaults otherwise. */
    private static RMSprop rmsprop(FixtureFile fx, List<Tensor> params) {
        RMSprop.Builder b = RMSprop.builder(params);
        Map<String, String> m = fx.metadata();
        if (m.containsKey("lr")) {
            b.lr(num(fx, "lr"));
        }
        if (m.containsKey("alpha")) {
            b.alpha(num(fx, "alpha"));
        }
        if (m.containsKey("eps")) {
            b.eps(num(fx, "eps"));
        }
        if (m.containsKey("weight_decay")) {
            b.weightDecay(num(fx, "weight_decay"));
        }
        if (m.containsKey("momentum")) {
            b.momentum(num(fx, "momentum"));
        }
        if (m.containsKey("centered")) {
            b.centered(Boolean.parseBoolean(fx.meta("centered")));
        }
        return b.build();
    }

    /** Adam / AdamW: what the fixture gives; the builder's (PyTorch's) defaults otherwise. */
    private static <B extends AdamBase.Config<B>> B adamLike(B c, FixtureFile fx) {
        c.lr(num(fx, "lr"));
        if (fx.metadata().containsKey("betas")) {
            String[] bs = fx.meta("betas").split(",");
            c.betas(Double.parseDouble(bs[0]), Double.parseDouble(bs[1]));
        }
        if (fx.metadata().containsKey("eps")) {
            c.eps(num(fx, "eps"));
        }
        if (fx.metadata().containsKey("weight_decay")) {
            c.weightDecay(num(fx, "weight_decay"));
        }
        return c;
    }

    private static void runOptimizer(FixtureFile fx, String name) {
        int n = Integer.parseInt(fx.meta("num_params"));
        int steps = Integer.parseInt(fx.meta("steps"));
        List<Tensor> params = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            params.add(fx.get("param." + j).copy().requiresGrad(true));
        }
        boolean roundTrip = fx.meta("optimizer").equals("RMSprop");
        Optimizer opt = build(fx, params);
        try {
            for (int k = 0; k < steps; k++) {
                if (roundTrip && k == 3) {
                    // save mid-training, continue with a fresh optimizer loaded from the state
                    Optimizer next = build(fx, params);
                    next.loadStateDict(opt.stateDict(), opt.scalarState());
                    opt.close();
                    opt = next;
                }
                for (int j = 0; j < n; j++) {
                    params.get(j).setGrad(fx.get("grad." + j + ".step" + k).copy());
                }
                opt.step();
                for (int j = 0; j < n; j++) {
                    assertClose(params.get(j), fx.get("param." + j + ".after" + k), RTOL, ATOL,
                            name + " param " + j + " after step " + (k + 1) + " (" + opt + ")");
                }
            }
            if (roundTrip) {
                Map<String, Tensor> state = opt.stateDict();
                Map<String, String> scalars = opt.scalarState();
                int buffers = 0;
                for (String key : fx.tensors().keySet()) {
                    if (key.startsWith("state.")) {
                        buffers++;
                        assertTrue(state.containsKey(key), name + ": no " + key + " in " + state.keySet());
                        assertClose(state.get(key), fx.get(key), RTOL, ATOL, name + " " + key);
                    }
                }
                assertEquals(buffers, state.size(), name + " state keys " + state.keySet());
                for (int j = 0; j < n; j++) {
                    assertEquals(Integer.toString(steps), scalars.get("state." + j + ".step"), name + " step of " + j);
                }
            }
        } finally {
            opt.close();
        }
    }

    private static void runClip(FixtureFile fx, String name) {
        int n = Integer.parseInt(fx.meta("num_params"));
        List<Tensor> params = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            Tensor p = Tensor.zeros(fx.get("grad." + j).shape()).requiresGrad(true);
            p.setGrad(fx.get("grad." + j).copy());
            params.add(p);
        }
        if (fx.meta("op").equals("clip_grad_value_")) {
            GradClip.clipGradValue(params, num(fx, "clip_value"));
        } else {
            double total = GradClip.clipGradNorm(params, num(fx, "max_norm"), num(fx, "norm_type"));
            double expected = fx.get("total_norm").toArray()[0];
            assertEquals(expected, total, RTOL * Math.abs(expected) + ATOL, name + " total norm");
        }
        for (int j = 0; j < n; j++) {
            assertClose(params.get(j).grad(), fx.get("clipped." + j), RTOL, ATOL, name + " clipped grad " + j);
        }
    }
}
