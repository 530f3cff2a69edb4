// Accuracy of the cell_math.h approximations against double precision, and a smoke timing of
// one forward step through rnn_layer.h. Built by hand (see native/src/test/cpp/README.md):
//   g++ -O3 -std=c++17 -I../../main/cpp -I$OPENBLAS/include cell_math_test.cpp -L$OPENBLAS -l:libopenblas.so.0
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "rnn4j/rnn_layer.h"

using namespace rnn4j;

// max relative error of f against g over a dense sweep of [lo, hi], skipping |g| < floor
template <typename F, typename G>
static double max_rel(F f, G g, float lo, float hi, double floor, float* worstX) {
    double worst = 0;
    const int n = 4000000;
    for (int i = 0; i <= n; i++) {
        float x = lo + (hi - lo) * (float)i / n;
        double e = g((double)x);
        if (std::fabs(e) < floor) continue;
        double rel = std::fabs((double)f(x) - e) / std::fabs(e);
        if (rel > worst) {
            worst = rel;
            *worstX = x;
        }
    }
    return worst;
}

int main() {
    int fails = 0;
    float wx = 0;
    double e1 = max_rel(exp_approx, [](double x) { return std::exp(x); }, -87.0f, 88.0f, 0, &wx);
    std::printf("exp_approx      max rel err %.3g at %g\n", e1, wx);
    fails += e1 > 1e-6;
    double e2 = max_rel(sigmoid_approx, [](double x) { return 1 / (1 + std::exp(-x)); }, -80.0f, 80.0f, 1e-30, &wx);
    std::printf("sigmoid_approx  max rel err %.3g at %g\n", e2, wx);
    fails += e2 > 1e-6;
    double e3 = max_rel(tanh_approx, [](double x) { return std::tanh(x); }, -20.0f, 20.0f, 0, &wx);
    std::printf("tanh_approx     max rel err %.3g at %g\n", e3, wx);
    fails += e3 > 1e-6;
    double e4 = max_rel(tanh_approx, [](double x) { return std::tanh(x); }, -1e-3f, 1e-3f, 0, &wx);
    std::printf("tanh_approx     max rel err %.3g near 0 at %g\n", e4, wx);
    fails += e4 > 1e-6;
    std::printf("tanh(+-100) = %g %g, sigmoid(+-100) = %g %g, exp(200) = %g\n", tanh_approx(100), tanh_approx(-100),
                sigmoid_approx(100), sigmoid_approx(-100), exp_approx(200));
    fails += tanh_approx(100) != 1.0f || tanh_approx(-100) != -1.0f || sigmoid_approx(100) != 1.0f;

    // one LSTM step, N=1, I=128, H=256 (the single-step latency case), no Java around it
    const int N = 1, I = 128, H = 256, G = 4, T = 1;
    std::vector<float> x(N * I, 0.1f), h0(N * H, 0.f), c0(N * H, 0.f), wih(G * H * I), whh(G * H * H), bih(G * H),
        bhh(G * H), y(N * H), hn(N * H), cn(N * H);
    for (size_t i = 0; i < wih.size(); i++) wih[i] = 0.01f * (float)((i * 7919) % 201 - 100) / 100;
    for (size_t i = 0; i < whh.size(); i++) whh[i] = 0.01f * (float)((i * 104729) % 201 - 100) / 100;
    long long ptrs[RNN_NUM_SLOTS] = {}, lds[RNN_NUM_SLOTS] = {};
    ptrs[SLOT_X] = (long long)x.data(); lds[SLOT_X] = I;
    ptrs[SLOT_H0] = (long long)h0.data(); lds[SLOT_H0] = H;
    ptrs[SLOT_C0] = (long long)c0.data(); lds[SLOT_C0] = H;
    ptrs[SLOT_W_IH] = (long long)wih.data(); lds[SLOT_W_IH] = I;
    ptrs[SLOT_W_HH] = (long long)whh.data(); lds[SLOT_W_HH] = H;
    ptrs[SLOT_B_IH] = (long long)bih.data();
    ptrs[SLOT_B_HH] = (long long)bhh.data();
    ptrs[SLOT_Y] = (long long)y.data(); lds[SLOT_Y] = H;
    ptrs[SLOT_H_N] = (long long)hn.data(); lds[SLOT_H_N] = H;
    ptrs[SLOT_C_N] = (long long)cn.data(); lds[SLOT_C_N] = H;
    int dims[RNN_NUM_DIMS] = {CELL_LSTM, 0, I, H, 0};
    int bs[1] = {N};
    for (int threads : {1, 2}) {
        for (int w = 0; w < 2000; w++) rnn_layer_forward(1, ptrs, lds, dims, bs, T, threads, 0);
        const int reps = 20000;
        auto t0 = std::chrono::steady_clock::now();
        for (int w = 0; w < reps; w++) rnn_layer_forward(1, ptrs, lds, dims, bs, T, threads, 0);
        double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / reps;
        std::printf("LSTM step N=1 I=128 H=256, threads=%d: %.2f us/call (C++ only)\n", threads, us);
    }
    std::printf(fails ? "FAILED (%d)\n" : "OK\n", fails);
    return fails != 0;
}
