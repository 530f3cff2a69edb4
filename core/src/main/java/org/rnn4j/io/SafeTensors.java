package org.rnn4j.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.rnn4j.Tensor;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format, compatible with {@code safetensors.torch.save_file/load_file}. {@link #load} reads
 * floating-point tensors (F32; F16, BF16 and F64 converted to float32, as {@code tensor.float()}
 * does); {@link #read} also reads integer and boolean tensors (I64, I32, I16, I8, U8, BOOL) as
 * {@link IntTensor}s. {@link #save} writes F32.
 *
 * <p>Layout: 8-byte little-endian header length {@code N}; {@code N} bytes of UTF-8 JSON
 * {@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"k": "v"}}}, padded with spaces; then the data section, little-endian,
 * offsets relative to its first byte.
 *
 * <p>The header is never trusted: its length is bounded ({@value #MAX_HEADER_BYTES} bytes and the
 * file size), the JSON is parsed strictly (duplicate keys, bad UTF-8 and deep nesting rejected),
 * every shape must be non-negative with at most 2^31-1 elements, every {@code data_offsets} must
 * lie in the data section and span exactly {@code bytes(dtype) * numel} bytes, and, as in the
 * reference implementation, the tensors must tile the data section exactly (no overlaps, holes or
 * trailing bytes: the data section ends where the file or stream ends). The same checks apply to
 * every entry point (file, bytes, stream). Every such problem is a {@link SafeTensorsException}
 * naming it; nothing is allocated from a declared size before it is checked against the bytes
 * actually there, and a failing load frees every tensor it created before throwing.
 *
 * <p>Loaded tensors are new CPU tensors owned by the caller (and by the current
 * {@link org.rnn4j.Scope}, if one is open).
 */
public final class SafeTensors {
    /** Largest header accepted, in bytes (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";
    private static final int CHUNK_BYTES = 1 << 20;
    private static final int STREAM_CHUNK_BYTES = 16 << 20;

    private SafeTensors() {
    }

    // =====================================================================================
    // loading
    // =====================================================================================

    /**
     * Every tensor in the file, in header order, as float32 tensors (F16, BF16 and F64 converted).
     * A file holding integer or boolean tensors is rejected naming them: use {@link #read(Path)}.
     */
    public static Map<String, Tensor> load(Path path) throws IOException {
        return floatsOnly(read(path, Mode.FLOATS));
    }

    /** {@link #load(Path)} for {@code bytes} (a whole safetensors file). */
    public static Map<String, Tensor> load(byte[] bytes) throws IOException {
        return floatsOnly(read(bytes, Mode.FLOATS));
    }

    /**
     * {@link #load(Path)} for a stream holding one whole safetensors file: read to its end, which
     * must be the end of the data section (as for a file, trailing bytes are an error); the stream
     * is left open.
     */
    public static Map<String, Tensor> load(InputStream in) throws IOException {
        return floatsOnly(read(in, Mode.FLOATS));
    }

    /** Every entry of the file, float and integer, in header order. */
    public static StateDict read(Path path) throws IOException {
        return read(path, Mode.READABLE);
    }

    /** {@link #read(Path)} for {@code bytes} (a whole safetensors file). */
    public static StateDict read(byte[] bytes) throws IOException {
        return read(bytes, Mode.READABLE);
    }

    /** {@link #read(Path)} for a stream holding one whole file, read to its end (left open). */
    public static StateDict read(InputStream in) throws IOException {
        return read(in, Mode.READABLE);
    }

    private static StateDict read(Path path, Mode mode) throws IOException {
        Objects.requireNonNull(path, "path");
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            Source src = new ChannelSource(ch, "file " + path);
            return readTensors(src, readHeader(src, mode));
        }
    }

    private static StateDict read(byte[] bytes, Mode mode) throws IOException {
        Objects.requireNonNull(bytes, "bytes");
        Source src = new ArraySource(bytes);
        return readTensors(src, readHeader(src, mode));
    }

    private static StateDict read(InputStream in, Mode mode) throws IOException {
        Objects.requireNonNull(in, "in");
        Source src = new StreamSource(in);
        return readTensors(src, readHeader(src, mode));
    }

    private static Map<String, Tensor> floatsOnly(StateDict sd) {
        // Mode.FLOATS admitted floating-point entries only, so this is every entry
        return new LinkedHashMap<>(sd.tensors());
    }

    /**
     * The {@code __metadata__} object of the file (empty if it has none); reads only the header.
     * The header is validated as strictly as by {@link #load(Path)}, except that tensors of any
     * safetensors dtype are accepted (so the metadata of, say, an F8 file can be inspected).
     */
    public static Map<String, String> metadata(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return new LinkedHashMap<>(readHeader(new ChannelSource(ch, "file " + path), Mode.ANY).metadata);
        }
    }

    /** The {@code __metadata__} object of {@code bytes} (a whole safetensors file), empty if none. */
    public static Map<String, String> metadata(byte[] bytes) throws IOException {
        Objects.requireNonNull(bytes, "bytes");
        return new LinkedHashMap<>(readHeader(new ArraySource(bytes), Mode.ANY).metadata);
    }

    /** Which dtypes a read admits. */
    private enum Mode {
        /** F32, F16, BF16, F64 ({@link #load}). */
        FLOATS,
        /** every {@link DType} ({@link #read}). */
        READABLE,
        /** any safetensors dtype, header only ({@link #metadata}). */
        ANY
    }

    /** Bytes per element of each safetensors dtype. */
    private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(
            Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1), Map.entry("F8_E5M2", 1), Map.entry("F8_E4M3", 1),
            Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2), Map.entry("BF16", 2),
            Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
            Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));

    /** One tensor's header entry, validated. */
    private record Entry(String name, DType dtype, int[] shape, int numel, long begin, long end) {
    }

    private record Header(long dataStart, List<Entry> entries, Map<String, String> metadata) {
    }

    private static Header readHeader(Source src, Mode mode) throws IOException {
        byte[] lenBytes = new byte[8];
        int got = src.readPrefix(lenBytes);
        if (got < 8) {
            throw src.error("truncated: " + got + " bytes, too short for the 8-byte header length");
        }
        if (lenBytes[0] == 'P' && lenBytes[1] == 'K' && lenBytes[2] == 3 && lenBytes[3] == 4) {
            throw src.error("this is a zip archive (a PyTorch torch.save file?), not safetensors: read it with "
                    + "TorchFiles.read or StateDict.read, which accept both formats");
        }
        long n = ByteBuffer.wrap(lenBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw src.error("header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        long size = src.size();
        if (size >= 0 && n > size - 8) {
            throw src.error("header length " + n + " exceeds the " + (size - 8) + " bytes that follow it (truncated or corrupt file)");
        }
        if (n < 2) {
            throw src.error("header length " + n + " is too small for a JSON object");
        }
        byte[] headerBytes = src.readHeaderBytes((int) n);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(headerBytes)).toString();
        } catch (CharacterCodingException e) {
            throw src.error("header is not valid UTF-8", e);
        }
        Object root;
        try {
            root = Json.parse(text);
        } catch (SafeTensorsException e) {
            throw src.error(e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> top)) {
            throw src.error("header must be a JSON object, got " + kind(root));
        }
        long dataSize = size >= 0 ? size - 8 - n : -1;
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = parseMetadata(src, e.getValue());
            } else {
                entries.add(parseEntry(src, name, e.getValue(), dataSize, mode));
            }
        }
        checkLayout(src, entries, dataSize);
        return new Header(8 + n, entries, metadata);
    }

    private static Map<String, String> parseMetadata(Source src, Object v) throws SafeTensorsException {
        if (!(v instanceof Map<?, ?> m)) {
            throw src.error("\"" + METADATA_KEY + "\" must be a JSON object of strings, got " + kind(v));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw src.error("\"" + METADATA_KEY + "\" value of '" + e.getKey() + "' must be a string, got " + kind(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return out;
    }

    private static Entry parseEntry(Source src, String name, Object v, long dataSize, Mode mode)
            throws SafeTensorsException {
        String t = "tensor '" + name + "'";
        if (!(v instanceof Map<?, ?> m)) {
            throw src.error(t + ": entry must be a JSON object, got " + kind(v));
        }
        for (Object k : m.keySet()) {
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw src.error(t + ": unknown key '" + k + "' (expected dtype, shape, data_offsets)");
            }
        }
        Object dtype = m.get("dtype");
        if (dtype == null) {
            throw src.error(t + ": missing 'dtype'");
        }
        if (!(dtype instanceof String ds)) {
            throw src.error(t + ": 'dtype' must be a string, got " + kind(dtype));
        }
        Integer elementBytes = DTYPE_BYTES.get(ds);
        if (elementBytes == null) {
            throw src.error(t + " has unknown dtype '" + ds + "'");
        }
        DType dt = DType.ofSafetensors(ds);
        if (mode != Mode.ANY && dt == null) {
            throw src.error(t + " has dtype " + ds + ", which rnn4j cannot read (readable: F32, F16, BF16, F64, I64, I32, I16, "
                    + "I8, U8, BOOL)");
        }
        if (mode == Mode.FLOATS && !dt.isFloatingPoint()) {
            throw src.error(t + " has integer dtype " + ds + "; SafeTensors.load reads floating-point tensors only "
                    + "(F32, F16, BF16, F64): read the file with SafeTensors.read or StateDict.read, which return integer "
                    + "tensors as IntTensor");
        }
        Object shapeV = m.get("shape");
        if (shapeV == null) {
            throw src.error(t + ": missing 'shape'");
        }
        if (!(shapeV instanceof List<?> shapeList)) {
            throw src.error(t + ": 'shape' must be an array of integers, got " + kind(shapeV));
        }
        int[] shape = new int[shapeList.size()];
        boolean zero = false;
        for (int i = 0; i < shape.length; i++) {
            long d = nonNegativeInt(src, t + ": shape[" + i + "]", shapeList.get(i));
            if (d > Integer.MAX_VALUE) {
                throw src.error(t + ": shape[" + i + "] = " + d + " exceeds 2^31-1");
            }
            shape[i] = (int) d;
            zero |= d == 0;
        }
        long numel = 1;
        if (zero) {
            numel = 0;
        } else {
            for (int d : shape) {
                numel *= d;
                if (numel > Integer.MAX_VALUE) {
                    throw src.error(t + ": shape " + Arrays.toString(shape) + " has more than 2^31-1 elements");
                }
            }
        }
        Object offV = m.get("data_offsets");
        if (offV == null) {
            throw src.error(t + ": missing 'data_offsets'");
        }
        if (!(offV instanceof List<?> off) || off.size() != 2) {
            throw src.error(t + ": 'data_offsets' must be an array [begin, end], got " + kind(offV));
        }
        long begin = nonNegativeInt(src, t + ": data_offsets[0]", off.get(0));
        long end = nonNegativeInt(src, t + ": data_offsets[1]", off.get(1));
        if (end < begin) {
            throw src.error(t + ": data_offsets [" + begin + ", " + end + "] end before begin");
        }
        if (end - begin != elementBytes * numel) {
            throw src.error(t + ": data_offsets [" + begin + ", " + end + "] span " + (end - begin) + " bytes, but " + ds
                    + " shape " + Arrays.toString(shape) + " needs " + elementBytes * numel);
        }
        if (dataSize >= 0 && end > dataSize) {
            throw src.error(t + ": data_offsets [" + begin + ", " + end + "] go past the end of the " + dataSize
                    + "-byte data section (truncated or corrupt file)");
        }
        return new Entry(name, dt, shape, (int) numel, begin, end);
    }

    /** The tensors must tile [0, dataSize) exactly, as the reference implementation requires. */
    private static void checkLayout(Source src, List<Entry> entries, long dataSize) throws SafeTensorsException {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        Entry prev = null;
        for (Entry e : byOffset) {
            if (e.begin < expected) {
                throw src.error("tensor '" + e.name + "' data_offsets [" + e.begin + ", " + e.end + "] overlap tensor '"
                        + prev.name + "' [" + prev.begin + ", " + prev.end + "]");
            }
            if (e.begin > expected) {
                throw src.error("bytes [" + expected + ", " + e.begin + ") of the data section belong to no tensor (before tensor '"
                        + e.name + "')");
            }
            expected = e.end;
            prev = e;
        }
        if (dataSize >= 0 && expected != dataSize) {
            throw src.error(coverMessage(Long.toString(dataSize), expected));
        }
    }

    /** Shared by every entry point: the data section must end where the tensors end. */
    private static String coverMessage(String dataSize, long covered) {
        return "the data section has " + dataSize + " bytes but the tensors cover " + covered
                + " (trailing bytes, wrong header length or corrupt header)";
    }

    private static long nonNegativeInt(Source src, String what, Object v) throws SafeTensorsException {
        if (!(v instanceof Json.Number num)) {
            throw src.error(what + " must be a non-negative integer, got " + kind(v));
        }
        Long l = num.asLong();
        if (l == null || l < 0) {
            throw src.error(what + " must be a non-negative integer below 10^18, got " + num.text());
        }
        return l;
    }

    private static String kind(Object v) {
        if (v instanceof Map) {
            return "an object";
        }
        if (v instanceof List<?> l) {
            return "an array of " + l.size();
        }
        if (v instanceof String s) {
            return "the string \"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
        }
        return String.valueOf(v);
    }

    private static StateDict readTensors(Source src, Header h) throws IOException {
        List<Entry> byOffset = new ArrayList<>(h.entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Map<String, Object> byName = new LinkedHashMap<>();
        boolean ok = false;
        try {
            long covered = 0;
            for (Entry e : byOffset) {
                byName.put(e.name, readEntry(src, h.dataStart, e));
                covered = e.end;
            }
            src.requireEnd(h.dataStart + covered, covered);
            Map<String, Object> out = new LinkedHashMap<>();
            Map<String, DType> dtypes = new LinkedHashMap<>();
            for (Entry e : h.entries) {
                out.put(e.name, byName.get(e.name));
                dtypes.put(e.name, e.dtype);
            }
            ok = true;
            return new StateDict(StateDict.Format.SAFETENSORS, out, dtypes, h.metadata);
        } finally {
            if (!ok) {
                StateDict.closeAll(byName);
            }
        }
    }

    /** One entry's data, decoded: a float32 Tensor or an IntTensor. */
    private static Object readEntry(Source src, long dataStart, Entry e) throws IOException {
        long total = e.end - e.begin;
        int eb = e.dtype.bytes();
        if (e.dtype.isFloatingPoint()) {
            float[][] out = new float[1][];
            src.read(dataStart + e.begin, total, e.name, (chunk, at) -> {
                if (out[0] == null) {
                    out[0] = new float[e.numel]; // only once the bytes are there
                }
                StateDict.decodeFloats(e.dtype, chunk, chunk.remaining() / eb, out[0], (int) (at / eb));
            });
            return Tensor.fromArray(out[0] == null ? new float[e.numel] : out[0], e.shape);
        }
        long[][] out = new long[1][];
        src.read(dataStart + e.begin, total, e.name, (chunk, at) -> {
            if (out[0] == null) {
                out[0] = new long[e.numel];
            }
            StateDict.decodeLongs(e.dtype, chunk, chunk.remaining() / eb, out[0], (int) (at / eb));
        });
        return IntTensor.wrap(e.dtype, e.shape, out[0] == null ? new long[e.numel] : out[0]);
    }

    /** Receives a tensor's bytes in order, in little-endian chunks of whole elements. */
    private interface Sink {
        /** {@code chunk} from its position to its limit; {@code at} is its byte offset within the tensor. */
        void accept(ByteBuffer chunk, long at) throws IOException;
    }

    // =====================================================================================
    // sources: a file channel, a byte array, a forward-only stream
    // =====================================================================================

    private abstract static class Source {
        final String what;

        Source(String what) {
            this.what = what;
        }

        /** Total size in bytes, or -1 if unknown (a stream). */
        abstract long size() throws IOException;

        /** Reads up to dst.length bytes from position 0; returns how many there were. */
        abstract int readPrefix(byte[] dst) throws IOException;

        /** The n header bytes after the 8-byte length (n already checked against size()). */
        abstract byte[] readHeaderBytes(int n) throws IOException;

        /**
         * Hands the {@code total} bytes at byte position {@code pos} to {@code sink} in order, in
         * chunks that are multiples of 8 bytes (whole elements of every dtype) except the last.
         */
        abstract void read(long pos, long total, String name, Sink sink) throws IOException;

        /**
         * Checks that the data section ends at {@code end} (absolute position), i.e. that there are
         * no bytes after the last tensor; {@code covered} is the size the tensors cover. Sources of
         * known size checked this against the header already.
         */
        void requireEnd(long end, long covered) throws IOException {
        }

        SafeTensorsException error(String msg) {
            return new SafeTensorsException("safetensors " + what + ": " + msg);
        }

        SafeTensorsException error(String msg, Throwable cause) {
            return new SafeTensorsException("safetensors " + what + ": " + msg, cause);
        }

        SafeTensorsException truncated(String name, long needed, long got) {
            return error("truncated while reading tensor '" + name + "': needed " + needed + " bytes, got " + got);
        }
    }

    private static final class ArraySource extends Source {
        private final byte[] bytes;

        ArraySource(byte[] bytes) {
            super("data");
            this.bytes = bytes;
        }

        @Override
        long size() {
            return bytes.length;
        }

        @Override
        int readPrefix(byte[] dst) {
            int n = Math.min(dst.length, bytes.length);
            System.arraycopy(bytes, 0, dst, 0, n);
            return n;
        }

        @Override
        byte[] readHeaderBytes(int n) {
            return Arrays.copyOfRange(bytes, 8, 8 + n);
        }

        @Override
        void read(long pos, long total, String name, Sink sink) throws IOException {
            int p = Math.toIntExact(pos);
            for (long done = 0; done < total; done += CHUNK_BYTES) {
                int len = (int) Math.min(CHUNK_BYTES, total - done);
                sink.accept(ByteBuffer.wrap(bytes, p + (int) done, len).slice().order(ByteOrder.LITTLE_ENDIAN), done);
            }
        }
    }

    private static final class ChannelSource extends Source {
        private final FileChannel ch;

        ChannelSource(FileChannel ch, String what) {
            super(what);
            this.ch = ch;
        }

        @Override
        long size() throws IOException {
            return ch.size();
        }

        @Override
        int readPrefix(byte[] dst) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(dst);
            readAt(b, 0);
            return b.position();
        }

        @Override
        byte[] readHeaderBytes(int n) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(n);
            readAt(b, 8);
            if (b.hasRemaining()) {
                throw error("truncated header: needed " + n + " bytes, got " + b.position());
            }
            return b.array();
        }

        @Override
        void read(long pos, long total, String name, Sink sink) throws IOException {
            // the file size bounds total (checked against the header), so the sink's output is backed by bytes that exist
            byte[] chunk = new byte[(int) Math.min(CHUNK_BYTES, total)];
            long done = 0;
            while (done < total) {
                int len = (int) Math.min(chunk.length, total - done);
                ByteBuffer b = ByteBuffer.wrap(chunk, 0, len);
                readAt(b, pos + done);
                if (b.hasRemaining()) {
                    throw truncated(name, total, done + b.position());
                }
                sink.accept(ByteBuffer.wrap(chunk, 0, len).order(ByteOrder.LITTLE_ENDIAN), done);
                done += len;
            }
        }

        /** Fills b from position pos, stopping early only at end of file. */
        private void readAt(ByteBuffer b, long pos) throws IOException {
            while (b.hasRemaining()) {
                int r = ch.read(b, pos + b.position());
                if (r < 0) {
                    return;
                }
            }
        }
    }

    private static final class StreamSource extends Source {
        private final InputStream in;
        private long position;

        StreamSource(InputStream in) {
            super("stream");
            this.in = in;
        }

        @Override
        long size() {
            return -1;
        }

        @Override
        int readPrefix(byte[] dst) throws IOException {
            int n = in.readNBytes(dst, 0, dst.length);
            position += n;
            return n;
        }

        @Override
        byte[] readHeaderBytes(int n) throws IOException {
            byte[] b = in.readNBytes(n); // grows as bytes arrive: a lying length cannot force a big allocation
            position += b.length;
            if (b.length < n) {
                throw error("truncated header: needed " + n + " bytes, got " + b.length);
            }
            return b;
        }

        @Override
        void read(long pos, long total, String name, Sink sink) throws IOException {
            if (pos != position) {
                throw new IllegalStateException("stream source read out of order: at " + position + ", asked for " + pos);
            }
            // collect the bytes before the sink allocates its output, so memory follows what actually arrived
            List<byte[]> chunks = new ArrayList<>();
            long got = 0;
            while (got < total) {
                int want = (int) Math.min(STREAM_CHUNK_BYTES, total - got);
                byte[] c = in.readNBytes(want);
                got += c.length;
                position += c.length;
                if (c.length < want) {
                    throw truncated(name, total, got);
                }
                chunks.add(c);
            }
            long at = 0;
            for (int i = 0; i < chunks.size(); i++) {
                byte[] c = chunks.set(i, null);
                sink.accept(ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN), at);
                at += c.length;
            }
        }

        @Override
        void requireEnd(long end, long covered) throws IOException {
            if (position != end) {
                throw new IllegalStateException("stream source at " + position + ", expected the end of the data at " + end);
            }
            if (in.read() >= 0) {
                position++;
                throw error(coverMessage("more than " + covered, covered));
            }
        }
    }

    // =====================================================================================
    // saving
    // =====================================================================================

    /** {@link #save(Path, Map, Map)} without metadata. */
    public static void save(Path path, Map<String, Tensor> tensors) throws IOException {
        save(path, tensors, null);
    }

    /**
     * Writes {@code tensors} (in the map's iteration order) and optional {@code metadata} to
     * {@code path}: written to a temporary file in the same directory, forced to disk, then moved
     * over {@code path} atomically where the file system allows, so a reader never sees a half
     * written file.
     */
    public static void save(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(path, "path");
        byte[] header = header(tensors, metadata);
        Path abs = path.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                OutputStream out = Channels.newOutputStream(ch);
                writeBody(out, header, tensors);
                out.flush();
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Writes a whole safetensors file to {@code out} (left open). */
    public static void write(OutputStream out, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(out, "out");
        writeBody(out, header(tensors, metadata), tensors);
        out.flush();
    }

    /** A whole safetensors file as bytes. */
    public static byte[] toBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try {
            write(bos, tensors, metadata);
        } catch (IOException e) {
            throw new IllegalStateException("unreachable: in-memory write failed", e);
        }
        return bos.toByteArray();
    }

    /** Length prefix + padded JSON header; validates the arguments. */
    private static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(tensors, "tensors");
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        if (metadata != null && !metadata.isEmpty()) {
            Json.writeString(sb, METADATA_KEY);
            sb.append(":{");
            boolean firstMeta = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("save: argument 'metadata' has a null key or value (key " + e.getKey() + ")");
                }
                if (!firstMeta) {
                    sb.append(',');
                }
                firstMeta = false;
                Json.writeString(sb, e.getKey());
                sb.append(':');
                Json.writeString(sb, e.getValue());
            }
            sb.append('}');
            first = false;
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null) {
                throw new IllegalArgumentException("save: argument 'tensors' has a null name");
            }
            if (name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("save: tensor name '" + METADATA_KEY + "' is reserved for metadata");
            }
            if (t == null) {
                throw new IllegalArgumentException("save: tensor '" + name + "' is null");
            }
            t.ensureOpen("save tensor '" + name + "'");
            if (!first) {
                sb.append(',');
            }
            first = false;
            long bytes = 4 * t.numel();
            Json.writeString(sb, name);
            sb.append(":{\"dtype\":\"F32\",\"shape\":[");
            int[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) {
                sb.append(i == 0 ? "" : ",").append(shape[i]);
            }
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        sb.append('}');
        byte[] json;
        try {
            ByteBuffer bb = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(sb));
            json = Arrays.copyOf(bb.array(), bb.limit());
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("save: a tensor name or metadata string is not valid Unicode (lone surrogate)", e);
        }
        int padded = (json.length + 7) / 8 * 8;
        if (padded > MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("save: header would be " + padded + " bytes, over the " + MAX_HEADER_BYTES + "-byte limit");
        }
        byte[] out = new byte[8 + padded];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(json, 0, out, 8, json.length);
        Arrays.fill(out, 8 + json.length, out.length, (byte) ' ');
        return out;
    }

    private static void writeBody(OutputStream out, byte[] header, Map<String, Tensor> tensors) throws IOException {
        out.write(header);
        byte[] chunk = new byte[CHUNK_BYTES];
        ByteBuffer bb = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
        for (Tensor t : tensors.values()) {
            float[] values = t.toArray(); // row-major whatever the strides or device
            int at = 0;
            while (at < values.length) {
                int n = Math.min(values.length - at, CHUNK_BYTES / 4);
                bb.clear();
                bb.asFloatBuffer().put(values, at, n);
                out.write(chunk, 0, n * 4);
                at += n;
            }
        }
    }
}
