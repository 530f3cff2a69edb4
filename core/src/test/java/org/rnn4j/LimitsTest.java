package org.rnn4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.rnn4j.nn.Dropout;
import org.rnn4j.nn.Embedding;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.GRUCell;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.LSTMCell;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.RNN;
import org.rnn4j.nn.RNNCell;
import org.rnn4j.optim.Adam;
import org.rnn4j.optim.AdamW;
import org.rnn4j.optim.CosineAnnealingLR;
import org.rnn4j.optim.GradClip;
import org.rnn4j.optim.SGD;
import org.rnn4j.optim.StepLR;

/**
 * Issue 13, limits: every size, count and element-count overflow, and every NaN/Inf scalar, is
 * an IllegalArgumentException naming the caller's argument and value, thrown before anything
 * is allocated (found by a fuzzer: OutOfMemoryError, empty results, zero-element weights and
 * messages about an internal 'uniform' shape before).
 */
class LimitsTest {

    /** The call throws IllegalArgumentException whose message has every fragment and no internal op name. */
    static IllegalArgumentException refused(Executable call, String... fragments) {
        long before = Memory.bytesInUse();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        assertFalse(e.getMessage().startsWith("uniform: argument 'shape'"), "message about an internal tensor: " + e.getMessage());
        assertTrue(Memory.bytesInUse() <= before, "allocated before refusing: " + e.getMessage());
        return e;
    }

    // ---- arange ------------------------------------------------------------------------------

    @Test
    void arangeToInfinityIsAnArgumentErrorNotOutOfMemory() {
        refused(() -> Tensor.arange(0, Float.POSITIVE_INFINITY, 1), "'end'", "Infinity");
        refused(() -> Tensor.arange(Float.NEGATIVE_INFINITY, 0, 1), "'start'");
        refused(() -> Tensor.arange(0, 1, Float.POSITIVE_INFINITY), "'step'");
    }

    @Test
    void arangeWithANaNBoundIsRefusedNotEmpty() {
        refused(() -> Tensor.arange(0, Float.NaN, 1), "'end'", "NaN");
        refused(() -> Tensor.arange(Float.NaN, 3, 1), "'start'", "NaN");
        refused(() -> Tensor.arange(0, 3, Float.NaN), "'step'", "NaN");
    }

    @Test
    void arangeStepSignAndCountAreChecked() {
        refused(() -> Tensor.arange(0, 10, -1), "'step'", "sign");
        refused(() -> Tensor.arange(-3), "'n'", "-3");
        refused(() -> Tensor.arange(0, 1e9f, 1e-3f), "step=", "more than");
        try (Tensor t = Tensor.arange(5, 5, 1); Tensor d = Tensor.arange(3, 0, -1)) {
            assertEquals(0, t.numel());
            assertEquals(3, d.numel());
        }
    }

    // ---- element counts of tensors -------------------------------------------------------------

    @Test
    void factoriesRefuseElementCountsAboveTheStorageLimit() {
        // 46341 * 46340 fits an int but not a Java array: OutOfMemoryError before
        refused(() -> Tensor.randn(new Generator(1), 46341, 46340), "randn", "'shape'", "[46341, 46340]");
        refused(() -> Tensor.rand(new Generator(1), 1 << 20, 1 << 10), "rand", "'shape'");
        refused(() -> Tensor.zeros(600_000_000), "zeros", "'shape'", "600000000");
        refused(() -> Tensor.ones(1 << 21, 1 << 21, 1 << 21), "'shape'");
        refused(() -> Tensor.full(2f, 3, -1), "'shape'", "negative");
    }

    @Test
    void emptyShapesWithHugeSizesStayLegal() {
        try (Tensor e = Tensor.zeros(0, Integer.MAX_VALUE, Integer.MAX_VALUE)) {
            assertEquals(0, e.numel());
        }
        assertEquals(0, Shape.numel("t", "shape", 0, Integer.MAX_VALUE));
        assertEquals(Shape.MAX_NUMEL, Shape.numel("t", "shape", (int) Shape.MAX_NUMEL));
        refused(() -> Shape.numel("t", "shape", (int) Shape.MAX_NUMEL + 1), "'shape'");
    }

    @Test
    void uniformBoundsMustBeFiniteAndOrdered() {
        refused(() -> Tensor.uniform(new Generator(1), Float.NaN, 1f, 2), "'lo'");
        refused(() -> Tensor.uniform(new Generator(1), 0f, Float.POSITIVE_INFINITY, 2), "'hi'");
        refused(() -> Tensor.uniform(new Generator(1), 1f, 0f, 2), "'lo'", "'hi'");
    }

    // ---- builders and constructors -------------------------------------------------------------

    @Test
    void numLayersThatCannotBeBuiltNamesNumLayers() {
        refused(() -> RNN.builder().inputSize(2).hiddenSize(3).numLayers(Integer.MAX_VALUE).build(), "num_layers=2147483647");
        refused(() -> GRU.builder().inputSize(2).hiddenSize(3).numLayers(Integer.MAX_VALUE).bidirectional(true).build(),
                "num_layers=2147483647");
    }

    @Test
    void linearWhoseWeightIsTooLargeNamesItsFeatures() {
        refused(() -> new Linear(536870912, 3), "in_features=536870912", "out_features=3");
        refused(() -> new Linear(3, Integer.MAX_VALUE), "out_features=2147483647");
        refused(() -> new Linear(0, 3), "in_features");
    }

