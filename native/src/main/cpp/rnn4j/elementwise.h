// Elementwise kernels over strided N-d views: unary, binary, binary-with-scalar, axpy, where,
// copy, fill.
//
// Every operand is (base pointer, one stride per dim) over the output's shape; broadcast dims
// have stride 0. Dims are collapsed first (size-1 dims dropped, adjacent dims merged where every
// operand's strides allow), so most calls become one contiguous loop or a few rows of one.
// The innermost run is handed to a contiguous (or stride-0 broadcast) loop built for AVX-512 /
// AVX2 / SSE2 and picked per call on the active ISA path (isa.h); anything else takes a scalar
// strided loop.
// No threads here: OpenBLAS owns the cores, and these loops are memory-bound.
#pragma once

#include <cmath>
#include <cstdlib>
#include <vector>

#include "common.h"
#include "isa.h"

namespace rnn4j {

// Op codes: UnaryCode / BinaryCode in abi.h (org.rnn4j.backend.UnaryOp / BinaryOp codes).

template <int OP>
RNN4J_HD_INLINE float unary_op(float x) {
    switch (OP) {
        case U_NEG: return -x;
        case U_EXP: return exp_approx(x);
        case U_LOG: return std::log(x);
        case U_TANH: return tanh_approx(x);
        case U_SIGMOID: return sigmoid_approx(x);
        case U_RELU: return x > 0.0f ? x : 0.0f;
        case U_SQRT: return std::sqrt(x);
        case U_ABS: return std::fabs(x);
        case U_SQUARE: return x * x;
        case U_RECIPROCAL: return 1.0f / x;
        case U_SIGN: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);  // keeps +-0 and NaN, like Math.signum
        default: return x > 0.0f ? 1.0f : 0.0f;                          // U_STEP
    }
}

template <int OP>
RNN4J_HD_INLINE float binary_op(float a, float b) {
    switch (OP) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        // NaN in either operand gives NaN, like PyTorch's maximum/minimum (fmaxf would drop it)
        case B_MAX: return (is_nan(a) || is_nan(b)) ? a + b : (a > b ? a : b);
        case B_MIN: return (is_nan(a) || is_nan(b)) ? a + b : (a < b ? a : b);
        case B_POW: return std::pow(a, b);
        case B_GT: return a > b ? 1.0f : 0.0f;
        case B_GE: return a >= b ? 1.0f : 0.0f;
        case B_LT: return a < b ? 1.0f : 0.0f;
        case B_LE: return a <= b ? 1.0f : 0.0f;
        case B_EQ: return a == b ? 1.0f : 0.0f;
        case B_RSUB: return b - a;
        default: return b / a;                                           // B_RDIV
    }
}

// ---- contiguous inner loops (vectorised) ---------------------------------------------------

template <int OP>
RNN4J_INLINE void unary_run(float* o, const float* x, i64 n) {
    for (i64 i = 0; i < n; i++) o[i] = unary_op<OP>(x[i]);
}

// o (n) = op(x (n)), both contiguous
template <int ISA>
static RNN4J_INLINE void unary_contig_body(int op, float* o, const float* x, i64 n) {
    switch (op) {
        case U_NEG: unary_run<U_NEG>(o, x, n); break;
        case U_EXP: unary_run<U_EXP>(o, x, n); break;
        case U_LOG: unary_run<U_LOG>(o, x, n); break;
        case U_TANH: unary_run<U_TANH>(o, x, n); break;
        case U_SIGMOID: unary_run<U_SIGMOID>(o, x, n); break;
        case U_RELU: unary_run<U_RELU>(o, x, n); break;
        case U_SQRT: unary_run<U_SQRT>(o, x, n); break;
        case U_ABS: unary_run<U_ABS>(o, x, n); break;
        case U_SQUARE: unary_run<U_SQUARE>(o, x, n); break;
        case U_RECIPROCAL: unary_run<U_RECIPROCAL>(o, x, n); break;
        case U_SIGN: unary_run<U_SIGN>(o, x, n); break;
        default: unary_run<U_STEP>(o, x, n); break;
    }
}
RNN4J_ISA_DISPATCH(void, unary_contig, (int op, float* o, const float* x, i64 n), (op, o, x, n))

