// rnn_layer.h against a naive per-row reference (a C++ port of ReferenceRnn, double
// accumulation) on seeded random shapes: every cell kind, LSTM with and without projection,
// forward / reverse / both at once, padded and packed, bias and no bias, row-strided y/dy/x.
// Built by hand (see README.md in this folder). The Java NativeRnnParityTest is the real gate;
// this catches kernel bugs without the JNI build.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "rnn4j/rnn_layer.h"

using namespace rnn4j;
using V = std::vector<float>;

static double sig(double x) { return 1 / (1 + std::exp(-x)); }

struct Case {
    int kind, reverse, I, H, P, T;
    std::vector<int> bs;
    bool bias;
};

// Naive forward/backward on contiguous buffers; same equations and order as ReferenceRnn.
struct Ref {
    const Case& c;
    int N, S, R, G, W;
    std::vector<int> off;
    Ref(const Case& cs) : c(cs) {
        N = c.bs[0];
        S = 0;
        for (int b : c.bs) { off.push_back(S); S += b; }
        R = c.P > 0 ? c.P : c.H;
        G = cell_gates(c.kind);
        W = cell_workspace_row(c.kind, c.H, c.P);
    }
    void matvec(const V& w, int rows, int cols, const float* v, const float* bias, std::vector<double>& out) {
        for (int j = 0; j < rows; j++) {
            double s = bias ? bias[j] : 0;
            for (int q = 0; q < cols; q++) s += (double)w[j * cols + q] * v[q];
            out[j] = s;
        }
    }
    void forward(const V& x, const V& h0, const V& c0, const V& wih, const V& whh, const V& bih, const V& bhh,
                 const V& whr, V& y, V& hn, V& cn, V& ws) {
        int H = c.H, GH = G * H;
        V h = h0, cc = c0;
        y.assign(S * R, 0); ws.assign(S * W, 0);
        std::vector<double> gi(GH), gh(GH), proj(std::max(c.P, 1));
        V hNew(R), hPre(H);
        for (int s = 0; s < c.T; s++) {
            int t = c.reverse ? c.T - 1 - s : s;
            for (int b = 0; b < c.bs[t]; b++) {
                int row = off[t] + b;
                matvec(wih, GH, c.I, &x[row * c.I], c.bias ? bih.data() : nullptr, gi);
                matvec(whh, GH, R, &h[b * R], c.bias ? bhh.data() : nullptr, gh);
                float* w = &ws[row * W];
                if (c.kind <= CELL_RNN_RELU) {
                    for (int j = 0; j < H; j++) {
                        double pre = gi[j] + gh[j];
                        hNew[j] = w[j] = c.kind == CELL_RNN_TANH ? (float)std::tanh(pre) : (float)std::max(pre, 0.0);
                    }
                } else if (c.kind == CELL_LSTM) {
                    for (int j = 0; j < H; j++) {
                        float ig = sig(gi[j] + gh[j]), fg = sig(gi[H + j] + gh[H + j]);
                        float gg = std::tanh(gi[2 * H + j] + gh[2 * H + j]), og = sig(gi[3 * H + j] + gh[3 * H + j]);
                        float cNew = fg * cc[b * H + j] + ig * gg;
                        cc[b * H + j] = cNew;
                        hPre[j] = og * (float)std::tanh(cNew);
                        w[j] = ig; w[H + j] = fg; w[2 * H + j] = gg; w[3 * H + j] = og; w[4 * H + j] = cNew;
                    }
                    if (c.P > 0) {
                        for (int j = 0; j < H; j++) w[5 * H + j] = hPre[j];
                        matvec(whr, c.P, H, hPre.data(), nullptr, proj);
                        for (int j = 0; j < R; j++) hNew[j] = proj[j];
                    } else {
                        hNew = hPre;
                    }
                } else {
                    for (int j = 0; j < H; j++) {
                        float rg = sig(gi[j] + gh[j]), zg = sig(gi[H + j] + gh[H + j]);
                        float hnv = gh[2 * H + j];
                        float ng = std::tanh(gi[2 * H + j] + rg * gh[2 * H + j]);
                        hNew[j] = (1 - zg) * ng + zg * h[b * R + j];
                        w[j] = rg; w[H + j] = zg; w[2 * H + j] = ng; w[3 * H + j] = hnv;
                    }
                }
                for (int j = 0; j < R; j++) h[b * R + j] = y[row * R + j] = hNew[j];
            }
        }
        hn = h; cn = cc;
    }
    void backward(const V& x, const V& h0, const V& c0, const V& wih, const V& whh, const V& whr, const V& y,
                  const V& ws, const V& dy, const V& dhN, const V& dcN, V& dx, V& dh0, V& dc0, V& dwih, V& dwhh,
                  V& dbih, V& dbhh, V& dwhr) {
        int H = c.H, GH = G * H, I = c.I, P = c.P;
        std::vector<double> dh(dhN.begin(), dhN.end()), dc(dcN.begin(), dcN.end());
        std::vector<double> ddx(S * I), dWih(GH * I), dWhh(GH * R), dBih(GH), dBhh(GH), dWhr(std::max(P, 0) * H);
        std::vector<double> dgi(GH), dgh(GH), dhPre(H);
        V hPrev(R);
        for (int s = c.T - 1; s >= 0; s--) {
            int t = c.reverse ? c.T - 1 - s : s;
            int prevT = c.reverse ? t + 1 : t - 1;
            bool hasPrev = prevT >= 0 && prevT < c.T;
            for (int b = 0; b < c.bs[t]; b++) {
                int row = off[t] + b;
                bool fromPrev = hasPrev && b < c.bs[prevT];
                int prevRow = fromPrev ? off[prevT] + b : -1;
                for (int j = 0; j < R; j++) {
                    hPrev[j] = fromPrev ? y[prevRow * R + j] : h0[b * R + j];
                    dh[b * R + j] += dy[row * R + j];
                }
                const float* w = &ws[row * W];
                if (c.kind <= CELL_RNN_RELU) {
                    for (int j = 0; j < H; j++) {
                        double hv = w[j];
                        double d = c.kind == CELL_RNN_TANH ? dh[b * R + j] * (1 - hv * hv) : (hv > 0 ? dh[b * R + j] : 0);
                        dgi[j] = dgh[j] = d;
                    }
                } else if (c.kind == CELL_LSTM) {
                    if (P > 0) {
                        for (int k = 0; k < H; k++) {
                            double s2 = 0;
                            for (int j = 0; j < P; j++) {
                                s2 += dh[b * R + j] * whr[j * H + k];
                                dWhr[j * H + k] += dh[b * R + j] * w[5 * H + k];
                            }
                            dhPre[k] = s2;
                        }
                    } else {
                        for (int k = 0; k < H; k++) dhPre[k] = dh[b * R + k];
                    }
                    for (int j = 0; j < H; j++) {
                        double ig = w[j], fg = w[H + j], gg = w[2 * H + j], og = w[3 * H + j], cv = w[4 * H + j];
                        double cPrev = fromPrev ? ws[prevRow * W + 4 * H + j] : c0[b * H + j];
                        double tc = std::tanh(cv);
                        double dcv = dc[b * H + j] + dhPre[j] * og * (1 - tc * tc);
                        dgi[j] = dcv * gg * ig * (1 - ig);
                        dgi[H + j] = dcv * cPrev * fg * (1 - fg);
                        dgi[2 * H + j] = dcv * ig * (1 - gg * gg);
                        dgi[3 * H + j] = dhPre[j] * tc * og * (1 - og);
                        dc[b * H + j] = dcv * fg;
                    }
                    dgh = dgi;
                } else {
                    for (int j = 0; j < H; j++) {
                        double rg = w[j], zg = w[H + j], ng = w[2 * H + j], hn = w[3 * H + j], d = dh[b * R + j];
                        double dn = d * (1 - zg) * (1 - ng * ng);
                        double dz = d * (hPrev[j] - ng) * zg * (1 - zg);
                        double dr = dn * hn * rg * (1 - rg);
                        dgi[j] = dgh[j] = dr;
                        dgi[H + j] = dgh[H + j] = dz;
                        dgi[2 * H + j] = dn;
                        dgh[2 * H + j] = dn * rg;
                    }
                }
                for (int k = 0; k < R; k++) {
                    double s2 = c.kind == CELL_GRU ? dh[b * R + k] * w[H + k] : 0;
                    for (int j = 0; j < GH; j++) s2 += dgh[j] * whh[j * R + k];
                    dh[b * R + k] = s2;
                }
                for (int j = 0; j < GH; j++) {
                    dBih[j] += dgi[j];
                    dBhh[j] += dgh[j];
                    for (int k = 0; k < I; k++) {
                        dWih[j * I + k] += dgi[j] * x[row * I + k];
                        ddx[row * I + k] += dgi[j] * wih[j * I + k];
                    }
                    for (int k = 0; k < R; k++) dWhh[j * R + k] += dgh[j] * hPrev[k];
                }
            }
        }
        auto acc = [](V& out, const std::vector<double>& d) { for (size_t i = 0; i < out.size(); i++) out[i] += (float)d[i]; };
        acc(dx, ddx); acc(dwih, dWih); acc(dwhh, dWhh); acc(dbih, dBih); acc(dbhh, dBhh);
        if (P > 0) acc(dwhr, dWhr);
        dh0.assign(dh.begin(), dh.end());
        dc0.assign(dc.begin(), dc.end());
    }
};

