package org.rnn4j.it;

import org.rnn4j.Tensor;
import org.rnn4j.backend.CellKind;
import org.rnn4j.backend.RnnBuffer;
import org.rnn4j.backend.RnnLayerArgs;

/**
 * A recurrent layer call held as tensors, for tests that call a backend's rnnForward /
 * rnnBackward directly and read the outputs back: {@link #views} turns them into the SPI's
 * {@link RnnLayerArgs} of (unpinned) views; the test keeps the tensors open.
 */
final class TensorArgs {
    CellKind kind;
    boolean reverse;
    int[] batchSizes;
    int inputSize;
    int hiddenSize;
    int projSize;
    Tensor x, h0, c0, wIh, wHh, bIh, bHh, wHr, y, hN, cN, workspace;
    Tensor dy, dhN, dcN, dx, dh0, dc0, dWIh, dWHh, dBIh, dBHh, dWHr;

    RnnLayerArgs toArgs() {
        RnnLayerArgs a = new RnnLayerArgs();
        a.kind = kind;
        a.reverse = reverse;
        a.batchSizes = batchSizes;
        a.inputSize = inputSize;
        a.hiddenSize = hiddenSize;
        a.projSize = projSize;
        Tensor[] ts = {x, h0, c0, wIh, wHh, bIh, bHh, wHr, y, hN, cN, workspace, dy, dhN, dcN, dx, dh0, dc0, dWIh, dWHh,
            dBIh, dBHh, dWHr};
        RnnBuffer[] bs = {RnnBuffer.X, RnnBuffer.H0, RnnBuffer.C0, RnnBuffer.W_IH, RnnBuffer.W_HH, RnnBuffer.B_IH,
            RnnBuffer.B_HH, RnnBuffer.W_HR, RnnBuffer.Y, RnnBuffer.H_N, RnnBuffer.C_N, RnnBuffer.WS, RnnBuffer.DY,
            RnnBuffer.DH_N, RnnBuffer.DC_N, RnnBuffer.DX, RnnBuffer.DH0, RnnBuffer.DC0, RnnBuffer.DW_IH, RnnBuffer.DW_HH,
            RnnBuffer.DB_IH, RnnBuffer.DB_HH, RnnBuffer.DW_HR};
        for (int i = 0; i < ts.length; i++) {
            a.set(bs[i], Direct.v(ts[i]));
        }
        return a;
    }

    static RnnLayerArgs[] views(TensorArgs... ts) {
        RnnLayerArgs[] out = new RnnLayerArgs[ts.length];
        for (int i = 0; i < ts.length; i++) {
            out[i] = ts[i].toArgs();
        }
        return out;
    }

    int outputSize() {
        return projSize > 0 ? projSize : hiddenSize;
    }

    int batch() {
        return batchSizes[0];
    }

    int rows() {
        int s = 0;
        for (int b : batchSizes) {
            s += b;
        }
        return s;
    }
}
