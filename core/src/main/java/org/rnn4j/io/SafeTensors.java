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
 * format, float32 tensors only, compatible with {@code safetensors.torch.save_file/load_file}.
 *
 * <p>Layout: 8-byte little-endian header length {@code N}; {@code N} bytes of UTF-8 JSON
 * {@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"k": "v"}}}, padded with spaces; then the data section, little-endian,
 * offsets relative to its first byte.
 *
 * <p>The header is never trusted: its length is bounded ({@value #MAX_HEADER_BYTES} bytes and the
 * file size), the JSON is parsed strictly (duplicate keys, bad UTF-8 and deep nesting rejected),
 * every shape must be non-negative with at most 2^31-1 elements, every {@code data_offsets} must
 * lie in the data section and span exactly {@code 4 * numel} bytes, and, as in the reference
 * implementation, the tensors must tile the data section exactly (no overlaps, holes or trailing
 * bytes). Every such problem is a {@link SafeTensorsException} naming it; nothing is allocated
 * from a declared size before it is checked against the bytes actually there.
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

    /** Every tensor in the file, in header order. */
    public static Map<String, Tensor> load(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            Source src = new ChannelSource(ch, "file " + path);
            return readTensors(src, readHeader(src));
        }
    }

    /** Every tensor in {@code bytes} (a whole safetensors file), in header order. */
    public static Map<String, Tensor> load(byte[] bytes) throws IOException {
        Objects.requireNonNull(bytes, "bytes");
        Source src = new ArraySource(bytes);
        return readTensors(src, readHeader(src));
    }

    /**
     * Every tensor read from {@code in}, in header order. Reads exactly the header and the data
     * section the header describes; the stream is left open and any bytes after that unread.
     */
    public static Map<String, Tensor> load(InputStream in) throws IOException {
        Objects.requireNonNull(in, "in");
        Source src = new StreamSource(in);
        return readTensors(src, readHeader(src));
    }

    /**
     * The {@code __metadata__} object of the file (empty if it has none); reads only the header.
     * The header is validated as strictly as by {@link #load(Path)}, except that tensors of any
     * safetensors dtype are accepted (so the metadata of, say, an F16 file can be inspected).
     */
    public static Map<String, String> metadata(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return new LinkedHashMap<>(readHeader(new ChannelSource(ch, "file " + path), false).metadata);
        }
    }

    /** The {@code __metadata__} object of {@code bytes} (a whole safetensors file), empty if none. */
    public static Map<String, String> metadata(byte[] bytes) throws IOException {
        Objects.requireNonNull(bytes, "bytes");
        return new LinkedHashMap<>(readHeader(new ArraySource(bytes), false).metadata);
    }

    /** Bytes per element of each safetensors dtype. */
    private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(
            Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1), Map.entry("F8_E5M2", 1), Map.entry("F8_E4M3", 1),
            Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2), Map.entry("BF16", 2),
            Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
            Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));

    /** One tensor's header entry, validated. */
    private record Entry(String name, int[] shape, int numel, long begin, long end) {
    }

    private record Header(long dataStart, List<Entry> entries, Map<String, String> metadata) {
    }

    private static Header readHeader(Source src) throws IOException {
        return readHeader(src, true);
    }

    private static Header readHeader(Source src, boolean f32Only) throws IOException {
        byte[] lenBytes = new byte[8];
        int got = src.readPrefix(lenBytes);
        if (got < 8) {
            throw src.error("truncated: " + got + " bytes, too short for the 8-byte header length");
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
                entries.add(parseEntry(src, name, e.getValue(), dataSize, f32Only));
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

    private static Entry parseEntry(Source src, String name, Object v, long dataSize, boolean f32Only)
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
        if (f32Only && !ds.equals("F32")) {
            throw src.error(t + " has dtype " + ds + "; rnn4j reads F32 only");
        }
        Integer elementBytes = DTYPE_BYTES.get(ds);
        if (elementBytes == null) {
            throw src.error(t + " has unknown dtype '" + ds + "'");
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
        return new Entry(name, shape, (int) numel, begin, end);
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
            throw src.error("the data section has " + dataSize + " bytes but the tensors cover " + expected
                    + " (trailing bytes or corrupt header)");
        }
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

    private static Map<String, Tensor> readTensors(Source src, Header h) throws IOException {
        List<Entry> byOffset = new ArrayList<>(h.entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Map<String, Tensor> byName = new LinkedHashMap<>();
        boolean ok = false;
        try {
            for (Entry e : byOffset) {
                float[] values = src.readFloats(h.dataStart + e.begin, e.numel, e.name);
                byName.put(e.name, Tensor.fromArray(values, e.shape));
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Entry e : h.entries) {
                out.put(e.name, byName.get(e.name));
            }
            ok = true;
            return out;
        } finally {
            if (!ok) {
                byName.values().forEach(Tensor::close);
            }
        }
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

        /** numel little-endian floats at byte position pos. */
        abstract float[] readFloats(long pos, int numel, String name) throws IOException;

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

    private static void toFloats(byte[] bytes, int off, int len, float[] dst, int dstPos) {
        ByteBuffer.wrap(bytes, off, len).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(dst, dstPos, len / 4);
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
        float[] readFloats(long pos, int numel, String name) {
            float[] out = new float[numel];
            toFloats(bytes, Math.toIntExact(pos), numel * 4, out, 0);
            return out;
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
        float[] readFloats(long pos, int numel, String name) throws IOException {
            // the file size bounds numel, so this allocation is backed by bytes that exist
            float[] out = new float[numel];
            long total = 4L * numel;
            byte[] chunk = new byte[(int) Math.min(CHUNK_BYTES, total)];
            long done = 0;
            while (done < total) {
                int len = (int) Math.min(chunk.length, total - done);
                ByteBuffer b = ByteBuffer.wrap(chunk, 0, len);
                readAt(b, pos + done);
                if (b.hasRemaining()) {
                    throw truncated(name, total, done + b.position());
                }
                toFloats(chunk, 0, len, out, (int) (done / 4));
                done += len;
            }
            return out;
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
        float[] readFloats(long pos, int numel, String name) throws IOException {
            if (pos != position) {
                throw new IllegalStateException("stream source read out of order: at " + position + ", asked for " + pos);
            }
            long total = 4L * numel;
            // collect the bytes before allocating the floats, so memory follows what actually arrived
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
            float[] out = new float[numel];
            int at = 0;
            for (int i = 0; i < chunks.size(); i++) {
                byte[] c = chunks.set(i, null);
                toFloats(c, 0, c.length, out, at);
                at += c.length / 4;
            }
            return out;
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
