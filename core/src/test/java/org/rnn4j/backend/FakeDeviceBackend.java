package org.rnn4j.backend;

import org.rnn4j.Device;
import org.rnn4j.Tensor;

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

    private static int[] offsets(Tensor t) {
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
    public void read(Tensor src, float[] dst, int dstOffset) {
        float[] data = ((ArrayStorage) src.storage()).data;
        int[] off = offsets(src);
        for (int i = 0; i < off.length; i++) {
            dst[dstOffset + i] = data[off[i]];
        }
    }

    @Override
    public void write(Tensor out, float[] src, int srcOffset) {
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
    public void copy(Tensor out, Tensor src) {
        throw nope();
    }

    @Override
    public void fill(Tensor out, float value) {
        throw nope();
    }

    @Override
    public void unary(UnaryOp op, Tensor out, Tensor x) {
        throw nope();
    }

    @Override
    public void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        throw nope();
    }

    @Override
    public void binaryScalar(BinaryOp op, Tensor out, Tensor a, float scalar) {
        throw nope();
    }

    @Override
    public void addScaled(Tensor out, Tensor a, Tensor b, float alpha) {
        throw nope();
    }

    @Override
    public void where(Tensor out, Tensor cond, Tensor a, Tensor b) {
        throw nope();
    }

    @Override
    public void reduce(ReduceOp op, Tensor out, Tensor x, int outer, int n, int inner) {
        throw nope();
    }

    @Override
    public void softmax(Tensor out, Tensor x, int outer, int n, int inner, boolean log) {
        throw nope();
    }

    @Override
    public double sumAll(Tensor x) {
        throw nope();
    }

    @Override
    public double sumSquares(Tensor... xs) {
        throw nope();
    }

    @Override
    public void scale(Tensor[] xs, float factor) {
        throw nope();
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Storage a, long offA, int lda,
                     long strideA, Storage b, long offB, int ldb, long strideB, float beta, Storage c, long offC, int ldc,
                     long strideC, int batch) {
        throw nope();
    }

    @Override
    public void indexSelect(Tensor out, Tensor x, int outer, int n, int inner, int[] idx) {
        throw nope();
    }

    @Override
    public void indexAdd(Tensor out, Tensor g, int outer, int n, int inner, int[] idx) {
        throw nope();
    }

    @Override
    public void gather(Tensor out, Tensor x, int outer, int n, int inner, int m, int[] idx) {
        throw nope();
    }

    @Override
    public void scatterAdd(Tensor out, Tensor g, int outer, int n, int inner, int m, int[] idx) {
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
    public void crossEntropy(Tensor lossPerRow, Tensor dlogits, Tensor logits, int[] target, int ignoreIndex,
                             float gradScale) {
        throw nope();
    }

    @Override
    public void optimizerStep(OptimizerStep step, Tensor[] params, Tensor[] grads, Tensor[] state1, Tensor[] state2) {
        throw nope();
    }
}
