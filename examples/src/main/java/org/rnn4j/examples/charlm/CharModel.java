package org.rnn4j.examples.charlm;

import org.rnn4j.Generator;
import org.rnn4j.Tensor;
import org.rnn4j.nn.Dropout;
import org.rnn4j.nn.Embedding;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.Module;
import org.rnn4j.nn.RNNBase;
import org.rnn4j.nn.RnnOutput;
import org.rnn4j.nn.State;

/**
 * Character language model: ids (T, B) -> one-hot or embedding (T, B, E) -> RNN/LSTM/GRU
 * (T, B, H) -> dropout -> Linear -> logits (T*B, V). Parameter names are PyTorch's for
 * {@code embedding / rnn / fc} modules, so the weights load into the PyTorch recipe and back.
 * Legend: T = time steps, B = batch, E = input features, H = hidden, V = vocabulary.
 */
public final class CharModel extends Module {
    private final Hyper hyper;
    private final Embedding embedding;
    private final RNNBase rnn;
    private final Dropout dropout;
    private final Linear fc;

    public CharModel(Hyper hyper, Generator gen) {
        this.hyper = hyper;
        int inputSize = hyper.embedding() == 0 ? hyper.vocab() : hyper.embedding();
        embedding = hyper.embedding() == 0 ? null
                : registerModule("embedding", new Embedding(hyper.vocab(), hyper.embedding(), Embedding.NONE, gen));
        // "rnn" (tanh), "lstm" or "gru": one builder chain for any kind
        rnn = registerModule("rnn", RNNBase.builder(hyper.model()).inputSize(inputSize).hiddenSize(hyper.hidden())
                .numLayers(hyper.layers()).dropout(hyper.dropout()).generator(gen).build());
        dropout = registerModule("dropout", new Dropout(hyper.dropout(), gen));
        fc = registerModule("fc", new Linear(hyper.hidden(), hyper.vocab(), true, gen));
    }

    public Hyper hyper() {
        return hyper;
    }

    /**
     * @param ids (T, B) time-major, {@code ids[t * B + b]}
     * @param state h (layers, B, H) and, for an LSTM, c (layers, B, H); null for zeros
     * @return logits (T*B, V) and the final state
     */
    public Step forward(int[] ids, int steps, int batch, State state) {
        Tensor x = embedding != null ? embedding.forward(ids, steps, batch) : oneHot(ids, hyper.vocab()).reshape(steps, batch, -1);
        RnnOutput out = rnn.forward(x, state);
        Tensor y = dropout.forward(out.output()).reshape(steps * batch, hyper.hidden());
        return new Step(fc.forward(y), out.state());
    }

    /** What one call returns. */
    public record Step(Tensor logits, State state) {
    }

    /** (N, V) rows of zeros with a 1 at each id: d2l's {@code F.one_hot(X.T, V)} input. */
    static Tensor oneHot(int[] ids, int classes) {
        float[] data = new float[ids.length * classes];
        for (int i = 0; i < ids.length; i++) {
            data[i * classes + ids[i]] = 1f;
        }
        return Tensor.fromArray(data, ids.length, classes);
    }
}
