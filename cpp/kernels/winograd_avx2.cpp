// Winograd F(2x2, 3x3) kernels, AVX2 build (compiled with -mavx2 -mfma): the 16-image lanes are two ymm.
// 16 ymm registers: a product tile of 6 rows x 2 ymm (12 accumulators).
#include "kernels/winograd_f2.h"

namespace nntrain {

WinogradKernels<float> swinograd_kernels_avx2() { return winograd_kernels<float, 8, 6, 2>(); }
WinogradKernels<double> dwinograd_kernels_avx2() { return winograd_kernels<double, 4, 6, 2>(); }

}  // namespace nntrain
