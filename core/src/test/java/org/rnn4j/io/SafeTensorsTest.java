package org.rnn4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;

class SafeTensorsTest {
    /** Every test runs in a scope, so that no tensor is left for the Cleaner (other tests watch Memory). */
    private Scope testScope;

    @BeforeEach
    void openScope() {
        testScope = Scope.open();
    }

    @AfterEach
    void closeScope() {
        testScope.close();
    }
    @TempDir
    Path tmp;

    static Path fixture(String name) {
        try {
            return Paths.get(SafeTensorsTest.class.getResource("/fixtures/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new AssertionError("fixture " + name + " not on the test classpath", e);
        }
    }

    private static Map<String, Tensor> sample() {
        Generator g = new Generator(42);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("weight_ih_l0", Tensor.randn(g, 8, 3));
        m.put("scalar", Tensor.scalar(-2.5f));
        m.put("empty", Tensor.zeros(0, 4));
        m.put("transposed", Tensor.randn(g, 3, 5).transpose(0, 1)); // non-contiguous: written row-major
        m.put("naïve \"quoted\" \\ name\n", Tensor.of(1f, Float.NaN, Float.POSITIVE_INFINITY, -0f));
        return m;
    }

    private static void assertSameTensors(Map<String, Tensor> expected, Map<String, Tensor> actual) {
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(actual.keySet()), "names in order");
        for (String k : expected.keySet()) {
            assertArrayEquals(expected.get(k).shape(), actual.get(k).shape(), "shape of " + k);
            float[] e = expected.get(k).toArray();
            float[] a = actual.get(k).toArray();
            for (int i = 0; i < e.length; i++) {
                assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(a[i]), k + "[" + i + "] bit-exact");
            }
        }
    }

