// The codes and argument-block layout shared by Java (org.rnn4j.backend: UnaryOp, BinaryOp,
// ReduceOp, CellKind, OptimizerStep.Kind, RnnBuffer, RnnDim), the CPU kernels (native/) and the
// CUDA kernels (cuda/), written once as X-macro lists with explicit numbers. abi_descriptor()
// spells every list as "section:NAME=code,...;" and NativeBackend compares it with the same
// string built from the Java enums when the library loads: a mismatch fails the load with a
// message naming the first difference, instead of running a kernel with the wrong meaning.
#pragma once

#include <string>

namespace rnn4j {

#define RNN4J_ABI_VERSION 1

#define RNN4J_CELLS(X) X(RNN_TANH, 0) X(RNN_RELU, 1) X(LSTM, 2) X(GRU, 3)

#define RNN4J_UNARY_OPS(X)                                                                          \
    X(NEG, 0) X(EXP, 1) X(LOG, 2) X(TANH, 3) X(SIGMOID, 4) X(RELU, 5) X(SQRT, 6) X(ABS, 7) X(SQUARE, 8) \
    X(RECIPROCAL, 9) X(SIGN, 10) X(STEP, 11)

#define RNN4J_BINARY_OPS(X)                                                                          \
    X(ADD, 0) X(SUB, 1) X(MUL, 2) X(DIV, 3) X(MAX, 4) X(MIN, 5) X(POW, 6) X(GT, 7) X(GE, 8) X(LT, 9)    \
    X(LE, 10) X(EQ, 11) X(RSUB, 12) X(RDIV, 13)

#define RNN4J_REDUCE_OPS(X) X(SUM, 0) X(MAX, 1) X(MIN, 2) X(ARGMAX, 3) X(ARGMIN, 4)

#define RNN4J_OPTIMIZERS(X) X(SGD, 0) X(ADAM, 1) X(ADAMW, 2)

// Slots of the per-direction address and row-stride arrays of a recurrent layer call
// (addresses in bytes as jlong, row strides in floats; 0 address = absent). Shapes: RnnBuffer.
#define RNN4J_RNN_SLOTS(X)                                                                           \
    X(X, 0) X(H0, 1) X(C0, 2) X(W_IH, 3) X(W_HH, 4) X(B_IH, 5) X(B_HH, 6) X(W_HR, 7) X(Y, 8) X(H_N, 9) \
    X(C_N, 10) X(WS, 11) X(DY, 12) X(DH_N, 13) X(DC_N, 14) X(DX, 15) X(DH0, 16) X(DC0, 17)           \
    X(DW_IH, 18) X(DW_HH, 19) X(DB_IH, 20) X(DB_HH, 21) X(DW_HR, 22)

// Per-direction integer arguments of a recurrent layer call.
#define RNN4J_RNN_DIMS(X) X(KIND, 0) X(REVERSE, 1) X(INPUT, 2) X(HIDDEN, 3) X(PROJ, 4)

#define RNN4J_ENUM_ENTRY(prefix, name, code) prefix##name = code,
#define RNN4J_COUNT_ENTRY(name, code) +1

#define X(name, code) CELL_##name = code,
enum CellCode { RNN4J_CELLS(X) };
#undef X
#define X(name, code) U_##name = code,
enum UnaryCode { RNN4J_UNARY_OPS(X) };
#undef X
#define X(name, code) B_##name = code,
enum BinaryCode { RNN4J_BINARY_OPS(X) };
#undef X
#define X(name, code) R_##name = code,
enum ReduceCode { RNN4J_REDUCE_OPS(X) };
#undef X
#define X(name, code) O_##name = code,
enum OptimCode { RNN4J_OPTIMIZERS(X) };
#undef X
#define X(name, code) SLOT_##name = code,
enum RnnSlot { RNN4J_RNN_SLOTS(X) };
#undef X
#define X(name, code) DIM_##name = code,
enum RnnDim { RNN4J_RNN_DIMS(X) };
#undef X

enum { RNN_NUM_SLOTS = 0 RNN4J_RNN_SLOTS(RNN4J_COUNT_ENTRY), RNN_NUM_DIMS = 0 RNN4J_RNN_DIMS(RNN4J_COUNT_ENTRY) };

// Return codes of rnn_layer_forward / rnn_layer_backward.
enum RnnStatus { RNN_OK = 0, RNN_OUT_OF_MEMORY = 1, RNN_INTERRUPTED = 2 };

#ifndef __CUDACC__
// "abi:1;cell:RNN_TANH=0,...;unary:...;binary:...;reduce:...;optim:...;rnn_slot:...;rnn_dim:...;"
inline const char* abi_descriptor() {
    static const std::string s = [] {
        std::string d = "abi:" + std::to_string(RNN4J_ABI_VERSION) + ";";
        auto section = [&d](const char* name) { d += name; d += ':'; };
        auto end = [&d] {
            if (d.back() == ',') d.back() = ';';
            else d += ';';
        };
#define X(name, code) d += #name "=" + std::to_string(code) + ",";
        section("cell"); RNN4J_CELLS(X) end();
        section("unary"); RNN4J_UNARY_OPS(X) end();
        section("binary"); RNN4J_BINARY_OPS(X) end();
        section("reduce"); RNN4J_REDUCE_OPS(X) end();
        section("optim"); RNN4J_OPTIMIZERS(X) end();
        section("rnn_slot"); RNN4J_RNN_SLOTS(X) end();
        section("rnn_dim"); RNN4J_RNN_DIMS(X) end();
#undef X
        d += "rnn_status:OK=0,OUT_OF_MEMORY=1,INTERRUPTED=2;";
        return d;
    }();
    return s.c_str();
}
#endif

}  // namespace rnn4j
