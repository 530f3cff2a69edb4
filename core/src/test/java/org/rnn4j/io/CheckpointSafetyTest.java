package org.rnn4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rnn4j.Memory;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.io.CheckpointTest.Tiny;
import org.rnn4j.nn.Module;
import org.rnn4j.optim.Adam;
import org.rnn4j.optim.Optimizer;
import org.rnn4j.optim.SGD;
import org.rnn4j.testing.MemoryProbe;

/** Issue 13: checkpoints are written atomically with a hashed manifest and restored all or nothing. */
class CheckpointSafetyTest {
    @TempDir
    Path tmp;

    private static void train(Tiny model, Optimizer opt, int steps) {
        for (int step = 0; step < steps; step++) {
            try (Scope s = Scope.open()) {
                opt.zeroGrad();
                model.loss(step).backward();
                opt.step();
            }
            model.zeroGrad();
        }
    }

    /** Everything a restore may change: parameter bits, optimizer buffer bits, scalar state. */
    private static Map<String, Object> snapshot(Module model, Optimizer opt) {
        Map<String, Object> out = new LinkedHashMap<>();
        model.namedParameters().forEach((k, v) -> out.put("param " + k, bits(v)));
        Map<String, Tensor> views = opt.stateDict();
        views.forEach((k, v) -> out.put("opt " + k, bits(v)));
        views.values().forEach(Tensor::close);
        out.put("scalars", List.copyOf(opt.scalarState().entrySet()));
        return out;
    }

    private static List<Integer> bits(Tensor t) {
        float[] f = t.toArray();
        Integer[] b = new Integer[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return List.of(b);
    }

    private static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    private static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }

    private static void editJson(Path dir, String from, String to) throws IOException {
        Path j = dir.resolve(Checkpoint.JSON_FILE);
        String s = Files.readString(j);
        assertTrue(s.contains(from), "checkpoint.json should contain " + from + ":\n" + s);
        Files.writeString(j, s.replace(from, to));
    }

    /** Replaces a part by {@code tensors} and updates the manifest to match, so only the content is wrong. */
    private static void replacePart(Path dir, String name, Map<String, Tensor> tensors) throws Exception {
        Path p = dir.resolve(name);
        String oldHash = sha256(p);
        long oldSize = Files.size(p);
        SafeTensors.save(p, tensors);
        editJson(dir, "\"sha256\": \"" + oldHash + "\", \"bytes\": " + oldSize,
                "\"sha256\": \"" + sha256(p) + "\", \"bytes\": " + Files.size(p));
    }

    @Test
    void manifestRecordsTheSha256OfEveryPartAndNoTemporaryFilesRemain() throws Exception {
        Path dir = tmp.resolve("ck");
        try (Tiny model = new Tiny(1); Optimizer opt = Adam.builder(model.parameters()).lr(0.01).build()) {
            train(model, opt, 2);
            Checkpoint.save(dir, model, opt, Map.of("step", "2"));
            Checkpoint.save(dir, model, opt, Map.of("step", "2")); // over an existing one
        }
        String json = Files.readString(dir.resolve(Checkpoint.JSON_FILE));
        @SuppressWarnings("unchecked")
        Map<String, Object> top = (Map<String, Object>) Json.parse(json);
        assertEquals("2", top.get("format").toString());
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> files = (Map<String, Map<String, Object>>) top.get("files");
        assertEquals(List.of(Checkpoint.MODEL_FILE, Checkpoint.OPTIMIZER_FILE), List.copyOf(files.keySet()));
        for (String f : files.keySet()) {
            assertEquals(sha256(dir.resolve(f)), files.get(f).get("sha256"), f);
            assertEquals(Long.toString(Files.size(dir.resolve(f))), files.get(f).get("bytes").toString(), f);
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(Checkpoint.JSON_FILE, Checkpoint.MODEL_FILE, Checkpoint.OPTIMIZER_FILE),
                    s.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files left");
        }
    }

    private interface Mutation {
        void apply(Path dir) throws Exception;
    }

    private record Case(String name, Mutation mutation, String expected) {
    }

