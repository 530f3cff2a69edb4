package org.rnn4j;

import java.util.Arrays;

/**
 * The one place where element counts are computed from user-given sizes: overflow-checked, and
 * refused as an {@link IllegalArgumentException} that names the caller's argument and its value
 * before anything is allocated (never an {@link OutOfMemoryError} about a Java array, never a
 * message about an internal tensor).
 *
 * <p>The limit is {@link #MAX_NUMEL} elements per tensor: the largest float32 storage the CPU
 * backends can hold (a 64-byte aligned buffer addressed by a Java {@code int} byte count).
 */
public final class Shape {
    /** Most elements one tensor may hold: (2^31 - 1 - 128) / 4 = 536,870,879 floats (just under 2 GiB). */
    public static final long MAX_NUMEL = (Integer.MAX_VALUE - 128) / 4;

    private Shape() {
    }

    /**
     * Checks a shape given by the caller as argument {@code arg} of {@code op}: no negative size,
     * at most {@link #MAX_NUMEL} elements (a shape with a zero size is empty whatever the others).
     *
     * @return the number of elements
     */
    public static long numel(String op, String arg, int... shape) {
        if (shape == null) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' is null");
        }
        boolean empty = false;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException(op + ": argument '" + arg + "' has negative size " + shape[i] + " at dim " + i
                        + ": " + Arrays.toString(shape));
            }
            empty |= shape[i] == 0;
        }
        if (empty) {
            return 0;
        }
        long n = 1;
        for (int s : shape) {
            n = saturatingMultiply(n, s);
        }
        if (n > MAX_NUMEL) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' " + Arrays.toString(shape) + " has "
                    + describe(n) + " elements, more than the " + MAX_NUMEL + " one tensor can hold");
        }
        return n;
    }

    /**
     * Checks that a tensor {@code op} would make from the caller's arguments fits: {@code args}
     * names those arguments and their values (e.g. {@code "input_size=4, hidden_size=1073741824"}),
     * {@code what} describes the tensor in their terms (e.g.
     * {@code "weight_ih_l0 (4*hidden_size, input_size)"}), {@code sizes} are its dimensions
     * computed in {@code long}. Each dimension must be at most 2^31-1 and the product at most
     * {@link #MAX_NUMEL}.
     */
    public static void requireFits(String op, String args, String what, long... sizes) {
        long n = 1;
        for (long s : sizes) {
            if (s < 0 || s > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(op + ": " + args + " is too large: " + what + " would have a dimension of "
                        + describe(s) + ", more than 2^31-1");
            }
            n = saturatingMultiply(n, s);
        }
        for (long s : sizes) {
            if (s == 0) {
                return;
            }
        }
        if (n > MAX_NUMEL) {
            throw new IllegalArgumentException(op + ": " + args + " is too large: " + what + " would have " + describe(n)
                    + " elements, more than the " + MAX_NUMEL + " one tensor can hold");
        }
    }

    /** Throws naming {@code arg} unless {@code value} is finite (not NaN, not infinite). */
    public static double requireFinite(String op, String arg, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' must be a finite number, got " + value);
        }
        return value;
    }

    /** a * b for non-negative values, pinned at Long.MAX_VALUE instead of wrapping. */
    private static long saturatingMultiply(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return hi != 0 || lo < 0 ? Long.MAX_VALUE : lo;
    }

    private static String describe(long n) {
        return n == Long.MAX_VALUE ? "more than 2^63-1" : Long.toString(n);
    }
}
