// rnn4j CUDA kernels: compiled by nvcc into a fatbin (sm_75 ... sm_90 SASS + compute_90 PTX),
// packed as a class path resource and loaded at run time with the driver API
// (cuModuleLoadData / cuLaunchKernel) by org.rnn4j.cuda.CudaBackend.
//
// The recurrent cell math is cell_math.h, the same header the CPU kernels use (RNN4J_HD is
// __host__ __device__ under nvcc); the codes are abi.h's. The code here is indexing only.
// Every kernel is extern "C" so the Java side finds it by its plain name; the build lists the
// fatbin's symbols (cuobjdump -symbols) and a test checks every name CudaBackend launches.
//
// Conventions: n and every element index are 64-bit; 1-D grid-stride loops; pointers are
// already offset to the view's first element; row strides ("ld") are in floats.
#include "common.h"
#include "cell_math.h"

#include <math_constants.h>

using namespace rnn4j;

#define RNN4J_MAXD 8

// One strided view after merging dimensions (CudaBackend.Strided packs the same layout:
// 8 + 8*8 + 4*8 + 4 + 4 = 112 bytes, 8-byte aligned).
struct Strided {
    float* p;
    long long stride[RNN4J_MAXD];
    int shape[RNN4J_MAXD];
    int ndim;
    int pad;
};

// Element offset of row-major linear index i.
__device__ __forceinline__ long long at(const Strided& s, long long i) {
    long long off = 0;
    for (int d = s.ndim - 1; d >= 0; --d) {
        long long sz = s.shape[d];
        long long q = i / sz;
        off += (i - q * sz) * s.stride[d];
        i = q;
    }
    return off;
}

#define GRID_LOOP(i, n) \
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long) blockDim.x * gridDim.x)

// ---- scalar ops: ReferenceBackend.unary / binary, with CUDA's IEEE functions -------------------

__device__ __forceinline__ float unary_f(int op, float x) {
    switch (op) {
        case U_NEG: return -x;
        case U_EXP: return expf(x);
        case U_LOG: return logf(x);
        case U_TANH: return tanhf(x);
        case U_SIGMOID: return 1.0f / (1.0f + expf(-x));
        case U_RELU: return x > 0.0f ? x : 0.0f;  // NaN -> 0, as ReferenceBackend
        case U_SQRT: return sqrtf(x);
        case U_ABS: return fabsf(x);
        case U_SQUARE: return x * x;
        case U_RECIPROCAL: return 1.0f / x;
        case U_SIGN: return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x;  // Math.signum: keeps +-0 and NaN
        case U_STEP: return x > 0.0f ? 1.0f : 0.0f;
        default: return __int_as_float(0x7fc00000);
    }
}

__device__ __forceinline__ float binary_f(int op, float a, float b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_MAX:
            if (a != a || b != b) return __int_as_float(0x7fc00000);
            if (a == b) return signbit(a) ? b : a;  // Math.max(-0, 0) = 0
            return a > b ? a : b;
        case B_MIN:
            if (a != a || b != b) return __int_as_float(0x7fc00000);
            if (a == b) return signbit(a) ? a : b;
            return a < b ? a : b;
        case B_POW: return powf(a, b);
        case B_GT: return a > b ? 1.0f : 0.0f;
        case B_GE: return a >= b ? 1.0f : 0.0f;
        case B_LT: return a < b ? 1.0f : 0.0f;
        case B_LE: return a <= b ? 1.0f : 0.0f;
        case B_EQ: return a == b ? 1.0f : 0.0f;
        case B_RSUB: return b - a;
        case B_RDIV: return b / a;
        default: return __int_as_float(0x7fc00000);
    }
}

// ---- data movement and elementwise (every operand strided) ------------------------------------

extern "C" __global__ void rnn4j_fill(Strided out, float v, long long n) {
    GRID_LOOP(i, n) out.p[at(out, i)] = v;
}

extern "C" __global__ void rnn4j_copy(Strided out, Strided src, long long n) {
    GRID_LOOP(i, n) out.p[at(out, i)] = src.p[at(src, i)];
}

