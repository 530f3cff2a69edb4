package org.rnn4j;

import static org.rnn4j.Shapes.checkShape;
import static org.rnn4j.Shapes.contiguousStrides;
import static org.rnn4j.Shapes.numel;

import java.util.Arrays;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;

/** New tensors: zeros, ones, full, arange, from host arrays, random. The public entry is {@link Tensor}. */
final class Creation {
    private Creation() {
    }

    static Tensor zeros(Device device, int... shape) {
        int[] s = checkShape("zeros", shape);
        Backend be = Backends.forDevice(device);
        return new Tensor(be.allocate(numel(s)), 0, s, contiguousStrides(s));
    }

    static Tensor zeros(int... shape) {
        return zeros(Device.CPU, shape);
    }

    static Tensor ones(int... shape) {
        return full(1f, shape);
    }

    static Tensor full(float value, int... shape) {
        Tensor t = zeros(shape);
        if (value != 0f) {
            Kernels.fill(t, value);
        }
        return t;
    }

    static Tensor zerosLike(Tensor self) {
        return zeros(self.device(), self.shapeRef());
    }

    static Tensor arange(int n) {
        if (n < 0 || n > Shape.MAX_NUMEL) {
            throw new IllegalArgumentException("arange: argument 'n' must be in [0, " + Shape.MAX_NUMEL + "], got " + n);
        }
        return arange(0, n, 1);
    }

    static Tensor arange(float start, float end, float step) {
        Shape.requireFinite("arange", "start", start);
        Shape.requireFinite("arange", "end", end);
        Shape.requireFinite("arange", "step", step);
        if (step == 0) {
            throw new IllegalArgumentException("arange: argument 'step' must be non-zero, got " + step);
        }
        if ((step > 0 && end < start) || (step < 0 && end > start)) {
            throw new IllegalArgumentException("arange: argument 'step' " + step + " has the wrong sign for the range "
                    + start + " -> " + end + " (upper bound and larger bound inconsistent with step sign)");
        }
        double count = Math.ceil(((double) end - start) / step);
        if (count > Shape.MAX_NUMEL) {
            throw new IllegalArgumentException("arange: arguments start=" + start + ", end=" + end + ", step=" + step
                    + " give " + (long) count + " elements, more than the " + Shape.MAX_NUMEL + " one tensor can hold");
        }
        int n = (int) Math.max(0, count);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = start + i * step;
        }
        return fromArray(v, n);
    }

    static Tensor fromArray(float[] data, int... shape) {
        int[] s = checkShape("fromArray", shape);
        if (numel(s) != data.length) {
            throw new IllegalArgumentException("fromArray: argument 'data' has " + data.length
                    + " elements, expected " + numel(s) + " for shape " + Arrays.toString(s));
        }
        Tensor t = zeros(s);
        Kernels.write(t, data, 0);
        return t;
    }

    static Tensor of(float... data) {
        return fromArray(data, data.length);
    }

    static Tensor of(float[][] data) {
        int rows = data.length;
        int cols = rows == 0 ? 0 : requireRow(data[0], "data[0]").length;
        float[] flat = new float[Math.toIntExact(Shape.numel("of", "data", rows, cols))];
        for (int i = 0; i < rows; i++) {
            if (requireRow(data[i], "data[" + i + "]").length != cols) {
                throw new IllegalArgumentException("of: ragged array, row " + i + " has " + data[i].length
                        + " elements, expected " + cols);
            }
            System.arraycopy(data[i], 0, flat, i * cols, cols);
        }
        return fromArray(flat, rows, cols);
    }

    static Tensor of(float[][][] data) {
        int a = data.length;
        int b = a == 0 ? 0 : requireRow(data[0], "data[0]").length;
        int c = b == 0 ? 0 : requireRow(data[0][0], "data[0][0]").length;
        float[] flat = new float[Math.toIntExact(Shape.numel("of", "data", a, b, c))];
        for (int i = 0; i < a; i++) {
            if (requireRow(data[i], "data[" + i + "]").length != b) {
                throw new IllegalArgumentException("of: ragged array at [" + i + "]: " + data[i].length + " rows, expected " + b);
            }
            for (int j = 0; j < b; j++) {
                if (requireRow(data[i][j], "data[" + i + "][" + j + "]").length != c) {
                    throw new IllegalArgumentException("of: ragged array at [" + i + "][" + j + "]: "
                            + data[i][j].length + " elements, expected " + c);
                }
                System.arraycopy(data[i][j], 0, flat, (i * b + j) * c, c);
            }
        }
        return fromArray(flat, a, b, c);
    }

    private static <T> T requireRow(T row, String name) {
        if (row == null) {
            throw new IllegalArgumentException("of: argument 'data' has a null row at " + name);
        }
        return row;
    }

    static Tensor scalar(float value) {
        return fromArray(new float[] {value});
    }

    static Tensor rand(Generator gen, int... shape) {
        checkShape("rand", shape);
        return uniform(gen, 0f, 1f, shape);
    }

    static Tensor uniform(Generator gen, float lo, float hi, int... shape) {
        Shape.requireFinite("uniform", "lo", lo);
        Shape.requireFinite("uniform", "hi", hi);
        if (lo > hi) {
            throw new IllegalArgumentException("uniform: argument 'lo' " + lo + " must not be above 'hi' " + hi);
        }
        int[] s = checkShape("uniform", shape);
        float[] v = new float[Math.toIntExact(numel(s))];
        gen.uniform(v, lo, hi);
        return fromArray(v, s);
    }

    static Tensor randn(Generator gen, int... shape) {
        int[] s = checkShape("randn", shape);
        float[] v = new float[Math.toIntExact(numel(s))];
        gen.normal(v, 0f, 1f);
        return fromArray(v, s);
    }
}