    /**
     * Each broken checkpoint is refused with a message naming the problem, and the model and
     * optimizer being restored are bitwise what they were, with every tensor read freed.
     */
    @Test
    void brokenCheckpointsAreRefusedAndChangeNothing() throws Exception {
        Path good = tmp.resolve("good");
        Path other = tmp.resolve("other");
        try (Tiny model = new Tiny(1); Optimizer opt = Adam.builder(model.parameters()).lr(0.01).build()) {
            train(model, opt, 3);
            Checkpoint.save(good, model, opt, Map.of("step", "3"));
        }
        try (Tiny model = new Tiny(2); Optimizer opt = Adam.builder(model.parameters()).lr(0.01).build()) {
            train(model, opt, 3);
            Checkpoint.save(other, model, opt, Map.of("step", "3"));
        }
        List<Case> cases = List.of(
                new Case("model byte flipped", d -> {
                    byte[] b = Files.readAllBytes(d.resolve(Checkpoint.MODEL_FILE));
                    b[b.length - 3] ^= 1;
                    Files.write(d.resolve(Checkpoint.MODEL_FILE), b);
                }, "model.safetensors: corrupt or replaced: its SHA-256 is"),
                new Case("optimizer truncated", d -> {
                    byte[] b = Files.readAllBytes(d.resolve(Checkpoint.OPTIMIZER_FILE));
                    Files.write(d.resolve(Checkpoint.OPTIMIZER_FILE), java.util.Arrays.copyOf(b, b.length - 10));
                }, "optimizer.safetensors: has"),
                new Case("optimizer missing", d -> Files.delete(d.resolve(Checkpoint.OPTIMIZER_FILE)),
                        "checkpoint part optimizer.safetensors is missing; to restore the model alone use Checkpoint.loadModel"),
                new Case("model missing", d -> Files.delete(d.resolve(Checkpoint.MODEL_FILE)), "model.safetensors is missing"),
                new Case("model from another save", d -> Files.copy(other.resolve(Checkpoint.MODEL_FILE),
                        d.resolve(Checkpoint.MODEL_FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING),
                        "model.safetensors: corrupt or replaced"),
                new Case("lr not a number", d -> editJson(d, "\"lr\": \"0.01\"", "\"lr\": \"abc\""),
                        "Adam.loadStateDict: 'lr' must be a number, got 'abc'"),
                new Case("step not an integer", d -> editJson(d, "\"state.0.step\": \"3\"", "\"state.0.step\": \"3.5\""),
                        "'state.0.step' must be an integer, got '3.5'"),
                new Case("betas one number", d -> editJson(d, "\"betas\": \"0.9,0.999\"", "\"betas\": \"0.9\""),
                        "'betas' must hold two numbers"),
                new Case("betas not numbers", d -> editJson(d, "\"betas\": \"0.9,0.999\"", "\"betas\": \"0.9,x\""),
                        "'betas[1]' must be a number, got 'x'"),
                new Case("eps NaN", d -> editJson(d, "\"eps\": \"1.0E-8\"", "\"eps\": \"NaN\""), "'eps' must be finite, got 'NaN'"),
                new Case("beta out of range", d -> editJson(d, "\"betas\": \"0.9,0.999\"", "\"betas\": \"0.9,1.5\""),
                        "invalid beta parameter at index 1: 1.5"),
                new Case("unknown optimizer field", d -> editJson(d, "\"lr\": \"0.01\"", "\"lr\": \"0.01\", \"momentum\": \"0.9\""),
                        "unknown field 'momentum'"),
                new Case("step for a missing parameter", d -> editJson(d, "\"lr\": \"0.01\"", "\"lr\": \"0.01\", \"state.99.step\": \"1\""),
                        "'state.99.step' is for a parameter this optimizer does not have"),
                new Case("optimizer field not a string", d -> editJson(d, "\"lr\": \"0.01\"", "\"lr\": 0.01"),
                        "'optimizer'.'lr' must be a string, got 0.01"),
                new Case("num_params wrong", d -> editJson(d, "\"num_params\": \"7\"", "\"num_params\": \"6\""),
                        "state is for 6 parameters, this optimizer has 7"),
                new Case("bad hash text", d -> {
                    String h = sha256(d.resolve(Checkpoint.MODEL_FILE));
                    editJson(d, h, "xyz");
                }, "'sha256' must be 64 lowercase hex digits"),
                new Case("bytes negative", d -> editJson(d, "\"bytes\": ", "\"bytes\": -"), "'bytes' must be a non-negative integer"),
                new Case("json broken", d -> editJson(d, "\"info\"", "\"info\" oops"), "checkpoint.json: invalid JSON"),
                new Case("info value not a string", d -> editJson(d, "\"step\": \"3\"", "\"step\": 3"),
                        "'info'.'step' must be a string or a list of strings"),
                new Case("optimizer buffer of the wrong shape", d -> {
                    Map<String, Tensor> st = SafeTensors.load(d.resolve(Checkpoint.OPTIMIZER_FILE));
                    st.put("state.1.exp_avg", Tensor.zeros(3, 3));
                    replacePart(d, Checkpoint.OPTIMIZER_FILE, st);
                    st.values().forEach(Tensor::close);
                }, "'state.1.exp_avg' has shape [3, 3], parameter 1 has shape"),
                new Case("optimizer buffer missing", d -> {
                    Map<String, Tensor> st = SafeTensors.load(d.resolve(Checkpoint.OPTIMIZER_FILE));
                    st.remove("state.2.exp_avg_sq").close();
                    replacePart(d, Checkpoint.OPTIMIZER_FILE, st);
                    st.values().forEach(Tensor::close);
                }, "parameter 2 has only some of its buffers"),
                new Case("model weight missing", d -> {
                    Map<String, Tensor> st = SafeTensors.load(d.resolve(Checkpoint.MODEL_FILE));
                    st.remove("fc.bias").close();
                    replacePart(d, Checkpoint.MODEL_FILE, st);
                    st.values().forEach(Tensor::close);
                }, "missing keys [fc.bias]"),
                new Case("model weight of the wrong shape", d -> {
                    Map<String, Tensor> st = SafeTensors.load(d.resolve(Checkpoint.MODEL_FILE));
                    st.put("gru.weight_hh_l0", Tensor.zeros(18, 5));
                    replacePart(d, Checkpoint.MODEL_FILE, st);
                    st.values().forEach(Tensor::close);
                }, "'gru.weight_hh_l0' has shape [18, 5], expected [18, 6]"));
        int n = 0;
        for (Case c : cases) {
            Path d = tmp.resolve("case" + n++);
            copyDir(good, d);
            c.mutation.apply(d);
            try (Tiny model = new Tiny(99); Optimizer opt = Adam.builder(model.parameters()).lr(0.5).build()) {
                train(model, opt, 1);
                Map<String, Object> before = snapshot(model, opt);
                long mem = MemoryProbe.settle();
                Exception e = assertThrows(Exception.class, () -> Checkpoint.load(d, model, opt), c.name);
                assertTrue(e instanceof IOException || e instanceof IllegalArgumentException, c.name + ": " + e);
                assertTrue(e.getMessage().contains(c.expected), c.name + ": message '" + e.getMessage() + "' should contain '"
                        + c.expected + "'");
                assertEquals(mem, Memory.bytesInUse(), c.name + ": a failed restore frees what it read");
                assertEquals(before, snapshot(model, opt), c.name + ": model and optimizer unchanged");
            }
        }
        // and the good one restores exactly what was saved
        try (Tiny saved = new Tiny(1); Optimizer savedOpt = Adam.builder(saved.parameters()).lr(0.01).build();
                Tiny model = new Tiny(99); Optimizer opt = Adam.builder(model.parameters()).lr(0.5).build()) {
            train(saved, savedOpt, 3);
            train(model, opt, 1);
            Checkpoint.load(good, model, opt);
            assertEquals(snapshot(saved, savedOpt), snapshot(model, opt));
        }
    }

    @Test
    void optimizerOfAnotherKindIsRefused() throws Exception {
        Path dir = tmp.resolve("sgd");
        try (Tiny model = new Tiny(1); Optimizer opt = SGD.builder(model.parameters()).lr(0.1).momentum(0.9).build()) {
            train(model, opt, 2);
            Checkpoint.save(dir, model, opt, Map.of());
        }
        try (Tiny model = new Tiny(9); Optimizer opt = Adam.builder(model.parameters()).build()) {
            train(model, opt, 1);
            Map<String, Object> before = snapshot(model, opt);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(dir, model, opt));
            assertTrue(e.getMessage().contains("state was saved by SGD, this optimizer is Adam"), e.getMessage());
            assertEquals(before, snapshot(model, opt));
        }
    }