    @Test
    void gatesTimesHiddenSizeOverflowIsRefusedNotZeroElementWeights() {
        // 4 * 2^30 wraps to 0 in int: the LSTM used to build with empty weights
        refused(() -> LSTM.builder().inputSize(4).hiddenSize(1 << 30).build(), "hidden_size=1073741824", "4*hidden_size");
        refused(() -> GRU.builder().inputSize(4).hiddenSize(1 << 30).build(), "hidden_size=1073741824");
        refused(() -> new LSTMCell(4, 1 << 30), "hidden_size=1073741824");
        refused(() -> new GRUCell(4, 1 << 30), "hidden_size=1073741824");
        refused(() -> new RNNCell(4, 1 << 30), "hidden_size=1073741824");
    }

    @Test
    void builderMessagesNameTheBuilderArgumentsNotAnInternalShape() {
        // weight_hh (46341, 46341) is over the limit: the message was "uniform: shape [46341, 46341] ..."
        IllegalArgumentException e = refused(() -> RNN.builder().inputSize(6).hiddenSize(46341).build(), "RNN", "hidden_size=46341");
        assertFalse(e.getMessage().contains("uniform"), e.getMessage());
        refused(() -> LSTM.builder().inputSize(200_000_000).hiddenSize(2).build(), "input_size=200000000");
        refused(() -> LSTM.builder().inputSize(2).hiddenSize(40_000).projSize(20_000).numLayers(2).bidirectional(true).build(),
                "proj_size=20000");
        refused(() -> new Embedding(1 << 20, 1 << 10), "num_embeddings=1048576", "embedding_dim=1024");
        try (Embedding emb = new Embedding(10, 4)) {
            refused(() -> emb.forward(new int[] {1, 2}, -1, -2), "'idsShape'");
        }
    }

    @Test
    void dropoutMustBeAProbability() {
        refused(() -> new Dropout(Float.NaN), "'p'", "NaN");
        refused(() -> new Dropout(Float.POSITIVE_INFINITY), "'p'");
        refused(() -> LSTM.builder().inputSize(2).hiddenSize(3).dropout(Float.NaN).build(), "dropout", "NaN");
    }

    // ---- optimizers, schedulers, clipping ------------------------------------------------------

    @Test
    void nonFiniteOptimizerSettingsAreRefusedByName() {
        try (Tensor p = Tensor.zeros(2).requiresGrad(true)) {
            List<Tensor> ps = List.of(p);
            for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
                refused(() -> new SGD(ps, bad), "lr");
                refused(() -> SGD.builder(ps).momentum(bad).build(), "momentum");
                refused(() -> SGD.builder(ps).dampening(bad).build(), "dampening");
                refused(() -> SGD.builder(ps).weightDecay(bad).build(), "weight_decay");
                refused(() -> Adam.builder(ps).lr(bad).build(), "lr");
                refused(() -> Adam.builder(ps).betas(bad, 0.9).build(), "betas[0]");
                refused(() -> Adam.builder(ps).betas(0.9, bad).build(), "betas[1]");
                refused(() -> AdamW.builder(ps).eps(bad).build(), "eps");
                refused(() -> AdamW.builder(ps).weightDecay(bad).build(), "weight_decay");
            }
        }
    }

    @Test
    void clippingNormsMustBeFinite() {
        try (Tensor p = Tensor.zeros(2).requiresGrad(true)) {
            p.setGrad(Tensor.ones(2));
            refused(() -> GradClip.clipGradNorm(List.of(p), Double.NaN), "maxNorm");
            refused(() -> GradClip.clipGradNorm(List.of(p), Double.POSITIVE_INFINITY), "maxNorm");
            refused(() -> GradClip.clipGradNorm(List.of(p), 1.0, Double.NaN), "normType");
            refused(() -> GradClip.clipGradValue(List.of(p), Double.NaN), "clip");
            refused(() -> GradClip.clipGradValue(List.of(p), Double.POSITIVE_INFINITY), "clip");
            assertEquals(1.0, GradClip.clipGradNorm(List.of(p), 1.0, Double.POSITIVE_INFINITY), 1e-6);   // the inf-norm stays
        }
    }

    @Test
    void schedulerParametersAreCheckedAtConstructionNotStepsLater() {
        try (Tensor p = Tensor.zeros(2).requiresGrad(true); SGD opt = new SGD(List.of(p), 0.001)) {
            // etaMin < 0 drove the lr below 0 at the eighth step, where setLr refused it
            refused(() -> new CosineAnnealingLR(opt, 10, -0.01), "etaMin", "-0.01");
            refused(() -> new CosineAnnealingLR(opt, 10, Double.NaN), "etaMin");
            refused(() -> new CosineAnnealingLR(opt, 0), "tMax");
            refused(() -> new StepLR(opt, 1, Double.NaN), "gamma");
            refused(() -> new StepLR(opt, 0), "stepSize");
            assertEquals(0.001, opt.getLr());
            CosineAnnealingLR ok = new CosineAnnealingLR(opt, 10, 0.0);
            for (int i = 0; i < 40; i++) {
                ok.step();
                assertTrue(opt.getLr() >= 0);
            }
        }
    }

    @Test
    void aSchedulerStepThatFailsChangesNothing() {
        try (Tensor p = Tensor.zeros(2).requiresGrad(true); SGD opt = new SGD(List.of(p), 1e300)) {
            StepLR s = new StepLR(opt, 1, 1e10);
            assertThrows(IllegalArgumentException.class, s::step);   // 1e310 is infinite
            assertEquals(0, s.lastEpoch());
            assertEquals(1e300, opt.getLr());
        }
    }
}