// sa, sb in {0, 1}: 1 = contiguous run, 0 = one broadcast value
template <int OP>
RNN4J_INLINE void binary_run(float* o, const float* a, i64 sa, const float* b, i64 sb, i64 n) {
    if (sa == 1 && sb == 1) {
        for (i64 i = 0; i < n; i++) o[i] = binary_op<OP>(a[i], b[i]);
    } else if (sa == 1) {
        const float bv = b[0];
        for (i64 i = 0; i < n; i++) o[i] = binary_op<OP>(a[i], bv);
    } else if (sb == 1) {
        const float av = a[0];
        for (i64 i = 0; i < n; i++) o[i] = binary_op<OP>(av, b[i]);
    } else {
        const float v = binary_op<OP>(a[0], b[0]);
        for (i64 i = 0; i < n; i++) o[i] = v;
    }
}

template <int ISA>
static RNN4J_INLINE void binary_contig_body(int op, float* o, const float* a, i64 sa, const float* b, i64 sb, i64 n) {
    switch (op) {
        case B_ADD: binary_run<B_ADD>(o, a, sa, b, sb, n); break;
        case B_SUB: binary_run<B_SUB>(o, a, sa, b, sb, n); break;
        case B_MUL: binary_run<B_MUL>(o, a, sa, b, sb, n); break;
        case B_DIV: binary_run<B_DIV>(o, a, sa, b, sb, n); break;
        case B_MAX: binary_run<B_MAX>(o, a, sa, b, sb, n); break;
        case B_MIN: binary_run<B_MIN>(o, a, sa, b, sb, n); break;
        case B_POW: binary_run<B_POW>(o, a, sa, b, sb, n); break;
        case B_GT: binary_run<B_GT>(o, a, sa, b, sb, n); break;
        case B_GE: binary_run<B_GE>(o, a, sa, b, sb, n); break;
        case B_LT: binary_run<B_LT>(o, a, sa, b, sb, n); break;
        case B_LE: binary_run<B_LE>(o, a, sa, b, sb, n); break;
        case B_EQ: binary_run<B_EQ>(o, a, sa, b, sb, n); break;
        case B_RSUB: binary_run<B_RSUB>(o, a, sa, b, sb, n); break;
        default: binary_run<B_RDIV>(o, a, sa, b, sb, n); break;
    }
}
RNN4J_ISA_DISPATCH(void, binary_contig, (int op, float* o, const float* a, i64 sa, const float* b, i64 sb, i64 n),
                   (op, o, a, sa, b, sb, n))

// o = a + alpha * b; sa, sb in {0, 1}
template <int ISA>
static RNN4J_INLINE void axpy_contig_body(float* o, const float* a, i64 sa, const float* b, i64 sb, float alpha, i64 n) {
    if (sa == 1 && sb == 1) {
        for (i64 i = 0; i < n; i++) o[i] = a[i] + alpha * b[i];
    } else {
        for (i64 i = 0; i < n; i++) o[i] = a[i * sa] + alpha * b[i * sb];
    }
}
RNN4J_ISA_DISPATCH(void, axpy_contig, (float* o, const float* a, i64 sa, const float* b, i64 sb, float alpha, i64 n),
                   (o, a, sa, b, sb, alpha, n))

// o = c != 0 ? a : b; all strides in {0, 1}
template <int ISA>
static RNN4J_INLINE void where_contig_body(float* o, const float* c, i64 sc, const float* a, i64 sa, const float* b,
                                           i64 sb, i64 n) {
    if (sc == 1 && sa == 1 && sb == 1) {
        for (i64 i = 0; i < n; i++) o[i] = c[i] != 0.0f ? a[i] : b[i];
    } else {
        for (i64 i = 0; i < n; i++) o[i] = c[i * sc] != 0.0f ? a[i * sa] : b[i * sb];
    }
}
RNN4J_ISA_DISPATCH(void, where_contig,
                   (float* o, const float* c, i64 sc, const float* a, i64 sa, const float* b, i64 sb, i64 n),
                   (o, c, sc, a, sa, b, sb, n))

// ---- strided N-d walk ---------------------------------------------------------------------

// A shape walked by several operands (operand 0 = out). strides[k][d] in elements.
struct Walk {
    int nops;
    std::vector<i64> shape;
    std::vector<i64> strides[5];
    i64 numel;

