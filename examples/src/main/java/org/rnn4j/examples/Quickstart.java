package org.rnn4j.examples;

import java.util.ArrayList;
import java.util.List;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.loss.Losses;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.PackedRnnOutput;
import org.rnn4j.nn.rnn.PackedSequence;
import org.rnn4j.nn.rnn.RnnUtils;
import org.rnn4j.optim.Adam;
import org.rnn4j.optim.GradClip;

/** The README's quickstart, compiled and run so that the snippet stays true. */
public final class Quickstart {
    private Quickstart() {
    }

    /** Runs one training step of the README snippet and returns the loss. */
    public static float run() {
        LSTM lstm = LSTM.builder().inputSize(8).hiddenSize(32).numLayers(2)
                .bidirectional(true).batchFirst(true).build();
        Linear head = new Linear(64, 3);
        List<Tensor> params = new ArrayList<>(lstm.parameters());
        params.addAll(head.parameters());
        Adam opt = Adam.builder(params).lr(1e-3).build();

        Generator gen = new Generator(0);
        float result;
        try (Scope step = Scope.open()) {
            Tensor x = Tensor.randn(gen, 4, 10, 8);
            PackedSequence packed = RnnUtils.packPaddedSequence(x, new int[] {10, 3, 7, 1}, true, false);
            PackedRnnOutput out = lstm.forward(packed);
            Tensor hN = out.hN();
            Tensor features = Tensor.concat(List.of(hN.select(0, 2), hN.select(0, 3)), 1);
            Tensor loss = Losses.crossEntropy(head.forward(features), new int[] {0, 2, 1, 0});
            loss.backward();
            GradClip.clipGradNorm(opt.params(), 1.0);
            opt.step();
            opt.zeroGrad();
            result = loss.item();
        }
        opt.close();
        lstm.close();
        head.close();
        return result;
    }

    public static void main(String[] args) {
        System.out.printf("quickstart: one training step of a packed bidirectional LSTM classifier, loss %.4f%n", run());
    }
}
