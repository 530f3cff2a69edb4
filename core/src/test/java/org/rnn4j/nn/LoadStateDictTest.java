package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rnn4j.Generator;
import org.rnn4j.Memory;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.io.SafeTensors;
import org.rnn4j.io.StateDict;
import org.rnn4j.testing.MemoryProbe;

/** Issue 13: loadStateDict validates everything before it changes anything. */
class LoadStateDictTest {
    @TempDir
    Path tmp;

    /** LSTM(3, 5, proj 2) -> Linear(2, 4): parameters of several shapes and modules. */
    static final class Net extends Module {
        Net(long seed) {
            Generator g = new Generator(seed);
            registerModule("lstm", LSTM.builder().inputSize(3).hiddenSize(5).projSize(2).generator(g).build());
            registerModule("fc", new Linear(2, 4, true, g));
        }
    }

    static Map<String, int[]> bits(Module m) {
        Map<String, int[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, v) -> {
            float[] f = v.toArray();
            int[] b = new int[f.length];
            for (int i = 0; i < f.length; i++) {
                b[i] = Float.floatToRawIntBits(f[i]);
            }
            out.put(k, b);
        });
        return out;
    }

    static void assertBitwise(Map<String, int[]> expected, Module m, String what) {
        Map<String, int[]> now = bits(m);
        assertEquals(expected.keySet(), now.keySet(), what);
        for (String k : expected.keySet()) {
            assertArrayEquals(expected.get(k), now.get(k), what + ": parameter '" + k + "' changed");
        }
    }

    /**
     * Random bad state dicts built from a good one: the bad entry (wrong shape, closed, null,
     * missing, unexpected) sits at a random position among good entries, so a loader that copies
     * as it validates would have changed the parameters before it.
     */
    @Test
    void fuzzedBadStateDictsLeaveTheModuleBitwiseUnchanged() {
        Random r = new Random(1302);
        try (Net target = new Net(1); Net source = new Net(2); Scope scope = Scope.open()) {
            Map<String, int[]> before = bits(target);
            List<String> names = new ArrayList<>(target.namedParameters().keySet());
            int rejected = 0;
            for (int iter = 0; iter < 300; iter++) {
                Map<String, Tensor> state = new LinkedHashMap<>();
                for (String k : names) {
                    state.put(k, source.namedParameters().get(k).detach());
                }
                String victim = names.get(r.nextInt(names.size()));
                int[] shape = state.get(victim).shape();
                int kind = r.nextInt(5);
                boolean strict = kind >= 3 || r.nextBoolean();
                String expected;
                switch (kind) {
                    case 0 -> {
                        int[] wrong = shape.clone();
                        wrong[r.nextInt(wrong.length)] += 1 + r.nextInt(3);
                        state.put(victim, Tensor.zeros(wrong));
                        expected = "'" + victim + "' has shape";
                    }
                    case 1 -> {
                        Tensor t = Tensor.ones(shape);
                        t.close();
                        state.put(victim, t);
                        expected = "'" + victim + "' " + java.util.Arrays.toString(shape) + " was closed";
                    }
                    case 2 -> {
                        state.put(victim, null);
                        expected = "'" + victim + "' is null";
                    }
                    case 3 -> {
                        state.remove(victim);
                        expected = "missing keys [" + victim + "]";
                    }
                    default -> {
                        // an unexpected name at a random place in iteration order
                        Map<String, Tensor> shuffled = new LinkedHashMap<>();
                        int at = r.nextInt(names.size() + 1);
                        int i = 0;
                        for (Map.Entry<String, Tensor> e : state.entrySet()) {
                            if (i++ == at) {
                                shuffled.put("lstm.bogus_l9", Tensor.ones(2));
                            }
                            shuffled.put(e.getKey(), e.getValue());
                        }
                        shuffled.putIfAbsent("lstm.bogus_l9", Tensor.ones(2));
                        state = shuffled;
                        expected = "unexpected keys [lstm.bogus_l9]";
                    }
                }
                Map<String, Tensor> bad = state;
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> target.loadStateDict(bad, strict),
                        "iteration " + iter + " kind " + kind);
                assertTrue(e.getMessage().contains(expected) && e.getMessage().contains("nothing was loaded"),
                        "iteration " + iter + ": " + e.getMessage());
                assertBitwise(before, target, "iteration " + iter + " (" + e.getMessage() + ")");
                rejected++;
            }
            assertEquals(300, rejected);
            // and a good one loads every parameter
            target.loadStateDict(source.stateDict());
            assertBitwise(bits(source), target, "after a good load");
        }
    }

    @Test
    void errorListsEveryProblemAndNonStrictStillChecksShapes() {
        try (Net target = new Net(1); Scope scope = Scope.open()) {
            Map<String, int[]> before = bits(target);
            Map<String, Tensor> state = new LinkedHashMap<>();
            state.put("fc.weight", Tensor.zeros(4, 3));
            state.put("extra", Tensor.zeros(1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> target.loadStateDict(state, true));
            assertTrue(e.getMessage().contains("missing keys [fc.bias, lstm.bias_hh_l0")
                    && e.getMessage().contains("unexpected keys [extra]")
                    && e.getMessage().contains("'fc.weight' has shape [4, 3], expected [4, 2]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> target.loadStateDict(state, false));
            assertTrue(e.getMessage().contains("'fc.weight' has shape [4, 3]") && !e.getMessage().contains("missing"),
                    e.getMessage());
            assertBitwise(before, target, "after failed loads");
            // checkStateDict reports the same without loading
            assertThrows(IllegalArgumentException.class, () -> target.checkStateDict(state, false));
            state.put("fc.weight", Tensor.full(0.5f, 4, 2));
            target.checkStateDict(state, false);
            assertBitwise(before, target, "checkStateDict changes nothing");
            target.loadStateDict(state, false);
            assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f},
                    target.namedParameters().get("fc.weight").toArray());
        }
    }

    /** Entries that are this module's own parameters, permuted: every value is read before any is written. */
    @Test
    void aliasingEntriesAreReadBeforeAnyWrite() {
        try (GRU gru = GRU.builder().inputSize(2).hiddenSize(2).generator(new Generator(5)).build()) {
            Map<String, Tensor> p = gru.namedParameters();
            float[] ih = p.get("bias_ih_l0").toArray();
            float[] hh = p.get("bias_hh_l0").toArray();
            Map<String, Tensor> swapped = new LinkedHashMap<>(p);
            swapped.put("bias_ih_l0", p.get("bias_hh_l0"));
            swapped.put("bias_hh_l0", p.get("bias_ih_l0"));
            gru.loadStateDict(swapped);
            assertArrayEquals(hh, gru.namedParameters().get("bias_ih_l0").toArray());
            assertArrayEquals(ih, gru.namedParameters().get("bias_hh_l0").toArray());
        }
    }

    /** From files: bad files of either format fail, leave the module as it was and free what they read. */
    @Test
    void fileLoadsAreAllOrNothingAndFreeWhatTheyRead() throws IOException {
        try (Net target = new Net(1); Net source = new Net(2)) {
            Map<String, int[]> before = bits(target);
            Path good = tmp.resolve("good.safetensors");
            SafeTensors.save(good, source.stateDict());
            Map<String, Tensor> wrong = new LinkedHashMap<>(source.stateDict());
            Tensor w = Tensor.zeros(9, 2);
            wrong.put("lstm.weight_hr_l0", w);
            Path bad = tmp.resolve("bad.safetensors");
            SafeTensors.save(bad, wrong);
            w.close();
            Path junk = tmp.resolve("junk.bin");
            Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
            long start = MemoryProbe.settle();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> target.loadStateDict(bad));
            assertTrue(e.getMessage().contains("'lstm.weight_hr_l0' has shape [9, 2], expected [2, 5]"), e.getMessage());
            assertEquals(start, Memory.bytesInUse(), "the tensors read are freed after a failed load");
            IOException io = assertThrows(IOException.class, () -> target.loadStateDict(junk));
            assertTrue(io.getMessage().contains("accepted formats"), io.getMessage());
            assertEquals(start, Memory.bytesInUse());
            assertBitwise(before, target, "after failed file loads");
            target.loadStateDict(good);
            assertEquals(start, Memory.bytesInUse(), "the tensors read are freed after a load");
            assertBitwise(bits(source), target, "after the good file");
        }
    }

    @Test
    void integerEntriesUnderParameterNamesAreDtypeErrors() throws IOException {
        // a safetensors file with an I64 'bias' (written by hand: rnn4j writes F32 only)
        String json = "{\"bias\":{\"dtype\":\"I64\",\"shape\":[4],\"data_offsets\":[0,32]}}";
        byte[] header = (json + " ".repeat((8 - json.length() % 8) % 8)).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] file = new byte[8 + header.length + 32];
        java.nio.ByteBuffer.wrap(file).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(header.length);
        System.arraycopy(header, 0, file, 8, header.length);
        try (Linear fc = new Linear(2, 4, true, new Generator(3)); StateDict sd = StateDict.read(file)) {
            Map<String, int[]> before = bits(fc);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fc.loadStateDict(sd, false));
            assertTrue(e.getMessage().contains("'bias' has dtype I64, but parameters are float32"), e.getMessage());
            assertBitwise(before, fc, "after a dtype error");
        }
        try (GRU gru = GRU.builder().inputSize(5).hiddenSize(4).numLayers(2).batchFirst(true).build();
                StateDict sd = StateDict.read(tmpCopy("torch/gru_packed.pt"))) {
            Map<String, int[]> before = bits(gru);
            // strict: 'input' (float) and 'lengths' (int64) are not parameters
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gru.loadStateDict(sd));
            assertTrue(e.getMessage().contains("unexpected keys [input]") && e.getMessage().contains("unexpected integer entries [lengths]"),
                    e.getMessage());
            assertBitwise(before, gru, "after a failed strict load");
            gru.loadStateDict(sd, false);
            assertArrayEquals(sd.tensor("weight_hh_l1").toArray(), gru.namedParameters().get("weight_hh_l1").toArray());
        }
    }

    private Path tmpCopy(String fixture) throws IOException {
        Path p = tmp.resolve(fixture.replace('/', '_'));
        try (var in = LoadStateDictTest.class.getResourceAsStream("/fixtures/" + fixture)) {
            Files.copy(in, p);
        }
        return p;
    }
}
