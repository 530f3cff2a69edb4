package org.rnn4j.io;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safe reader for the pickles {@code torch.save} writes for tensor state dicts (protocol 2, and
 * the data opcodes of protocols 3-5): it builds plain Java values and never executes or
 * instantiates anything. The only globals it accepts are {@code collections.OrderedDict},
 * {@code torch._utils._rebuild_tensor_v2}, {@code torch._utils._rebuild_parameter} and the
 * {@code torch.<Type>Storage} classes of {@link DType}; the only calls ({@code REDUCE}) those
 * three callables, which become a {@link Map} and {@link TensorRef}s. Every other global or
 * opcode is an error naming it. The input is a byte array already bounded by the caller, every
 * opcode consumes at least one byte, at most {@link #MAX_OPS} opcodes run, and lengths are checked
 * against the bytes left, so a hostile pickle cannot loop or allocate beyond a bounded amount.
 */
final class Pickle {
    /** A Python tuple. */
    record Tuple(List<Object> items) {
        static final Tuple EMPTY = new Tuple(List.of());

        @Override
        public String toString() {
            return "tuple of " + items.size();
        }
    }

    /** A whitelisted global (class or function). */
    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** A persistent id {@code ('storage', torch.<T>Storage, key, location, numel)}. */
    record StorageRef(DType dtype, String key, String location, long numel) {
    }

    /** What {@code _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)} describes. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    }

    /** Python None. */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    static final int MAX_DIMS = 64;
    /**
     * Opcodes executed at most (each creates O(1) small objects): a state dict needs about 40 per
     * tensor, so this admits some 50,000 tensors while bounding the heap a hostile pickle can take.
     */
    static final int MAX_OPS = 2_000_000;

    private final byte[] b;
    private final String what;
    private int pos;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final HashMap<Long, Object> memo = new HashMap<>();

    private Pickle(byte[] b, String what) {
        this.b = b;
        this.what = what;
    }

    /** The one object the pickle holds. */
    static Object load(byte[] bytes, String what) throws TorchFileException {
        return new Pickle(bytes, what).run();
    }

    private TorchFileException error(String msg) {
        return new TorchFileException(what + ": " + msg);
    }

    private Object run() throws TorchFileException {
        for (int ops = 0; ; ops++) {
            if (ops >= MAX_OPS) {
                throw error("pickle has more than " + MAX_OPS + " opcodes, over the limit for a state dict");
            }
            if (pos >= b.length) {
                throw error("pickle ends at byte " + pos + " without a STOP opcode (truncated)");
            }
            int at = pos;
            int op = b[pos++] & 0xFF;
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u8();
                    if (v < 2 || v > 5) {
                        throw error("unsupported pickle protocol " + v + " at byte " + at + " (torch.save writes 2)");
                    }
                }
                case 0x95 -> skip(8); // FRAME: a length hint only
                case '}' -> push(new LinkedHashMap<Object, Object>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<Object>()); // EMPTY_LIST
                case ')' -> push(Tuple.EMPTY); // EMPTY_TUPLE
                case '(' -> marks.add(stack.size()); // MARK
                case 'X' -> push(string(u32())); // BINUNICODE
                case 0x8c -> push(string(u8())); // SHORT_BINUNICODE
                case 0x8d -> push(string(u64())); // BINUNICODE8
                case 'q' -> memo.put((long) u8(), top(op)); // BINPUT
                case 'r' -> memo.put(u32(), top(op)); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), top(op)); // MEMOIZE
                case 'h' -> push(memoGet(u8(), at)); // BINGET
                case 'j' -> push(memoGet(u32(), at)); // LONG_BINGET
                case 'c' -> { // GLOBAL
                    String module = line();
                    String name = line();
                    push(global(module, name, at));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(op);
                    Object module = pop(op);
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("STACK_GLOBAL at byte " + at + " needs two strings");
                    }
                    push(global(m, n, at));
                }
                case 'Q' -> push(persistent(pop(op), at)); // BINPERSID
                case 't' -> push(new Tuple(popMark(op))); // TUPLE
                case 0x85 -> push(new Tuple(List.of(pop(op)))); // TUPLE1
                case 0x86 -> { // TUPLE2
                    Object y = pop(op);
                    Object x = pop(op);
                    push(new Tuple(List.of(x, y)));
                }
                case 0x87 -> { // TUPLE3
                    Object z = pop(op);
                    Object y = pop(op);
                    Object x = pop(op);
                    push(new Tuple(List.of(x, y, z)));
                }
                case 'J' -> push((long) ByteBuffer.wrap(bytes(4)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt()); // BININT
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> push((long) (u8() | u8() << 8)); // BININT2
                case 0x8a -> push(long1(at)); // LONG1
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'N' -> push(NONE); // NONE
                case 'G' -> push(ByteBuffer.wrap(bytes(8)).getDouble()); // BINFLOAT, big-endian
                case 'R' -> { // REDUCE
                    Object args = pop(op);
                    Object callable = pop(op);
                    push(reduce(callable, args, at));
                }
                case 'b' -> { // BUILD
                    Object state = pop(op);
                    Object obj = top(op);
                    if (!(obj instanceof Map<?, ?>) || !(state instanceof Map<?, ?>)) {
                        throw error("BUILD at byte " + at + " on " + kind(obj) + " with " + kind(state)
                                + ": only an OrderedDict's attributes (state_dict._metadata) are accepted");
                    }
                    // the attributes of a state dict (its _metadata): not needed to load tensors
                }
                case 's' -> { // SETITEM
                    Object v = pop(op);
                    Object k = pop(op);
                    dict(top(op), at).put(key(k, at), v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark(op);
                    Map<Object, Object> d = dict(top(op), at);
                    if (items.size() % 2 != 0) {
                        throw error("SETITEMS at byte " + at + " has an odd number of items (" + items.size() + ")");
                    }
                    for (int i = 0; i < items.size(); i += 2) {
                        d.put(key(items.get(i), at), items.get(i + 1));
                    }
                }
                case 'a' -> { // APPEND
                    Object v = pop(op);
                    list(top(op), at).add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark(op);
                    list(top(op), at).addAll(items);
                }
                case '.' -> { // STOP
                    Object result = pop(op);
                    if (!stack.isEmpty() || !marks.isEmpty()) {
                        throw error("pickle STOP at byte " + at + " leaves " + stack.size() + " values and " + marks.size()
                                + " marks on the stack (corrupt pickle)");
                    }
                    if (pos != b.length) {
                        throw error("pickle has " + (b.length - pos) + " bytes after its STOP opcode at byte " + at);
                    }
                    return result;
                }
                default -> throw error("unsupported pickle opcode " + opName(op) + " at byte " + at
                        + "; rnn4j reads only the data opcodes torch.save writes for tensors, and never executes code");
            }
        }
    }

    // ---- globals, persistent ids, calls ---------------------------------------------------

    private Object global(String module, String name, int at) throws TorchFileException {
        if (module.equals("collections") && name.equals("OrderedDict")
                || module.equals("torch._utils") && (name.equals("_rebuild_tensor_v2") || name.equals("_rebuild_parameter"))) {
            return new Global(module, name);
        }
        if (module.equals("torch") && name.endsWith("Storage") && DType.ofTorchStorage(name) != null) {
            return new Global(module, name);
        }
        String hint;
        if (module.startsWith("__torch__") || module.startsWith("torch.nn.modules")) {
            hint = " (a whole pickled module or TorchScript? save model.state_dict() with torch.save instead)";
        } else if (module.equals("torch") && name.endsWith("Storage")) {
            hint = " (storage type not supported; readable: float, double, half, bfloat16, long, int, short, char, byte, bool)";
        } else if (module.equals("torch._utils")) {
            hint = " (only plain dense tensors are supported, not quantized, sparse or nested ones)";
        } else {
            hint = "";
        }
        throw error("pickle global '" + module + "." + name + "' at byte " + at + " is not allowed" + hint
                + "; rnn4j accepts only collections.OrderedDict, torch._utils._rebuild_tensor_v2, "
                + "torch._utils._rebuild_parameter and torch.<Type>Storage");
    }

    private Object persistent(Object pid, int at) throws TorchFileException {
        if (!(pid instanceof Tuple t) || t.items.size() != 5 || !"storage".equals(t.items.get(0))) {
            throw error("persistent id at byte " + at + " must be ('storage', storage_type, key, location, numel), got " + kind(pid));
        }
        List<Object> it = t.items;
        if (!(it.get(1) instanceof Global g) || !g.module.equals("torch") || DType.ofTorchStorage(g.name) == null) {
            throw error("persistent id at byte " + at + ": storage type must be a torch.<Type>Storage, got " + kind(it.get(1)));
        }
        if (!(it.get(2) instanceof String key) || key.isEmpty() || key.length() > 256 || key.contains("/") || key.contains("\\")) {
            throw error("persistent id at byte " + at + ": storage key must be a short string without '/', got " + kind(it.get(2)));
        }
        if (!(it.get(3) instanceof String location)) {
            throw error("persistent id at byte " + at + ": location must be a string, got " + kind(it.get(3)));
        }
        if (!(it.get(4) instanceof Long numel) || numel < 0) {
            throw error("persistent id at byte " + at + ": numel must be a non-negative integer, got " + kind(it.get(4)));
        }
        return new StorageRef(DType.ofTorchStorage(g.name), key, location, numel);
    }

    private Object reduce(Object callable, Object args, int at) throws TorchFileException {
        if (!(callable instanceof Global g)) {
            throw error("REDUCE at byte " + at + " calls " + kind(callable) + "; only whitelisted globals can be called");
        }
        if (!(args instanceof Tuple t)) {
            throw error("REDUCE at byte " + at + " of " + g + " needs an argument tuple, got " + kind(args));
        }
        List<Object> a = t.items;
        switch (g.module + "." + g.name) {
            case "collections.OrderedDict" -> {
                if (!a.isEmpty()) {
                    throw error("REDUCE at byte " + at + ": collections.OrderedDict takes no arguments here, got " + a.size());
                }
                return new LinkedHashMap<Object, Object>();
            }
            case "torch._utils._rebuild_tensor_v2" -> {
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                if (a.size() != 6 && a.size() != 7) {
                    throw error("REDUCE at byte " + at + ": _rebuild_tensor_v2 takes 6 or 7 arguments, got " + a.size());
                }
                if (!(a.get(0) instanceof StorageRef s)) {
                    throw error("REDUCE at byte " + at + ": _rebuild_tensor_v2 argument 0 must be a storage, got " + kind(a.get(0)));
                }
                if (!(a.get(1) instanceof Long offset) || offset < 0) {
                    throw error("REDUCE at byte " + at + ": _rebuild_tensor_v2 storage_offset must be a non-negative integer, got "
                            + kind(a.get(1)));
                }
                long[] size = ints(a.get(2), "size", at);
                long[] stride = ints(a.get(3), "stride", at);
                if (size.length != stride.length) {
                    throw error("REDUCE at byte " + at + ": _rebuild_tensor_v2 size " + Arrays.toString(size) + " and stride "
                            + Arrays.toString(stride) + " differ in length");
                }
                if (!(a.get(4) instanceof Boolean)) {
                    throw error("REDUCE at byte " + at + ": _rebuild_tensor_v2 requires_grad must be a bool, got " + kind(a.get(4)));
                }
                if (!(a.get(5) instanceof Map<?, ?>)) {
                    throw error("REDUCE at byte " + at + ": _rebuild_tensor_v2 backward_hooks must be an OrderedDict, got "
                            + kind(a.get(5)));
                }
                return new TensorRef(s, offset, size, stride);
            }
            case "torch._utils._rebuild_parameter" -> {
                // (data, requires_grad, backward_hooks)
                if (a.size() != 3 || !(a.get(0) instanceof TensorRef tr) || !(a.get(1) instanceof Boolean)
                        || !(a.get(2) instanceof Map<?, ?>)) {
                    throw error("REDUCE at byte " + at + ": _rebuild_parameter takes (tensor, bool, OrderedDict), got " + kind(args));
                }
                return tr;
            }
            default -> throw error("REDUCE at byte " + at + " calls " + g + ", which is a type marker, not a callable");
        }
    }

    private long[] ints(Object v, String what, int at) throws TorchFileException {
        if (!(v instanceof Tuple t)) {
            throw error("REDUCE at byte " + at + ": _rebuild_tensor_v2 " + what + " must be a tuple of integers, got " + kind(v));
        }
        if (t.items.size() > MAX_DIMS) {
            throw error("REDUCE at byte " + at + ": _rebuild_tensor_v2 " + what + " has " + t.items.size() + " dimensions, over "
                    + MAX_DIMS);
        }
        long[] out = new long[t.items.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.items.get(i) instanceof Long l)) {
                throw error("REDUCE at byte " + at + ": _rebuild_tensor_v2 " + what + "[" + i + "] must be an integer, got "
                        + kind(t.items.get(i)));
            }
            out[i] = l;
        }
        return out;
    }

    // ---- stack and byte helpers -----------------------------------------------------------

    private void push(Object v) {
        stack.add(v);
    }

    private Object pop(int op) throws TorchFileException {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) {
            throw error("pickle opcode " + opName(op) + " at byte " + (pos - 1) + " pops an empty stack (corrupt pickle)");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object top(int op) throws TorchFileException {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) {
            throw error("pickle opcode " + opName(op) + " needs a value on the stack (corrupt pickle)");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark(int op) throws TorchFileException {
        if (marks.isEmpty()) {
            throw error("pickle opcode " + opName(op) + " at byte " + (pos - 1) + " without a MARK (corrupt pickle)");
        }
        int m = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(m, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    private Object memoGet(long i, int at) throws TorchFileException {
        Object v = memo.get(i);
        if (v == null) {
            throw error("pickle BINGET at byte " + at + " of memo entry " + i + ", which was never stored");
        }
        return v;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object v, int at) throws TorchFileException {
        if (!(v instanceof Map<?, ?>)) {
            throw error("SETITEM(S) at byte " + at + " on " + kind(v) + ", not a dict");
        }
        return (Map<Object, Object>) v;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object v, int at) throws TorchFileException {
        if (!(v instanceof ArrayList<?>)) {
            throw error("APPEND(S) at byte " + at + " on " + kind(v) + ", not a list");
        }
        return (List<Object>) v;
    }

    private Object key(Object k, int at) throws TorchFileException {
        if (k instanceof String || k instanceof Long || k instanceof Boolean || k == NONE || k instanceof Double) {
            return k;
        }
        throw error("dict key at byte " + at + " is " + kind(k) + "; only strings, numbers, booleans and None are accepted as keys");
    }

    private int u8() throws TorchFileException {
        need(1);
        return b[pos++] & 0xFF;
    }

    private long u32() throws TorchFileException {
        byte[] x = bytes(4);
        return ByteBuffer.wrap(x).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
    }

    private long u64() throws TorchFileException {
        byte[] x = bytes(8);
        long v = ByteBuffer.wrap(x).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        return v < 0 ? Long.MAX_VALUE : v;
    }

    private void skip(int n) throws TorchFileException {
        need(n);
        pos += n;
    }

    private byte[] bytes(long n) throws TorchFileException {
        need(n);
        byte[] out = Arrays.copyOfRange(b, pos, pos + (int) n);
        pos += (int) n;
        return out;
    }

    private void need(long n) throws TorchFileException {
        if (n > b.length - pos) {
            throw error("pickle truncated at byte " + pos + ": needs " + n + " more bytes, has " + (b.length - pos));
        }
    }

    private String string(long n) throws TorchFileException {
        need(n);
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, pos, (int) n)).toString();
            pos += (int) n;
            return s;
        } catch (CharacterCodingException e) {
            throw error("pickle string at byte " + pos + " is not valid UTF-8");
        }
    }

    /** A GLOBAL argument: bytes up to a newline, printable ASCII, at most 256 of them. */
    private String line() throws TorchFileException {
        int start = pos;
        while (pos < b.length && b[pos] != '\n') {
            if (b[pos] < 0x20 || b[pos] > 0x7E || pos - start > 256) {
                throw error("pickle GLOBAL at byte " + (start - 1) + " has a malformed module or name");
            }
            pos++;
        }
        if (pos >= b.length) {
            throw error("pickle truncated inside a GLOBAL at byte " + (start - 1));
        }
        String s = new String(b, start, pos - start, StandardCharsets.US_ASCII);
        pos++; // the newline
        return s;
    }

    private Long long1(int at) throws TorchFileException {
        int n = u8();
        if (n > 8) {
            throw error("pickle LONG1 at byte " + at + " has " + n + " bytes; integers beyond 64 bits are not supported");
        }
        byte[] x = bytes(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (x[i] & 0xFF);
        }
        if (n > 0 && n < 8 && (x[n - 1] & 0x80) != 0) {
            v -= 1L << (8 * n); // two's complement sign
        }
        return v;
    }

    static String kind(Object v) {
        if (v == null) {
            return "nothing";
        }
        if (v instanceof String s) {
            return "the string '" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'";
        }
        if (v instanceof Long || v instanceof Double || v instanceof Boolean || v == NONE) {
            return v.toString();
        }
        if (v instanceof Map<?, ?> m) {
            return "a dict of " + m.size();
        }
        if (v instanceof List<?> l) {
            return "a list of " + l.size();
        }
        if (v instanceof Tuple t) {
            return "a " + t;
        }
        if (v instanceof Global g) {
            return "the global " + g;
        }
        if (v instanceof StorageRef) {
            return "a storage";
        }
        if (v instanceof TensorRef) {
            return "a tensor";
        }
        return v.getClass().getSimpleName();
    }

    private static final Map<Integer, String> OP_NAMES = new HashMap<>();

    static {
        String[] names = {
            "(", "MARK", ".", "STOP", "0", "POP", "1", "POP_MARK", "2", "DUP", "F", "FLOAT", "I", "INT", "J", "BININT",
            "K", "BININT1", "L", "LONG", "M", "BININT2", "N", "NONE", "P", "PERSID", "Q", "BINPERSID", "R", "REDUCE",
            "S", "STRING", "T", "BINSTRING", "U", "SHORT_BINSTRING", "V", "UNICODE", "X", "BINUNICODE", "a", "APPEND",
            "b", "BUILD", "c", "GLOBAL", "d", "DICT", "}", "EMPTY_DICT", "e", "APPENDS", "g", "GET", "h", "BINGET",
            "i", "INST", "j", "LONG_BINGET", "l", "LIST", "]", "EMPTY_LIST", "o", "OBJ", "p", "PUT", "q", "BINPUT",
            "r", "LONG_BINPUT", "s", "SETITEM", "t", "TUPLE", ")", "EMPTY_TUPLE", "u", "SETITEMS", "G", "BINFLOAT",
        };
        for (int i = 0; i < names.length; i += 2) {
            OP_NAMES.put((int) names[i].charAt(0), names[i + 1]);
        }
        String[] hi = {"PROTO", "NEWOBJ", "EXT1", "EXT2", "EXT4", "TUPLE1", "TUPLE2", "TUPLE3", "NEWTRUE", "NEWFALSE",
            "LONG1", "LONG4", "BINBYTES", "SHORT_BINBYTES", "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES8", "EMPTY_SET",
            "ADDITEMS", "FROZENSET", "NEWOBJ_EX", "STACK_GLOBAL", "MEMOIZE", "FRAME", "BYTEARRAY8", "NEXT_BUFFER",
            "READONLY_BUFFER"};
        // 0x80..0x8b: PROTO..LONG4; 0x42, 0x43: BINBYTES, SHORT_BINBYTES; 0x8c..0x98
        int[] codes = {0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x42, 0x43, 0x8c, 0x8d, 0x8e,
            0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98};
        for (int i = 0; i < codes.length; i++) {
            OP_NAMES.put(codes[i], hi[i]);
        }
    }

    static String opName(int op) {
        String n = OP_NAMES.get(op);
        return (n != null ? n : "unknown") + String.format(" (0x%02x)", op);
    }
}