extern "C" __global__ void rnn4j_unary(int op, Strided out, Strided x, long long n) {
    GRID_LOOP(i, n) out.p[at(out, i)] = unary_f(op, x.p[at(x, i)]);
}

extern "C" __global__ void rnn4j_binary(int op, Strided out, Strided a, Strided b, long long n) {
    GRID_LOOP(i, n) out.p[at(out, i)] = binary_f(op, a.p[at(a, i)], b.p[at(b, i)]);
}

extern "C" __global__ void rnn4j_binary_scalar(int op, Strided out, Strided a, float s, long long n) {
    GRID_LOOP(i, n) out.p[at(out, i)] = binary_f(op, a.p[at(a, i)], s);
}

extern "C" __global__ void rnn4j_add_scaled(Strided out, Strided a, Strided b, float alpha, long long n) {
    GRID_LOOP(i, n) out.p[at(out, i)] = a.p[at(a, i)] + alpha * b.p[at(b, i)];
}

extern "C" __global__ void rnn4j_where(Strided out, Strided cond, Strided a, Strided b, long long n) {
    GRID_LOOP(i, n) {
        float c = cond.p[at(cond, i)];
        out.p[at(out, i)] = c != 0.0f ? a.p[at(a, i)] : b.p[at(b, i)];
    }
}

// ---- reductions (contiguous x seen as outer x n x inner; one thread per output) --------------

extern "C" __global__ void rnn4j_reduce(int op, float* out, const float* x, int outer, int n, int inner) {
    long long total = (long long) outer * inner;
    GRID_LOOP(q, total) {
        long long o = q / inner, i = q - o * inner;
        const float* base = x + o * (long long) n * inner + i;
        if (op == R_SUM) {
            double s = 0;
            for (int j = 0; j < n; j++) s += base[(long long) j * inner];
            out[q] = (float) s;
        } else {
            bool is_max = op == R_MAX || op == R_ARGMAX;
            int best = 0;
            float bv = base[0];
            for (int j = 1; j < n && bv == bv; j++) {  // a NaN wins and stops the scan
                float c = base[(long long) j * inner];
                if (c != c || (is_max ? c > bv : c < bv)) {
                    best = j;
                    bv = c;
                }
            }
            out[q] = (op == R_MAX || op == R_MIN) ? bv : (float) best;
        }
    }
}

extern "C" __global__ void rnn4j_softmax(float* out, const float* x, int outer, int n, int inner, int log_) {
    long long total = (long long) outer * inner;
    GRID_LOOP(q, total) {
        long long o = q / inner, i = q - o * inner;
        long long base = o * (long long) n * inner + i;
        double mx = -CUDART_INF;
        for (int j = 0; j < n; j++) mx = fmax(mx, (double) x[base + (long long) j * inner]);
        double s = 0;
        for (int j = 0; j < n; j++) s += exp((double) x[base + (long long) j * inner] - mx);
        double lse = mx + ::log(s);
        for (int j = 0; j < n; j++) {
            long long k = base + (long long) j * inner;
            double v = (double) x[k] - lse;
            out[k] = log_ ? (float) v : (float) exp(v);
        }
    }
}

// acc[0] += sum(x) or sum(x^2), in double: a block reduction, then one atomicAdd per block.
extern "C" __global__ void rnn4j_sum(const float* x, long long n, int squares, double* acc) {
    __shared__ double part[256];
    double s = 0;
    GRID_LOOP(i, n) {
        double v = x[i];
        s += squares ? v * v : v;
    }
    part[threadIdx.x] = s;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(acc, part[0]);
}

extern "C" __global__ void rnn4j_scale(float* x, long long n, float factor) {
    GRID_LOOP(i, n) x[i] *= factor;
}

// ---- indexing (contiguous operands; idx on the device, range-checked by the caller) ------------

