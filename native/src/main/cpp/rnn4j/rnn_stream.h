// Streaming inference: a frozen unidirectional stack (+ optional linear head) packed once into
// weight panels, stepped for many independent streams per call with BATCH-INVARIANT arithmetic.
//
// Why a kernel of its own: the layer forward (rnn_forward.h) picks its GEMM by batch size (the
// small-M kernel, the panels, or OpenBLAS, whose blocking and threading depend on M) and splits
// units across the step worker, so a row's bits depend on the rows beside it. Here every product
// is panels_gemm (gemm_panels.h): per output one multiply-add chain over k = 0..K-1 in order,
// whatever the row block, MR tail or M, so row b's result depends on row b only. The pointwise
// cell math is cell_math.h's, per row, elementwise. One code path for every batch size and
// chunk length; the path (ISA) is fixed when the model is packed, so a later isa_set does not
// change a packed model's bits.
//
// Legend: L layers, I input, H hidden, P projection (LSTM, 0 = none), R = P or H, G gates,
// GH = G*H, O output per step (head out, or R), SF state floats per stream (per layer h (R) and
// for LSTM c (H)), B rows (streams) of a call, T steps of a call.
//
// A call runs layer by layer, each layer's time loop step by step and each step in chunks of
// streams (the chunk's input and hidden products, then its cells); since rows are independent
// and the chains fixed, a call with T > 1 equals T one-step calls bit for bit, and a row's bits
// do not depend on the chunk it falls in.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "cell_math.h"
#include "gemm_panels.h"
#include "rnn_abi.h"

