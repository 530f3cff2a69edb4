package org.rnn4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.loss.Losses;
import org.rnn4j.nn.Embedding;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.Module;
import org.rnn4j.optim.Adam;
import org.rnn4j.optim.GradClip;
import org.rnn4j.optim.Optimizer;
import org.rnn4j.optim.SGD;

/** Training resumed from a checkpoint must continue bit for bit like training that never stopped. */
class CheckpointTest {
    private static final int VOCAB = 7;
    private static final int T = 5;
    private static final int B = 3;

    /** Embedding(7, 4) -> GRU(4, 6) -> Linear(6, 7). */
    static final class Tiny extends Module {
        final Embedding embedding;
        final GRU gru;
        final Linear fc;

        Tiny(long seed) {
            Generator g = new Generator(seed);
            embedding = registerModule("embedding", new Embedding(VOCAB, 4, Embedding.NONE, g));
            gru = registerModule("gru", GRU.builder().inputSize(4).hiddenSize(6).generator(g).build());
            fc = registerModule("fc", new Linear(6, VOCAB, true, g));
        }

        Tensor loss(int step) {
            int[] ids = new int[T * B];
            int[] targets = new int[T * B];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (i * 3 + step) % VOCAB;
                targets[i] = (i * 5 + 2 * step + 1) % VOCAB;
            }
            Tensor h = gru.forward(embedding.forward(ids, T, B)).output();
            return Losses.crossEntropy(fc.forward(h.reshape(T * B, -1)), targets);
        }
    }

    private static float[] train(Tiny model, Optimizer opt, int from, int to) {
        float[] losses = new float[to - from];
        for (int step = from; step < to; step++) {
            try (Scope s = Scope.open()) {
                opt.zeroGrad();
                Tensor loss = model.loss(step);
                losses[step - from] = loss.item();
                loss.backward();
                GradClip.clipGradNorm(model.parameters(), 0.5);
                opt.step();
            }
        }
        return losses;
    }

    private void resumeMatchesUninterrupted(Path dir, Function<Module, Optimizer> makeOptimizer) throws IOException {
        float[] straight;
        Map<String, float[]> straightWeights = new LinkedHashMap<>();
        try (Tiny model = new Tiny(1); Optimizer opt = makeOptimizer.apply(model)) {
            straight = train(model, opt, 0, 8);
            model.stateDict().forEach((k, v) -> straightWeights.put(k, v.toArray()));
        }

        float[] first;
        try (Tiny model = new Tiny(1); Optimizer opt = makeOptimizer.apply(model)) {
            first = train(model, opt, 0, 4);
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("step", "4");
            info.put("vocab", List.of("<unk>", "a", "\"quoted\"", "\n"));
            Checkpoint.save(dir, model, opt, info);
        }
        float[] second;
        // a different seed: every weight must come from the checkpoint
        try (Tiny model = new Tiny(99); Optimizer opt = makeOptimizer.apply(model)) {
            Map<String, Object> info = Checkpoint.load(dir, model, opt);
            assertEquals("4", Checkpoint.string(info, "step"));
            assertEquals(List.of("<unk>", "a", "\"quoted\"", "\n"), Checkpoint.strings(info, "vocab"));
            second = train(model, opt, 4, 8);
            model.stateDict().forEach((k, v) -> assertArrayEquals(straightWeights.get(k), v.toArray(), "final " + k));
        }
        float[] resumed = new float[8];
        System.arraycopy(first, 0, resumed, 0, 4);
        System.arraycopy(second, 0, resumed, 4, 4);
        assertArrayEquals(straight, resumed, "losses of resumed training");
    }

    @Test
    void adamResumesExactly(@TempDir Path dir) throws IOException {
        resumeMatchesUninterrupted(dir, m -> Adam.builder(m.parameters()).lr(0.01).build());
    }

    @Test
    void sgdWithMomentumResumesExactly(@TempDir Path dir) throws IOException {
        resumeMatchesUninterrupted(dir, m -> SGD.builder(m.parameters()).lr(0.1).momentum(0.9).build());
    }

    @Test
    void weightsOnlyCheckpointAndReadInfo(@TempDir Path dir) throws IOException {
        try (Tiny model = new Tiny(3)) {
            Checkpoint.save(dir, model, null, Map.of("hidden", "6"));
            assertTrue(Files.exists(dir.resolve(Checkpoint.MODEL_FILE)));
            assertEquals("6", Checkpoint.string(Checkpoint.readInfo(dir), "hidden"));
            try (Tiny other = new Tiny(4)) {
                Checkpoint.load(dir, other, null);
                assertArrayEquals(model.fc.weight().toArray(), other.fc.weight().toArray());
            }
        }
    }

    @Test
    void errorsNameTheProblem(@TempDir Path dir) {
        IOException missing = assertThrows(IOException.class, () -> Checkpoint.readInfo(dir));
        assertTrue(missing.getMessage().contains(Checkpoint.JSON_FILE), missing.getMessage());
        try (Tiny model = new Tiny(3)) {
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> Checkpoint.save(dir, model, null, Map.of("epoch", 3)));
            assertTrue(bad.getMessage().contains("epoch"), bad.getMessage());
        }
    }
}