extern "C" __global__ void rnn4j_index_select(float* out, const float* x, int outer, int n, int inner,
                                              const int* idx, int m) {
    long long total = (long long) outer * m * inner;
    GRID_LOOP(q, total) {
        long long i = q % inner, r = q / inner, j = r % m, o = r / m;
        out[q] = x[(o * n + idx[j]) * inner + i];
    }
}

// rows may repeat: atomicAdd (the order of the additions is not fixed)
extern "C" __global__ void rnn4j_index_add(float* out, const float* g, int outer, int n, int inner,
                                           const int* idx, int m) {
    long long total = (long long) outer * m * inner;
    GRID_LOOP(q, total) {
        long long i = q % inner, r = q / inner, j = r % m, o = r / m;
        atomicAdd(&out[(o * n + idx[j]) * inner + i], g[q]);
    }
}

extern "C" __global__ void rnn4j_gather(float* out, const float* x, int outer, int n, int inner, int m,
                                        const int* idx) {
    long long total = (long long) outer * m * inner;
    GRID_LOOP(q, total) {
        long long i = q % inner, o = q / inner / m;
        out[q] = x[(o * n + idx[q]) * inner + i];
    }
}

extern "C" __global__ void rnn4j_scatter_add(float* out, const float* g, int outer, int n, int inner, int m,
                                             const int* idx) {
    long long total = (long long) outer * m * inner;
    GRID_LOOP(q, total) {
        long long i = q % inner, o = q / inner / m;
        atomicAdd(&out[(o * n + idx[q]) * inner + i], g[q]);
    }
}

// ---- loss and optimizers ----------------------------------------------------------------------

// One thread per row, double precision as ReferenceBackend.crossEntropy. dlogits may be null.
extern "C" __global__ void rnn4j_cross_entropy(float* loss, float* dlogits, const float* z, const int* target,
                                               int rows, int classes, int ignore, float grad_scale) {
    GRID_LOOP(r, (long long) rows) {
        const float* zr = z + r * classes;
        int t = target[r];
        if (t == ignore) {
            loss[r] = 0.0f;
            if (dlogits) for (int c = 0; c < classes; c++) dlogits[r * classes + c] = 0.0f;
            continue;
        }
        double mx = -CUDART_INF;
        for (int c = 0; c < classes; c++) mx = fmax(mx, (double) zr[c]);
        double s = 0;
        for (int c = 0; c < classes; c++) s += exp((double) zr[c] - mx);
        double lse = mx + ::log(s);
        loss[r] = (float) (lse - zr[t]);
        if (dlogits) {
            for (int c = 0; c < classes; c++) {
                double p = exp((double) zr[c] - lse);
                dlogits[r * classes + c] = (float) ((p - (c == t ? 1.0 : 0.0)) * grad_scale);
            }
        }
    }
}

// OptimizerStep.SGD; buf is null when momentum == 0.
extern "C" __global__ void rnn4j_sgd(float* p, const float* g, float* buf, long long n, float lr, float momentum,
                                     float dampening, int nesterov, float wd, int first) {
    GRID_LOOP(i, n) {
        float gi = g[i] + wd * p[i];
        if (momentum != 0.0f) {
            float b = first ? gi : momentum * buf[i] + (1.0f - dampening) * gi;
            buf[i] = b;
            gi = nesterov ? gi + momentum * b : b;
        }
        p[i] -= lr * gi;
    }
}

// OptimizerStep.ADAM / ADAMW; bc1 = 1 - beta1^t, bc2 = 1 - beta2^t computed on the host in double.
extern "C" __global__ void rnn4j_adam(float* p, const float* g, float* m, float* v, long long n, float lr, float b1,
                                      float b2, float eps, float wd, int adamw, double bc1, double bc2) {
    GRID_LOOP(i, n) {
        float gi = g[i];
        float pi = p[i];
        if (adamw) {
            pi *= 1.0f - lr * wd;
        } else {
            gi += wd * pi;
        }
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        double denom = sqrt((double) vi) / sqrt(bc2) + (double) eps;
        p[i] = pi - (float) ((double) lr / bc1 * (double) mi / denom);
    }
}