    @Test
    void modelAloneWhenTheOptimizerIsDeliberatelyAbsent() throws Exception {
        Path dir = tmp.resolve("ck");
        Map<String, Object> saved;
        try (Tiny model = new Tiny(1); Optimizer opt = Adam.builder(model.parameters()).lr(0.01).build()) {
            train(model, opt, 2);
            Checkpoint.save(dir, model, opt, Map.of("epoch", "1"));
            saved = new LinkedHashMap<>();
            model.namedParameters().forEach((k, v) -> saved.put(k, bits(v)));
        }
        Files.delete(dir.resolve(Checkpoint.OPTIMIZER_FILE));
        try (Tiny model = new Tiny(5)) {
            assertEquals("1", Checkpoint.string(Checkpoint.loadModel(dir, model), "epoch"));
            model.namedParameters().forEach((k, v) -> assertEquals(saved.get(k), bits(v), k));
        }
        // a weights-only checkpoint restored with an optimizer says what to do
        Path weights = tmp.resolve("weights");
        try (Tiny model = new Tiny(1)) {
            Checkpoint.save(weights, model, null, Map.of());
        }
        try (Tiny model = new Tiny(5); Optimizer opt = Adam.builder(model.parameters()).build()) {
            IOException e = assertThrows(IOException.class, () -> Checkpoint.load(weights, model, opt));
            assertTrue(e.getMessage().contains("holds no optimizer state") && e.getMessage().contains("Checkpoint.loadModel"),
                    e.getMessage());
        }
    }

