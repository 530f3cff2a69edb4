package org.rnn4j.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.rnn4j.Tensor;

/**
 * The tensors of one file, as PyTorch's {@code torch.load(path)} / {@code load_file(path)} would
 * give them: floating-point entries (F32, and F16/BF16/F64 converted to float32) as
 * {@link Tensor}s, integer and boolean entries (I64 {@code lengths}, U8 masks, ...) as
 * {@link IntTensor}s, all by name in file order, with each entry's dtype in the file.
 *
 * <pre>{@code
 * try (StateDict sd = StateDict.read(Path.of("lstm.pt"))) {   // torch.save zip or safetensors
 *     lstm.loadStateDict(sd);
 *     int[] lengths = sd.ints("lengths");
 * }
 * }</pre>
 *
 * <p>The float tensors are new CPU tensors (registered with the current {@link org.rnn4j.Scope},
 * if one is open); {@link #close()} frees them. Readers: {@link #read(Path)} (sniffs the format),
 * {@link SafeTensors#read(Path)}, {@link TorchFiles#read(Path)}.
 */
public final class StateDict implements AutoCloseable {
    /** Which file format an entry point found. */
    public enum Format {
        /** safetensors (Hugging Face). */
        SAFETENSORS,
        /** {@code torch.save} zip archive (PyTorch 1.6+ default). */
        TORCH_ZIP
    }

    /** The formats {@link #read(Path)} accepts, for error messages. */
    static final String ACCEPTED = "accepted formats: safetensors (8-byte little-endian header length, then a JSON header "
            + "'{...}') and PyTorch torch.save zip archives (starting with 'PK\\x03\\x04', PyTorch >= 1.6 default)";

    private final Format format;
    private final Map<String, Object> entries;
    private final Map<String, DType> dtypes;
    private final Map<String, String> metadata;

    StateDict(Format format, Map<String, Object> entries, Map<String, DType> dtypes, Map<String, String> metadata) {
        this.format = format;
        this.entries = entries;
        this.dtypes = dtypes;
        this.metadata = metadata;
    }

    // ---- reading, any accepted format -------------------------------------------------

