package org.rnn4j.examples.flink;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import org.rnn4j.Generator;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.Linear;
import org.rnn4j.stream.FrozenRnn;

/**
 * How a task builds its frozen model in open(): shipped to the task managers as a small
 * serializable recipe, never as weights. Every task must build the same weights (the state
 * snapshots carry the model's fingerprint and are refused by any other model).
 */
public interface ModelLoader extends Serializable {
    FrozenRnn load() throws IOException;

    /** An LSTM (+ Linear head) with seeded weights: the demo and test model. */
    static ModelLoader seededLstm(int input, int hidden, int layers, int out, long seed) {
        return () -> {
            LSTM lstm = LSTM.builder().inputSize(input).hiddenSize(hidden).numLayers(layers)
                    .generator(new Generator(seed)).build();
            Linear head = new Linear(hidden, out, true, new Generator(seed + 1));
            try {
                return FrozenRnn.freeze(lstm, head);
            } finally {
                lstm.close();
                head.close();
            }
        };
    }

    /**
     * A trained LSTM (+ Linear head) from a safetensors file with PyTorch's names
     * ({@code rnn.weight_ih_l0}, ..., {@code head.weight}, {@code head.bias}), e.g. written by
     * {@code SafeTensors.save} or PyTorch's {@code safetensors.torch.save_file}. The file must be
     * readable on every task manager (a shared volume, or shipped with the job).
     */
    static ModelLoader lstmFromSafeTensors(String path, int input, int hidden, int layers, int out) {
        return () -> {
            var all = org.rnn4j.io.SafeTensors.load(Path.of(path));
            LSTM lstm = LSTM.builder().inputSize(input).hiddenSize(hidden).numLayers(layers).build();
            Linear head = new Linear(hidden, out);
            try {
                java.util.Map<String, org.rnn4j.Tensor> rnn = new java.util.HashMap<>();
                java.util.Map<String, org.rnn4j.Tensor> lin = new java.util.HashMap<>();
                all.forEach((k, v) -> {
                    if (k.startsWith("rnn.")) {
                        rnn.put(k.substring(4), v);
                    } else if (k.startsWith("head.")) {
                        lin.put(k.substring(5), v);
                    }
                });
                lstm.loadStateDict(rnn);
                head.loadStateDict(lin);
                return FrozenRnn.freeze(lstm, head);
            } finally {
                lstm.close();
                head.close();
            }
        };
    }
}
