// Winograd F(2x2, 3x3) kernels, portable build (SSE2 on x86-64): the fallback on CPUs without AVX2.
// 16 xmm registers: a product tile of 4 rows x 2 xmm (8 accumulators).
#include "kernels/winograd_f2.h"

namespace nntrain {

WinogradKernels<float> swinograd_kernels_ref() { return winograd_kernels<float, 4, 4, 2>(); }
WinogradKernels<double> dwinograd_kernels_ref() { return winograd_kernels<double, 2, 4, 2>(); }

}  // namespace nntrain
