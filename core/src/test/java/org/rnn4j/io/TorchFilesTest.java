package org.rnn4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.rnn4j.Memory;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.testing.FixtureFile;
import org.rnn4j.testing.MemoryProbe;

/**
 * torch.save files written by Debian's PyTorch (tools/gen_fixtures.py, group torch) read back
 * with PyTorch's values, in every dtype, with views and shared storage; safetensors files in the
 * same dtypes; hostile archives and pickles rejected with messages naming the problem and
 * without leaking memory.
 */
class TorchFilesTest {
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

    private static final String[] TYPED = {"torch/dtypes.pt", "torch/dtypes_byteorder_little.pt", "torch/dtypes_byteorder_big.pt",
        "torch/dtypes.safetensors"};

    /** Every entry: dtype, shape, values as PyTorch's .float() / int values (bitwise; NaN as NaN). */
    @Test
    void everyDtypeAndViewMatchesPyTorch() throws IOException {
        try (FixtureFile exp = FixtureFile.resource("torch/dtypes_expected.safetensors")) {
            List<String> names = new ArrayList<>();
            for (String k : exp.metadata().keySet()) {
                if (k.startsWith("dtype.")) {
                    names.add(k.substring("dtype.".length()));
                }
            }
            assertTrue(names.size() >= 25, "expected file lists the entries: " + names);
            for (String rel : TYPED) {
                try (StateDict sd = StateDict.read(SafeTensorsTest.fixture(rel))) {
                    assertEquals(rel.endsWith(".pt") ? StateDict.Format.TORCH_ZIP : StateDict.Format.SAFETENSORS, sd.format());
                    assertEquals(names, new ArrayList<>(sd.names()), rel + ": names in file order");
                    for (String n : names) {
                        String where = rel + " '" + n + "'";
                        assertEquals(exp.meta("dtype." + n), sd.dtype(n).safetensorsName(), where + " dtype");
                        int[] shape = parseShape(exp.meta("shape." + n));
                        assertArrayEquals(shape, sd.shape(n), where + " shape");
                        if (sd.isFloatingPoint(n)) {
                            float[] e = exp.get(n).toArray();
                            float[] a = sd.tensor(n).toArray();
                            assertArrayEquals(shape, sd.tensor(n).shape(), where);
                            assertEquals(e.length, a.length, where);
                            for (int i = 0; i < e.length; i++) {
                                if (Float.isNaN(e[i])) {
                                    assertTrue(Float.isNaN(a[i]), where + "[" + i + "] NaN");
                                } else {
                                    assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(a[i]),
                                            where + "[" + i + "] = " + a[i] + ", PyTorch " + e[i]);
                                }
                            }
                        } else {
                            long[] e = Arrays.stream(exp.meta("values." + n).split(",")).filter(s -> !s.isEmpty())
                                    .mapToLong(Long::parseLong).toArray();
                            assertArrayEquals(e, sd.longs(n), where);
                            assertArrayEquals(shape, sd.intTensor(n).shape(), where);
                        }
                    }
                    assertArrayEquals(new int[] {5, 3, 3, 1}, sd.ints("lengths"));
                    ArithmeticException big = assertThrows(ArithmeticException.class, () -> sd.ints("i64_extremes"));
                    assertTrue(big.getMessage().contains("element 0 = 4611686018427387905"), big.getMessage());
                    IllegalArgumentException notFloat = assertThrows(IllegalArgumentException.class, () -> sd.tensor("lengths"));
                    assertTrue(notFloat.getMessage().contains("'lengths' has dtype I64"), notFloat.getMessage());
                    IllegalArgumentException absent = assertThrows(IllegalArgumentException.class, () -> sd.tensor("nope"));
                    assertTrue(absent.getMessage().contains("no entry 'nope'"), absent.getMessage());
                }
            }
        }
    }

    private static int[] parseShape(String s) {
        return s.isEmpty() ? new int[0] : Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    @Test
    void bytesStreamAndPathAgree() throws IOException {
        for (String rel : TYPED) {
            byte[] bytes = Files.readAllBytes(SafeTensorsTest.fixture(rel));
            try (StateDict a = StateDict.read(SafeTensorsTest.fixture(rel));
                    StateDict b = StateDict.read(bytes);
                    StateDict c = StateDict.read(new ByteArrayInputStream(bytes))) {
                for (StateDict o : List.of(b, c)) {
                    assertEquals(new ArrayList<>(a.names()), new ArrayList<>(o.names()), rel);
                    for (String n : a.names()) {
                        if (a.isFloatingPoint(n)) {
                            assertArrayEquals(a.tensor(n).toArray(), o.tensor(n).toArray(), rel + " " + n);
                        } else {
                            assertEquals(a.intTensor(n), o.intTensor(n), rel + " " + n);
                        }
                    }
                }
            }
        }
    }

    @Test
    void floatOnlyLoadersNameIntegerEntries() throws IOException {
        TorchFileException t = assertThrows(TorchFileException.class, () -> TorchFiles.load(SafeTensorsTest.fixture("torch/dtypes.pt")));
        assertTrue(t.getMessage().contains("lengths") && t.getMessage().contains("TorchFiles.read"), t.getMessage());
        SafeTensorsException s = assertThrows(SafeTensorsException.class,
                () -> SafeTensors.load(SafeTensorsTest.fixture("torch/dtypes.safetensors")));
        assertTrue(s.getMessage().contains("integer dtype I64") && s.getMessage().contains("SafeTensors.read"), s.getMessage());
        // a float-only torch file loads as a plain map
        Map<String, Tensor> gru = TorchFiles.load(SafeTensorsTest.fixture("torch/gru_protocol4.pt"));
        assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1",
                "bias_ih_l1", "bias_hh_l1"), new ArrayList<>(gru.keySet()));
        // protocol 4 and protocol 2 files of the same module hold the same tensors
        try (StateDict p2 = TorchFiles.read(SafeTensorsTest.fixture("torch/gru_packed.pt"))) {
            for (String k : gru.keySet()) {
                assertArrayEquals(p2.tensor(k).toArray(), gru.get(k).toArray(), k);
            }
        }
    }

    @Test
    void legacyAndUnknownFormatsAreRejectedClearly() throws IOException {
        Path legacy = SafeTensorsTest.fixture("torch/legacy_format.pt");
        for (Executable ex : List.<Executable>of(() -> StateDict.read(legacy), () -> TorchFiles.read(legacy),
                () -> StateDict.read(Files.readAllBytes(legacy)))) {
            IOException e = assertThrows(IOException.class, ex);
            assertTrue(e.getMessage().contains("legacy torch.save format") && e.getMessage().contains("re-save"), e.getMessage());
        }
        Path junk = tmp.resolve("junk.bin");
        Files.write(junk, "hello, world: not a tensor file".getBytes(StandardCharsets.US_ASCII));
        IOException e = assertThrows(IOException.class, () -> StateDict.read(junk));
        assertTrue(e.getMessage().contains("accepted formats: safetensors") && e.getMessage().contains("torch.save zip"),
                e.getMessage());
        assertTrue(e.getMessage().contains(junk.toString()), e.getMessage());
        e = assertThrows(IOException.class, () -> StateDict.read(new byte[0]));
        assertTrue(e.getMessage().contains("accepted formats") && e.getMessage().contains("empty"), e.getMessage());
        SafeTensorsException st = assertThrows(SafeTensorsException.class,
                () -> SafeTensors.load(SafeTensorsTest.fixture("torch/lstm_proj.pt")));
        assertTrue(st.getMessage().contains("zip archive") && st.getMessage().contains("StateDict.read"), st.getMessage());
        TorchFileException tf = assertThrows(TorchFileException.class,
                () -> TorchFiles.read(SafeTensorsTest.fixture("io/lstm_state_dict.safetensors")));
        assertTrue(tf.getMessage().contains("not a torch.save zip archive"), tf.getMessage());
    }

    // ---- hostile archives ---------------------------------------------------------------

    /** A pickle writer for hand-made data.pkl files. */
    static final class P {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        P op(int... bytes) {
            for (int b : bytes) {
                out.write(b);
            }
            return this;
        }

        P str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
            out.writeBytes(b);
            return this;
        }

        P global(String module, String name) {
            op('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        P integer(long v) {
            op('J');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
            return this;
        }

        P tuple(long... v) {
            op('(');
            for (long x : v) {
                integer(x);
            }
            return op('t');
        }

        /** One _rebuild_tensor_v2 call on storage key, leaving a tensor on the stack. */
        P tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
            global("torch._utils", "_rebuild_tensor_v2").op('(');
            op('(').str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).op('t', 'Q');
            integer(offset).tuple(size).tuple(stride).op(0x89).global("collections", "OrderedDict").op(')', 'R');
            return op('t', 'R');
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** {'w': FloatStorage[numel] viewed with (offset, size, stride)}. */
    static byte[] onePickle(long numel, long offset, long[] size, long[] stride) {
        return new P().op(0x80, 2, '}').str("w").tensor("FloatStorage", "0", numel, offset, size, stride).op('s', '.').bytes();
    }

    static byte[] zip(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bos)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                boolean deflate = e.getKey().endsWith("/deflated");
                ze.setMethod(deflate ? ZipEntry.DEFLATED : ZipEntry.STORED);
                if (!deflate) {
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    ze.setSize(e.getValue().length);
                    ze.setCompressedSize(e.getValue().length);
                    ze.setCrc(crc.getValue());
                }
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return bos.toByteArray();
    }

    static byte[] archive(byte[] pickle, int storageBytes) throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("a/data.pkl", pickle);
        m.put("a/data/0", new byte[storageBytes]);
        m.put("a/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        return zip(m);
    }

    private void assertRejected(byte[] file, String expected) throws IOException {
        long before = MemoryProbe.settle();
        Path p = tmp.resolve("hostile.pt");
        Files.write(p, file);
        for (Executable ex : List.<Executable>of(() -> TorchFiles.read(p), () -> StateDict.read(p), () -> TorchFiles.read(file))) {
            TorchFileException e = assertThrows(TorchFileException.class, ex);
            assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should contain '" + expected + "'");
        }
        assertEquals(before, Memory.bytesInUse(), "a failing load frees what it allocated");
    }

    @Test
    void handMadeArchiveLoads() throws IOException {
        // the writer above makes valid files: a 2x2 transposed view of 4 floats at offset 1 of 5
        byte[] storage = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putFloat(9).putFloat(1).putFloat(2).putFloat(3)
                .putFloat(4).array();
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("a/data.pkl", onePickle(5, 1, new long[] {2, 2}, new long[] {1, 2}));
        m.put("a/data/0", storage);
        try (StateDict sd = TorchFiles.read(zip(m))) {
            assertArrayEquals(new float[] {1, 3, 2, 4}, sd.tensor("w").toArray());
        }
    }

    @Test
    void rejectsForbiddenGlobalsAndOpcodes() throws IOException {
        byte[] os = new P().op(0x80, 2).global("os", "system").str("echo pwned").op(0x85, 'R', '.').bytes();
        assertRejected(archive(os, 0), "pickle global 'os.system' at byte 2 is not allowed");
        byte[] builtins = new P().op(0x80, 2).global("builtins", "eval").op('.').bytes();
        assertRejected(archive(builtins, 0), "'builtins.eval'");
        byte[] module = new P().op(0x80, 2).global("torch.nn.modules.rnn", "LSTM").op('.').bytes();
        assertRejected(archive(module, 0), "save model.state_dict() with torch.save instead");
        byte[] inst = new P().op(0x80, 2, '(').op('i').bytes();
        assertRejected(archive(inst, 0), "unsupported pickle opcode INST (0x69) at byte 3");
        byte[] newobj = new P().op(0x80, 2, 0x81).bytes();
        assertRejected(archive(newobj, 0), "unsupported pickle opcode NEWOBJ (0x81)");
        byte[] quant = new P().op(0x80, 2).global("torch._utils", "_rebuild_qtensor").op('.').bytes();
        assertRejected(archive(quant, 0), "only plain dense tensors are supported");
        byte[] complex = new P().op(0x80, 2).global("torch", "ComplexFloatStorage").op('.').bytes();
        assertRejected(archive(complex, 0), "storage type not supported");
        byte[] callStorage = new P().op(0x80, 2).global("torch", "FloatStorage").op(')', 'R', '.').bytes();
        assertRejected(archive(callStorage, 0), "which is a type marker, not a callable");
        byte[] proto = new P().op(0x80, 9).bytes();
        assertRejected(archive(proto, 0), "unsupported pickle protocol 9");
    }

    @Test
    void rejectsMalformedPickles() throws IOException {
        byte[] valid = onePickle(4, 0, new long[] {4}, new long[] {1});
        assertRejected(archive(Arrays.copyOf(valid, valid.length - 1), 16), "without a STOP opcode");
        assertRejected(archive(Arrays.copyOf(valid, 30), 16), "truncated");
        byte[] hugeString = new P().op(0x80, 2, 'X', 0xFF, 0xFF, 0xFF, 0x7F).bytes();
        assertRejected(archive(hugeString, 0), "needs 2147483647 more bytes");
        assertRejected(archive(new P().op(0x80, 2, 'h', 7).bytes(), 0), "memo entry 7, which was never stored");
        assertRejected(archive(new P().op(0x80, 2, 's').bytes(), 0), "pops an empty stack");
        assertRejected(archive(new P().op(0x80, 2, 'K', 1, '.').bytes(), 0), "holds 1, not a state dict");
        byte[] nested = new P().op(0x80, 2, '}').str("model").op('}', 's', '.').bytes();
        assertRejected(archive(nested, 0), "entry 'model' is a nested dict");
        byte[] notTensor = new P().op(0x80, 2, '}').str("epoch").op('K', 3, 's', '.').bytes();
        assertRejected(archive(notTensor, 0), "entry 'epoch' is 3, not a tensor");
        byte[] extra = Arrays.copyOf(valid, valid.length + 1);
        assertRejected(archive(extra, 16), "1 bytes after its STOP opcode");
        // many cheap opcodes: refused by count, not by running out of heap
        P empties = new P().op(0x80, 2, ']');
        for (int i = 0; i < 1_000_000; i++) {
            empties.op(')', 'a');
        }
        assertRejected(archive(empties.op('.').bytes(), 0), "more than 2000000 opcodes");
        byte[] leftover = new P().op(0x80, 2, 'K', 1, '}', '.').bytes();
        assertRejected(archive(leftover, 0), "leaves 1 values");
    }

    @Test
    void rejectsInconsistentTensorsAndStorages() throws IOException {
        assertRejected(archive(onePickle(4, 1, new long[] {4}, new long[] {1}), 16),
                "reach element 4 of storage '0', which has 4");
        assertRejected(archive(onePickle(4, 0, new long[] {2, 2}, new long[] {3, 1}), 16), "reach element 4");
        assertRejected(archive(onePickle(4, 0, new long[] {4}, new long[] {-1}), 16), "stride[0] = -1 is negative");
        assertRejected(archive(onePickle(4, 0, new long[] {-4}, new long[] {1}), 16), "size[0] = -4 is not in [0, 2^31-1]");
        assertRejected(archive(onePickle(4, 0, new long[] {65536, 65536}, new long[] {0, 0}), 16), "more than 2^31-1 elements");
        assertRejected(archive(onePickle(4, 0, new long[] {4}, new long[] {1}), 12), "has 12 bytes, but F32[4] needs 16");
        assertRejected(archive(onePickle(2_000_000_000L, 0, new long[] {4}, new long[] {1}), 16),
                "has 16 bytes, but F32[2000000000] needs 8000000000");
        assertRejected(archive(onePickle(4, 0, new long[] {4}, new long[] {1}, 3), 16), "differ in length");
        // an expanded view of one element into 2^31-1: refused before allocating it
        assertRejected(archive(onePickle(1, 0, new long[] {Integer.MAX_VALUE}, new long[] {0}), 4),
                "materialise more than 1048592 elements");
        // storage entry missing, compressed, corrupt
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("a/data.pkl", onePickle(4, 0, new long[] {4}, new long[] {1}));
        assertRejected(zip(m), "storage '0' (a/data/0) is missing from the archive");
        byte[] pk = new P().op(0x80, 2, '}').str("w").tensor("FloatStorage", "deflated", 4, 0, new long[] {4}, new long[] {1})
                .op('s', '.').bytes();
        m.put("a/data.pkl", pk);
        m.put("a/data/deflated", new byte[16]);
        assertRejected(zip(m), "is compressed (zip method 8)");
        byte[] good = archive(onePickle(4, 0, new long[] {4}, new long[] {1}), 16);
        byte[] corrupt = good.clone();
        int at = indexOf(corrupt, "a/data/0".getBytes(StandardCharsets.US_ASCII)) + "a/data/0".length() + 3;
        corrupt[at] ^= 0x40; // a data byte of the (all-zero) storage, just past the local header
        assertRejected(corrupt, "CRC-32");
        byte[] mixed = new P().op(0x80, 2, '}').str("a").tensor("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1})
                .op('s').str("b").tensor("IntStorage", "0", 4, 0, new long[] {4}, new long[] {1}).op('s', '.').bytes();
        assertRejected(archive(mixed, 16), "storage '0' is used as F32[4] and as I32[4]");
        Map<String, byte[]> two = new LinkedHashMap<>();
        two.put("a/data.pkl", onePickle(0, 0, new long[] {0}, new long[] {1}));
        two.put("b/data.pkl", onePickle(0, 0, new long[] {0}, new long[] {1}));
        assertRejected(zip(two), "several data.pkl entries");
        Map<String, byte[]> none = new LinkedHashMap<>();
        none.put("a/constants.pkl", new byte[1]);
        assertRejected(zip(none), "TorchScript");
    }

    static byte[] onePickle(long numel, long offset, long[] size, long[] stride, int strideLen) {
        return onePickle(numel, offset, size, Arrays.copyOf(stride, strideLen));
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    /** Random corruptions of a real torch.save file: each loads or throws an IOException, nothing else, no leak. */
    @Test
    void fuzzedTorchFilesLoadOrThrowIOException() throws IOException {
        byte[] valid = Files.readAllBytes(SafeTensorsTest.fixture("torch/dtypes.pt"));
        int pklAt = indexOf(valid, "dtypes/data.pkl".getBytes(StandardCharsets.US_ASCII));
        long before = MemoryProbe.settle();
        Random r = new Random(20261202L);
        int loaded = 0;
        int rejected = 0;
        Path p = tmp.resolve("fuzz.pt");
        for (int iter = 0; iter < 400; iter++) {
            byte[] b = valid.clone();
            switch (r.nextInt(3)) {
                case 0 -> b[pklAt + r.nextInt(2000)] ^= (byte) (1 << r.nextInt(8)); // in and around the pickle
                case 1 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                default -> b = Arrays.copyOf(b, r.nextInt(b.length));
            }
            Files.write(p, b);
            try (StateDict sd = StateDict.read(p)) {
                loaded++;
            } catch (IOException e) {
                rejected++;
            } catch (RuntimeException e) {
                fail("iteration " + iter + ": " + e, e);
            }
        }
        assertTrue(rejected > 100, "most corruptions are caught (CRC, pickle, zip): " + rejected + " rejected, " + loaded + " loaded");
        assertEquals(before, Memory.bytesInUse(), "no tensor left behind by failed loads");
    }
}
