package org.rnn4j.it;

import java.util.ArrayList;
import java.util.List;
import org.rnn4j.Generator;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.RNN;
import org.rnn4j.nn.RNNBase;

/** Models and helpers shared by the streaming tests. */
final class StreamTesting {
    private StreamTesting() {
    }

    /** A recurrent stack and its optional head. */
    record Net(String name, RNNBase rnn, Linear head) implements AutoCloseable {
        @Override
        public String toString() {
            return name;
        }

        /** Frees the modules' parameters (a leaked one would be freed by the Cleaner during another test). */
        @Override
        public void close() {
            rnn.close();
            if (head != null) {
                head.close();
            }
        }
    }

    /** Freezes rnn + head (null for none) and closes the modules: the frozen model has its own copy. */
    static org.rnn4j.stream.FrozenRnn freezeAndClose(RNNBase rnn, Linear head, org.rnn4j.backend.Backend backend) {
        try {
            return org.rnn4j.stream.FrozenRnn.freeze(rnn, head, backend);
        } finally {
            rnn.close();
            if (head != null) {
                head.close();
            }
        }
    }

    /** RNN tanh/relu, LSTM, LSTM with proj_size, GRU; one and several layers; with and without a head. */
    static List<Net> nets(int seed) {
        List<Net> out = new ArrayList<>();
        out.add(new Net("RNN tanh", RNN.builder().inputSize(7).hiddenSize(33).generator(new Generator(seed)).build(), null));
        out.add(new Net("RNN relu 2 layers + head", RNN.builder().inputSize(5).hiddenSize(40).numLayers(2)
                .nonlinearity("relu").generator(new Generator(seed + 1)).build(),
                new Linear(40, 3, true, new Generator(seed + 2))));
        out.add(new Net("LSTM", LSTM.builder().inputSize(16).hiddenSize(64).generator(new Generator(seed + 3)).build(), null));
        out.add(new Net("LSTM 2 layers proj_size 24 + head", LSTM.builder().inputSize(9).hiddenSize(48).numLayers(2)
                .projSize(24).generator(new Generator(seed + 4)).build(), new Linear(24, 5, true, new Generator(seed + 5))));
        out.add(new Net("GRU 3 layers", GRU.builder().inputSize(12).hiddenSize(37).numLayers(3)
                .generator(new Generator(seed + 6)).build(), null));
        out.add(new Net("GRU no bias + head no bias", GRU.builder().inputSize(4).hiddenSize(20).bias(false)
                .generator(new Generator(seed + 7)).build(), new Linear(20, 2, false, new Generator(seed + 8))));
        return out;
    }

    static float[] randn(java.util.Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