    @Test
    void roundTripThroughFileBytesAndStream() throws IOException {
        Map<String, Tensor> t = sample();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "ünïcode, \"quotes\", \\ and\ttabs");
        Path p = tmp.resolve("model.safetensors");
        SafeTensors.save(p, t, meta);
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(p), files.toList(), "no temporary file left behind");
        }
        assertSameTensors(t, SafeTensors.load(p));
        assertEquals(meta, SafeTensors.metadata(p));
        byte[] bytes = Files.readAllBytes(p);
        assertArrayEquals(bytes, SafeTensors.toBytes(t, meta));
        assertSameTensors(t, SafeTensors.load(bytes));
        assertSameTensors(t, SafeTensors.load(new ByteArrayInputStream(bytes)));
        assertEquals(meta, SafeTensors.metadata(bytes));

        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\""), header);
        assertTrue(header.contains("\"weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[8,3],\"data_offsets\":[0,96]}"), header);
        assertTrue(header.contains("\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[96,100]}"), header);
        assertEquals(8 + n + 4 * (24 + 1 + 0 + 15 + 4), bytes.length);
        // little-endian data: first float of weight_ih_l0
        float first = ByteBuffer.wrap(bytes, (int) (8 + n), 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
        assertEquals(t.get("weight_ih_l0").toArray()[0], first);
    }

    @Test
    void saveOverwritesAndWithoutMetadata() throws IOException {
        Path p = tmp.resolve("x.safetensors");
        SafeTensors.save(p, Map.of("a", Tensor.of(1f, 2f)));
        SafeTensors.save(p, Map.of("b", Tensor.of(3f)));
        Map<String, Tensor> back = SafeTensors.load(p);
        assertEquals(List.of("b"), new ArrayList<>(back.keySet()));
        assertEquals(Map.of(), SafeTensors.metadata(p));
        assertEquals(3f, back.get("b").item());
        Map<String, Tensor> none = SafeTensors.load(SafeTensors.toBytes(Map.of(), null));
        assertTrue(none.isEmpty());
    }

    @Test
    void saveRejectsBadArguments() {
        Path p = tmp.resolve("bad.safetensors");
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(p, Map.of("__metadata__", Tensor.of(1f))));
        Map<String, Tensor> withNull = new LinkedHashMap<>();
        withNull.put("x", null);
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(p, withNull));
        Tensor closed = Tensor.of(1f);
        closed.close();
        assertThrows(IllegalStateException.class, () -> SafeTensors.save(p, Map.of("c", closed)));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(p, Map.of("\uD800", Tensor.of(1f))));
        assertTrue(!Files.exists(p));
    }

    @Test
    void loadsPyTorchLstmStateDict() throws IOException {
        Path p = fixture("io/lstm_state_dict.safetensors");
        Map<String, Tensor> sd = SafeTensors.load(p);
        List<String> expected = new ArrayList<>();
        for (int layer = 0; layer < 2; layer++) {
            for (String suffix : new String[] {"", "_reverse"}) {
                for (String kind : new String[] {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}) {
                    expected.add(kind + "_l" + layer + suffix);
                }
            }
        }
        assertEquals(expected, new ArrayList<>(sd.keySet()));
        for (String name : expected) {
            int[] shape;
            if (name.startsWith("weight_ih")) {
                shape = new int[] {28, name.contains("_l0") ? 5 : 14};
            } else if (name.startsWith("weight_hh")) {
                shape = new int[] {28, 7};
            } else {
                shape = new int[] {28};
            }
            assertArrayEquals(shape, sd.get(name).shape(), name);
        }
        assertEquals(0.27072232961654663f, sd.get("weight_ih_l0").get(0, 0));
        assertEquals(-0.2604131698608398f, sd.get("weight_ih_l0").get(0, 1), 1e-3f);
        Map<String, String> meta = SafeTensors.metadata(p);
        assertEquals("LSTM", meta.get("module"));
        assertEquals("7", meta.get("hidden_size"));
        assertEquals("true", meta.get("bidirectional"));
        assertTrue(meta.get("torch_version").startsWith("1.13"));
        // what we write, we read back identically
        assertSameTensors(sd, SafeTensors.load(SafeTensors.toBytes(sd, meta)));
    }

    // =====================================================================================
    // hostile input
    // =====================================================================================

    /** A file with the given header text (padded to 8) and {@code dataBytes} bytes of data. */
    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int n = (h.length + 7) / 8 * 8;
        byte[] out = new byte[8 + n + dataBytes];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(n);
        Arrays.fill(out, 8, 8 + n, (byte) ' ');
        System.arraycopy(h, 0, out, 8, h.length);
        return out;
    }

    static byte[] withHeaderLength(long n, int totalBytes) {
        byte[] out = new byte[totalBytes];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(n);
        return out;
    }

    static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    /** Asserts every load path rejects {@code bytes} with a SafeTensorsException whose message contains {@code expected}. */
    private void assertRejected(byte[] bytes, String expected) throws IOException {
        long memory = org.rnn4j.testing.MemoryProbe.settle();
        assertRejectedEverywhere(bytes, expected);
        assertEquals(memory, org.rnn4j.Memory.bytesInUse(), "failing loads free what they allocated: " + expected);
    }

    private void assertRejectedEverywhere(byte[] bytes, String expected) throws IOException {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(bytes));
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should contain '" + expected + "'");
        Path p = tmp.resolve("hostile.safetensors");
        Files.write(p, bytes);
        SafeTensorsException ef = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(p));
        assertTrue(ef.getMessage().contains(expected), ef.getMessage());
        assertTrue(ef.getMessage().contains(p.toString()), "file errors name the file: " + ef.getMessage());
        // a stream has no size: it reports a declared size past its end as truncation or holes, and
        // bytes after the last tensor as it finds them at the end, with the same "tensors cover" wording
        SafeTensorsException es = assertThrows(SafeTensorsException.class,
                () -> SafeTensors.load(new ByteArrayInputStream(bytes)));
        boolean sizeDependent = expected.contains("exceeds the") || expected.contains("go past the end");
        String streamExpected = expected.contains("but the tensors cover")
                ? "the data section has more than " + expected.substring(expected.indexOf("but the tensors cover") + 22) + " bytes "
                + expected.substring(expected.indexOf("but the tensors cover")) : expected;
        assertTrue(es.getMessage().contains(streamExpected) || sizeDependent
                && (es.getMessage().contains("truncated") || es.getMessage().contains("belong to no tensor")), es.getMessage());
    }

    @Test
    void rejectsBadHeaderLength() throws IOException {
        assertRejected(new byte[0], "too short for the 8-byte header length");
        assertRejected(new byte[5], "too short for the 8-byte header length");
        assertRejected(withHeaderLength(200_000_000L, 64), "exceeds the limit of 100000000 bytes");
        assertRejected(withHeaderLength(-1L, 64), "header length 18446744073709551615 exceeds the limit");
        assertRejected(withHeaderLength(1000, 64), "header length 1000 exceeds the 56 bytes that follow it");
        assertRejected(withHeaderLength(0, 8), "too small");
        // a big (but allowed) declared header over a short stream: truncated, without allocating 90 MB up front
        SafeTensorsException e = assertThrows(SafeTensorsException.class,
                () -> SafeTensors.load(new ByteArrayInputStream(withHeaderLength(90_000_000L, 64))));
        assertTrue(e.getMessage().contains("truncated header"), e.getMessage());
    }

    @Test
    void rejectsBadJsonAndUtf8() throws IOException {
        byte[] bad = file("{\"a\":\"xx\"}", 0);
        bad[8 + 6] = (byte) 0xC3;
        bad[8 + 7] = (byte) 0x28;
        assertRejected(bad, "not valid UTF-8");
        assertRejected(file("{\"a\":1,}", 0), "invalid JSON header");
        assertRejected(file("{\"a\":", 0), "invalid JSON header");
        assertRejected(file("{\"a", 0), "unterminated string");
        assertRejected(file("nope", 0), "invalid JSON header");
        assertRejected(file("[]", 0), "header must be a JSON object");
        assertRejected(file("{} {}", 0), "after the end of the JSON value");
        assertRejected(file("{\"a\":tru}", 0), "invalid JSON header");
        assertRejected(file("{\"a\":01}", 0), "invalid JSON header");
        assertRejected(file("{\"a\\q\":1}", 0), "invalid escape");
        assertRejected(file("{\"a\u0001\":1}", 0), "control character");
        assertRejected(file("{\"x\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}", 0), "nesting deeper than 64");
        byte[] nul = file("{}", 0);
        nul[8 + 2] = 0; // padding must be whitespace
        assertRejected(nul, "invalid JSON header");
    }

    @Test
    void rejectsDuplicateNames() throws IOException {
        String e = entry("w", "F32", "[1]", "[0,4]");
        assertRejected(file("{" + e + "," + entry("w", "F32", "[1]", "[4,8]") + "}", 8), "duplicate key \"w\"");
        assertRejected(file("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "duplicate key \"dtype\"");
    }

    @Test
    void rejectsUnreadableDtypesNamingTensorAndDtype() throws IOException {
        for (String dt : new String[] {"F8_E4M3", "F8_E5M2", "U16", "U32", "U64"}) {
            int size = dt.equals("U64") ? 8 : dt.equals("U32") ? 4 : dt.equals("U16") ? 2 : 1;
            byte[] f = file("{" + entry("x", dt, "[2]", "[0," + 2 * size + "]") + "}", 2 * size);
            assertRejected(f, "tensor 'x' has dtype " + dt + ", which rnn4j cannot read");
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(f));
            assertTrue(e.getMessage().contains("which rnn4j cannot read"), e.getMessage());
        }
        // load() reads floating-point tensors only and names the integer one and where to read it
        for (String dt : new String[] {"I64", "I32", "I16", "I8", "U8", "BOOL"}) {
            int size = dt.equals("I64") ? 8 : dt.equals("I32") ? 4 : dt.equals("I16") ? 2 : 1;
            assertRejected(file("{" + entry("x", dt, "[2]", "[0," + 2 * size + "]") + "}", 2 * size),
                    "tensor 'x' has integer dtype " + dt + "; SafeTensors.load reads floating-point tensors only");
        }
        // metadata() still reads such a file's header (dtype sizes checked), load() refuses it
        byte[] f8 = file("{\"__metadata__\":{\"format\":\"pt\"}," + entry("h", "F8_E4M3", "[3]", "[0,3]") + "}", 3);
        assertEquals(Map.of("format", "pt"), SafeTensors.metadata(f8));
        SafeTensorsException bad = assertThrows(SafeTensorsException.class,
                () -> SafeTensors.metadata(file("{" + entry("h", "F16", "[3]", "[0,12]") + "}", 12)));
        assertTrue(bad.getMessage().contains("F16 shape [3] needs 6"), bad.getMessage());
        bad = assertThrows(SafeTensorsException.class, () -> SafeTensors.metadata(file("{" + entry("h", "Q7", "[3]", "[0,12]") + "}", 12)));
        assertTrue(bad.getMessage().contains("tensor 'h' has unknown dtype 'Q7'"), bad.getMessage());
        assertRejected(file("{\"x\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "'dtype' must be a string");
    }

    /** Bit patterns whose float32 values IEEE 754 fixes (the PyTorch-written files are in TorchFilesTest). */
    @Test
    void loadConvertsHalfBfloatAndDoubleToFloat32() throws IOException {
        short[] half = {0x3C00, (short) 0xC100, 0x0001, (short) 0x8000, 0x7BFF, 0x0400, 0x03FF, 0x7C00, (short) 0xFC00, 0x7E00};
        float[] halfExpected = {1f, -2.5f, 0x1p-24f, -0f, 65504f, 0x1p-14f, 1023 * 0x1p-24f, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.NaN};
        short[] bf = {0x3F80, (short) 0xC020, 0x0001, 0x7F80, 0x7FC0};
        float[] bfExpected = {1f, -2.5f, Float.intBitsToFloat(0x00010000), Float.POSITIVE_INFINITY, Float.NaN};
        double[] dbl = {0.1, -1.0 / 3, 1e-320, 3.5e38, 16777217.0};
        float[] dblExpected = {0.1f, -1f / 3, 0f, Float.POSITIVE_INFINITY, 16777216f};
        int hb = half.length * 2;
        int bb = bf.length * 2;
        int db = dbl.length * 8;
        String h = "{" + entry("h", "F16", "[" + half.length + "]", "[0," + hb + "]") + ","
                + entry("b", "BF16", "[" + bf.length + "]", "[" + hb + "," + (hb + bb) + "]") + ","
                + entry("d", "F64", "[" + dbl.length + "]", "[" + (hb + bb) + "," + (hb + bb + db) + "]") + "}";
        byte[] f = file(h, hb + bb + db);
        ByteBuffer buf = ByteBuffer.wrap(f, f.length - hb - bb - db, hb + bb + db).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : half) {
            buf.putShort(v);
        }
        for (short v : bf) {
            buf.putShort(v);
        }
        for (double v : dbl) {
            buf.putDouble(v);
        }
        for (Map<String, Tensor> m : List.of(SafeTensors.load(f), SafeTensors.load(new ByteArrayInputStream(f)))) {
            assertArrayEquals(halfExpected, m.get("h").toArray(), "F16");
            assertArrayEquals(bfExpected, m.get("b").toArray(), "BF16");
            assertArrayEquals(dblExpected, m.get("d").toArray(), "F64");
        }
        try (StateDict sd = SafeTensors.read(f)) {
            assertEquals(DType.F16, sd.dtype("h"));
            assertEquals(DType.BF16, sd.dtype("b"));
            assertEquals(DType.F64, sd.dtype("d"));
        }
    }

    @Test
    void rejectsMalformedEntries() throws IOException {
        assertRejected(file("{\"x\":[1,2]}", 0), "tensor 'x': entry must be a JSON object");
        assertRejected(file("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor 'x': missing 'dtype'");
        assertRejected(file("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "tensor 'x': missing 'shape'");
        assertRejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "tensor 'x': missing 'data_offsets'");
        assertRejected(file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 4), "unknown key 'extra'");
        assertRejected(file("{" + entry("x", "F32", "2", "[0,8]") + "}", 8), "'shape' must be an array");
        assertRejected(file("{" + entry("x", "F32", "[-2]", "[0,8]") + "}", 8), "shape[0] must be a non-negative integer");
        assertRejected(file("{" + entry("x", "F32", "[2.0]", "[0,8]") + "}", 8), "shape[0] must be a non-negative integer");
        assertRejected(file("{" + entry("x", "F32", "[2e0]", "[0,8]") + "}", 8), "shape[0] must be a non-negative integer");
        assertRejected(file("{" + entry("x", "F32", "[\"2\"]", "[0,8]") + "}", 8), "shape[0] must be a non-negative integer");
        assertRejected(file("{" + entry("x", "F32", "[3000000000]", "[0,8]") + "}", 8), "shape[0] = 3000000000 exceeds 2^31-1");
        assertRejected(file("{" + entry("x", "F32", "[100000,100000]", "[0,8]") + "}", 8), "more than 2^31-1 elements");
        assertRejected(file("{" + entry("x", "F32", "[99999999999999999999]", "[0,8]") + "}", 8), "below 10^18");
        assertRejected(file("{" + entry("x", "F32", "[2]", "[0]") + "}", 8), "'data_offsets' must be an array [begin, end]");
        assertRejected(file("{" + entry("x", "F32", "[2]", "[0,8,16]") + "}", 8), "'data_offsets' must be an array [begin, end]");
        assertRejected(file("{" + entry("x", "F32", "[2]", "[8,0]") + "}", 8), "end before begin");
        assertRejected(file("{" + entry("x", "F32", "[2]", "[0,12]") + "}", 12), "span 12 bytes, but F32 shape [2] needs 8");
        assertRejected(file("{" + entry("x", "F32", "[2]", "[-8,0]") + "}", 8), "data_offsets[0] must be a non-negative integer");
        assertRejected(file("{\"__metadata__\":[1]}", 0), "\"__metadata__\" must be a JSON object");
        assertRejected(file("{\"__metadata__\":{\"k\":1}}", 0), "value of 'k' must be a string");
    }

    @Test
    void rejectsBadLayout() throws IOException {
        String a = entry("a", "F32", "[2]", "[0,8]");
        assertRejected(file("{" + entry("x", "F32", "[4]", "[0,16]") + "}", 8), "go past the end of the 8-byte data section");
        assertRejected(file("{" + entry("x", "F32", "[2]", "[999999999999999984,999999999999999992]") + "}", 8),
                "go past the end");
        assertRejected(file("{" + a + "," + entry("b", "F32", "[2]", "[4,12]") + "}", 12), "overlap tensor 'a'");
        assertRejected(file("{" + a + "," + entry("b", "F32", "[2]", "[0,8]") + "}", 8), "overlap tensor 'a'");
        assertRejected(file("{" + a + "," + entry("b", "F32", "[1]", "[12,16]") + "}", 16), "bytes [8, 12) of the data section belong to no tensor");
        assertRejected(file("{" + a + "}", 12), "the data section has 12 bytes but the tensors cover 8");
        // truncated data
        byte[] ok = file("{" + a + "," + entry("b", "F32", "[2]", "[8,16]") + "}", 16);
        assertRejected(Arrays.copyOf(ok, ok.length - 1), "go past the end of the 15-byte data section");
        SafeTensorsException e = assertThrows(SafeTensorsException.class,
                () -> SafeTensors.load(new ByteArrayInputStream(Arrays.copyOf(ok, ok.length - 3))));
        assertTrue(e.getMessage().contains("truncated while reading tensor 'b': needed 8 bytes, got 5"), e.getMessage());
    }

    @Test
    void acceptsWhatTheFormatAllows() throws IOException {
        // tensors listed out of offset order, whitespace, escapes in names, empty and 0-d tensors
        String h = " {\n \"z\" : {\"data_offsets\":[4,12], \"dtype\":\"F32\", \"shape\":[2,1]},\t"
                + "\"a\\u00e9\\n\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[12,12]} }";
        byte[] b = file(h, 12);
        ByteBuffer.wrap(b, b.length - 12, 12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(2f).putFloat(3f);
        Map<String, Tensor> m = SafeTensors.load(b);
        assertEquals(List.of("z", "aé\n", "e"), new ArrayList<>(m.keySet()));
        assertArrayEquals(new float[] {2f, 3f}, m.get("z").toArray());
        assertArrayEquals(new int[] {2, 1}, m.get("z").shape());
        assertEquals(1f, m.get("aé\n").item());
        assertArrayEquals(new int[] {0, 3}, m.get("e").shape());
        assertSameTensors(m, SafeTensors.load(new ByteArrayInputStream(b)));
    }

    @Test
    void streamLoadRejectsTrailingBytesLikeFilesDo() throws IOException {
        byte[] one = SafeTensors.toBytes(Map.of("a", Tensor.of(1f, 2f)), Map.of("k", "v"));
        byte[] two = new byte[one.length * 2];
        System.arraycopy(one, 0, two, 0, one.length);
        System.arraycopy(one, 0, two, one.length, one.length);
        assertRejected(two, "but the tensors cover 8");
        assertArrayEquals(new float[] {1f, 2f}, SafeTensors.load(new ByteArrayInputStream(one)).get("a").toArray());
    }

    /**
     * Issue 13: a header length one byte short of the truth (the JSON still parses, its last
     * padding space becomes the first data byte) used to load byte-shifted tensors through the
     * stream entry point. Every header length but the true one must now be rejected by all three
     * entry points, and the true one must load the same tensors through all three.
     */
    @Test
    void everyWrongHeaderLengthIsRejectedByEveryEntryPoint() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("w", Tensor.of(1.5f, -2f, 3.25f));
        t.put("b", Tensor.of(7f));
        byte[] valid = SafeTensors.toBytes(t, Map.of("m", "x"));
        long n = ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int padding = 0;
        while (valid[8 + (int) n - 1 - padding] == ' ') {
            padding++;
        }
        assertTrue(padding >= 1, "the test needs a padded header (" + padding + " spaces)");
        Path p = tmp.resolve("shifted.safetensors");
        for (long delta = -8; delta <= 8; delta++) {
            byte[] b = valid.clone();
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(n + delta);
            Files.write(p, b);
            if (delta == 0) {
                assertSameTensors(t, SafeTensors.load(b));
                assertSameTensors(t, SafeTensors.load(p));
                assertSameTensors(t, SafeTensors.load(new ByteArrayInputStream(b)));
                continue;
            }
            String what = "header length " + (n + delta) + " (true " + n + ")";
            assertThrows(SafeTensorsException.class, () -> SafeTensors.load(b), what + " via bytes");
            assertThrows(SafeTensorsException.class, () -> SafeTensors.load(p), what + " via path");
            assertThrows(SafeTensorsException.class, () -> SafeTensors.load(new ByteArrayInputStream(b)), what + " via stream");
            assertThrows(SafeTensorsException.class, () -> SafeTensors.read(new ByteArrayInputStream(b)), what + " via read(stream)");
        }
        // one short: the messages agree on what is wrong
        byte[] shortBy1 = valid.clone();
        ByteBuffer.wrap(shortBy1).order(ByteOrder.LITTLE_ENDIAN).putLong(n - 1);
        long covered = 16;
        assertRejected(shortBy1, "the data section has " + (covered + 1) + " bytes but the tensors cover " + covered);
    }

    /** A failure after some tensors were created (the last one truncated, or trailing bytes) frees them. */
    @Test
    void failuresAfterTheFirstTensorFreeWhatWasRead() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("big", Tensor.zeros(256, 64));
        t.put("last", Tensor.ones(8));
        byte[] valid = SafeTensors.toBytes(t, Map.of());
        t.values().forEach(Tensor::close);
        long memory = org.rnn4j.testing.MemoryProbe.settle();
        byte[] truncated = Arrays.copyOf(valid, valid.length - 4);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(new ByteArrayInputStream(truncated)));
        assertTrue(e.getMessage().contains("truncated while reading tensor 'last'"), e.getMessage());
        byte[] trailing = Arrays.copyOf(valid, valid.length + 1);
        e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(new ByteArrayInputStream(trailing)));
        assertTrue(e.getMessage().contains("but the tensors cover"), e.getMessage());
        assertEquals(memory, org.rnn4j.Memory.bytesInUse(), "the 64 KiB tensor read first was freed");
    }

    /** Offsets must tile the data section: a hole or an overlap is refused by every entry point, whatever the order. */
    @Test
    void offsetsMustTileTheDataSectionForEveryEntryPoint() throws IOException {
        assertRejected(file("{" + entry("a", "F32", "[1]", "[4,8]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}", 12),
                "bytes [0, 4) of the data section belong to no tensor");
        assertRejected(file("{" + entry("b", "F32", "[1]", "[4,8]") + "," + entry("a", "F32", "[2]", "[0,8]") + "}", 8),
                "overlap tensor 'a'");
        assertRejected(file("{" + entry("a", "F32", "[1]", "[0,4]") + "}", 5), "but the tensors cover 4");
    }

    /** Random corruptions of a valid file: each must load or throw SafeTensorsException, nothing else. */
    @Test
    void fuzzCorruptionsLoadOrThrowSafeTensorsException() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        Generator g = new Generator(7);
        t.put("weight_ih_l0", Tensor.randn(g, 4, 3));
        t.put("bias", Tensor.randn(g, 4));
        t.put("s", Tensor.scalar(1f));
        t.put("e", Tensor.zeros(0, 2));
        byte[] valid = SafeTensors.toBytes(t, Map.of("format", "pt", "torch_version", "1.13"));
        int headerEnd = 8 + (int) ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] structural = "{}[]\",:0123456789-.eE \\u".getBytes(StandardCharsets.US_ASCII);
        long seed = 20240611L;
        Random r = new Random(seed);
        int loaded = 0;
        int rejected = 0;
        Path p = tmp.resolve("fuzz.safetensors");
        for (int iter = 0; iter < 4000; iter++) {
            byte[] b = valid.clone();
            int kind = r.nextInt(7);
            switch (kind) {
                case 0 -> { // flip random bits anywhere
                    for (int k = 1 + r.nextInt(4); k > 0; k--) {
                        b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                    }
                }
                case 1 -> b = Arrays.copyOf(b, r.nextInt(b.length)); // truncate
                case 2 -> { // structural characters into the header
                    for (int k = 1 + r.nextInt(3); k > 0; k--) {
                        b[8 + r.nextInt(headerEnd - 8)] = structural[r.nextInt(structural.length)];
                    }
                }
                case 3 -> { // random header length
                    long n = switch (r.nextInt(3)) {
                        case 0 -> r.nextLong();
                        case 1 -> r.nextInt(headerEnd + 16);
                        default -> r.nextInt(200_000_000);
                    };
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(n);
                }
                case 4 -> { // change a digit in the header (shapes, offsets)
                    int at = 8 + r.nextInt(headerEnd - 8);
                    while (at < headerEnd && (b[at] < '0' || b[at] > '9')) {
                        at++;
                    }
                    if (at < headerEnd) {
                        b[at] = (byte) ('0' + r.nextInt(10));
                    }
                }
                case 5 -> { // insert or delete bytes in the header
                    int at = 8 + r.nextInt(headerEnd - 8);
                    byte[] c = new byte[b.length + (r.nextBoolean() ? 1 : -1)];
                    if (c.length > b.length) {
                        System.arraycopy(b, 0, c, 0, at);
                        c[at] = structural[r.nextInt(structural.length)];
                        System.arraycopy(b, at, c, at + 1, b.length - at);
                    } else {
                        System.arraycopy(b, 0, c, 0, at);
                        System.arraycopy(b, at + 1, c, at, b.length - at - 1);
                    }
                    b = c;
                }
                default -> { // random bytes in the header
                    b[8 + r.nextInt(headerEnd - 8)] = (byte) r.nextInt(256);
                }
            }
            for (int via = 0; via < (iter % 10 == 0 ? 3 : 2); via++) {
                try {
                    Map<String, Tensor> m;
                    if (via == 0) {
                        m = SafeTensors.load(b);
                    } else if (via == 1) {
                        m = SafeTensors.load(new ByteArrayInputStream(b));
                    } else {
                        Files.write(p, b);
                        m = SafeTensors.load(p);
                    }
                    m.values().forEach(Tensor::close);
                    loaded++;
                } catch (SafeTensorsException e) {
                    rejected++;
                    if (e.getMessage() == null || e.getMessage().isEmpty()) {
                        fail("iteration " + iter + " (seed " + seed + "): exception without a message");
                    }
                } catch (Throwable e) {
                    throw new AssertionError("iteration " + iter + " (seed " + seed + ", mutation " + kind + ", via " + via
                            + "): " + e, e);
                }
            }
        }
        assertTrue(rejected > 1000, "most corruptions are caught: rejected " + rejected + ", loaded " + loaded);
        assertTrue(loaded > 0, "some corruptions (e.g. in float data) still load: " + loaded);
    }
}
