// Pointwise recurrent cell math, written once: the C++ CPU kernels (rnn_layer.h) and the CUDA
// kernels both include this header, so the GPU math is the CPU-tested math and the CUDA code is
// only indexing and launching. Everything is an inline function of scalars, so a loop over the
// hidden units around it vectorises (no calls, no branches beyond selects).
//
// Legend: H hidden size; j in [0, H) is the unit inside one gate block. "pre" values are
// pre-activation sums (W_ih x + b_ih + W_hh h + b_hh, or the two halves where a cell needs them
// apart). Gate orders are PyTorch's: LSTM i, f, g, o; GRU r, z, n.
//
// Accuracy: the activations are common.h's exp_approx / tanh_approx / sigmoid_approx (Cephes
// polynomials, no libm calls, so the loops vectorise without -ffast-math); relative error below
// 3e-7, measured by native/src/test/cpp/cell_math_test.cpp against double precision.
#ifndef RNN4J_CELL_MATH_H
#define RNN4J_CELL_MATH_H

#include "common.h"

namespace rnn4j {

// Cell kinds: CellCode in abi.h (org.rnn4j.backend.CellKind's codes).

RNN4J_HD_INLINE int cell_gates(int kind) {
    return kind == CELL_LSTM ? 4 : kind == CELL_GRU ? 3 : 1;
}

// Floats per packed row of the saved-activation workspace, as CellKind.workspaceRow:
// RNN h (H); LSTM i,f,g,o (4H), c (H), with projection also o*tanh(c) (H); GRU r,z,n, W_hn h + b_hn (4H).
RNN4J_HD_INLINE int cell_workspace_row(int kind, int hidden, int proj) {
    return kind == CELL_LSTM ? 5 * hidden + (proj > 0 ? hidden : 0) : kind == CELL_GRU ? 4 * hidden : hidden;
}

// ---- forward, one hidden unit -------------------------------------------------------------

RNN4J_HD_INLINE float rnn_tanh_forward(float pre) {
    return tanh_approx(pre);
}

// relu keeps NaN as NaN, like torch.relu and Java's Math.max.
RNN4J_HD_INLINE float rnn_relu_forward(float pre) {
    return pre < 0.0f ? 0.0f : pre;
}

// pi, pf, pg, po: full pre-activation sums of the four gates; c_prev the cell state.
// Outputs the activated gates, the new cell state c and h = o * tanh(c) (before any projection).
// The CPU kernels run it in two passes (the gates' activations, then lstm_cell / lstm_hidden)
// with the same arithmetic; see rnn_forward.h.
RNN4J_HD_INLINE float lstm_cell(float i, float f, float g, float c_prev) {
    return f * c_prev + i * g;
}
RNN4J_HD_INLINE float lstm_hidden(float o, float c) {
    return o * tanh_approx(c);
}
RNN4J_HD_INLINE void lstm_forward(float pi, float pf, float pg, float po, float c_prev,
                                  float& i, float& f, float& g, float& o, float& c, float& h) {
    i = sigmoid_approx(pi);
    f = sigmoid_approx(pf);
    g = tanh_approx(pg);
    o = sigmoid_approx(po);
    c = lstm_cell(i, f, g, c_prev);
    h = lstm_hidden(o, c);
}

// xr, xz, xn: input-side sums (W_i* x + b_i*); hr, hz, hn: hidden-side sums (W_h* h + b_h*),
// apart because n = tanh(xn + r * hn). h_prev is the previous state of this unit.
// Two passes on the CPU as well: r and z, then gru_candidate / gru_hidden.
RNN4J_HD_INLINE float gru_candidate(float xn, float r, float hn) {
    return tanh_approx(xn + r * hn);
}
RNN4J_HD_INLINE float gru_hidden(float z, float n, float h_prev) {
    return (1.0f - z) * n + z * h_prev;
}
RNN4J_HD_INLINE void gru_forward(float xr, float xz, float xn, float hr, float hz, float hn, float h_prev,
                                 float& r, float& z, float& n, float& h) {
    r = sigmoid_approx(xr + hr);
    z = sigmoid_approx(xz + hz);
    n = gru_candidate(xn, r, hn);
    h = gru_hidden(z, n, h_prev);
}

// ---- backward, one hidden unit -------------------------------------------------------------
// dh is the gradient of this step's output state (of o*tanh(c) for LSTM, before projection).

// d(pre) from the saved output h.
RNN4J_HD_INLINE float rnn_tanh_backward(float dh, float h) {
    return dh * (1.0f - h * h);
}

RNN4J_HD_INLINE float rnn_relu_backward(float dh, float h) {
    return h > 0.0f ? dh : 0.0f;
}

// Saved i, f, g, o, c (this step) and c_prev; dc is the incoming gradient of c (from the next
// step), replaced by the gradient of c_prev. Outputs the pre-activation gradients of the gates
// (the same on the input and hidden sides).
RNN4J_HD_INLINE void lstm_backward(float dh, float& dc, float i, float f, float g, float o, float c, float c_prev,
                                   float& di, float& df, float& dg, float& dout) {
    float tc = tanh_approx(c);
    float dcv = dc + dh * o * (1.0f - tc * tc);
    di = dcv * g * i * (1.0f - i);
    df = dcv * c_prev * f * (1.0f - f);
    dg = dcv * i * (1.0f - g * g);
    dout = dh * tc * o * (1.0f - o);
    dc = dcv * f;
}

// Saved r, z, n and hn = W_hn h + b_hn; h_prev the previous state. Outputs the input-side
// gradients (dr, dz, dn), the hidden-side gradient of the n block (dhn = dn * r; the r and z
// blocks are the same on both sides) and the direct path to the previous state (dh * z).
RNN4J_HD_INLINE void gru_backward(float dh, float r, float z, float n, float hn, float h_prev,
                                  float& dr, float& dz, float& dn, float& dhn, float& dh_prev_direct) {
    dn = dh * (1.0f - z) * (1.0f - n * n);
    dz = dh * (h_prev - n) * z * (1.0f - z);
    dr = dn * hn * r * (1.0f - r);
    dhn = dn * r;
    dh_prev_direct = dh * z;
}

}  // namespace rnn4j

#endif
