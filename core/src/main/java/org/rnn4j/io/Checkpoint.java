package org.rnn4j.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.rnn4j.Tensor;

/**
 * A training checkpoint in a folder, so that training can stop and resume exactly:
 * <ul>
 *   <li>{@code model.safetensors}: the model's state dict under PyTorch's names (loads as-is with
 *       {@code safetensors.torch.load_file} + {@code load_state_dict});</li>
 *   <li>{@code optimizer.safetensors}: {@link OptimizerState#stateDict()} (momentum / Adam moments),
 *       absent in a weights-only checkpoint;</li>
 *   <li>{@code checkpoint.json}: {@code {"format": 2, "files": {name: {"sha256": hex, "bytes": n}},
 *       "optimizer": {scalarState}, "info": {...}}}, where {@code files} is the manifest of the
 *       other files with their SHA-256 and size, and info is the caller's own record (epoch, step,
 *       hyper-parameters, vocabulary): values are strings or lists of strings, kept in order.</li>
 * </ul>
 *
 * <p>Saving writes every file to a temporary sibling, forces it to disk, and only then renames
 * them over the old ones (atomically where the file system allows), {@code checkpoint.json}
 * last: a crash or error while writing leaves the previous files whole, and a crash between the
 * renames leaves files whose hashes no longer match the manifest, which {@link #load} reports
 * naming the file rather than restoring a mixture.
 *
 * <p>Restoring is all or nothing: the manifest, every file's size and hash, every JSON field,
 * the model's state dict and the optimizer's state (keys, shapes, numbers) are all checked
 * before the model or the optimizer changes; on any error both are exactly as before, and every
 * tensor read has been freed. Checkpoints written before the manifest existed (no {@code files}
 * field) still load, without the hash check.
 */
public final class Checkpoint {
    /** Name of the model's state dict file in the checkpoint folder. */
    public static final String MODEL_FILE = "model.safetensors";
    /** Name of the optimizer's tensor state file (absent in a weights-only checkpoint). */
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    /** Name of the manifest and metadata file, written last. */
    public static final String JSON_FILE = "checkpoint.json";
    /** The {@code format} this class writes. */
    public static final int FORMAT = 2;

    private Checkpoint() {
    }

    // =====================================================================================
    // saving
    // =====================================================================================

