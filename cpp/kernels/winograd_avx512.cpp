// Winograd F(2x2, 3x3) kernels, AVX-512 build (compiled with -mavx512f...; a 16-lane float vector is one
// zmm). 32 zmm registers: a product tile of 8 rows x 2 vectors, a transposed tile of 4 x 4 (16
// accumulators each).
#include "kernels/winograd_f2.h"

namespace nntrain {

WinogradKernels<float> swinograd_kernels_avx512() { return winograd_kernels<float, 8, 2, 4, 4>(); }
WinogradKernels<double> dwinograd_kernels_avx512() { return winograd_kernels<double, 4, 2, 2, 4>(); }

}  // namespace nntrain
