// The optimiser kernels compiled for AVX2 (-mavx2 -mfma); chosen at run time by dispatch.cpp.
#include "kernels/optim_loops.h"

namespace nntrain {

OptimKernels<float> optim_kernels_float_avx2() { return optim_table<float>(); }
OptimKernels<double> optim_kernels_double_avx2() { return optim_table<double>(); }

}  // namespace nntrain