    /**
     * Reads {@code path} in whichever accepted format it is, told by its first bytes: a zip
     * ({@code PK\x03\x04}) is a {@code torch.save} archive, anything whose 8-byte header length
     * is followed by an opening brace is safetensors; anything else is an {@link IOException} saying
     * which formats are accepted.
     */
    public static StateDict read(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        byte[] head = new byte[9];
        int n;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.wrap(head);
            while (b.hasRemaining() && ch.read(b) >= 0) {
                // fill the sniff window
            }
            n = b.position();
        }
        Format f = sniff(head, n, "file " + path);
        return f == Format.TORCH_ZIP ? TorchFiles.read(path) : SafeTensors.read(path);
    }

    /** {@link #read(Path)} for a whole file's bytes. */
    public static StateDict read(byte[] bytes) throws IOException {
        Objects.requireNonNull(bytes, "bytes");
        Format f = sniff(bytes, Math.min(bytes.length, 9), "data");
        return f == Format.TORCH_ZIP ? TorchFiles.read(bytes) : SafeTensors.read(bytes);
    }

    /** {@link #read(Path)} for a stream (read to its end; left open). */
    public static StateDict read(InputStream in) throws IOException {
        Objects.requireNonNull(in, "in");
        byte[] head = in.readNBytes(9);
        InputStream whole = new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(head), in);
        Format f = sniff(head, head.length, "stream");
        return f == Format.TORCH_ZIP ? TorchFiles.read(whole) : SafeTensors.read(whole);
    }

    /** The format of a file from its first (up to 9) bytes; an IOException listing the accepted ones otherwise. */
    static Format sniff(byte[] head, int n, String what) throws IOException {
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return Format.TORCH_ZIP;
        }
        if (n >= 9 && head[8] == '{') {
            long len = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (len >= 2) {
                return Format.SAFETENSORS;
            }
        }
        String hint = "";
        if (n >= 2 && (head[0] & 0xFF) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            hint = "; it looks like a pickle, i.e. the legacy torch.save format (PyTorch < 1.6 or "
                    + "_use_new_zipfile_serialization=False): re-save it with torch.save(obj, path) in the default zip format";
        } else if (n >= 4 && head[0] == 'P' && head[1] == 'K') {
            hint = "; it is a zip archive that does not start with a local file header (empty or spanned archive)";
        } else if (n == 0) {
            hint = "; it is empty";
        }
        throw new IOException(what + ": not a safetensors or torch.save file (first bytes " + hex(head, n) + "); "
                + ACCEPTED + hint);
    }

    private static String hex(byte[] b, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(n, 8); i++) {
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return sb.length() == 0 ? "none" : sb.toString();
    }

    // ---- contents ---------------------------------------------------------------------

    /** The format of the file this state dict was read from. */
    public Format format() {
        return format;
    }

    /** Every entry's name, in file order. */
    public Set<String> names() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    /** Whether there is an entry named {@code name} (float or integer). */
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** Number of entries. */
    public int size() {
        return entries.size();
    }

    /** The entry's dtype in the file (float entries are float32 in memory whatever this says). */
    public DType dtype(String name) {
        return dtypes.get(require(name, "dtype"));
    }

    /** The entry's shape. */
    public int[] shape(String name) {
        Object v = entries.get(require(name, "shape"));
        return v instanceof Tensor t ? t.shape() : ((IntTensor) v).shape();
    }

    /** True if the entry was floating point in the file (so it is a {@link Tensor} here). */
    public boolean isFloatingPoint(String name) {
        return dtype(name).isFloatingPoint();
    }

    /** The floating-point entries, in file order (the live tensors this object owns). */
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        entries.forEach((k, v) -> {
            if (v instanceof Tensor t) {
                out.put(k, t);
            }
        });
        return Collections.unmodifiableMap(out);
    }

    /** The integer and boolean entries, in file order. */
    public Map<String, IntTensor> integers() {
        Map<String, IntTensor> out = new LinkedHashMap<>();
        entries.forEach((k, v) -> {
            if (v instanceof IntTensor t) {
                out.put(k, t);
            }
        });
        return Collections.unmodifiableMap(out);
    }

    /** A floating-point entry as a float32 tensor; an error naming the entry if it is absent or integer. */
    public Tensor tensor(String name) {
        Object v = entries.get(require(name, "tensor"));
        if (v instanceof Tensor t) {
            return t;
        }
        throw new IllegalArgumentException("StateDict.tensor: entry '" + name + "' has dtype " + dtypes.get(name)
                + ", not a floating-point dtype; read it with intTensor/longs/ints");
    }

    /** An integer or boolean entry; an error naming the entry if it is absent or floating point. */
    public IntTensor intTensor(String name) {
        Object v = entries.get(require(name, "intTensor"));
        if (v instanceof IntTensor t) {
            return t;
        }
        throw new IllegalArgumentException("StateDict.intTensor: entry '" + name + "' has dtype " + dtypes.get(name)
                + ", not an integer dtype; read it with tensor()");
    }

    /** An integer entry's values, row-major. */
    public long[] longs(String name) {
        return intTensor(name).toLongArray();
    }

    /** An integer entry's values as ints, row-major (error if one does not fit). */
    public int[] ints(String name) {
        return intTensor(name).toIntArray();
    }

    /** The safetensors {@code __metadata__} (empty for torch.save files). */
    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    private String require(String name, String op) {
        Objects.requireNonNull(name, "name");
        if (!entries.containsKey(name)) {
            throw new IllegalArgumentException("StateDict." + op + ": no entry '" + name + "'; the file has " + names());
        }
        return name;
    }

    /** Frees the float tensors. Idempotent. */
    @Override
    public void close() {
        for (Object v : entries.values()) {
            if (v instanceof Tensor t) {
                t.close();
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("StateDict(" + format + ", {");
        boolean first = true;
        for (String k : entries.keySet()) {
            sb.append(first ? "" : ", ").append(k).append(": ").append(dtypes.get(k)).append(Arrays.toString(shape(k)));
            first = false;
        }
        return sb.append("})").toString();
    }

    /** Closes every float tensor of a partly built entry map (readers' failure path). */
    static void closeAll(Map<String, Object> entries) {
        for (Object v : entries.values()) {
            if (v instanceof Tensor t) {
                t.close();
            }
        }
    }

    // ---- element conversions shared by the readers --------------------------------------

    /** IEEE half to float, exact (subnormals, infinities and NaN payloads kept). */
    static float halfToFloat(int h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            // subnormal: value = mant * 2^-24, exact in float
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** bfloat16 to float, exact. */
    static float bf16ToFloat(int b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }

    /** Decodes {@code n} elements of {@code dtype} at {@code buf}'s position into floats at {@code dst[at..]}. */
    static void decodeFloats(DType dtype, ByteBuffer buf, int n, float[] dst, int at) {
        switch (dtype) {
            case F32 -> buf.asFloatBuffer().get(dst, at, n);
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    dst[at + i] = (float) buf.getDouble(buf.position() + 8 * i);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[at + i] = halfToFloat(buf.getShort(buf.position() + 2 * i) & 0xFFFF);
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[at + i] = bf16ToFloat(buf.getShort(buf.position() + 2 * i));
                }
            }
            default -> throw new IllegalArgumentException("not a floating-point dtype: " + dtype);
        }
    }

    /** Decodes {@code n} elements of an integer {@code dtype} at {@code buf}'s position into longs. */
    static void decodeLongs(DType dtype, ByteBuffer buf, int n, long[] dst, int at) {
        int p = buf.position();
        for (int i = 0; i < n; i++) {
            dst[at + i] = switch (dtype) {
                case I64 -> buf.getLong(p + 8 * i);
                case I32 -> buf.getInt(p + 4 * i);
                case I16 -> buf.getShort(p + 2 * i);
                case I8 -> buf.get(p + i);
                case U8 -> buf.get(p + i) & 0xFF;
                case BOOL -> buf.get(p + i) != 0 ? 1 : 0;
                default -> throw new IllegalArgumentException("not an integer dtype: " + dtype);
            };
        }
    }
}