// ---- recurrent layers: the per-step pointwise parts (GEMMs are cuBLAS calls) ------------------

// dst[r, c] = src[r, c] for r < rows, c < cols (row strides in floats).
extern "C" __global__ void rnn4j_copy_rows(float* dst, long long ldd, const float* src, long long lds, int rows, int cols) {
    long long total = (long long) rows * cols;
    GRID_LOOP(q, total) {
        long long r = q / cols, c = q - r * cols;
        dst[r * ldd + c] = src[r * lds + c];
    }
}

// Forward pointwise step over bt active rows, one thread per (row b, unit j < H).
//   gx: W_ih x (bt rows, ld GH, no bias); gh: W_hh h_prev (bt x GH dense, no bias); b_ih/b_hh may be null.
//   h: running state (N x R dense), c: cell state (N x H dense, LSTM), updated in place for rows < bt.
//   y: output rows of this step (ld ldy). ws: workspace rows of this step (ld wsr) or null (inference).
//   hpre: with a projection (LSTM, proj > 0), o*tanh(c) goes here (bt x H dense) instead of h/y; the
//   caller then computes h = hpre W_hr^T and copies it into y.
extern "C" __global__ void rnn4j_rnn_fwd_step(int kind, int H, int R, int bt, const float* gx, const float* gh,
                                              const float* b_ih, const float* b_hh, float* h, float* c, float* y,
                                              long long ldy, float* ws, int wsr, float* hpre, int proj) {
    const int GH = cell_gates(kind) * H;
    long long total = (long long) bt * H;
    GRID_LOOP(q, total) {
        long long b = q / H;
        int j = (int) (q - b * H);
        const float* xr = gx + b * GH;
        const float* hr = gh + b * GH;
        float* w = ws ? ws + b * wsr : nullptr;
        if (kind == CELL_RNN_TANH || kind == CELL_RNN_RELU) {
            float pre = xr[j] + hr[j] + (b_ih ? b_ih[j] : 0.0f) + (b_hh ? b_hh[j] : 0.0f);
            float v = kind == CELL_RNN_TANH ? rnn_tanh_forward(pre) : rnn_relu_forward(pre);
            h[b * R + j] = v;
            y[b * ldy + j] = v;
            if (w) w[j] = v;
        } else if (kind == CELL_LSTM) {
            float p4[4];
            for (int k = 0; k < 4; k++) {
                int gj = k * H + j;
                p4[k] = xr[gj] + hr[gj] + (b_ih ? b_ih[gj] : 0.0f) + (b_hh ? b_hh[gj] : 0.0f);
            }
            float i, f, g, o, cn, hn;
            lstm_forward(p4[0], p4[1], p4[2], p4[3], c[b * H + j], i, f, g, o, cn, hn);
            c[b * H + j] = cn;
            if (w) {
                w[j] = i;
                w[H + j] = f;
                w[2 * H + j] = g;
                w[3 * H + j] = o;
                w[4 * H + j] = cn;
                if (proj > 0) w[5 * H + j] = hn;
            }
            if (proj > 0) {
                hpre[b * H + j] = hn;
            } else {
                h[b * R + j] = hn;
                y[b * ldy + j] = hn;
            }
        } else {  // GRU
            float xs[3], hs[3];
            for (int k = 0; k < 3; k++) {
                int gj = k * H + j;
                xs[k] = xr[gj] + (b_ih ? b_ih[gj] : 0.0f);
                hs[k] = hr[gj] + (b_hh ? b_hh[gj] : 0.0f);
            }
            float r, z, nn, hn;
            gru_forward(xs[0], xs[1], xs[2], hs[0], hs[1], hs[2], h[b * R + j], r, z, nn, hn);
            h[b * R + j] = hn;
            y[b * ldy + j] = hn;
            if (w) {
                w[j] = r;
                w[H + j] = z;
                w[2 * H + j] = nn;
                w[3 * H + j] = hs[2];
            }
        }
    }
}