namespace rnn4j {

struct StreamLayer {
    int K;                      // input width: I for layer 0, else R
    const Panel* ih = nullptr;  // W_ih^T panels (K deep), GH columns
    int nih = 0;
    const Panel* hh = nullptr;  // W_hh^T panels (R deep)
    int nhh = 0;
    const Panel* hr = nullptr;  // W_hr^T panels (H deep), P columns (LSTM with projection)
    int nhr = 0;
    const float* bih = nullptr;  // (GH), zeros when bias=False
    const float* bhh = nullptr;
};

struct StreamModel {
    int isa, kind, I, H, P, R, G, GH, L, O, headOut, SF, perLayer;
    StreamLayer* layers = nullptr;
    const Panel* head = nullptr;  // head W^T panels (R deep), O columns
    int nhead = 0;
    const float* headB = nullptr;  // (O), zeros when absent
    Panel* panels = nullptr;
    float* mem = nullptr;
};

// dims: kind, I, H, P, L, headOut. w: all weights; offs (5L + 2) float offsets into w, -1 =
// absent: per layer w_ih (GH, K), w_hh (GH, R), b_ih (GH), b_hh (GH), w_hr (P, H); then head W
// (O, R), head b (O). Returns the model handle, 0 when out of memory.
inline std::intptr_t stream_model_create(const int* dims, const float* w, const long long* offs) {
    const int isa = isa_active();
    const int pw = panel_width(isa);
    StreamModel* m = new (std::nothrow) StreamModel();
    if (!m) return 0;
    m->isa = isa;
    m->kind = dims[0], m->I = dims[1], m->H = dims[2], m->P = dims[3], m->L = dims[4], m->headOut = dims[5];
    m->R = m->P > 0 ? m->P : m->H;
    m->G = cell_gates(m->kind);
    m->GH = m->G * m->H;
    m->O = m->headOut > 0 ? m->headOut : m->R;
    m->perLayer = m->R + (m->kind == CELL_LSTM ? m->H : 0);
    m->SF = m->L * m->perLayer;
    const int L = m->L, G = m->G, H = m->H, R = m->R, P = m->P, GH = m->GH;
    auto up = [](size_t n) { return (n + 15) / 16 * 16; };
    // count panels and floats
    const int nIh = make_panels(pw, G, H, 0, H, 0, nullptr, 0, nullptr, nullptr);
    const int nHr = P > 0 ? make_panels(pw, 1, P, 0, P, 0, nullptr, 0, nullptr, nullptr) : 0;
    const int nHead = m->headOut > 0 ? make_panels(pw, 1, m->O, 0, m->O, 0, nullptr, 0, nullptr, nullptr) : 0;
    size_t floats = 0, npan = 0;
    for (int l = 0; l < L; l++) {
        const int K = l == 0 ? m->I : R;
        floats += up((size_t)nIh * K * pw) + up((size_t)nIh * R * pw) + 2 * up(GH) + up((size_t)nHr * H * pw);
        npan += 2 * nIh + nHr;
    }
    floats += up((size_t)nHead * R * pw) + up(m->O);
    npan += nHead;
    m->layers = new (std::nothrow) StreamLayer[L];
    m->panels = new (std::nothrow) Panel[npan > 0 ? npan : 1];
    void* p = nullptr;
    if (!m->layers || !m->panels || posix_memalign(&p, 64, floats * sizeof(float)) != 0) {
        delete[] m->layers;
        delete[] m->panels;
        delete m;
        return 0;
    }
    m->mem = static_cast<float*>(p);
    std::memset(m->mem, 0, floats * sizeof(float));
    float* f = m->mem;
    Panel* pan = m->panels;
    for (int l = 0; l < L; l++) {
        StreamLayer& s = m->layers[l];
        const long long* o = offs + 5 * l;
        s.K = l == 0 ? m->I : R;
        s.ih = pan, s.nih = nIh;
        make_panels(pw, G, H, 0, H, s.K, w + o[0], s.K, pan, f);
        pan += nIh, f += up((size_t)nIh * s.K * pw);
        s.hh = pan, s.nhh = nIh;
        make_panels(pw, G, H, 0, H, R, w + o[1], R, pan, f);
        pan += nIh, f += up((size_t)nIh * R * pw);
        if (o[2] >= 0) std::memcpy(f, w + o[2], sizeof(float) * GH);
        s.bih = f, f += up(GH);
        if (o[3] >= 0) std::memcpy(f, w + o[3], sizeof(float) * GH);
        s.bhh = f, f += up(GH);
        if (P > 0) {
            s.hr = pan, s.nhr = nHr;
            make_panels(pw, 1, P, 0, P, H, w + o[4], H, pan, f);
            pan += nHr, f += up((size_t)nHr * H * pw);
        }
    }
    if (m->headOut > 0) {
        const long long* o = offs + 5 * L;
        m->head = pan, m->nhead = nHead;
        make_panels(pw, 1, m->O, 0, m->O, R, w + o[0], R, pan, f);
        pan += nHead, f += up((size_t)nHead * R * pw);
        if (o[1] >= 0) std::memcpy(f, w + o[1], sizeof(float) * m->O);
        m->headB = f, f += up(m->O);
    }
    return (std::intptr_t)m;
}

inline void stream_model_free(std::intptr_t h) {
    StreamModel* m = reinterpret_cast<StreamModel*>(h);
    if (!m) return;
    std::free(m->mem);
    delete[] m->layers;
    delete[] m->panels;
    delete m;
}

// The ISA path a model was packed for (an Isa code).
inline int stream_model_isa(std::intptr_t h) { return reinterpret_cast<StreamModel*>(h)->isa; }

// Per-thread scratch, grown on demand, 64-byte aligned.
struct StreamScratch {
    float* p = nullptr;
    size_t cap = 0;
    ~StreamScratch() { std::free(p); }
    float* get(size_t floats) {
        if (floats > cap) {
            void* q = nullptr;
            if (posix_memalign(&q, 64, floats * sizeof(float)) != 0) return nullptr;
            std::free(p);
            p = static_cast<float*>(q);
            cap = floats;
        }
        return p;
    }
};

// ---- the stream GEMM: panels_gemm's arithmetic, more chains in flight for few rows -----------
//
// C[:, panel columns] (M, .) = A (M, K) times the panels, like panels_gemm_body (MR-row blocks on
// panel_block), except that the rows left after the MR blocks (fewer than MR: a lone stream,
// a small batch, its tail) go NP panels at a time, so a single row has 2*NP independent
// multiply-add chains instead of panel_block's 2 (one row on one panel is FMA-latency bound).
// Every output is still ONE chain c += b[k] * a[k] over k = 0..K-1 in order, started from zero:
// bit for bit panel_block's result, whatever the row count, the row's place or NP.
template <int ISA, int R, int NP>
static RNN4J_INLINE void stream_multi_panel(int K, const float* A, long lda, const Panel* pan, float* C, long ldc) {
    typedef typename Simd<ISA>::V V;
    constexpr int L = Simd<ISA>::L, PW = 2 * L;
    V c0[NP][R], c1[NP][R];
    const float* a[R];
    const float* bp[NP];
#pragma GCC unroll 16
    for (int r = 0; r < R; r++) a[r] = A + (long)r * lda;
#pragma GCC unroll 16
    for (int p = 0; p < NP; p++) {
        bp[p] = pan[p].data;
#pragma GCC unroll 16
        for (int r = 0; r < R; r++) {
            c0[p][r] = V{};
            c1[p][r] = V{};
        }
    }
    for (int k = 0; k < K; k++) {
        float x[R];
#pragma GCC unroll 16
        for (int r = 0; r < R; r++) x[r] = a[r][k];
#pragma GCC unroll 16
        for (int p = 0; p < NP; p++) {
            const V b0 = *reinterpret_cast<const V*>(bp[p] + (long)k * PW);
            const V b1 = *reinterpret_cast<const V*>(bp[p] + (long)k * PW + L);
#pragma GCC unroll 16
            for (int r = 0; r < R; r++) {
                c0[p][r] += b0 * x[r];
                c1[p][r] += b1 * x[r];
            }
        }
    }
#pragma GCC unroll 16
    for (int p = 0; p < NP; p++) {
        const int width = pan[p].width;
#pragma GCC unroll 16
        for (int r = 0; r < R; r++) {
            float* c = C + (long)r * ldc + pan[p].col;
            if (width == PW) {
                storeu(c, c0[p][r]);
                storeu(c + L, c1[p][r]);
            } else {
                alignas(64) float t[PW];
                *reinterpret_cast<V*>(t) = c0[p][r];
                *reinterpret_cast<V*>(t + L) = c1[p][r];
                for (int q = 0; q < width; q++) c[q] = t[q];
            }
        }
    }
}

// R rows (R < MR) over all panels, NP at a time, the last ones one by one.
template <int ISA, int R>
static RNN4J_INLINE void stream_tail_rows(int K, const float* A, long lda, const Panel* pan, int npan, float* C, long ldc) {
    // 2*R*NP accumulators plus the panel vectors and broadcasts within the path's registers
    constexpr int regs = ISA == ISA_AVX512 ? 32 : 16;
    constexpr int fit = (regs - 4) / (2 * R);
    constexpr int NP = fit < 1 ? 1 : fit > 4 ? 4 : fit;
    int q = 0;
    for (; q + NP <= npan; q += NP) stream_multi_panel<ISA, R, NP>(K, A, lda, pan + q, C, ldc);
    for (; q < npan; q++) stream_multi_panel<ISA, R, 1>(K, A, lda, pan + q, C, ldc);
}

template <int ISA, int R>
static RNN4J_INLINE void stream_tail(int rows, int K, const float* A, long lda, const Panel* pan, int npan, float* C,
                                     long ldc) {
    if constexpr (R > 0) {
        if (rows == R) stream_tail_rows<ISA, R>(K, A, lda, pan, npan, C, ldc);
        else stream_tail<ISA, R - 1>(rows, K, A, lda, pan, npan, C, ldc);
    }
}

template <int ISA>
static RNN4J_INLINE void stream_gemm(int M, int K, const float* A, long lda, const Panel* pan, int npan, float* C,
                                     long ldc) {
    constexpr int MR = Tile<ISA>::MR;
    const int full = M / MR * MR;
    if (full > 0) panels_gemm_body<ISA>(full, K, A, lda, pan, npan, C, ldc, false);
    stream_tail<ISA, MR - 1>(M - full, K, A + (long)full * lda, lda, pan, npan, C + (long)full * ldc, ldc);
}

// One stream row's cell at one step: gi, gh (GH) the two products without bias; hc the row's
// state of this layer (h (R), then c (H) for LSTM) updated in place; y (R) the layer output of
// this row and step; hpre (H) o*tanh(c) for LSTM with projection (h and y then come from the
// projection); pre (GH, or 2*GH for GRU) aligned scratch. Elementwise only, the same sums in the
// same order as rnn_forward.h's pointwise step: ((gi + b_ih) + gh) + b_hh.
template <int ISA>
static RNN4J_INLINE void stream_cell_row(const StreamModel& m, const StreamLayer& s, const float* __restrict gi,
                                         const float* __restrict gh, float* hc, float* __restrict y,
                                         float* __restrict hpre, float* __restrict pre) {
    const int H = m.H, GH = m.GH;
    const float* __restrict bih = s.bih;
    const float* __restrict bhh = s.bhh;
    switch (m.kind) {
        case CELL_RNN_TANH:
        case CELL_RNN_RELU: {
            for (int j = 0; j < H; j++) pre[j] = gi[j] + bih[j] + gh[j] + bhh[j];
            float* __restrict h = hc;
            if (m.kind == CELL_RNN_TANH)
                for (int j = 0; j < H; j++) h[j] = rnn_tanh_forward(pre[j]);
            else
                for (int j = 0; j < H; j++) h[j] = rnn_relu_forward(pre[j]);
            std::memcpy(y, h, sizeof(float) * H);
            break;
        }
        case CELL_LSTM: {
            for (int j = 0; j < GH; j++) pre[j] = gi[j] + bih[j] + gh[j] + bhh[j];
            float* __restrict c = hc + m.R;
            float* __restrict out = m.P > 0 ? hpre : hc;
            // lstm_forward in passes, as rnn_forward.h's lstm_units: the activations in place
            // (i and f are one block), then c and h
            for (int j = 0; j < 2 * H; j++) pre[j] = sigmoid_approx(pre[j]);
            for (int j = 2 * H; j < 3 * H; j++) pre[j] = tanh_approx(pre[j]);
            for (int j = 3 * H; j < GH; j++) pre[j] = sigmoid_approx(pre[j]);
            for (int j = 0; j < H; j++) {
                const float cn = lstm_cell(pre[j], pre[H + j], pre[2 * H + j], c[j]);
                c[j] = cn;
                out[j] = lstm_hidden(pre[3 * H + j], cn);
            }
            if (m.P == 0) std::memcpy(y, hc, sizeof(float) * H);
            break;
        }
        case CELL_GRU: {
            float* __restrict xa = pre;
            float* __restrict ha = pre + GH;
            for (int j = 0; j < GH; j++) xa[j] = gi[j] + bih[j];
            for (int j = 0; j < GH; j++) ha[j] = gh[j] + bhh[j];
            float* h = hc;  // read h_prev[j], then write h[j]: same element, so no restrict
            // gru_forward in two passes (rnn_forward.h's gru_units): r and z into xa, then n, h
            for (int j = 0; j < 2 * H; j++) xa[j] = sigmoid_approx(xa[j] + ha[j]);
            for (int j = 0; j < H; j++)
                h[j] = gru_hidden(xa[H + j], gru_candidate(xa[2 * H + j], xa[j], ha[2 * H + j]), h[j]);
            std::memcpy(y, h, sizeof(float) * H);
            break;
        }
        default: break;
    }
}

// Streams per chunk of a step: every product and cell of a step runs chunk by chunk, so a
// chunk's hidden products (CHUNK x GH) are still in L2 when its cells read them and its state
// rows are read once per panel from L2. A multiple of every path's MR (8, 6, 4).
// Measured with the whole batch as one block (1,000 streams of an LSTM with I = 128, H = 256),
// each panel re-read all 1,000 state rows (1 MB) from L3 and the cells read 4 MB of products
// written a moment before, also from L3.
static constexpr int STREAM_CHUNK = 96;

// x (B, T, I), state (B, SF) in place, out (B, allSteps ? T : 1, O). Returns an RnnStatus code
// (0 ok, 1 out of memory). Rows are independent and each output one fixed chain, so running a
// step chunk by chunk gives every row the bits of a call with that row alone.
template <int ISA>
static RNN4J_INLINE int stream_steps_body(const StreamModel& m, int B, int T, const float* x, float* state, float* out,
                                          int allSteps) {
    static thread_local StreamScratch tls;
    const int H = m.H, P = m.P, R = m.R, GH = m.GH, SF = m.SF, O = m.O;
    const size_t BT = (size_t)B * T;
    const int CB = B < STREAM_CHUNK ? B : STREAM_CHUNK;  // rows of the biggest chunk
    auto up = [](size_t n) { return (n + 15) / 16 * 16; };
    const size_t need = 2 * up(BT * R) + 2 * up((size_t)CB * GH) + up((size_t)CB * H) + up((size_t)CB * R) +
                        up(2 * (size_t)GH);
    float* base = tls.get(need);
    if (!base) return RNN_OUT_OF_MEMORY;
    float* seq[2] = {base, base + up(BT * R)};  // (B*T, R) layer outputs, ping-pong, row b*T + t
    float* gi = seq[1] + up(BT * R);            // (CB, GH) input products of one chunk and step
    float* gh = gi + up((size_t)CB * GH);       // (CB, GH) hidden products of one chunk and step
    float* hpre = gh + up((size_t)CB * GH);     // (CB, H) o*tanh(c) before the projection
    float* hproj = hpre + up((size_t)CB * H);   // (CB, R) projected h
    float* pre = hproj + up((size_t)CB * R);    // (2*GH) one row's pre-activations
    for (int l = 0; l < m.L; l++) {
        const StreamLayer& s = m.layers[l];
        const float* in = l == 0 ? x : seq[(l - 1) & 1];  // (B*T, K), row b*T + t
        float* y = seq[l & 1];
        float* st = state + (long)l * m.perLayer;  // row b's layer state at st + b * SF
        for (int t = 0; t < T; t++) {
            for (int b0 = 0; b0 < B; b0 += CB) {
                const int nb = B - b0 < CB ? B - b0 : CB;
                // the chunk's rows: state at sc + b * SF, input and output of step t a row apart
                // by T rows of the (B*T, .) layouts
                float* sc = st + (long)b0 * SF;
                const float* xc = in + ((long)b0 * T + t) * s.K;
                float* yc = y + ((long)b0 * T + t) * R;
                const long ldy = (long)T * R;
                stream_gemm<ISA>(nb, s.K, xc, (long)T * s.K, s.ih, s.nih, gi, GH);
                stream_gemm<ISA>(nb, R, sc, SF, s.hh, s.nhh, gh, GH);
                for (int b = 0; b < nb; b++)
                    stream_cell_row<ISA>(m, s, gi + (long)b * GH, gh + (long)b * GH, sc + (long)b * SF, yc + b * ldy,
                                         hpre + (long)b * H, pre);
                if (P > 0) {
                    stream_gemm<ISA>(nb, H, hpre, H, s.hr, s.nhr, hproj, R);
                    for (int b = 0; b < nb; b++) {
                        std::memcpy(sc + (long)b * SF, hproj + (long)b * R, sizeof(float) * R);
                        std::memcpy(yc + b * ldy, hproj + (long)b * R, sizeof(float) * R);
                    }
                }
            }
        }
    }
    const float* last = seq[(m.L - 1) & 1];  // (B*T, R)
    // rows of the output: every (b, t), or (b, T-1) only
    const int rows = allSteps ? (int)BT : B;
    const float* a = allSteps ? last : last + (long)(T - 1) * R;
    const long lda = allSteps ? R : (long)T * R;
    if (m.headOut > 0) {
        stream_gemm<ISA>(rows, R, a, lda, m.head, m.nhead, out, O);
        const float* __restrict hb = m.headB;
        for (int r = 0; r < rows; r++) {
            float* __restrict o = out + (long)r * O;
            for (int j = 0; j < O; j++) o[j] = o[j] + hb[j];
        }
    } else {
        for (int r = 0; r < rows; r++) std::memcpy(out + (long)r * O, a + r * lda, sizeof(float) * O);
    }
    return RNN_OK;
}
RNN4J_ISA_DISPATCH_AT(int, stream_steps,
                      (const StreamModel& m, int B, int T, const float* x, float* state, float* out, int allSteps),
                      (m, B, T, x, state, out, allSteps))

inline int stream_model_run(std::intptr_t h, int rows, int steps, const float* x, float* state, float* out,
                            int allSteps) {
    const StreamModel& m = *reinterpret_cast<const StreamModel*>(h);
    return stream_steps(m.isa, m, rows, steps, x, state, out, allSteps);
}

}  // namespace rnn4j
