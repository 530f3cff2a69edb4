package org.rnn4j.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.nn.Module;
import org.rnn4j.optim.Optimizer;

/**
 * A training checkpoint in a folder, so that training can stop and resume exactly:
 * <ul>
 *   <li>{@code model.safetensors}: the model's state dict under PyTorch's names (loads as-is with
 *       {@code safetensors.torch.load_file} + {@code load_state_dict});</li>
 *   <li>{@code optimizer.safetensors}: {@link Optimizer#stateDict()} (momentum / Adam moments);</li>
 *   <li>{@code checkpoint.json}: {@code {"optimizer": {scalarState}, "info": {...}}}, where info is
 *       the caller's own record (epoch, step, hyper-parameters, vocabulary): values are strings or
 *       lists of strings, kept in order.</li>
 * </ul>
 * Each file is written to a temporary name and then moved, so an interrupted save leaves the
 * previous file whole.
 */
public final class Checkpoint {
    public static final String MODEL_FILE = "model.safetensors";
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String JSON_FILE = "checkpoint.json";

    private Checkpoint() {
    }

    /**
     * Saves model, optimizer (may be null: a weights-only checkpoint) and {@code info} into {@code dir}.
     *
     * @param info values must be {@link String} or {@code List<String>}
     */
    public static void save(Path dir, Module model, Optimizer optimizer, Map<String, ?> info) throws IOException {
        Files.createDirectories(dir);
        writeAtomically(dir.resolve(MODEL_FILE), SafeTensors.toBytes(model.stateDict(), Map.of()));
        Map<String, String> scalars = Map.of();
        if (optimizer != null) {
            writeAtomically(dir.resolve(OPTIMIZER_FILE), SafeTensors.toBytes(optimizer.stateDict(), Map.of()));
            scalars = optimizer.scalarState();
        }
        StringBuilder json = new StringBuilder("{\n  \"optimizer\": ");
        writeObject(json, scalars);
        json.append(",\n  \"info\": ");
        writeObject(json, info);
        json.append("\n}\n");
        writeAtomically(dir.resolve(JSON_FILE), json.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The caller's info map from {@code dir}; read it first to rebuild the model before {@link #load}. */
    public static Map<String, Object> readInfo(Path dir) throws IOException {
        return objectField(readJson(dir), "info", dir);
    }

    /**
     * Restores the model's weights and, when {@code optimizer} is non-null, its buffers and scalar
     * state (lr, betas, step counts). Returns the info map.
     */
    public static Map<String, Object> load(Path dir, Module model, Optimizer optimizer) throws IOException {
        Map<String, Object> json = readJson(dir);
        try (Scope scope = Scope.open()) {
            model.loadStateDict(SafeTensors.load(dir.resolve(MODEL_FILE)));
            if (optimizer != null) {
                Map<String, String> scalars = new LinkedHashMap<>();
                objectField(json, "optimizer", dir).forEach((k, v) -> scalars.put(k, v.toString()));
                Path tensors = dir.resolve(OPTIMIZER_FILE);
                optimizer.loadStateDict(Files.exists(tensors) ? SafeTensors.load(tensors) : Map.of(), scalars);
            }
        }
        return objectField(json, "info", dir);
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

    private static Map<String, Object> readJson(Path dir) throws IOException {
        Path file = dir.resolve(JSON_FILE);
        if (!Files.exists(file)) {
            throw new IOException("no checkpoint in " + dir + " (" + JSON_FILE + " not found)");
        }
        Object v = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        if (!(v instanceof Map<?, ?>)) {
            throw new IOException(file + ": expected a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) v;
        return map;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> objectField(Map<String, Object> json, String key, Path dir) throws IOException {
        Object v = json.get(key);
        if (!(v instanceof Map<?, ?>)) {
            throw new IOException(dir.resolve(JSON_FILE) + ": '" + key + "' missing or not an object");
        }
        return (Map<String, Object>) v;
    }

    private static void writeObject(StringBuilder sb, Map<String, ?> map) {
        sb.append('{');
        boolean first = true;
        for (Map.Entry<String, ?> e : map.entrySet()) {
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

    private static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
