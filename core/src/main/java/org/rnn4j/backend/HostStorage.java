package org.rnn4j.backend;

import java.lang.ref.Cleaner;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.rnn4j.Device;
import org.rnn4j.Memory;

/**
 * Host (CPU) memory shared by every CPU backend: a native-order, 64-byte aligned direct buffer,
 * so native kernels use it in place (aligned for AVX-512) and the reference backend reads it as
 * a {@link FloatBuffer}. Two sources:
 * <ul>
 *   <li>memory a native backend allocated itself ({@link #HostStorage(long, long, java.util.function.LongFunction, Runnable)}):
 *       freed by its own free function when the last view closes;</li>
 *   <li>a JVM direct buffer ({@link #HostStorage(long)}), for the pure-Java backend: freed at
 *       close with {@code Unsafe.invokeCleaner} on JDK 17-23; JDK 24+ warns on that method, so
 *       there the buffer is left to the GC (the {@link Memory} counter still drops at close).</li>
 * </ul>
 * A {@link Cleaner} frees either one if its owner forgot to close it.
 */
public final class HostStorage extends Storage {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final int ALIGN = 64;
    private static final Method INVOKE_CLEANER;
    private static final Object UNSAFE;

    static {
        Object unsafe = null;
        Method invoke = null;
        if (Runtime.version().feature() < 24) {
            try {
                Class<?> c = Class.forName("sun.misc.Unsafe");
                java.lang.reflect.Field f = c.getDeclaredField("theUnsafe");
                f.setAccessible(true);
                unsafe = f.get(null);
                invoke = c.getMethod("invokeCleaner", ByteBuffer.class);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // jdk.unsupported missing: the GC returns the memory instead; the counter stays exact
            }
        }
        UNSAFE = unsafe;
        INVOKE_CLEANER = invoke;
    }

    /** The floats as a buffer; for native memory made on first use (most storages never need one). */
    private volatile FloatBuffer data;
    private final java.util.function.LongFunction<ByteBuffer> view;
    private final Cleaner.Cleanable cleanable;
    private final long address;

    /** A zero-filled JVM direct buffer of {@code numel} floats. */
    public HostStorage(long numel) {
        super(numel, Device.CPU);
        checkSize(numel);
        // alignedSlice rounds both ends to ALIGN, so the payload is rounded up to a multiple of
        // ALIGN first; one extra ALIGN covers the shift of the start
        long bytes = (numel * 4L + ALIGN - 1) / ALIGN * ALIGN + ALIGN;
        Memory.reserve(bytes, "tensor of " + numel + " floats");
        ByteBuffer raw;
        try {
            raw = ByteBuffer.allocateDirect((int) bytes);
        } catch (OutOfMemoryError e) {
            Memory.freed(bytes);
            throw e;
        }
        ByteBuffer aligned = raw.alignedSlice(ALIGN).order(ByteOrder.nativeOrder());
        aligned.limit((int) (numel * 4L));
        this.data = aligned.asFloatBuffer();
        this.view = null;
        this.address = 0;
        this.cleanable = CLEANER.register(this, new FreeDirect(raw, bytes));
    }

    /**
     * Wraps zero-filled memory a native backend allocated at {@code address} (at least
     * {@code numel} floats). {@code view} makes a direct ByteBuffer over it when a Java reader
     * first asks ({@link #buffer()}); {@code free} releases it (called exactly once, from close or
     * from the Cleaner; it must not reference this object). The caller reserved the
     * {@code numel * 4} bytes with {@link Memory#reserve} before allocating them; they are
     * returned to the budget when the memory is freed.
     */
    public HostStorage(long numel, long address, java.util.function.LongFunction<ByteBuffer> view, Runnable free) {
        super(numel, Device.CPU);
        checkSize(numel);
        this.address = address;
        this.view = view;
        long bytes = numel * 4L;
        this.cleanable = CLEANER.register(this, new FreeNative(free, bytes));
    }

    private static void checkSize(long numel) {
        if (numel > (Integer.MAX_VALUE - 2 * ALIGN) / 4) {
            throw new IllegalArgumentException("tensor too large for host storage: " + numel + " floats (max "
                    + (Integer.MAX_VALUE - 2 * ALIGN) / 4 + ")");
        }
    }

    /** The floats, as a buffer whose index 0 is element 0 of the storage. */
    public FloatBuffer buffer() {
        FloatBuffer d = data;
        if (d == null) {
            synchronized (this) {
                d = data;
                if (d == null) {
                    long bytes = numel() * 4L;
                    ByteBuffer b = view.apply(Math.max(bytes, 4L)).order(ByteOrder.nativeOrder());
                    b.position(0).limit((int) bytes);
                    d = b.slice().order(ByteOrder.nativeOrder()).asFloatBuffer();
                    data = d;
                }
            }
        }
        return d;
    }

    /**
     * Native address of element 0 for memory a native backend allocated itself; 0 for a JVM
     * direct buffer (a native backend then asks the JVM for the buffer's address). Read-only: no
     * public method takes a raw address.
     */
    public long address() {
        return address;
    }

    @Override
    protected void free() {
        cleanable.clean();
    }

    private static final class FreeDirect implements Runnable {
        private ByteBuffer raw;
        private final long bytes;

        FreeDirect(ByteBuffer raw, long bytes) {
            this.raw = raw;
            this.bytes = bytes;
        }

        @Override
        public void run() {
            ByteBuffer b = raw;
            raw = null;
            if (b != null && INVOKE_CLEANER != null) {
                try {
                    INVOKE_CLEANER.invoke(UNSAFE, b);
                } catch (ReflectiveOperationException e) {
                    // the GC frees it instead
                }
            }
            Memory.freed(bytes);
        }
    }

    private static final class FreeNative implements Runnable {
        private final Runnable free;
        private final long bytes;

        FreeNative(Runnable free, long bytes) {
            this.free = free;
            this.bytes = bytes;
        }

        @Override
        public void run() {
            free.run();
            Memory.freed(bytes);
        }
    }
}
