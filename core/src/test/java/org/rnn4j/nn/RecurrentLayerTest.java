package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;

class RecurrentLayerTest {
    private final Generator gen = new Generator(3);
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private static void assertMessage(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
        }
    }

    @Test
    void parameterNamesAndShapesFollowPyTorch() {
        try (LSTM lstm = LSTM.builder().inputSize(5).hiddenSize(7).numLayers(2).bidirectional(true).projSize(3).build()) {
            Map<String, Tensor> p = lstm.namedParameters();
            assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0",
                    "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                    "weight_hr_l0_reverse", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1", "weight_hr_l1",
                    "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
                    "weight_hr_l1_reverse"), new ArrayList<>(p.keySet()));
            assertArrayEquals(new int[] {28, 5}, p.get("weight_ih_l0").shape());
            assertArrayEquals(new int[] {28, 3}, p.get("weight_hh_l0").shape());
            assertArrayEquals(new int[] {3, 7}, p.get("weight_hr_l0").shape());
            assertArrayEquals(new int[] {28, 6}, p.get("weight_ih_l1_reverse").shape());
            // U(-1/sqrt(H), 1/sqrt(H)), and not constant
            float k = (float) (1 / Math.sqrt(7));
            float[] w = p.get("weight_ih_l0").toArray();
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (float v : w) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertTrue(min >= -k && max <= k && max - min > k, "init range [" + min + ", " + max + "] vs k=" + k);
        }
        try (GRU gru = GRU.builder().inputSize(2).hiddenSize(4).bias(false).build()) {
            assertEquals(List.of("weight_ih_l0", "weight_hh_l0"), new ArrayList<>(gru.namedParameters().keySet()));
            assertArrayEquals(new int[] {12, 2}, gru.namedParameters().get("weight_ih_l0").shape());
        }
    }

    @Test
    void outputShapes() {
        try (LSTM lstm = LSTM.builder().inputSize(3).hiddenSize(4).numLayers(2).bidirectional(true).projSize(2)
                .batchFirst(true).build()) {
            RnnOutput r = lstm.forward(Tensor.randn(gen, 5, 6, 3));
            assertArrayEquals(new int[] {5, 6, 4}, r.output().shape());
            assertArrayEquals(new int[] {4, 5, 2}, r.hN().shape());
            assertArrayEquals(new int[] {4, 5, 4}, r.cN().shape());
            RnnOutput u = lstm.forward(Tensor.randn(gen, 6, 3));
            assertArrayEquals(new int[] {6, 4}, u.output().shape());
            assertArrayEquals(new int[] {4, 2}, u.hN().shape());
        }
    }

    @Test
    void lastOutputStepEqualsHnForwardAndFirstStepEqualsHnReverse() {
        try (GRU gru = GRU.builder().inputSize(3).hiddenSize(4).bidirectional(true).build()) {
            RnnOutput r = gru.forward(Tensor.randn(gen, 5, 2, 3));
            // forward direction: h_n[0] is output[T-1, :, :H]; reverse: h_n[1] is output[0, :, H:]
            assertArrayEquals(r.hN().select(0, 0).toArray(), r.output().select(0, 4).narrow(1, 0, 4).toArray());
            assertArrayEquals(r.hN().select(0, 1).toArray(), r.output().select(0, 0).narrow(1, 4, 4).toArray());
        }
    }

    @Test
    void invalidConfigurationsNameTheValue() {
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> LSTM.builder().inputSize(3).hiddenSize(4).projSize(4).build()), "proj_size", "4");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> LSTM.builder().inputSize(3).hiddenSize(4).projSize(-1).build()), "proj_size", "-1");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> GRU.builder().inputSize(3).hiddenSize(4).projSize(2)), "proj_size", "GRU");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> RNN.builder().inputSize(3).hiddenSize(4).projSize(2)), "proj_size", "RNN");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> RNN.builder().inputSize(3).hiddenSize(0).build()), "hidden_size", "0");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> RNN.builder().inputSize(0).hiddenSize(2).build()), "input_size", "0");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> GRU.builder().inputSize(3).hiddenSize(4).numLayers(0).build()), "num_layers", "0");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> GRU.builder().inputSize(3).hiddenSize(4).dropout(1.5f).build()), "dropout", "1.5");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> RNN.builder().inputSize(3).hiddenSize(4).nonlinearity("sigmoid")), "sigmoid");
    }

    @Test
    void badInputsAreRejectedBeforeAnyKernel() {
        try (LSTM lstm = LSTM.builder().inputSize(3).hiddenSize(4).numLayers(2).build()) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> lstm.forward(Tensor.zeros(2, 3, 4, 3))),
                    "input", "[2, 3, 4, 3]");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> lstm.forward(Tensor.zeros(5, 2, 7))),
                    "input_size 3", "[5, 2, 7]");
            Tensor x = Tensor.zeros(5, 2, 3);
            // h0 with wrong batch, wrong layers, wrong rank; c0 wrong
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(x, Tensor.zeros(2, 3, 4), null)), "'h0'", "expected hidden size (2, 2, 4), got (2, 3, 4)");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(x, Tensor.zeros(1, 2, 4), null)), "'h0'", "(1, 2, 4)");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(x, null, Tensor.zeros(2, 2, 5))), "'c0'", "expected cell size (2, 2, 4), got (2, 2, 5)");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(x, Tensor.zeros(2, 4), null)), "batched 3-D input", "h0", "2-D");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lstm.forward(Tensor.zeros(5, 3), Tensor.zeros(2, 1, 4), null)), "unbatched 2-D input", "3-D");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> lstm.forward(Tensor.zeros(0, 2, 3))),
                    "sequence length");
            Tensor closed = Tensor.zeros(5, 2, 3);
            closed.close();
            assertThrows(IllegalStateException.class, () -> lstm.forward(closed));
        }
        try (GRUCell cell = new GRUCell(3, 4)) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> cell.forward(Tensor.zeros(2, 2, 3))),
                    "1-D or 2-D", "3-D");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> cell.forward(Tensor.zeros(2, 3), Tensor.zeros(3, 4))), "batch size 2", "3");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> cell.forward(Tensor.zeros(2, 3), Tensor.zeros(4))), "batched 2-D input", "1-D");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> cell.forward(Tensor.zeros(2, 5))), "input_size 3");
        }
    }

    @Test
    void stateDictIsStrictAndShapeChecked() {
        try (GRU a = GRU.builder().inputSize(3).hiddenSize(4).generator(new Generator(1)).build();
             GRU b = GRU.builder().inputSize(3).hiddenSize(4).generator(new Generator(2)).build()) {
            b.loadStateDict(a.stateDict());
            for (String k : a.stateDict().keySet()) {
                assertArrayEquals(a.stateDict().get(k).toArray(), b.stateDict().get(k).toArray(), k);
            }
            Map<String, Tensor> missing = new java.util.LinkedHashMap<>(a.stateDict());
            missing.remove("bias_hh_l0");
            missing.put("bogus", Tensor.zeros(1));
            assertMessage(assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(missing)),
                    "missing keys [bias_hh_l0]", "unexpected keys [bogus]");
            Map<String, Tensor> wrong = new java.util.LinkedHashMap<>(a.stateDict());
            wrong.put("weight_ih_l0", Tensor.zeros(12, 2));
            assertMessage(assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(wrong)),
                    "weight_ih_l0", "[12, 2]", "[12, 3]");
        }
    }

    @Test
    void dropoutOnlyBetweenLayersAndOnlyInTraining() {
        try (LSTM lstm = LSTM.builder().inputSize(3).hiddenSize(5).numLayers(2).dropout(0.5f).build()) {
            Tensor x = Tensor.randn(gen, 4, 2, 3);
            lstm.eval();
            float[] e1 = lstm.forward(x).output().toArray();
            float[] e2 = lstm.forward(x).output().toArray();
            assertArrayEquals(e1, e2);
            lstm.train();
            float[] t1 = lstm.forward(x).output().toArray();
            assertTrue(!java.util.Arrays.equals(e1, t1), "training-mode dropout changed nothing");
        }
    }

    @Test
    void evalFromFourThreadsEqualsSerial() throws Exception {
        try (LSTM lstm = LSTM.builder().inputSize(8).hiddenSize(16).numLayers(2).bidirectional(true).build()) {
            lstm.eval();
            List<Tensor> inputs = new ArrayList<>();
            List<float[]> serial = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Tensor x = Tensor.randn(gen, 6, 3, 8);
                inputs.add(x);
                try (GradMode.Guard g = GradMode.noGrad()) {
                    serial.add(lstm.forward(x).output().toArray());
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> futures = new ArrayList<>();
                for (int rep = 0; rep < 4; rep++) {
                    for (int i = 0; i < inputs.size(); i++) {
                        Tensor x = inputs.get(i);
                        futures.add(pool.submit(() -> {
                            try (Scope s = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
                                return lstm.forward(x).output().toArray();
                            }
                        }));
                    }
                }
                for (int k = 0; k < futures.size(); k++) {
                    assertArrayEquals(serial.get(k % inputs.size()), futures.get(k).get(), "call " + k);
                }
            } finally {
                pool.shutdown();
            }
        }
    }
}