static int failures = 0;

// |a - e| <= atol + rtol |e| over rows x cols; a has row stride lda, e is contiguous
static void check(const char* what, const Case& c, const float* a, long lda, const V& e, int rows, int cols,
                  double tol) {
    double worst = 0;
    int wi = -1;
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < cols; q++) {
            double ex = e[(long)r * cols + q], ac = a[(long)r * lda + q];
            double excess = std::fabs(ac - ex) - (tol + tol * std::fabs(ex));
            if (!(excess <= 0) && (wi < 0 || excess > worst)) { worst = excess; wi = r * cols + q; }
        }
    if (wi >= 0) {
        failures++;
        std::printf("FAIL %s kind=%d rev=%d I=%d H=%d P=%d T=%d N=%d bias=%d: at %d actual %.8g expected %.8g\n", what,
                    c.kind, c.reverse, c.I, c.H, c.P, c.T, c.bs[0], c.bias, wi, a[(wi / cols) * lda + wi % cols],
                    e[wi]);
    }
}

int main() {
    std::mt19937 rng(1234);
    auto uni = [&](float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); };
    auto randv = [&](size_t n, float s) { V v(n); for (auto& f : v) f = uni(-s, s); return v; };
    int cases = 0;
    for (int iter = 0; iter < 160; iter++) {
        const int kind = iter % 4;
        const int ndirs = (iter / 4) % 3 == 2 ? 2 : 1;  // third of the cases run both directions in one call
        Case cs[2];
        int T = 1 + rng() % 7, N = 1 + rng() % 5, I = 1 + rng() % 21, H = 1 + rng() % 19;
        int P = (kind == CELL_LSTM && rng() % 2) ? 1 + rng() % H : 0;
        bool packed = rng() % 2, bias = rng() % 3 != 0;
        std::vector<int> bs(T, N);
        if (packed) {
            for (int t = 1; t < T; t++) bs[t] = 1 + rng() % bs[t - 1];
        }
        for (int k = 0; k < ndirs; k++) cs[k] = Case{kind, ndirs == 2 ? k : (int)(rng() % 2), I, H, P, T, bs, bias};
        Ref ref0(cs[0]);
        const int S = ref0.S, R = ref0.R, GH = ref0.G * H, W = ref0.W;
        // x (S, I) inside a wider buffer; y, dy (S, 2R) bidirectional-style with column halves
        const long ldx = I + 3, ldy = 2 * R;
        V x = randv(S * ldx, 1.0f);
        V yb(S * ldy, 7.0f), dyb = randv(S * ldy, 1.0f), dxb = randv(S * ldx, 0.5f), dxb0 = dxb;
        V xc(S * I);
        for (int s = 0; s < S; s++) for (int q = 0; q < I; q++) xc[s * I + q] = x[s * ldx + q];
        struct Dir {
            V h0, c0, wih, whh, bih, bhh, whr, hn, cn, ws, dhN, dcN, dh0, dc0, dwih, dwhh, dbih, dbhh, dwhr;
            V i_dwih, i_dwhh, i_dbih, i_dbhh, i_dwhr;  // starting values of the accumulated gradients
        } d[2];
        long long ptrs[2 * RNN_NUM_SLOTS] = {}, lds[2 * RNN_NUM_SLOTS] = {};
        int dims[2 * RNN_NUM_DIMS] = {};
        for (int k = 0; k < ndirs; k++) {
            Dir& q = d[k];
            float sc = 1.0f / std::sqrt((float)H);
            q.h0 = randv(N * R, 1); q.c0 = randv(N * H, 1);
            q.wih = randv(GH * I, sc); q.whh = randv(GH * R, sc);
            q.bih = randv(GH, sc); q.bhh = randv(GH, sc);
            q.whr = randv(P * H, sc);
            q.hn.assign(N * R, 0); q.cn.assign(N * H, 0); q.ws.assign(S * W, 0);
            q.dhN = randv(N * R, 1); q.dcN = randv(N * H, 1);
            q.dh0.assign(N * R, 9); q.dc0.assign(N * H, 9);
            q.dwih = randv(GH * I, 1); q.dwhh = randv(GH * R, 1); q.dbih = randv(GH, 1); q.dbhh = randv(GH, 1);
            q.dwhr = randv(P * H, 1);
            q.i_dwih = q.dwih; q.i_dwhh = q.dwhh; q.i_dbih = q.dbih; q.i_dbhh = q.dbhh; q.i_dwhr = q.dwhr;
            long long* pp = ptrs + k * RNN_NUM_SLOTS;
            long long* ll = lds + k * RNN_NUM_SLOTS;
            auto set = [&](int slot, const V& v, long l) { pp[slot] = v.empty() ? 0 : (long long)v.data(); ll[slot] = l; };
            set(SLOT_X, x, ldx); set(SLOT_H0, q.h0, R); set(SLOT_W_IH, q.wih, I); set(SLOT_W_HH, q.whh, R);
            if (kind == CELL_LSTM) { set(SLOT_C0, q.c0, H); set(SLOT_C_N, q.cn, H); set(SLOT_DC_N, q.dcN, H); set(SLOT_DC0, q.dc0, H); }
            if (bias) { set(SLOT_B_IH, q.bih, 0); set(SLOT_B_HH, q.bhh, 0); set(SLOT_DB_IH, q.dbih, 0); set(SLOT_DB_HH, q.dbhh, 0); }
            if (P > 0) { set(SLOT_W_HR, q.whr, H); set(SLOT_DW_HR, q.dwhr, H); }
            pp[SLOT_Y] = (long long)(yb.data() + k * R); ll[SLOT_Y] = ldy;
            pp[SLOT_DY] = (long long)(dyb.data() + k * R); ll[SLOT_DY] = ldy;
            set(SLOT_H_N, q.hn, R); set(SLOT_WS, q.ws, W); set(SLOT_DH_N, q.dhN, R);
            pp[SLOT_DX] = (long long)dxb.data(); ll[SLOT_DX] = ldx;
            set(SLOT_DH0, q.dh0, R); set(SLOT_DW_IH, q.dwih, I); set(SLOT_DW_HH, q.dwhh, R);
            int* dm = dims + k * RNN_NUM_DIMS;
            dm[DIM_KIND] = kind; dm[DIM_REVERSE] = cs[k].reverse; dm[DIM_INPUT] = I; dm[DIM_HIDDEN] = H; dm[DIM_PROJ] = P;
        }
        int threads = 1 + iter % 3;
        rnn_layer_forward(ndirs, ptrs, lds, dims, bs.data(), T, threads, 0);
        // inference call (no workspace) must give the same y
        V yInf(S * ldy, 0);
        {
            long long p2[RNN_NUM_SLOTS], l2[RNN_NUM_SLOTS];
            std::copy(ptrs, ptrs + RNN_NUM_SLOTS, p2); std::copy(lds, lds + RNN_NUM_SLOTS, l2);
            p2[SLOT_WS] = 0; V hn2(N * R), cn2(N * H);
            p2[SLOT_Y] = (long long)yInf.data(); p2[SLOT_H_N] = (long long)hn2.data(); p2[SLOT_C_N] = (long long)cn2.data();
            rnn_layer_forward(1, p2, l2, dims, bs.data(), T, 1, 0);
        }
        check("y (inference)", cs[0], yInf.data(), ldy, [&] { V v(S * R); for (int s = 0; s < S; s++) for (int j = 0; j < R; j++) v[s * R + j] = yb[s * ldy + j]; return v; }(), S, R, 1e-6);
        rnn_layer_backward(ndirs, ptrs, lds, dims, bs.data(), T, threads, 0);
        V dxe(S * I);
        for (int s = 0; s < S; s++) for (int q = 0; q < I; q++) dxe[s * I + q] = dxb0[s * ldx + q];
        for (int k = 0; k < ndirs; k++) {
            Ref ref(cs[k]);
            Dir& q = d[k];
            V y, hn, cn, ws, dyc(S * R);
            ref.forward(xc, q.h0, q.c0, q.wih, q.whh, q.bih, q.bhh, q.whr, y, hn, cn, ws);
            check("y", cs[k], yb.data() + k * R, ldy, y, S, R, 1e-5);
            check("hN", cs[k], q.hn.data(), R, hn, N, R, 1e-5);
            if (kind == CELL_LSTM) check("cN", cs[k], q.cn.data(), H, cn, N, H, 1e-5);
            check("ws", cs[k], q.ws.data(), W, ws, S, W, 1e-5);
            for (int s = 0; s < S; s++) for (int j = 0; j < R; j++) dyc[s * R + j] = dyb[s * ldy + k * R + j];
            V dh0, dc0;
            // expected parameter gradients: the kernel's starting values plus the reference's
            V eDwih = q.i_dwih, eDwhh = q.i_dwhh, eDbih = q.i_dbih, eDbhh = q.i_dbhh, eDwhr = q.i_dwhr;
            V dcN = kind == CELL_LSTM ? q.dcN : V(N * H, 0);
            ref.backward(xc, q.h0, q.c0, q.wih, q.whh, q.whr, y, ws, dyc, q.dhN, dcN, dxe, dh0, dc0, eDwih, eDwhh,
                         eDbih, eDbhh, eDwhr);
            check("dh0", cs[k], q.dh0.data(), R, dh0, N, R, 1e-4);
            if (kind == CELL_LSTM) check("dc0", cs[k], q.dc0.data(), H, dc0, N, H, 1e-4);
            check("dW_ih", cs[k], q.dwih.data(), I, eDwih, GH, I, 1e-4);
            check("dW_hh", cs[k], q.dwhh.data(), R, eDwhh, GH, R, 1e-4);
            if (bias) {
                check("db_ih", cs[k], q.dbih.data(), GH, eDbih, 1, GH, 1e-4);
                check("db_hh", cs[k], q.dbhh.data(), GH, eDbhh, 1, GH, 1e-4);
            }
            if (P > 0) check("dW_hr", cs[k], q.dwhr.data(), H, eDwhr, P, H, 1e-4);
            cases++;
        }
        check("dx", cs[0], dxb.data(), ldx, dxe, S, I, 1e-4);
    }
    std::printf("%d direction cases, %d failures\n", cases, failures);
    return failures != 0;
}
