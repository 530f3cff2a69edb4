// Timing probe of rnn_layer_forward / rnn_layer_backward on one shape, without the JVM, for
// profiling the kernels with symbols (perf record). Not a benchmark of record: the JMH tables in
// benchmarks/README.md are. Built by hand (README.md in this folder).
//   rnn_layer_bench [kind=2(LSTM) T N I H threads iters mode(f|b) isa(-1 = detected)]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "rnn4j/rnn_layer.h"

using namespace rnn4j;

int main(int argc, char** argv) {
    int kind = argc > 1 ? atoi(argv[1]) : CELL_LSTM, T = argc > 2 ? atoi(argv[2]) : 100,
        N = argc > 3 ? atoi(argv[3]) : 64, I = argc > 4 ? atoi(argv[4]) : 256, H = argc > 5 ? atoi(argv[5]) : 512,
        threads = argc > 6 ? atoi(argv[6]) : 2, iters = argc > 7 ? atoi(argv[7]) : 20;
    char mode = argc > 8 ? argv[8][0] : 'f';
    if (argc > 9 && atoi(argv[9]) >= 0) isa_set(atoi(argv[9]));
    const int G = cell_gates(kind), GH = G * H, R = H, S = T * N, W = cell_workspace_row(kind, H, 0);
    std::mt19937 rng(7);
    auto randv = [&](size_t n, float s) {
        std::vector<float> v(n);
        for (auto& f : v) f = std::uniform_real_distribution<float>(-s, s)(rng);
        return v;
    };
    float sc = 1.0f / std::sqrt((float)H);
    auto x = randv((size_t)S * I, 1), h0 = randv((size_t)N * R, 1), c0 = randv((size_t)N * H, 1);
    auto wih = randv((size_t)GH * I, sc), whh = randv((size_t)GH * R, sc), bih = randv(GH, sc), bhh = randv(GH, sc);
    std::vector<float> y((size_t)S * R), hn((size_t)N * R), cn((size_t)N * H), ws(mode == 'b' ? (size_t)S * W : 0);
    auto dy = randv((size_t)S * R, 1);
    std::vector<float> dx((size_t)S * I), dh0((size_t)N * R), dc0((size_t)N * H), dwih(wih.size()), dwhh(whh.size()),
        dbih(GH), dbhh(GH);
    std::vector<int> bs(T, N);
    long long ptrs[RNN_NUM_SLOTS] = {}, lds[RNN_NUM_SLOTS] = {};
    auto set = [&](int slot, std::vector<float>& v, long l) { ptrs[slot] = v.empty() ? 0 : (long long)v.data(); lds[slot] = l; };
    set(SLOT_X, x, I); set(SLOT_H0, h0, R); set(SLOT_W_IH, wih, I); set(SLOT_W_HH, whh, R);
    set(SLOT_B_IH, bih, 0); set(SLOT_B_HH, bhh, 0); set(SLOT_Y, y, R); set(SLOT_H_N, hn, R);
    if (kind == CELL_LSTM) { set(SLOT_C0, c0, H); set(SLOT_C_N, cn, H); }
    set(SLOT_WS, ws, W);
    int dims[RNN_NUM_DIMS] = {};
    dims[DIM_KIND] = kind; dims[DIM_INPUT] = I; dims[DIM_HIDDEN] = H;
    if (mode == 'b') {
        rnn_layer_forward(1, ptrs, lds, dims, bs.data(), T, threads, 0);
        set(SLOT_DY, dy, R); set(SLOT_DX, dx, I); set(SLOT_DH0, dh0, R); set(SLOT_DW_IH, dwih, I);
        set(SLOT_DW_HH, dwhh, R); set(SLOT_DB_IH, dbih, 0); set(SLOT_DB_HH, dbhh, 0);
        if (kind == CELL_LSTM) set(SLOT_DC0, dc0, H);
    }
    double best = 1e30, sum = 0;
    std::vector<double> kept;
    for (int it = 0; it < iters; it++) {
        auto t0 = std::chrono::steady_clock::now();
        int rc = mode == 'b' ? rnn_layer_backward(1, ptrs, lds, dims, bs.data(), T, threads, 0)
                             : rnn_layer_forward(1, ptrs, lds, dims, bs.data(), T, threads, 0);
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (rc) { std::printf("rc %d\n", rc); return 1; }
        if (it >= iters / 4) { best = std::min(best, ms); sum += ms; kept.push_back(ms); }
    }
    double flops = 2.0 * GH * (I + R) * S * (mode == 'b' ? 2 : 1);
    int n = iters - iters / 4;
    std::sort(kept.begin(), kept.end());
    std::printf("kind=%d T=%d N=%d I=%d H=%d threads=%d isa=%d %s: best %.4g ms, median %.4g ms, mean %.4g ms, %.1f GFLOP/s (best)\n",
                kind, T, N, I, H, threads, isa_active(), mode == 'b' ? "backward" : "forward", best, kept[kept.size() / 2], sum / n,
                flops / best / 1e6);
}
