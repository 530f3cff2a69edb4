package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;

/** torch.nn.RNN/LSTM/GRU(input_size, hidden_size, num_layers) and torch.manual_seed-style randn/rand. */
class PositionalConstructorTest {

    private static void assertLayer(RNNBase m, int gates, int input, int hidden, int layers) {
        assertEquals(input, m.inputSize());
        assertEquals(hidden, m.hiddenSize());
        assertEquals(layers, m.numLayers());
        assertTrue(m.hasBias());
        assertFalse(m.bidirectional());
        assertFalse(m.batchFirst());
        Map<String, Tensor> p = m.namedParameters();
        assertEquals(4 * layers, p.size(), p.keySet().toString());
        assertArrayEquals(new int[] {gates * hidden, input}, p.get("weight_ih_l0").shape());
        assertArrayEquals(new int[] {gates * hidden, hidden}, p.get("weight_hh_l" + (layers - 1)).shape());
        if (layers > 1) {
            assertArrayEquals(new int[] {gates * hidden, hidden}, p.get("weight_ih_l1").shape());
        }
    }

    @Test
    void positionalConstructorsMatchTorch() {
        try (LSTM lstm = new LSTM(28, 64, 1); GRU gru = new GRU(10, 20, 2); RNN rnn = new RNN(5, 7, 3)) {
            assertLayer(lstm, 4, 28, 64, 1);
            assertLayer(gru, 3, 10, 20, 2);
            assertLayer(rnn, 1, 5, 7, 3);
            assertEquals("tanh", rnn.nonlinearity());
            assertEquals(0, lstm.projSize());
        }
        assertThrows(IllegalArgumentException.class, () -> new LSTM(28, 64, 0));
    }

    @Test
    void defaultGeneratorIsSeedable() {
        try (Scope scope = Scope.open()) {
            seededStreams();
        }
    }

    private static void seededStreams() {
        Generator.seed(42);
        float[] a = Tensor.randn(3, 4).toArray();
        float[] u = Tensor.rand(100).toArray();
        Generator.seed(42);
        assertArrayEquals(a, Tensor.randn(3, 4).toArray());
        assertArrayEquals(u, Tensor.rand(100).toArray());
        assertArrayEquals(new int[] {3, 4}, Tensor.randn(3, 4).shape());
        for (float v : u) {
            assertTrue(v >= 0 && v < 1, "rand value " + v);
        }
        // the same stream as an explicit generator with that seed
        assertArrayEquals(Tensor.randn(new Generator(42), 3, 4).toArray(), a);
    }

    @Test
    void seedingTheDefaultGeneratorReproducesTheInitialWeights() {
        Generator.seed(7);
        float[] first;
        try (LSTM lstm = new LSTM(4, 8, 2)) {
            first = lstm.namedParameters().get("weight_hh_l1").toArray();
        }
        Generator.seed(7);
        try (LSTM lstm = new LSTM(4, 8, 2)) {
            assertArrayEquals(first, lstm.namedParameters().get("weight_hh_l1").toArray());
        }
    }
}
