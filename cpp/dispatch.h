// Run-time choice of instruction set: the CPU is probed once, the best kernels it supports are put in
// a table, and NNTRAIN_ISA (ref | avx2 | avx512) or select_isa() can force a lower level (tests run
// every level the machine has against the portable kernel).
#pragma once

#include <string>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/gemm_ukernel.h"
#include "kernels/optim.h"
#include "kernels/winograd_kernels.h"

namespace nntrain {

enum class Isa { Ref = 0, Avx2 = 1, Avx512 = 2 };

const char* isa_name(Isa isa);
Isa best_supported_isa();        // what this CPU (and OS) can run
Isa active_isa();                // what the kernels in use were compiled for
void select_isa(Isa isa);        // throws std::invalid_argument if the CPU cannot run it
Isa parse_isa(const std::string& name);  // "ref" | "avx2" | "avx512"; throws on anything else
const std::string& isa_note();   // why NNTRAIN_ISA was not honoured, or ""

template <class T>
const GemmKernel<T>& gemm_kernel();
template <class T>
const ElementwiseKernels<T>& elementwise_kernels();
template <class T>
const WinogradKernels<T>& winograd_kernel();
template <class T>
const OptimKernels<T>& optim_kernels();  // optim_update.cpp's per-chunk updates and sums of squares  // conv2d_winograd.cpp's transforms and products

// One row per entry of the kernel table in use: the ISA its file was compiled for (kernels/compiled_isa.h)
// and, for GEMM, the register tile. After select_isa(x) every row must read x: tests check this, so an
// entry added to the table belongs in this list too.
struct DispatchedKernel {
  const char* name;
  const char* compiled_for;
  int mr, nr;  // register tile; 0 for kernels without one
};
std::vector<DispatchedKernel> dispatched_kernels();

}  // namespace nntrain