    // shape (ndim); strides (nops * ndim), operand-major, as the Java side packs them
    Walk(int nops_, int ndim, const int* shape_, const int* strides_) : nops(nops_), numel(1) {
        for (int d = 0; d < ndim; d++) numel *= shape_[d];
        for (int d = 0; d < ndim; d++) {
            if (shape_[d] == 1) continue;          // size-1 dims move nothing
            shape.push_back(shape_[d]);
            for (int k = 0; k < nops; k++) strides[k].push_back(strides_[k * ndim + d]);
        }
        // merge dim d into the dim before it when every operand steps through both as one run
        std::size_t w = 0;
        for (std::size_t d = 1; d < shape.size(); d++) {
            bool merge = true;
            for (int k = 0; k < nops; k++) merge &= strides[k][w] == strides[k][d] * shape[d];
            if (merge) {
                shape[w] *= shape[d];
                for (int k = 0; k < nops; k++) strides[k][w] = strides[k][d];
            } else {
                w++;
                shape[w] = shape[d];
                for (int k = 0; k < nops; k++) strides[k][w] = strides[k][d];
            }
        }
        if (!shape.empty()) {
            shape.resize(w + 1);
            for (int k = 0; k < nops; k++) strides[k].resize(w + 1);
        }
    }

    int ndim() const { return (int) shape.size(); }
    i64 inner() const { return shape.empty() ? 1 : shape.back(); }
    i64 inner_stride(int k) const { return shape.empty() ? 0 : strides[k].back(); }

    // Calls f(offsets) once per inner run, offsets[k] = element offset of operand k's run.
    template <class F>
    void each_run(F f) const {
        if (numel == 0) return;
        int outer_dims = ndim() - 1;
        i64 off[5] = {0, 0, 0, 0, 0};
        if (outer_dims <= 0) {
            f(off);
            return;
        }
        std::vector<i64> counter(outer_dims, 0);
        i64 runs = numel / inner();
        for (i64 r = 0; r < runs; r++) {
            f(off);
            for (int d = outer_dims - 1; d >= 0; d--) {
                if (++counter[d] < shape[d]) {
                    for (int k = 0; k < nops; k++) off[k] += strides[k][d];
                    break;
                }
                for (int k = 0; k < nops; k++) off[k] -= strides[k][d] * (shape[d] - 1);
                counter[d] = 0;
            }
        }
    }
};

inline bool unit_or_zero(i64 s) { return s == 0 || s == 1; }

// out = op(x)
inline void unary(int op, int ndim, const int* shape, const int* strides, float* out, const float* x) {
    Walk w(2, ndim, shape, strides);
    const i64 n = w.inner(), so = w.inner_stride(0), sx = w.inner_stride(1);
    w.each_run([&](const i64* off) {
        float* o = out + off[0];
        const float* xi = x + off[1];
        if (so == 1 && sx == 1) {
            unary_contig(op, o, xi, n);
        } else {
            switch (op) {
                case U_NEG: for (i64 i = 0; i < n; i++) o[i * so] = unary_op<U_NEG>(xi[i * sx]); break;
                case U_EXP: for (i64 i = 0; i < n; i++) o[i * so] = unary_op<U_EXP>(xi[i * sx]); break;
                case U_LOG: for (i64 i = 0; i < n; i++) o[i * so] = unary_op<U_LOG>(xi[i * sx]); break;
                case U_TANH: for (i64 i = 0; i < n; i++) o[i * so] = unary_op<U_TANH>(xi[i * sx]); break;
                case U_SIGMOID: for (i64 i = 0; i < n; i++) o[i * so] = unary_op<U_SIGMOID>(xi[i * sx]); break;
                case U_RELU: for (i64 i = 0; i < n; i++) o[i * so] = unary_op<U_RELU>(xi[i * sx]); break;
                case U_SQRT: for (i64 i = 0; i < n; i++) o[i * so] = unary_op<U_SQRT>(xi[i * sx]); break;
                case U_ABS: for (i64 i = 0; i < n; i++) o[i * so] = unary_op<U_ABS>(xi[i * sx]); break;
                case U_SQUARE: for (i64 i = 0; i < n; i++) o[i * so] = unary_op<U_SQUARE>(xi[i * sx]); break;
                case U_RECIPROCAL: for (i64 i = 0; i < n; i++) o[i * so] = unary_op<U_RECIPROCAL>(xi[i * sx]); break;
                case U_SIGN: for (i64 i = 0; i < n; i++) o[i * so] = unary_op<U_SIGN>(xi[i * sx]); break;
                default: for (i64 i = 0; i < n; i++) o[i * so] = unary_op<U_STEP>(xi[i * sx]); break;
            }
        }
    });
}

