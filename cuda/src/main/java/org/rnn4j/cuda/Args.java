package org.rnn4j.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A kernel's argument block for cuLaunchKernel's {@code kernelParams}: the values packed, each
 * at its natural alignment, into one direct buffer, and beside it the address of each value.
 * The driver copies the values at launch, so one instance is reused for every launch (under the
 * backend's lock). Pure Java, so the layout is unit-tested without a GPU.
 */
final class Args {
    static final int MAXD = 8;
    /** sizeof(Strided) in rnn4j_kernels.cu: pointer, 8 strides, 8 sizes, ndim, pad. */
    static final int STRIDED_BYTES = 8 + 8 * MAXD + 4 * MAXD + 4 + 4;

    final ByteBuffer values = ByteBuffer.allocateDirect(4096).order(ByteOrder.nativeOrder());
    /** Offsets of the values, in order. */
    final int[] offsets = new int[32];
    int count;
    private int pos;

    Args reset() {
        count = 0;
        pos = 0;
        return this;
    }

    private int slot(int size, int align) {
        pos = (pos + align - 1) / align * align;
        if (pos + size > values.capacity() || count == offsets.length) {
            throw new IllegalStateException("cuda: kernel argument block overflow");
        }
        offsets[count++] = pos;
        int at = pos;
        pos += size;
        return at;
    }

    Args i32(int v) {
        values.putInt(slot(4, 4), v);
        return this;
    }

    Args bool(boolean v) {
        return i32(v ? 1 : 0);
    }

    Args i64(long v) {
        values.putLong(slot(8, 8), v);
        return this;
    }

    Args f32(float v) {
        values.putFloat(slot(4, 4), v);
        return this;
    }

    Args f64(double v) {
        values.putDouble(slot(8, 8), v);
        return this;
    }

    /** A device pointer (0 = null). */
    Args ptr(long address) {
        return i64(address);
    }

    /** A strided view as the kernels' {@code struct Strided}, passed by value. */
    Args strided(Strided s) {
        int at = slot(STRIDED_BYTES, 8);
        values.putLong(at, s.address);
        for (int d = 0; d < MAXD; d++) {
            values.putLong(at + 8 + 8 * d, d < s.ndim ? s.strides[d] : 0L);
            values.putInt(at + 8 + 8 * MAXD + 4 * d, d < s.ndim ? s.shape[d] : 1);
        }
        values.putInt(at + 8 + 12 * MAXD, s.ndim);
        values.putInt(at + 8 + 12 * MAXD + 4, 0);
        return this;
    }

    @Override
    public String toString() {
        return "Args" + Arrays.toString(Arrays.copyOf(offsets, count));
    }
}
