// The one header JavaCPP's generated JNI translation unit includes (see NativeKernels.java):
// every CPU kernel lives in a header under rnn4j/, so the whole library is one translation unit.
#pragma once

#include <cstdlib>
#include <cstring>

#include "common.h"
#include "host_memory.h"
#include "isa.h"
#include "peak.h"
#include "elementwise.h"
#include "reduce.h"
#include "index.h"
#include "optim.h"
#include "blas.h"

namespace rnn4j {
// lets Java resolve a direct buffer's address once per storage
inline std::intptr_t address_of(const float* p) { return (std::intptr_t) p; }

// Tensor storage owned by the native backend: 64-byte aligned (AVX-512 rows), zero-filled; blocks of
// 1 MiB and more are their own huge-page mappings (host_memory.h says why).
// Returns 0 when the allocation fails; Java turns that into OutOfMemoryError.
inline std::intptr_t host_alloc(std::int64_t bytes) {
    return (std::intptr_t) host_block_alloc(bytes > 0 ? (std::size_t) bytes : 0);
}

inline void host_free(std::intptr_t p) { host_block_free((void*) p); }

// OpenBLAS's kernel family for the GEMMs it runs (its own dispatch; OPENBLAS_CORETYPE overrides)
inline const char* blas_core() { return openblas_get_corename(); }
// The codes and slot layout this library was built with (abi.h); NativeBackend checks it at load.
inline const char* abi() { return abi_descriptor(); }
}  // namespace rnn4j