// Backward, before the pointwise step: h_prev rows of this step into hp (bt x R dense): row b
// from the previous step's output (yprev, ld ldy) if b < nprev, else from h0 (ld ldh0). Also
// dh[b] += dy[b] and, with a projection, dhall[b] = dh[b] (bt x R dense, for dW_hr).
extern "C" __global__ void rnn4j_rnn_bwd_prep(int R, int bt, float* hp, const float* yprev, long long ldy, int nprev,
                                              const float* h0, long long ldh0, float* dh, const float* dy,
                                              long long lddy, float* dhall) {
    long long total = (long long) bt * R;
    GRID_LOOP(q, total) {
        long long b = q / R, k = q - b * R;
        hp[q] = b < nprev ? yprev[b * ldy + k] : h0[b * ldh0 + k];
        float d = dh[q] + dy[b * lddy + k];
        dh[q] = d;
        if (dhall) dhall[q] = d;
    }
}

// Backward pointwise step, one thread per (row b, unit j < H).
//   dhin: gradient of this step's (unprojected) output, bt rows, ld ldin (dh itself, or dh W_hr).
//   dh: running state gradient (N x R dense); GRU writes its direct path dh*z here, the caller then
//   adds dgh W_hh (beta 1); the other cells leave it to be overwritten by that GEMM (beta 0).
//   dc: cell gradient (N x H dense, LSTM), replaced by the gradient of c_prev.
//   ws: this step's workspace rows (ld wsr); c_prev (LSTM) is wsprev's c (row b < nprev) or c0.
//   hp: h_prev (bt x R dense, GRU). dgi / dgh: pre-activation gradients (ld GH); dgh only for GRU.
extern "C" __global__ void rnn4j_rnn_bwd_step(int kind, int H, int R, int bt, const float* dhin, int ldin, float* dh,
                                              float* dc, const float* ws, int wsr, const float* wsprev, int nprev,
                                              const float* c0, long long ldc0, const float* hp, float* dgi,
                                              float* dgh) {
    const int GH = cell_gates(kind) * H;
    long long total = (long long) bt * H;
    GRID_LOOP(q, total) {
        long long b = q / H;
        int j = (int) (q - b * H);
        const float* w = ws + b * wsr;
        float d = dhin[b * ldin + j];
        float* gi = dgi + b * GH;
        if (kind == CELL_RNN_TANH || kind == CELL_RNN_RELU) {
            gi[j] = kind == CELL_RNN_TANH ? rnn_tanh_backward(d, w[j]) : rnn_relu_backward(d, w[j]);
        } else if (kind == CELL_LSTM) {
            float cp = b < nprev ? wsprev[b * wsr + 4 * H + j] : c0[b * ldc0 + j];
            float dcv = dc[b * H + j];
            float di, df, dg, dout;
            lstm_backward(d, dcv, w[j], w[H + j], w[2 * H + j], w[3 * H + j], w[4 * H + j], cp, di, df, dg, dout);
            dc[b * H + j] = dcv;
            gi[j] = di;
            gi[H + j] = df;
            gi[2 * H + j] = dg;
            gi[3 * H + j] = dout;
        } else {  // GRU
            float dr, dz, dn, dhn, direct;
            gru_backward(d, w[j], w[H + j], w[2 * H + j], w[3 * H + j], hp[b * R + j], dr, dz, dn, dhn, direct);
            float* gh = dgh + b * GH;
            gi[j] = dr;
            gi[H + j] = dz;
            gi[2 * H + j] = dn;
            gh[j] = dr;
            gh[H + j] = dz;
            gh[2 * H + j] = dhn;
            dh[b * R + j] = direct;
        }
    }
}

// db[c] += sum over rows of m[r, c] (m dense rows x cols), one thread per column, in double.
extern "C" __global__ void rnn4j_col_sum_add(float* db, const float* m, int rows, int cols) {
    GRID_LOOP(c, (long long) cols) {
        double s = 0;
        for (int r = 0; r < rows; r++) s += m[(long long) r * cols + c];
        db[c] += (float) s;
    }
}
