// The one header JavaCPP's generated JNI translation unit includes (see NativeKernels.java):
// every CPU kernel lives in a header under rnn4j/, so the whole library is one translation unit.
#pragma once

#include "common.h"
#include "elementwise.h"
#include "reduce.h"
#include "index.h"
#include "optim.h"
#include "blas.h"

namespace rnn4j {
// lets Java resolve a direct buffer's address once per storage
inline std::intptr_t address_of(const float* p) { return (std::intptr_t) p; }
}  // namespace rnn4j
