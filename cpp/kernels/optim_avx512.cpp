// The optimiser kernels compiled for AVX-512 (-mavx512f ...); chosen at run time by dispatch.cpp.
#include "kernels/optim_loops.h"

namespace nntrain {

OptimKernels<float> optim_kernels_float_avx512() { return optim_table<float>(); }
OptimKernels<double> optim_kernels_double_avx512() { return optim_table<double>(); }

}  // namespace nntrain
