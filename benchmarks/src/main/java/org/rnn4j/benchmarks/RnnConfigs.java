package org.rnn4j.benchmarks;

import org.rnn4j.Generator;
import org.rnn4j.nn.RNNBase;

/**
 * The benchmark configurations of the recurrent-layers issue, shared with
 * benchmarks/pytorch/bench_rnn.py so both sides time the same shapes:
 * A (T=35, N=32, I=28, H=256), B (T=100, N=64, I=256, H=512),
 * C (2 layers, bidirectional, T=100, N=64, I=512, H=512), D (one step, N=1, I=128, H=256),
 * P (LSTM over 64 packed sequences, lengths spread over 10..100, I=256, H=512).
 */
final class RnnConfigs {
    private RnnConfigs() {
    }

    record Shape(int steps, int batch, int input, int hidden, int layers, boolean bidirectional) {
    }

    /**
     * Learning rate of the timed SGD steps (bench_rnn.py uses the same). The loss, sum(output * g)
     * with a fixed random g, has no minimum: at lr 1e-3 SGD blew config C's network up within six
     * steps (gradients of 1e29, thousands of subnormal outputs), and that step took 7.4-7.9 s
     * instead of 1.6-2.4 (subnormals are slow in the GEMM kernels), on whichever side it happened.
     * At 1e-9 every step does the same work (the update of every parameter) on weights that stay
     * where they were initialised.
     */
    static final double TRAIN_LR = 1e-9;

    static Shape shape(String config) {
        return switch (config) {
            case "A" -> new Shape(35, 32, 28, 256, 1, false);
            case "B", "P" -> new Shape(100, 64, 256, 512, 1, false);
            case "C" -> new Shape(100, 64, 512, 512, 2, true);
            case "D" -> new Shape(1, 1, 128, 256, 1, false);
            default -> throw new IllegalArgumentException("unknown config " + config);
        };
    }

    static RNNBase module(String cell, Shape s) {
        Generator g = new Generator(1);
        if (!cell.equals("LSTM") && !cell.equals("GRU") && !cell.equals("RNN")) {
            throw new IllegalArgumentException("unknown cell " + cell);
        }
        return RNNBase.builder(cell).inputSize(s.input()).hiddenSize(s.hidden()).numLayers(s.layers())
                .bidirectional(s.bidirectional()).generator(g).build();
    }

    /**
     * Lengths of config P: 64 unsorted lengths spread evenly over 10..100 by a formula that the
     * PyTorch script uses too, so both sides run exactly the same packed batch.
     */
    static int[] packedLengths() {
        int[] lengths = new int[64];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = 10 + (i * 37 + 11) % 91;
        }
        return lengths;
    }
}
