package org.rnn4j.autograd;

import java.util.List;
import java.util.function.Function;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.testing.TensorAssert;

/**
 * Central finite differences against autograd for a scalar function of float32 tensors.
 * eps and tolerances are sized for float32: d = (f(x+eps) - f(x-eps)) / 2eps carries about
 * 1e-7·|f|/eps rounding error plus O(eps^2) truncation.
 */
public final class GradCheck {
    private GradCheck() {
    }

    public static void check(String name, Function<List<Tensor>, Tensor> f, List<Tensor> inputs, double eps, double rtol,
                             double atol) {
        for (Tensor t : inputs) {
            t.zeroGrad();
            t.requiresGrad(true);
        }
        try (Scope s = Scope.open()) {
            f.apply(inputs).backward();
        }
        for (int k = 0; k < inputs.size(); k++) {
            Tensor t = inputs.get(k);
            float[] x = t.toArray();
            float[] numeric = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                float orig = x[i];
                // the perturbation actually applied after rounding to float
                float up = (float) (orig + eps);
                float down = (float) (orig - eps);
                numeric[i] = (float) ((eval(f, inputs, k, x, i, up) - eval(f, inputs, k, x, i, down)) / ((double) up - down));
                x[i] = orig;
            }
            setValues(t, x);
            TensorAssert.assertClose(t.grad().toArray(), numeric, t.shape(), rtol, atol, name + " d/d input " + k);
        }
    }

    private static double eval(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, int k, float[] x, int i, float v) {
        x[i] = v;
        setValues(inputs.get(k), x);
        try (Scope s = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            return f.apply(inputs).item();
        }
    }

    private static void setValues(Tensor t, float[] x) {
        try (Scope s = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            t.copyFrom(Tensor.fromArray(x, t.shape()));
        }
    }
}
