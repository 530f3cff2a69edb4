package org.rnn4j.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.rnn4j.Tensor;

/**
 * Reads what {@code torch.save(model.state_dict(), path)} writes (PyTorch 1.6+ default zip
 * format): a zip holding {@code <name>/data.pkl} (the pickled dict), {@code <name>/data/<key>}
 * (one raw little-endian storage per key), {@code <name>/version} and, since PyTorch 2.x,
 * {@code <name>/byteorder}.
 *
 * <p>The pickle is read by a small safe unpickler that accepts only the opcodes and globals
 * {@code torch.save} writes for plain dense tensors ({@code collections.OrderedDict},
 * {@code torch._utils._rebuild_tensor_v2}/{@code _rebuild_parameter}, the
 * {@code torch.<Type>Storage} classes); anything else (a pickled module, TorchScript, custom
 * classes, other opcodes) is a {@link TorchFileException} naming it, and nothing in the file is
 * ever executed or instantiated. Storage offsets and strides are honoured (transposed or sliced
 * views, several tensors sharing one storage): every tensor is materialised row-major.
 * Floating-point tensors (float32, float64, float16, bfloat16) become float32
 * {@link Tensor}s; integer and bool tensors become {@link IntTensor}s.
 *
 * <p>Limits, so that a hostile file gives a clear exception rather than exhausting memory or
 * time: at most {@value #MAX_ENTRIES} zip entries, a pickle of at most {@value #MAX_PICKLE_BYTES}
 * bytes and 2,000,000 opcodes, storages stored uncompressed (as {@code torch.save} writes them) whose size and CRC
 * match, at most 2^31-1 elements per tensor, and the tensors together may materialise at most
 * {@value #MAX_EXPANSION} times the elements the file stores (plus 2^20; overlapping views such
 * as {@code expand} are the only way to exceed it). The legacy pre-1.6 format is rejected with a
 * message saying to re-save the file.
 */
public final class TorchFiles {
    /** Most zip entries an archive may have. */
    public static final int MAX_ENTRIES = 100_000;
    /** Most bytes the archive's pickle ({@code data.pkl}) may have: 32 MiB. */
    public static final int MAX_PICKLE_BYTES = 32 << 20;
    /** How many times the elements the file stores the tensors together may materialise (plus 2^20). */
    public static final int MAX_EXPANSION = 16;

    private TorchFiles() {
    }

    /** Every entry of the file, float and integer, by name in the dict's order. */
    public static StateDict read(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        String what = "torch file " + path;
        checkMagic(path, what);
        ZipFile zf;
        try {
            zf = new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw new TorchFileException(what + ": not a readable zip archive (" + e.getMessage() + ")", e);
        }
        try (zf) {
            return new Reader(zf, what).read();
        } catch (ZipException e) {
            throw new TorchFileException(what + ": corrupt zip archive (" + e.getMessage() + ")", e);
        }
    }

    /** {@link #read(Path)} for a whole file's bytes. */
    public static StateDict read(byte[] bytes) throws IOException {
        Objects.requireNonNull(bytes, "bytes");
        return spooled(out -> out.write(bytes), "data");
    }

    /** {@link #read(Path)} for a stream holding a whole file, read to its end (left open). */
    public static StateDict read(InputStream in) throws IOException {
        Objects.requireNonNull(in, "in");
        return spooled(in::transferTo, "stream");
    }

    /**
     * The floating-point tensors of the file as float32 tensors, in the dict's order; a file
     * holding integer or bool tensors is rejected naming them (use {@link #read(Path)}).
     */
    public static Map<String, Tensor> load(Path path) throws IOException {
        StateDict sd = read(path);
        List<String> ints = new ArrayList<>(sd.integers().keySet());
        if (!ints.isEmpty()) {
            sd.close();
            throw new TorchFileException("torch file " + path + ": entries " + ints + " have integer dtypes ("
                    + sd.dtype(ints.get(0)) + "); TorchFiles.load reads floating-point tensors only: use TorchFiles.read "
                    + "or StateDict.read, which return them as IntTensor");
        }
        return new LinkedHashMap<>(sd.tensors());
    }