template <int OP>
inline void binary_strided(float* o, i64 so, const float* a, i64 sa, const float* b, i64 sb, i64 n) {
    for (i64 i = 0; i < n; i++) o[i * so] = binary_op<OP>(a[i * sa], b[i * sb]);
}

inline void binary_strided_any(int op, float* o, i64 so, const float* a, i64 sa, const float* b, i64 sb, i64 n) {
    switch (op) {
        case B_ADD: binary_strided<B_ADD>(o, so, a, sa, b, sb, n); break;
        case B_SUB: binary_strided<B_SUB>(o, so, a, sa, b, sb, n); break;
        case B_MUL: binary_strided<B_MUL>(o, so, a, sa, b, sb, n); break;
        case B_DIV: binary_strided<B_DIV>(o, so, a, sa, b, sb, n); break;
        case B_MAX: binary_strided<B_MAX>(o, so, a, sa, b, sb, n); break;
        case B_MIN: binary_strided<B_MIN>(o, so, a, sa, b, sb, n); break;
        case B_POW: binary_strided<B_POW>(o, so, a, sa, b, sb, n); break;
        case B_GT: binary_strided<B_GT>(o, so, a, sa, b, sb, n); break;
        case B_GE: binary_strided<B_GE>(o, so, a, sa, b, sb, n); break;
        case B_LT: binary_strided<B_LT>(o, so, a, sa, b, sb, n); break;
        case B_LE: binary_strided<B_LE>(o, so, a, sa, b, sb, n); break;
        case B_EQ: binary_strided<B_EQ>(o, so, a, sa, b, sb, n); break;
        case B_RSUB: binary_strided<B_RSUB>(o, so, a, sa, b, sb, n); break;
        default: binary_strided<B_RDIV>(o, so, a, sa, b, sb, n); break;
    }
}

// out = op(a, b); b == nullptr means b is the scalar `scalar` (binaryScalar)
inline void binary(int op, int ndim, const int* shape, const int* strides, float* out, const float* a,
                   const float* b, float scalar) {
    if (b == nullptr) {
        // the scalar is one more operand with stride 0 everywhere
        std::vector<int> st(3 * (std::size_t) ndim, 0);
        for (int i = 0; i < 2 * ndim; i++) st[i] = strides[i];
        Walk w(3, ndim, shape, st.data());
        const i64 n = w.inner(), so = w.inner_stride(0), sa = w.inner_stride(1);
        w.each_run([&](const i64* off) {
            if (so == 1 && unit_or_zero(sa)) binary_contig(op, out + off[0], a + off[1], sa, &scalar, 0, n);
            else binary_strided_any(op, out + off[0], so, a + off[1], sa, &scalar, 0, n);
        });
        return;
    }
    Walk w(3, ndim, shape, strides);
    const i64 n = w.inner(), so = w.inner_stride(0), sa = w.inner_stride(1), sb = w.inner_stride(2);
    w.each_run([&](const i64* off) {
        if (so == 1 && unit_or_zero(sa) && unit_or_zero(sb)) binary_contig(op, out + off[0], a + off[1], sa, b + off[2], sb, n);
        else binary_strided_any(op, out + off[0], so, a + off[1], sa, b + off[2], sb, n);
    });
}

// out = a + alpha * b
inline void add_scaled(int ndim, const int* shape, const int* strides, float* out, const float* a, const float* b,
                       float alpha) {
    Walk w(3, ndim, shape, strides);
    const i64 n = w.inner(), so = w.inner_stride(0), sa = w.inner_stride(1), sb = w.inner_stride(2);
    w.each_run([&](const i64* off) {
        float* o = out + off[0];
        const float* ai = a + off[1];
        const float* bi = b + off[2];
        if (so == 1 && unit_or_zero(sa) && unit_or_zero(sb)) axpy_contig(o, ai, sa, bi, sb, alpha, n);
        else for (i64 i = 0; i < n; i++) o[i * so] = ai[i * sa] + alpha * bi[i * sb];
    });
}

