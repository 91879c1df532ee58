// The instruction set a translation unit was compiled for, read from the compiler's own predefined macros
// (set by -mavx2, -mavx512f, -march=...). Each ISA file stamps its kernel-table entries with it, so a test
// can see which compiled code the dispatcher really hands out; any other file must read "ref" (baseline
// x86-64, SSE2 only: no -march=native leaked into code that runs on every CPU).
#pragma once

#if defined(__AVX512F__)
#define NNTRAIN_COMPILED_ISA "avx512"
#elif defined(__AVX2__)
#define NNTRAIN_COMPILED_ISA "avx2"
#elif defined(__AVX__)
#define NNTRAIN_COMPILED_ISA "avx"
#elif defined(__SSE3__)
#define NNTRAIN_COMPILED_ISA "sse3"
#else
#define NNTRAIN_COMPILED_ISA "ref"
#endif