    private interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** java.util.zip reads archives from files: spool, read, delete. */
    private static StateDict spooled(Writer w, String what) throws IOException {
        Path tmp = Files.createTempFile("rnn4j-", ".pt");
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                w.write(out);
            }
            return read(tmp);
        } catch (TorchFileException e) {
            throw new TorchFileException(e.getMessage().replace("torch file " + tmp, "torch " + what), e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void checkMagic(Path path, String what) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(path)) {
            head = in.readNBytes(4);
        }
        if (head.length >= 2 && (head[0] & 0xFF) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            throw new TorchFileException(what + ": this is the legacy torch.save format (a bare pickle, PyTorch < 1.6 or "
                    + "_use_new_zipfile_serialization=False), which rnn4j does not read; re-save it in PyTorch with "
                    + "torch.save(torch.load(path), new_path), which writes the default zip format");
        }
        if (head.length < 4 || head[0] != 'P' || head[1] != 'K' || head[2] != 3 || head[3] != 4) {
            throw new TorchFileException(what + ": not a torch.save zip archive (it does not start with PK\\x03\\x04); "
                    + StateDict.ACCEPTED);
        }
    }

    /** One archive being read. */
    private static final class Reader {
        private final ZipFile zf;
        private final String what;
        private String prefix;
        private ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        /** Decoded storages by key: float[] or long[]. */
        private final Map<String, Object> storages = new HashMap<>();
        private final Map<String, Pickle.StorageRef> storageRefs = new HashMap<>();
        private long storedElements;

        Reader(ZipFile zf, String what) {
            this.zf = zf;
            this.what = what;
        }

        private TorchFileException error(String msg) {
            return new TorchFileException(what + ": " + msg);
        }

        StateDict read() throws IOException {
            if (zf.size() > MAX_ENTRIES) {
                throw error("the archive has " + zf.size() + " entries, over the limit of " + MAX_ENTRIES);
            }
            findPrefix();
            ZipEntry bo = zf.getEntry(prefix + "/byteorder");
            if (bo != null) {
                String s = new String(entryBytes(bo, 16, "byteorder"), StandardCharsets.US_ASCII).trim();
                if (s.equals("big")) {
                    order = ByteOrder.BIG_ENDIAN;
                } else if (!s.equals("little")) {
                    throw error("byteorder is '" + s + "', expected 'little' or 'big'");
                }
            }
            ZipEntry pkl = zf.getEntry(prefix + "/data.pkl");
            Object root = Pickle.load(entryBytes(pkl, MAX_PICKLE_BYTES, "data.pkl"), what + ": " + prefix + "/data.pkl");
            Map<String, Pickle.TensorRef> refs = stateDict(root);
            long budget = -1;
            Map<String, Object> entries = new LinkedHashMap<>();
            Map<String, DType> dtypes = new LinkedHashMap<>();
            boolean ok = false;
            try {
                // storages first (their bytes bound everything), then the tensors
                for (Pickle.TensorRef r : refs.values()) {
                    storage(r.storage());
                }
                budget = (long) MAX_EXPANSION * storedElements + (1 << 20);
                long materialised = 0;
                for (Map.Entry<String, Pickle.TensorRef> e : refs.entrySet()) {
                    Pickle.TensorRef r = e.getValue();
                    int[] shape = checkView(e.getKey(), r);
                    materialised += Tensor.numel(shape);
                    if (materialised > budget) {
                        throw error("the tensors materialise more than " + budget + " elements from the " + storedElements
                                + " the file stores (overlapping or expanded views; limit " + MAX_EXPANSION
                                + "x the stored elements + 2^20), at tensor '" + e.getKey() + "'");
                    }
                    entries.put(e.getKey(), materialise(r, shape));
                    dtypes.put(e.getKey(), r.storage().dtype());
                }
                ok = true;
                return new StateDict(StateDict.Format.TORCH_ZIP, entries, dtypes, new LinkedHashMap<>());
            } finally {
                if (!ok) {
                    StateDict.closeAll(entries);
                }
            }
        }

        private void findPrefix() throws IOException {
            List<String> found = new ArrayList<>();
            boolean torchScript = false;
            Enumeration<? extends ZipEntry> en = zf.entries();
            while (en.hasMoreElements()) {
                String n = en.nextElement().getName();
                int slash = n.indexOf('/');
                if (slash > 0 && n.substring(slash + 1).equals("data.pkl")) {
                    found.add(n.substring(0, slash));
                }
                torchScript |= n.endsWith("/constants.pkl") || slash > 0 && n.startsWith("code/", slash + 1);
            }
            if (found.size() != 1) {
                String hint = torchScript ? " (it looks like a TorchScript archive from torch.jit.save; save model.state_dict() "
                        + "with torch.save instead)" : "";
                throw error(found.isEmpty() ? "no <name>/data.pkl entry: not a torch.save archive" + hint
                        : "several data.pkl entries " + found + ": not a single torch.save archive");
            }
            prefix = found.get(0);
        }

        /** The top object must be a flat dict of name -> tensor. */
        private Map<String, Pickle.TensorRef> stateDict(Object root) throws TorchFileException {
            if (!(root instanceof Map<?, ?> m)) {
                throw error("the pickle holds " + Pickle.kind(root) + ", not a state dict (a dict of name -> tensor)");
            }
            Map<String, Pickle.TensorRef> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String k)) {
                    throw error("state dict key " + Pickle.kind(e.getKey()) + " is not a string");
                }
                Object v = e.getValue();
                if (v instanceof Pickle.TensorRef t) {
                    out.put(k, t);
                } else if (v instanceof Map<?, ?>) {
                    throw error("entry '" + k + "' is a nested dict (a training checkpoint such as {'model': ..., 'optimizer': ...}?);"
                            + " rnn4j reads a flat state dict: save model.state_dict() on its own");
                } else {
                    throw error("entry '" + k + "' is " + Pickle.kind(v) + ", not a tensor");
                }
            }
            return out;
        }

        /** Reads and decodes a storage once, checking its size, CRC and use consistency. */
        private void storage(Pickle.StorageRef s) throws IOException {
            Pickle.StorageRef seen = storageRefs.get(s.key());
            if (seen != null) {
                if (seen.dtype() != s.dtype() || seen.numel() != s.numel()) {
                    throw error("storage '" + s.key() + "' is used as " + seen.dtype() + "[" + seen.numel() + "] and as "
                            + s.dtype() + "[" + s.numel() + "]");
                }
                return;
            }
            if (s.numel() > Integer.MAX_VALUE) {
                throw error("storage '" + s.key() + "' has " + s.numel() + " elements, more than 2^31-1");
            }
            String name = prefix + "/data/" + s.key();
            ZipEntry e = zf.getEntry(name);
            if (e == null) {
                throw error("storage '" + s.key() + "' (" + name + ") is missing from the archive");
            }
            int eb = s.dtype().bytes();
            long expected = s.numel() * eb;
            if (e.getMethod() != ZipEntry.STORED) {
                throw error("storage entry " + name + " is compressed (zip method " + e.getMethod()
                        + "); torch.save writes storages uncompressed");
            }
            if (e.getSize() != expected) {
                throw error("storage entry " + name + " has " + e.getSize() + " bytes, but " + s.dtype() + "[" + s.numel()
                        + "] needs " + expected);
            }
            int n = (int) s.numel();
            Object data = s.dtype().isFloatingPoint() ? new float[n] : new long[n];
            CRC32 crc = new CRC32();
            // the entry is stored, so its declared size is backed by bytes in the file
            try (InputStream in = zf.getInputStream(e)) {
                int chunkElems = (1 << 20) / 8;
                byte[] chunk = new byte[(int) Math.min((long) chunkElems * eb, Math.max(expected, 1))];
                long done = 0;
                while (done < expected) {
                    int len = (int) Math.min(chunk.length, expected - done);
                    int got = in.readNBytes(chunk, 0, len);
                    if (got < len) {
                        throw error("storage entry " + name + " is truncated: needed " + expected + " bytes, got " + (done + got));
                    }
                    crc.update(chunk, 0, len);
                    ByteBuffer bb = ByteBuffer.wrap(chunk, 0, len).order(order);
                    int at = (int) (done / eb);
                    if (data instanceof float[] f) {
                        StateDict.decodeFloats(s.dtype(), bb, len / eb, f, at);
                    } else {
                        StateDict.decodeLongs(s.dtype(), bb, len / eb, (long[]) data, at);
                    }
                    done += len;
                }
            }
            if (e.getCrc() != -1 && crc.getValue() != e.getCrc()) {
                throw error("storage entry " + name + " is corrupt: CRC-32 " + Long.toHexString(crc.getValue())
                        + " does not match the archive's " + Long.toHexString(e.getCrc()));
            }
            storageRefs.put(s.key(), s);
            storages.put(s.key(), data);
            storedElements += n;
        }

        /** Shape of the view, after checking that it lies inside its storage. */
        private int[] checkView(String name, Pickle.TensorRef r) throws TorchFileException {
            String t = "tensor '" + name + "'";
            int[] shape = new int[r.size().length];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                long d = r.size()[i];
                if (d < 0 || d > Integer.MAX_VALUE) {
                    throw error(t + ": size[" + i + "] = " + d + " is not in [0, 2^31-1]");
                }
                if (r.stride()[i] < 0) {
                    throw error(t + ": stride[" + i + "] = " + r.stride()[i] + " is negative");
                }
                shape[i] = (int) d;
                numel = d == 0 || numel == 0 ? 0 : numel * d;
                if (numel > Integer.MAX_VALUE) {
                    throw error(t + ": size " + Arrays.toString(r.size()) + " has more than 2^31-1 elements");
                }
            }
            long storageNumel = r.storage().numel();
            if (numel > 0) {
                // the last element's index, in exact arithmetic (each term < 2^31 * 2^63 is guarded)
                long last = r.offset();
                for (int i = 0; i < shape.length; i++) {
                    long span = (shape[i] - 1L);
                    if (span > 0 && r.stride()[i] > (Long.MAX_VALUE - last) / span) {
                        throw error(t + ": stride " + Arrays.toString(r.stride()) + " overflows");
                    }
                    last += span * r.stride()[i];
                }
                if (last >= storageNumel) {
                    throw error(t + ": storage offset " + r.offset() + ", size " + Arrays.toString(r.size()) + " and stride "
                            + Arrays.toString(r.stride()) + " reach element " + last + " of storage '" + r.storage().key()
                            + "', which has " + storageNumel);
                }
            } else if (r.offset() > storageNumel) {
                throw error(t + ": storage offset " + r.offset() + " is past the end of storage '" + r.storage().key()
                        + "' (" + storageNumel + " elements)");
            }
            return shape;
        }

        /** The view, row-major: a float32 Tensor or an IntTensor. */
        private Object materialise(Pickle.TensorRef r, int[] shape) {
            Object data = storages.get(r.storage().key());
            int n = (int) Tensor.numel(shape);
            boolean isFloat = data instanceof float[];
            Object out = isFloat ? new float[n] : new long[n];
            int[] contiguous = Tensor.contiguousStrides(shape);
            boolean plain = true;
            for (int i = 0; i < shape.length; i++) {
                plain &= shape[i] == 1 || r.stride()[i] == contiguous[i];
            }
            if (n > 0 && plain) {
                System.arraycopy(data, (int) r.offset(), out, 0, n);
            } else if (n > 0) {
                int[] idx = new int[shape.length];
                long src = r.offset();
                for (int k = 0; k < n; k++) {
                    if (isFloat) {
                        ((float[]) out)[k] = ((float[]) data)[(int) src];
                    } else {
                        ((long[]) out)[k] = ((long[]) data)[(int) src];
                    }
                    for (int d = shape.length - 1; d >= 0; d--) {
                        if (++idx[d] < shape[d]) {
                            src += r.stride()[d];
                            break;
                        }
                        src -= (shape[d] - 1L) * r.stride()[d];
                        idx[d] = 0;
                    }
                }
            }
            return isFloat ? Tensor.fromArray((float[]) out, shape) : IntTensor.wrap(r.storage().dtype(), shape, (long[]) out);
        }

        private byte[] entryBytes(ZipEntry e, int max, String what) throws IOException {
            long size = e.getSize();
            if (size > max) {
                throw error(prefix + "/" + what + " has " + size + " bytes, over the limit of " + max);
            }
            try (InputStream in = zf.getInputStream(e)) {
                byte[] b = in.readNBytes(max + 1); // bounded whatever the entry claims (compressed entries)
                if (b.length > max) {
                    throw error(prefix + "/" + what + " is larger than the limit of " + max + " bytes");
                }
                CRC32 crc = new CRC32();
                crc.update(b);
                if (e.getCrc() != -1 && crc.getValue() != e.getCrc()) {
                    throw error(prefix + "/" + what + " is corrupt: CRC-32 " + Long.toHexString(crc.getValue())
                            + " does not match the archive's " + Long.toHexString(e.getCrc()));
                }
                return b;
            }
        }
    }
}
