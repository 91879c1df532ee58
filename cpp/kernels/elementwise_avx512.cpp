// The elementwise kernels compiled for AVX-512 (-mavx512f ...); chosen at run time by dispatch.cpp.
#include "kernels/elementwise_loops.h"

namespace nntrain {

ElementwiseKernels<float> elementwise_kernels_float_avx512() { return elementwise_table<float>(); }
ElementwiseKernels<double> elementwise_kernels_double_avx512() { return elementwise_table<double>(); }

}  // namespace nntrain
