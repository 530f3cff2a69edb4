package org.rnn4j.backend;

import java.lang.ref.Cleaner;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.rnn4j.Device;
import org.rnn4j.Memory;

/**
 * Host (CPU) memory shared by every CPU backend: a direct, native-order, 64-byte aligned buffer,
 * so native kernels can use it in place (aligned for AVX-512) and the reference backend can read
 * it as a {@link FloatBuffer}. Freed explicitly when the last view closes; a {@link Cleaner}
 * frees it if the owner forgot.
 */
public final class HostStorage extends Storage {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final int ALIGN = 64;
    private static final Method INVOKE_CLEANER;
    private static final Object UNSAFE;

    static {
        Object unsafe = null;
        Method invoke = null;
        try {
            Class<?> c = Class.forName("sun.misc.Unsafe");
            java.lang.reflect.Field f = c.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe = f.get(null);
            invoke = c.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // jdk.unsupported missing: memory is returned by the GC instead; the counter stays exact.
        }
        UNSAFE = unsafe;
        INVOKE_CLEANER = invoke;
    }

    private final FloatBuffer data;
    private final Cleaner.Cleanable cleanable;
    private volatile long address;

    public HostStorage(long numel) {
        super(numel, Device.CPU);
        if (numel > (Integer.MAX_VALUE - 2 * ALIGN) / 4) {
            throw new IllegalArgumentException("tensor too large for host storage: " + numel + " floats (max "
                    + (Integer.MAX_VALUE - 2 * ALIGN) / 4 + ")");
        }
        // alignedSlice rounds both ends to ALIGN, so the payload is rounded up to a multiple of
        // ALIGN first; one extra ALIGN covers the shift of the start
        long bytes = (numel * 4L + ALIGN - 1) / ALIGN * ALIGN + ALIGN;
        ByteBuffer raw = ByteBuffer.allocateDirect((int) bytes);
        ByteBuffer aligned = raw.alignedSlice(ALIGN).order(ByteOrder.nativeOrder());
        aligned.limit((int) (numel * 4L));
        this.data = aligned.asFloatBuffer();
        Memory.allocated(bytes);
        this.cleanable = CLEANER.register(this, new Free(raw, bytes));
    }

    /** The floats, as a buffer whose index 0 is element 0 of the storage. */
    public FloatBuffer buffer() {
        return data;
    }

    /** Native address of element 0, once a native backend has resolved it (0 before). */
    public long address() {
        return address;
    }

    /** Lets a native backend cache the address it resolved for {@link #buffer()}. */
    public void cacheAddress(long address) {
        this.address = address;
    }

    @Override
    protected void free() {
        cleanable.clean();
    }

    private static final class Free implements Runnable {
        private ByteBuffer raw;
        private final long bytes;

        Free(ByteBuffer raw, long bytes) {
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
                    // fall back to the GC freeing it
                }
            }
            Memory.freed(bytes);
        }
    }
}