    /** Checkpoint.save closes the optimizer views it creates: after closing model and optimizer nothing stays held. */
    @Test
    void saveReleasesEverythingItCreated() throws Exception {
        long start = MemoryProbe.settle();
        Path dir = tmp.resolve("mem");
        try (Tiny model = new Tiny(1); Optimizer opt = Adam.builder(model.parameters()).lr(0.01).build()) {
            train(model, opt, 2);
            Checkpoint.save(dir, model, opt, Map.of());
        }
        assertEquals(start, Memory.bytesInUse(), "no Adam state held after save and close");
        try (Tiny model = new Tiny(1); Optimizer opt = Adam.builder(model.parameters()).lr(0.01).build()) {
            train(model, opt, 1);
            Checkpoint.load(dir, model, opt);
        }
        assertEquals(start, Memory.bytesInUse(), "no tensor held after load and close");
    }

    /** A save that fails part way leaves the previous checkpoint byte for byte, and no temporary files. */
    @Test
    void failedSaveKeepsThePreviousCheckpoint() throws Exception {
        Path dir = tmp.resolve("ck");
        try (Tiny model = new Tiny(1); Optimizer opt = Adam.builder(model.parameters()).lr(0.01).build()) {
            train(model, opt, 2);
            Checkpoint.save(dir, model, opt, Map.of("v", "1"));
        }
        Map<String, byte[]> before = new LinkedHashMap<>();
        for (String f : List.of(Checkpoint.JSON_FILE, Checkpoint.MODEL_FILE, Checkpoint.OPTIMIZER_FILE)) {
            before.put(f, Files.readAllBytes(dir.resolve(f)));
        }
        try (Tiny model = new Tiny(2); Optimizer opt = Adam.builder(model.parameters()).lr(0.01).build()) {
            train(model, opt, 1);
            assertThrows(IllegalArgumentException.class, () -> Checkpoint.save(dir, model, opt, Map.of("v", 2)));
            model.fc.bias().close(); // the model file cannot be written: fails mid-save
            assertThrows(IllegalStateException.class, () -> Checkpoint.save(dir, model, opt, Map.of("v", "2")));
        }
        for (String f : before.keySet()) {
            assertArrayEquals(before.get(f), Files.readAllBytes(dir.resolve(f)), f + " unchanged");
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary files removed");
        }
        try (Tiny model = new Tiny(3); Optimizer opt = Adam.builder(model.parameters()).lr(0.01).build()) {
            assertEquals("1", Checkpoint.string(Checkpoint.load(dir, model, opt), "v"));
        }
    }

    /** Checkpoints from before the manifest (no format/files) still restore. */
    @Test
    void checkpointsWithoutManifestStillLoad() throws Exception {
        Path dir = tmp.resolve("old");
        Map<String, Object> saved = new LinkedHashMap<>();
        try (Tiny model = new Tiny(1); Optimizer opt = SGD.builder(model.parameters()).lr(0.1).momentum(0.9).build()) {
            train(model, opt, 2);
            Checkpoint.save(dir, model, opt, Map.of("k", "v"));
            model.namedParameters().forEach((k, v) -> saved.put(k, bits(v)));
        }
        String json = Files.readString(dir.resolve(Checkpoint.JSON_FILE), StandardCharsets.UTF_8);
        String legacy = json.replaceAll("(?s)\"format\": 2,\\s*\"files\": \\{.*?\\n  \\},", "");
        assertFalse(legacy.contains("files"), legacy);
        Files.writeString(dir.resolve(Checkpoint.JSON_FILE), legacy);
        try (Tiny model = new Tiny(7); Optimizer opt = SGD.builder(model.parameters()).lr(0.1).momentum(0.9).build()) {
            Checkpoint.load(dir, model, opt);
            model.namedParameters().forEach((k, v) -> assertEquals(saved.get(k), bits(v), k));
        }
    }
}
