package org.rnn4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.rnn4j.optim.OptimizerTest.assertMessage;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;

/** Gradient clipping and LR schedulers against values printed by PyTorch 1.13. */
class GradClipAndSchedulerTest {
    private static List<Tensor> paramsWithGrads() {
        Tensor a = Tensor.zeros(2, 2).requiresGrad(true);
        Tensor b = Tensor.zeros(3).requiresGrad(true);
        Tensor none = Tensor.zeros(4).requiresGrad(true);   // no grad: skipped
        a.setGrad(Tensor.of(new float[][] {{0.3f, -0.4f}, {1.2f, 0.05f}}));
        b.setGrad(Tensor.of(-2.0f, 0.7f, 0.1f));
        return List.of(a, none, b);
    }

    @Test
    void clipGradNormTwoMatchesPyTorch() {
        try (Scope s = Scope.open()) {
            List<Tensor> ps = paramsWithGrads();
            double norm = GradClip.clipGradNorm(ps, 0.5);
            assertEquals(2.488473415374756, norm, 1e-6);   // clip_grad_norm_([a, b], 0.5)
            assertClose(ps.get(0).grad().toArray(), new float[] {0.0602778979f, -0.0803705305f, 0.241111591f, 0.0100463163f},
                    new int[] {4}, 1e-6, 1e-8, "a.grad");
            assertClose(ps.get(2).grad().toArray(), new float[] {-0.401852638f, 0.140648425f, 0.0200926326f},
                    new int[] {3}, 1e-6, 1e-8, "b.grad");
            assertEquals(null, ps.get(1).grad());
        }
    }

    @Test
    void clipGradNormInfMatchesPyTorch() {
        try (Scope s = Scope.open()) {
            List<Tensor> ps = paramsWithGrads();
            double norm = GradClip.clipGradNorm(ps, 0.5, Double.POSITIVE_INFINITY);
            assertEquals(2.0, norm, 1e-7);
            assertClose(ps.get(0).grad().toArray(), new float[] {0.0749999657f, -0.0999999568f, 0.299999863f, 0.0124999946f},
                    new int[] {4}, 1e-6, 1e-8, "a.grad");
            assertClose(ps.get(2).grad().toArray(), new float[] {-0.499999762f, 0.174999908f, 0.0249999892f},
                    new int[] {3}, 1e-6, 1e-8, "b.grad");
        }
    }

    @Test
    void clipGradNormLeavesSmallGradientsAlone() {
        try (Scope s = Scope.open()) {
            List<Tensor> ps = paramsWithGrads();
            float[] before = ps.get(2).grad().toArray();
            double norm = GradClip.clipGradNorm(ps, 10.0);
            assertEquals(2.488473415374756, norm, 1e-6);
            assertClose(ps.get(2).grad().toArray(), before, new int[] {3}, 0, 0, "unclipped");
            assertEquals(Math.pow(0.3 + 0.4 + 1.2 + 0.05 + 2.0 + 0.7 + 0.1, 1.0),
                    GradClip.clipGradNorm(ps, 100.0, 1.0), 1e-5, "1-norm");
            assertEquals(0.0, GradClip.clipGradNorm(List.of(Tensor.zeros(2).requiresGrad(true)), 1.0), "no grads");
            assertMessage(() -> GradClip.clipGradNorm(ps, 1.0, 0.0), "normType");
        }
    }

    @Test
    void clipGradValueClamps() {
        try (Scope s = Scope.open()) {
            List<Tensor> ps = paramsWithGrads();
            GradClip.clipGradValue(ps, 0.35);
            assertClose(ps.get(0).grad().toArray(), new float[] {0.3f, -0.35f, 0.35f, 0.05f}, new int[] {4}, 0, 0, "a");
            assertClose(ps.get(2).grad().toArray(), new float[] {-0.35f, 0.35f, 0.1f}, new int[] {3}, 0, 0, "b");
            assertMessage(() -> GradClip.clipGradValue(ps, -1), "-1.0");
        }
    }

    private static Optimizer sgd(double lr) {
        return new SGD(List.of(Tensor.zeros(1).requiresGrad(true)), lr);
    }

    @Test
    void stepLRMatchesPyTorch() {
        try (Scope s = Scope.open(); Optimizer opt = sgd(0.1)) {
            // StepLR(opt, 3, 0.5): get_last_lr() after construction and after each of 10 steps
            double[] expected = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125};
            StepLR sched = new StepLR(opt, 3, 0.5);
            for (int e = 0; e < expected.length; e++) {
                if (e > 0) {
                    opt.step();
                    sched.step();
                }
                assertEquals(expected[e], sched.lastLr(), 0, "epoch " + e);
                assertEquals(expected[e], opt.getLr(), 0, "optimizer lr at epoch " + e);
                assertEquals(e, sched.lastEpoch());
            }
        }
    }

    @Test
    void cosineAnnealingMatchesPyTorch() {
        try (Scope s = Scope.open(); Optimizer opt = sgd(0.1)) {
            int tMax = 5;
            double etaMin = 0.001;
            // CosineAnnealingLR(opt, 5, 0.001).get_last_lr() over 12 steps, printed by PyTorch 1.13
            double[] pytorch = {0.1, 0.0905463412215599, 0.06579634122155989, 0.035203658778440096, 0.010453658778440105,
                0.001, 0.010453658778440102, 0.03520365877844012, 0.06579634122155993, 0.09054634122155995,
                0.10000000000000005, 0.09054634122155998, 0.06579634122155995};
            CosineAnnealingLR sched = new CosineAnnealingLR(opt, tMax, etaMin);
            for (int e = 0; e < pytorch.length; e++) {
                if (e > 0) {
                    sched.step();
                }
                // the recursive form is what PyTorch steps with; identical arithmetic gives identical doubles
                assertEquals(pytorch[e], sched.lastLr(), 1e-15, "epoch " + e);
                // and the closed form, eta_min + (base - eta_min) * (1 + cos(pi * e / T_max)) / 2
                double closed = etaMin + (0.1 - etaMin) * (1 + Math.cos(Math.PI * e / tMax)) / 2;
                assertEquals(closed, sched.lastLr(), 1e-12, "closed form at epoch " + e);
                assertEquals(closed, sched.closedFormLr(e), 1e-15);
            }
            assertTrue(opt.getLr() == sched.lastLr());
            assertMessage(() -> new CosineAnnealingLR(opt, 0), "tMax must be > 0, got 0");
            assertMessage(() -> new StepLR(opt, 0, 0.1), "stepSize must be > 0, got 0");
        }
    }
}
