// Winograd F(2x2, 3x3) kernels, portable build (SSE2 on x86-64): the fallback on CPUs without AVX2.
// 16 xmm registers: a product tile of 2 rows x 1 vector (8 xmm) and a transposed tile of 1 x 2.
#include "kernels/winograd_f2.h"

namespace nntrain {

WinogradKernels<float> swinograd_kernels_ref() { return winograd_kernels<float, 2, 1, 1, 2>(); }
WinogradKernels<double> dwinograd_kernels_ref() { return winograd_kernels<double, 1, 1, 1, 1>(); }

}  // namespace nntrain
