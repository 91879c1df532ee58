// The optimiser kernels compiled for any x86-64 (SSE2); chosen at run time by dispatch.cpp.
#include "kernels/optim_loops.h"

namespace nntrain {

OptimKernels<float> optim_kernels_float_ref() { return optim_table<float>(); }
OptimKernels<double> optim_kernels_double_ref() { return optim_table<double>(); }

}  // namespace nntrain
