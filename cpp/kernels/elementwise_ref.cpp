// The elementwise kernels compiled for any x86-64 (SSE2); chosen at run time by dispatch.cpp.
#include "kernels/elementwise_loops.h"

namespace nntrain {

ElementwiseKernels<float> elementwise_kernels_float_ref() { return elementwise_table<float>(); }
ElementwiseKernels<double> elementwise_kernels_double_ref() { return elementwise_table<double>(); }

}  // namespace nntrain
