package org.rnn4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;

/** Issue 13: optimizer state loads all or nothing, with errors naming the bad field. */
class OptimizerLoadTest {
    private static List<Tensor> params(long seed) {
        Generator g = new Generator(seed);
        List<Tensor> ps = new ArrayList<>();
        for (int[] shape : new int[][] {{3, 2}, {4}, {2, 2, 2}}) {
            ps.add(Tensor.randn(g, shape).requiresGrad(true));
        }
        return ps;
    }

    private static void step(Optimizer opt, long seed) {
        Generator g = new Generator(seed);
        try (Scope s = Scope.open(); GradMode.Guard guard = GradMode.noGrad()) {
            for (Tensor p : opt.params()) {
                p.zeroGrad();
            }
        }
        for (Tensor p : opt.params()) {
            Tensor[] grad = new Tensor[1];
            Scope.runUnscoped(() -> grad[0] = Tensor.randn(g, p.shape()));
            p.setGrad(grad[0]);
        }
        opt.step();
    }

    private static List<Object> snapshot(Optimizer opt) {
        List<Object> out = new ArrayList<>();
        Map<String, Tensor> views = opt.stateDict();
        views.forEach((k, v) -> {
            List<Integer> bits = new ArrayList<>();
            for (float f : v.toArray()) {
                bits.add(Float.floatToRawIntBits(f));
            }
            out.add(k + "=" + bits);
        });
        views.values().forEach(Tensor::close);
        out.add(new LinkedHashMap<>(opt.scalarState()));
        for (int i = 0; i < opt.params().size(); i++) {
            out.add(opt.stepCount(i));
        }
        return out;
    }

    @Test
    void badFieldsNameThemselvesAndChangeNothing() {
        List<Tensor> a = params(1);
        List<Tensor> b = params(2);
        try (Adam saved = Adam.builder(a).lr(0.01).build(); Adam target = Adam.builder(b).lr(0.2).build()) {
            step(saved, 10);
            step(saved, 11);
            step(target, 12);
            Map<String, Tensor> tensors = saved.stateDict();
            Map<String, String> good = saved.scalarState();
            List<Object> before = snapshot(target);
            String[][] cases = {
                {"lr", "abc", "'lr' must be a number, got 'abc'"},
                {"lr", "-1", "invalid learning rate: -1.0"},
                {"lr", "Infinity", "'lr' must be finite"},
                {"eps", "", "'eps' must be a number, got ''"},
                {"weight_decay", "1e999", "'weight_decay' must be finite"},
                {"betas", "0.9;0.99", "'betas' must hold two numbers"},
                {"betas", "0.9,", "'betas[1]' must be a number, got ''"},
                {"num_params", "three", "'num_params' must be an integer, got 'three'"},
                {"state.0.step", "0", "invalid 'state.0.step' = 0"},
                {"state.1.step", "1.0", "'state.1.step' must be an integer, got '1.0'"},
                {"momentum", "0.9", "unknown field 'momentum'"},
                {"optimizer", "SGD", "state was saved by SGD, this optimizer is Adam"},
            };
            for (String[] c : cases) {
                Map<String, String> scalars = new LinkedHashMap<>(good);
                scalars.put(c[0], c[1]);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> target.loadStateDict(tensors, scalars),
                        c[0] + "=" + c[1]);
                assertTrue(e.getMessage().contains(c[2]), c[0] + "=" + c[1] + ": " + e.getMessage());
                assertEquals(before, snapshot(target), c[0] + "=" + c[1] + ": optimizer unchanged");
            }
            // a closed buffer, listed after good ones
            Map<String, Tensor> closed = new LinkedHashMap<>(tensors);
            Tensor dead = Tensor.zeros(2, 2, 2);
            dead.close();
            closed.put("state.2.exp_avg_sq", dead);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> target.loadStateDict(closed, good));
            assertTrue(e.getMessage().contains("'state.2.exp_avg_sq' was closed"), e.getMessage());
            assertEquals(before, snapshot(target), "optimizer unchanged after a closed buffer");
            // the good state loads and then steps exactly as the saved optimizer
            target.loadStateDict(tensors, good);
            assertEquals(snapshot(saved), snapshot(target));
            tensors.values().forEach(Tensor::close);
        } finally {
            a.forEach(Tensor::close);
            b.forEach(Tensor::close);
        }
    }

    @Test
    void sgdBooleanFieldMustBeABoolean() {
        List<Tensor> a = params(3);
        try (SGD sgd = SGD.builder(a).lr(0.1).momentum(0.9).build()) {
            step(sgd, 4);
            Map<String, String> scalars = new LinkedHashMap<>(sgd.scalarState());
            scalars.put("nesterov", "yes");
            List<Object> before = snapshot(sgd);
            Map<String, Tensor> tensors = sgd.stateDict();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sgd.loadStateDict(tensors, scalars));
            assertTrue(e.getMessage().contains("'nesterov' must be true or false, got 'yes'"), e.getMessage());
            assertEquals(before, snapshot(sgd));
            tensors.values().forEach(Tensor::close);
        } finally {
            a.forEach(Tensor::close);
        }
    }
}
