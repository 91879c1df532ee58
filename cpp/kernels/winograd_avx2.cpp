// Winograd F(2x2, 3x3) kernels, AVX2 build (compiled with -mavx2 -mfma; a 16-lane vector is two ymm).
// 16 ymm registers: a product tile of 4 rows x 1 vector (8 accumulators), a transposed tile of 2 x 2.
#include "kernels/winograd_f2.h"

namespace nntrain {

WinogradKernels<float> swinograd_kernels_avx2() { return winograd_kernels<float, 4, 1, 2, 2>(); }
WinogradKernels<double> dwinograd_kernels_avx2() { return winograd_kernels<double, 2, 1, 1, 2>(); }

}  // namespace nntrain