// out = cond != 0 ? a : b
inline void where(int ndim, const int* shape, const int* strides, float* out, const float* cond, const float* a,
                  const float* b) {
    Walk w(4, ndim, shape, strides);
    const i64 n = w.inner(), so = w.inner_stride(0), sc = w.inner_stride(1), sa = w.inner_stride(2),
              sb = w.inner_stride(3);
    w.each_run([&](const i64* off) {
        float* o = out + off[0];
        const float* ci = cond + off[1];
        const float* ai = a + off[2];
        const float* bi = b + off[3];
        if (so == 1 && unit_or_zero(sc) && unit_or_zero(sa) && unit_or_zero(sb)) where_contig(o, ci, sc, ai, sa, bi, sb, n);
        else for (i64 i = 0; i < n; i++) o[i * so] = ci[i * sc] != 0.0f ? ai[i * sa] : bi[i * sb];
    });
}

// Strided gather/scatter between a view and a dense row-major buffer.
inline void view_to_dense(const Walk& w, int k, const float* src, float* dense) {
    const i64 n = w.inner(), s = w.inner_stride(k);
    i64 pos = 0;
    w.each_run([&](const i64* off) {
        const float* p = src + off[k];
        if (s == 1) std::memcpy(dense + pos, p, (std::size_t) n * sizeof(float));
        else for (i64 i = 0; i < n; i++) dense[pos + i] = p[i * s];
        pos += n;
    });
}

// out (a view) = src (a view of the same shape). `overlap` != 0 when both views share storage
// without being the same view: src is then read fully into a temporary before out is written.
inline int copy(int ndim, const int* shape, const int* strides, float* out, const float* src, int overlap) {
    Walk w(2, ndim, shape, strides);
    const i64 n = w.inner(), so = w.inner_stride(0), ss = w.inner_stride(1);
    if (overlap) {
        float* tmp = (float*) std::malloc((std::size_t) w.numel * sizeof(float) + 1);
        if (tmp == nullptr) return -1;
        view_to_dense(w, 1, src, tmp);
        i64 pos = 0;
        w.each_run([&](const i64* off) {
            float* o = out + off[0];
            if (so == 1) std::memcpy(o, tmp + pos, (std::size_t) n * sizeof(float));
            else for (i64 i = 0; i < n; i++) o[i * so] = tmp[pos + i];
            pos += n;
        });
        std::free(tmp);
        return 0;
    }
    w.each_run([&](const i64* off) {
        float* o = out + off[0];
        const float* s = src + off[1];
        if (so == 1 && ss == 1) std::memcpy(o, s, (std::size_t) n * sizeof(float));
        else if (so == 1 && ss == 0) { const float v = s[0]; for (i64 i = 0; i < n; i++) o[i] = v; }
        else for (i64 i = 0; i < n; i++) o[i * so] = s[i * ss];
    });
    return 0;
}

// out (a view) = value
inline void fill(int ndim, const int* shape, const int* strides, float* out, float value) {
    Walk w(1, ndim, shape, strides);
    const i64 n = w.inner(), so = w.inner_stride(0);
    w.each_run([&](const i64* off) {
        float* o = out + off[0];
        if (so == 1) for (i64 i = 0; i < n; i++) o[i] = value;
        else for (i64 i = 0; i < n; i++) o[i * so] = value;
    });
}

// dense (numel) = the view's elements in row-major order (Backend.read)
inline void read(int ndim, const int* shape, const int* strides, const float* src, float* dense) {
    Walk w(1, ndim, shape, strides);
    view_to_dense(w, 0, src, dense);
}

// the view = dense (numel) in row-major order (Backend.write)
inline void write(int ndim, const int* shape, const int* strides, float* out, const float* dense) {
    Walk w(1, ndim, shape, strides);
    const i64 n = w.inner(), so = w.inner_stride(0);
    i64 pos = 0;
    w.each_run([&](const i64* off) {
        float* o = out + off[0];
        if (so == 1) std::memcpy(o, dense + pos, (std::size_t) n * sizeof(float));
        else for (i64 i = 0; i < n; i++) o[i * so] = dense[pos + i];
        pos += n;
    });
}

}  // namespace rnn4j