    /**
     * Saves model, optimizer (may be null: a weights-only checkpoint) and {@code info} into
     * {@code dir}, replacing any checkpoint there only once every new file is complete on disk.
     *
     * @param info values must be {@link String} or {@code List<String>}
     */
    public static void save(Path dir, ModelState model, OptimizerState optimizer, Map<String, ?> info) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(info, "info");
        StringBuilder infoJson = new StringBuilder();
        writeObject(infoJson, info); // validates info before anything is written
        Files.createDirectories(dir);
        List<Written> written = new ArrayList<>();
        boolean done = false;
        try {
            Map<String, Tensor> weights = model.stateDict(); // the live parameters: not to be closed
            written.add(writeTemp(dir, MODEL_FILE, out -> SafeTensors.write(out, weights, Map.of())));
            Map<String, String> scalars = Map.of();
            if (optimizer != null) {
                Map<String, Tensor> views = optimizer.stateDict();
                try {
                    written.add(writeTemp(dir, OPTIMIZER_FILE, out -> SafeTensors.write(out, views, Map.of())));
                } finally {
                    views.values().forEach(Tensor::close); // views hold the buffers' storage
                }
                scalars = optimizer.scalarState();
            }
            StringBuilder json = new StringBuilder("{\n  \"format\": " + FORMAT + ",\n  \"files\": {");
            for (int i = 0; i < written.size(); i++) {
                Written w = written.get(i);
                json.append(i == 0 ? "\n    " : ",\n    ");
                Json.writeString(json, w.name);
                json.append(": {\"sha256\": \"").append(w.sha256).append("\", \"bytes\": ").append(w.bytes).append('}');
            }
            json.append(written.isEmpty() ? "}" : "\n  }").append(",\n  \"optimizer\": ");
            writeObject(json, scalars);
            json.append(",\n  \"info\": ").append(infoJson).append("\n}\n");
            byte[] jsonBytes = json.toString().getBytes(StandardCharsets.UTF_8);
            Written j = writeTemp(dir, JSON_FILE, out -> out.write(jsonBytes));
            // every file is whole on disk: now replace, the manifest last
            for (Written w : written) {
                move(w.tmp, dir.resolve(w.name));
            }
            move(j.tmp, dir.resolve(JSON_FILE));
            if (optimizer == null) {
                Files.deleteIfExists(dir.resolve(OPTIMIZER_FILE)); // a stale one from an earlier save
            }
            syncDirectory(dir);
            done = true;
        } finally {
            if (!done) {
                for (Written w : written) {
                    Files.deleteIfExists(w.tmp);
                }
            }
        }
    }

    private record Written(String name, Path tmp, String sha256, long bytes) {
    }

    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    /** Writes {@code name}'s content to a new temporary sibling, forced to disk; its hash and size. */
    private static Written writeTemp(Path dir, String name, Body body) throws IOException {
        Path tmp = Files.createTempFile(dir, "." + name + ".", ".tmp");
        boolean ok = false;
        try {
            MessageDigest md = sha256();
            long size;
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                DigestOutputStream out = new DigestOutputStream(Channels.newOutputStream(ch), md);
                body.write(out);
                out.flush();
                ch.force(true);
                size = ch.size();
            }
            ok = true;
            return new Written(name, tmp, HexFormat.of().formatHex(md.digest()), size);
        } finally {
            if (!ok) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Makes the renames durable where the platform allows opening a directory (Linux, macOS). */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not supported here (e.g. Windows): the files themselves were forced
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    // =====================================================================================
    // restoring
    // =====================================================================================

    /** The caller's info map from {@code dir}; read it first to rebuild the model before {@link #load}. */
    public static Map<String, Object> readInfo(Path dir) throws IOException {
        return readManifest(dir).info;
    }

    /**
     * Restores the model's weights and, when {@code optimizer} is non-null, its buffers and scalar
     * state (lr, betas, step counts); returns the info map. All or nothing (see the class
     * comment). With a non-null optimizer the checkpoint must hold optimizer state: a missing
     * {@code optimizer.safetensors} is an error naming it; restore the model alone with
     * {@link #loadModel} when that is intended. {@code optimizer == null} is {@link #loadModel}.
     */
    public static Map<String, Object> load(Path dir, ModelState model, OptimizerState optimizer) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(model, "model");
        Manifest m = readManifest(dir);
        Map<String, Tensor> weights = null;
        Map<String, Tensor> state = null;
        try {
            weights = readTensors(dir, MODEL_FILE, m);
            if (optimizer != null) {
                if (m.files != null && !m.files.containsKey(OPTIMIZER_FILE)) {
                    throw new IOException(dir.resolve(JSON_FILE) + ": this checkpoint holds no optimizer state (saved without an "
                            + "optimizer); restore the model alone with Checkpoint.loadModel");
                }
                state = readTensors(dir, OPTIMIZER_FILE, m);
            }
            // validate both before changing either
            try {
                model.checkStateDict(weights, true);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(dir.resolve(MODEL_FILE) + ": " + e.getMessage(), e);
            }
            if (optimizer != null) {
                try {
                    optimizer.checkStateDict(state, m.optimizer);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(dir.resolve(JSON_FILE) + " / " + OPTIMIZER_FILE + ": " + e.getMessage(), e);
                }
            }
            // the optimizer first: its load allocates the new buffers before assigning any, while
            // the model's copies into its CPU parameters allocate nothing that could fail
            if (optimizer != null) {
                optimizer.loadStateDict(state, m.optimizer);
            }
            model.loadStateDict(weights, true);
            return m.info;
        } finally {
            closeAll(weights);
            closeAll(state);
        }
    }

    /**
     * Restores the model's weights alone, whether or not the checkpoint holds optimizer state
     * (whose file need not exist); returns the info map. All or nothing, like {@link #load}.
     */
    public static Map<String, Object> loadModel(Path dir, ModelState model) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(model, "model");
        Manifest m = readManifest(dir);
        Map<String, Tensor> weights = readTensors(dir, MODEL_FILE, m);
        try {
            try {
                model.checkStateDict(weights, true);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(dir.resolve(MODEL_FILE) + ": " + e.getMessage(), e);
            }
            model.loadStateDict(weights, true);
            return m.info;
        } finally {
            closeAll(weights);
        }
    }

    private static void closeAll(Map<String, Tensor> m) {
        if (m != null) {
            m.values().forEach(Tensor::close);
        }
    }

    /** A part of the checkpoint, size and hash checked against the manifest, then parsed. */
    private static Map<String, Tensor> readTensors(Path dir, String name, Manifest m) throws IOException {
        Path file = dir.resolve(name);
        if (!Files.exists(file)) {
            String hint = name.equals(OPTIMIZER_FILE) ? "; to restore the model alone use Checkpoint.loadModel" : "";
            throw new NoSuchFileException(file.toString(), null, "checkpoint part " + name + " is missing" + hint);
        }
        FileRecord rec = m.files == null ? null : m.files.get(name);
        if (m.files != null && rec == null) {
            throw new IOException(dir.resolve(JSON_FILE) + ": the manifest does not list " + name);
        }
        long size = Files.size(file);
        if (rec != null && size != rec.bytes) {
            throw new IOException(file + ": has " + size + " bytes, the manifest says " + rec.bytes
                    + " (truncated, replaced or from another save)");
        }
        if (size <= Integer.MAX_VALUE - 16) {
            // one read: the bytes hashed are the bytes parsed
            byte[] bytes = Files.readAllBytes(file);
            if (rec != null) {
                checkHash(file, rec, sha256().digest(bytes));
            }
            return withFile(file, () -> SafeTensors.load(bytes));
        }
        if (rec != null) {
            MessageDigest md = sha256();
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 20];
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
            }
            checkHash(file, rec, md.digest());
        }
        return SafeTensors.load(file);
    }

    private interface Load {
        Map<String, Tensor> run() throws IOException;
    }

    private static Map<String, Tensor> withFile(Path file, Load load) throws IOException {
        try {
            return load.run();
        } catch (SafeTensorsException e) {
            throw new SafeTensorsException(e.getMessage().replace("safetensors data:", "safetensors file " + file + ":"), e);
        }
    }

    private static void checkHash(Path file, FileRecord rec, byte[] digest) throws IOException {
        String got = HexFormat.of().formatHex(digest);
        if (!got.equals(rec.sha256)) {
            throw new IOException(file + ": corrupt or replaced: its SHA-256 is " + got + ", the manifest says " + rec.sha256);
        }
    }

    private record FileRecord(String sha256, long bytes) {
    }

    private record Manifest(Map<String, FileRecord> files, Map<String, String> optimizer, Map<String, Object> info) {
    }

    /** checkpoint.json, every field checked. */
    private static Manifest readManifest(Path dir) throws IOException {
        Path file = dir.resolve(JSON_FILE);
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "no checkpoint in " + dir + " (" + JSON_FILE + " not found)");
        }
        Object v;
        try {
            v = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (SafeTensorsException e) {
            throw new IOException(file + ": " + e.getMessage().replace("JSON header", "JSON"), e);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IOException(file + ": not valid UTF-8", e);
        }
        if (!(v instanceof Map<?, ?> top)) {
            throw new IOException(file + ": expected a JSON object");
        }
        for (Object k : top.keySet()) {
            if (!List.of("format", "files", "optimizer", "info").contains(k)) {
                throw new IOException(file + ": unknown field '" + k + "' (expected format, files, optimizer, info)");
            }
        }
        Map<String, FileRecord> files = null;
        if (top.containsKey("format")) {
            Long format = top.get("format") instanceof Json.Number n ? n.asLong() : null;
            if (format == null || format != FORMAT) {
                throw new IOException(file + ": 'format' must be " + FORMAT + ", got " + top.get("format"));
            }
            if (!(top.get("files") instanceof Map<?, ?> fm)) {
                throw new IOException(file + ": 'files' missing or not an object");
            }
            files = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : fm.entrySet()) {
                String name = (String) e.getKey();
                String at = file + ": 'files'.'" + name + "'";
                if (!name.equals(MODEL_FILE) && !name.equals(OPTIMIZER_FILE)) {
                    throw new IOException(at + ": unknown checkpoint part (expected " + MODEL_FILE + ", " + OPTIMIZER_FILE + ")");
                }
                if (!(e.getValue() instanceof Map<?, ?> rec) || rec.size() != 2) {
                    throw new IOException(at + " must be {\"sha256\": hex, \"bytes\": n}");
                }
                if (!(rec.get("sha256") instanceof String h) || !h.matches("[0-9a-f]{64}")) {
                    throw new IOException(at + ".'sha256' must be 64 lowercase hex digits, got " + rec.get("sha256"));
                }
                Long bytes = rec.get("bytes") instanceof Json.Number n ? n.asLong() : null;
                if (bytes == null || bytes < 0) {
                    throw new IOException(at + ".'bytes' must be a non-negative integer, got " + rec.get("bytes"));
                }
                files.put(name, new FileRecord(h, bytes));
            }
            if (!files.containsKey(MODEL_FILE)) {
                throw new IOException(file + ": the manifest does not list " + MODEL_FILE);
            }
        } else if (top.containsKey("files")) {
            throw new IOException(file + ": 'files' without 'format'");
        }
        Map<String, String> optimizer = new LinkedHashMap<>();
        if (!(top.get("optimizer") instanceof Map<?, ?> om)) {
            throw new IOException(file + ": 'optimizer' missing or not an object");
        }
        for (Map.Entry<?, ?> e : om.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new IOException(file + ": 'optimizer'.'" + e.getKey() + "' must be a string, got " + e.getValue());
            }
            optimizer.put((String) e.getKey(), s);
        }
        if (!(top.get("info") instanceof Map<?, ?> im)) {
            throw new IOException(file + ": 'info' missing or not an object");
        }
        Map<String, Object> info = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : im.entrySet()) {
            Object val = e.getValue();
            boolean ok = val instanceof String || val instanceof List<?> l && l.stream().allMatch(x -> x instanceof String);
            if (!ok) {
                throw new IOException(file + ": 'info'.'" + e.getKey() + "' must be a string or a list of strings, got " + val);
            }
            info.put((String) e.getKey(), val instanceof List<?> l ? List.copyOf(l) : val);
        }
        return new Manifest(files, optimizer, info);
    }

    /** A string entry of an info map, or an error naming the missing key. */
    public static String string(Map<String, Object> info, String key) {
        Object v = info.get(key);
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException("checkpoint info: '" + key + "' missing or not a string");
        }
        return s;
    }

    /** A list-of-strings entry of an info map. */
    public static List<String> strings(Map<String, Object> info, String key) {
        Object v = info.get(key);
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("checkpoint info: '" + key + "' missing or not a list");
        }
        List<String> out = new ArrayList<>();
        for (Object o : list) {
            out.add(o.toString());
        }
        return out;
    }

    private static void writeObject(StringBuilder sb, Map<String, ?> map) {
        sb.append('{');
        boolean first = true;
        for (Map.Entry<String, ?> e : map.entrySet()) {
            if (e.getKey() == null) {
                throw new IllegalArgumentException("checkpoint info: a key is null");
            }
            sb.append(first ? "\n    " : ",\n    ");
            first = false;
            Json.writeString(sb, e.getKey());
            sb.append(": ");
            writeValue(sb, e.getKey(), e.getValue());
        }
        sb.append(first ? "}" : "\n  }");
    }

    private static void writeValue(StringBuilder sb, String key, Object v) {
        if (v instanceof String s) {
            Json.writeString(sb, s);
        } else if (v instanceof List<?> list) {
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                if (!(list.get(i) instanceof String s)) {
                    throw new IllegalArgumentException("checkpoint info: '" + key + "'[" + i + "] is not a string");
                }
                Json.writeString(sb, s);
            }
            sb.append(']');
        } else {
            throw new IllegalArgumentException("checkpoint info: '" + key + "' must be a String or List<String>, got "
                    + (v == null ? "null" : v.getClass().getSimpleName()));
        }
    }
}
