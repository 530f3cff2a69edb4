package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.loss.Losses;
import org.rnn4j.nn.Embedding;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.Module;
import org.rnn4j.optim.Adam;
import org.rnn4j.optim.GradClip;
import org.rnn4j.optim.Optimizer;
import org.rnn4j.optim.SGD;
import org.rnn4j.testing.FixtureFile;

/**
 * PyTorch trained a small LSTM language model for 20 steps (clipping, SGD with momentum or Adam)
 * from fixed weights; rnn4j repeats it and must see the same loss at every step (1e-4 relative),
 * the same gradient norms and the same final weights.
 */
class TrainingTrajectoryTest {

    /** Embedding(11, 8) -> LSTM(8, 16, num_layers=2) -> Linear(16, 11), PyTorch's module names. */
    static final class CharModel extends Module {
        final Embedding embedding;
        final LSTM lstm;
        final Linear fc;

        CharModel(int vocab, int emb, int hidden, int layers) {
            Generator g = new Generator(0);
            embedding = registerModule("embedding", new Embedding(vocab, emb, Embedding.NONE, g));
            lstm = registerModule("lstm", LSTM.builder().inputSize(emb).hiddenSize(hidden).numLayers(layers).generator(g).build());
            fc = registerModule("fc", new Linear(hidden, vocab, true, g));
        }

        /** ids (T, B) -> logits (T*B, V). */
        Tensor forward(int[] ids, int steps, int batch) {
            Tensor x = embedding.forward(ids, steps, batch);
            Tensor h = lstm.forward(x).output();
            return fc.forward(h.reshape(steps * batch, -1));
        }
    }

    @TestFactory
    Stream<DynamicTest> trajectories() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            for (String f : List.of("train/lstm_lm.safetensors", "train/lstm_lm_adam.safetensors")) {
                tests.add(DynamicTest.dynamicTest(b.name() + ": " + f, () -> run(b, f)));
            }
        }
        return tests.stream();
    }

    private void run(Backend backend, String file) {
        try (FixtureFile fx = FixtureFile.resource(file); Backends.Override o = Backends.use(backend)) {
            int vocab = Integer.parseInt(fx.meta("vocab_size"));
            int steps = Integer.parseInt(fx.meta("seq_len"));
            int batch = Integer.parseInt(fx.meta("batch_size"));
            CharModel model = new CharModel(vocab, Integer.parseInt(fx.meta("embedding_dim")),
                    Integer.parseInt(fx.meta("hidden_size")), Integer.parseInt(fx.meta("num_layers")));
            Map<String, Tensor> init = new LinkedHashMap<>();
            for (String k : model.stateDict().keySet()) {
                init.put(k, fx.get(k));
            }
            model.loadStateDict(init);
            double lr = Double.parseDouble(fx.meta("lr"));
            Optimizer opt = fx.meta("optimizer").equals("SGD")
                    ? SGD.builder(model.parameters()).lr(lr).momentum(Double.parseDouble(fx.meta("momentum"))).build()
                    : Adam.builder(model.parameters()).lr(lr).build();
            double maxNorm = Double.parseDouble(fx.meta("max_norm"));
            int[] inputs = fx.get("inputs").toIntArray();
            int[] targets = fx.get("targets").toIntArray();
            float[] losses = fx.get("losses").toArray();
            float[] norms = fx.get("grad_norms").toArray();
            assertEquals(20, losses.length);
            float[] mine = new float[losses.length];
            float[] myNorms = new float[losses.length];
            try {
                for (int step = 0; step < losses.length; step++) {
                    try (Scope s = Scope.open()) {
                        opt.zeroGrad();
                        Tensor loss = Losses.crossEntropy(model.forward(inputs, steps, batch), targets);
                        mine[step] = loss.item();
                        loss.backward();
                        myNorms[step] = (float) GradClip.clipGradNorm(model.parameters(), maxNorm);
                        opt.step();
                    }
                }
                assertClose(mine, losses, new int[] {losses.length}, 1e-4, 0, file + " loss per step");
                assertClose(myNorms, norms, new int[] {norms.length}, 1e-4, 1e-6, file + " grad norm per step");
                for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
                    assertClose(e.getValue(), fx.get("final." + e.getKey()), 1e-3, 1e-5, file + " final " + e.getKey());
                }
            } finally {
                opt.close();
                model.close();
            }
        }
    }
}
