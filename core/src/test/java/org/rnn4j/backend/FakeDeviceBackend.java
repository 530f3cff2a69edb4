package org.rnn4j.backend;

import org.rnn4j.Device;

/**
 * A test-only backend for a second device (cuda:0 in name only): it can allocate, read and
 * write, nothing else, so that tests can build tensors on two devices and check that mixing
 * them is refused before any kernel runs. Every compute method throws.
 */
public final class FakeDeviceBackend implements Backend {
    public static final Device DEVICE = Device.cuda(0);

    private static final class ArrayStorage extends Storage {
        final float[] data;

        ArrayStorage(long numel) {
            super(numel, DEVICE);
            data = new float[(int) numel];
        }

        @Override
        protected void free() {
        }
    }

    @Override
    public String name() {
        return "fake-device";
    }

    @Override
    public Device device() {
        return DEVICE;
    }

    @Override
    public int priority() {
        return -1;
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public Storage allocate(long numel) {
        return new ArrayStorage(numel);
    }

    private static int[] offsets(View t) {
        int[] shape = t.shape();
        int[] strides = t.strides();
        int n = (int) t.numel();
        int[] out = new int[n];
        int[] idx = new int[shape.length];
        for (int i = 0; i < n; i++) {
            long off = t.offset();
            for (int d = 0; d < shape.length; d++) {
                off += (long) idx[d] * strides[d];
            }
            out[i] = (int) off;
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out;
    }

    @Override
    public void read(View src, float[] dst, int dstOffset) {
        float[] data = ((ArrayStorage) src.storage()).data;
        int[] off = offsets(src);
        for (int i = 0; i < off.length; i++) {
            dst[dstOffset + i] = data[off[i]];
        }
    }

    @Override
    public void write(View out, float[] src, int srcOffset) {
        float[] data = ((ArrayStorage) out.storage()).data;
        int[] off = offsets(out);
        for (int i = 0; i < off.length; i++) {
            data[off[i]] = src[srcOffset + i];
        }
    }

    private static UnsupportedOperationException nope() {
        return new UnsupportedOperationException("fake device: no kernels (a test reached a kernel with mixed devices)");
    }

    @Override
    public void copy(View out, View src) {
        throw nope();
    }

    @Override
    public void fill(View out, float value) {
        throw nope();
    }

    @Override
    public void unary(UnaryOp op, View out, View x) {
        throw nope();
    }

    @Override
    public void binary(BinaryOp op, View out, View a, View b) {
        throw nope();
    }

    @Override
    public void binaryScalar(BinaryOp op, View out, View a, float scalar) {
        throw nope();
    }

    @Override
    public void addScaled(View out, View a, View b, float alpha) {
        throw nope();
    }

    @Override
    public void where(View out, View cond, View a, View b) {
        throw nope();
    }

    @Override
    public void reduce(ReduceOp op, View out, View x, int outer, int n, int inner) {
        throw nope();
    }

    @Override
    public void softmax(View out, View x, int outer, int n, int inner, boolean log) {
        throw nope();
    }

    @Override
    public double sumAll(View x) {
        throw nope();
    }

    @Override
    public double sumSquares(View... xs) {
        throw nope();
    }

    @Override
    public void scale(View[] xs, float factor) {
        throw nope();
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, View a, int lda,
                     long strideA, View b, int ldb, long strideB, float beta, View c, int ldc,
                     long strideC, int batch) {
        throw nope();
    }

    @Override
    public void indexSelect(View out, View x, int outer, int n, int inner, int[] idx) {
        throw nope();
    }

    @Override
    public void indexAdd(View out, View g, int outer, int n, int inner, int[] idx) {
        throw nope();
    }

    @Override
    public void gather(View out, View x, int outer, int n, int inner, int m, int[] idx) {
        throw nope();
    }

    @Override
    public void scatterAdd(View out, View g, int outer, int n, int inner, int m, int[] idx) {
        throw nope();
    }

    @Override
    public void rnnForward(RnnLayerArgs... directions) {
        throw nope();
    }

    @Override
    public void rnnBackward(RnnLayerArgs... directions) {
        throw nope();
    }

    @Override
    public void crossEntropy(View lossPerRow, View dlogits, View logits, int[] target, int ignoreIndex,
                             float gradScale) {
        throw nope();
    }

    @Override
    public void optimizerStep(OptimizerStep step, View[] params, View[] grads, View[] state1, View[] state2) {
        throw nope();
    }
}
