package org.rnn4j.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;

/**
 * Test-only reader of the golden fixtures (safetensors, F32 only; see tools/README.md) until
 * org.rnn4j.io.SafeTensors lands. Tensors are created outside any scope: close the file.
 */
public final class FixtureFile implements AutoCloseable {
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private FixtureFile(Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Reads {@code fixtures/<relative>} from the test classpath. */
    public static FixtureFile resource(String relative) {
        String name = "/fixtures/" + relative;
        try (InputStream in = FixtureFile.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalArgumentException("fixture not on the test classpath: " + name);
            }
            return parse(in.readAllBytes(), name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static FixtureFile load(Path path) {
        try {
            return parse(Files.readAllBytes(path), path.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("fixture has no tensor '" + name + "'; has " + tensors.keySet());
        }
        return t;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    public String meta(String key) {
        String v = metadata.get(key);
        if (v == null) {
            throw new IllegalArgumentException("fixture has no metadata '" + key + "'; has " + metadata.keySet());
        }
        return v;
    }

    /** Metadata {@code key}, or {@code fallback} when the file has none (keys added by later groups). */
    public String metaOrDefault(String key, String fallback) {
        String v = metadata.get(key);
        return v == null ? fallback : v;
    }

    @Override
    public void close() {
        tensors.values().forEach(Tensor::close);
    }

    @SuppressWarnings("unchecked")
    private static FixtureFile parse(byte[] bytes, String name) {
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = Math.toIntExact(buf.getLong(0));
        String json = new String(bytes, 8, headerLen, StandardCharsets.UTF_8);
        Map<String, Object> header = (Map<String, Object>) new Json(json).value();
        int dataStart = 8 + headerLen;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : header.entrySet()) {
            Map<String, Object> spec = (Map<String, Object>) e.getValue();
            if (e.getKey().equals("__metadata__")) {
                spec.forEach((k, v) -> metadata.put(k, (String) v));
                continue;
            }
            if (!"F32".equals(spec.get("dtype"))) {
                throw new IllegalArgumentException(name + ": tensor " + e.getKey() + " has dtype " + spec.get("dtype") + ", only F32 is read");
            }
            List<Object> shapeList = (List<Object>) spec.get("shape");
            int[] shape = shapeList.stream().mapToInt(o -> ((Number) o).intValue()).toArray();
            List<Object> offs = (List<Object>) spec.get("data_offsets");
            int begin = dataStart + ((Number) offs.get(0)).intValue();
            int end = dataStart + ((Number) offs.get(1)).intValue();
            float[] data = new float[(end - begin) / 4];
            buf.position(begin);
            buf.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
            Tensor[] t = new Tensor[1];
            Scope.runUnscoped(() -> t[0] = Tensor.fromArray(data, shape));
            tensors.put(e.getKey(), t[0]);
        }
        return new FixtureFile(tensors, metadata);
    }

    /** Just enough JSON for safetensors headers: objects, arrays, strings, numbers, literals. */
    private static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object value() {
            skip();
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                skip();
                if (s.charAt(i) == '}') {
                    i++;
                    return m;
                }
                while (true) {
                    skip();
                    String k = string();
                    skip();
                    expect(':');
                    m.put(k, value());
                    skip();
                    if (s.charAt(i++) == '}') {
                        return m;
                    }
                }
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                i++;
                skip();
                if (s.charAt(i) == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    skip();
                    if (s.charAt(i++) == ']') {
                        return l;
                    }
                }
            }
            if (c == '"') {
                return string();
            }
            int start = i;
            while (i < s.length() && "-+.eE0123456789truefalsn".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            String tok = s.substring(start, i);
            return switch (tok) {
                case "true" -> Boolean.TRUE;
                case "false" -> Boolean.FALSE;
                case "null" -> null;
                default -> Double.parseDouble(tok);
            };
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n' -> b.append('\n');
                        case 't' -> b.append('\t');
                        case 'r' -> b.append('\r');
                        case 'b' -> b.append('\b');
                        case 'f' -> b.append('\f');
                        case 'u' -> {
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
        }

        private void expect(char c) {
            if (s.charAt(i) != c) {
                throw new IllegalArgumentException("bad JSON at " + i + ": expected '" + c + "', got '" + s.charAt(i) + "'");
            }
            i++;
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }
    }
}
