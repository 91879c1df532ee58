#include "dispatch.h"

#include <cstdlib>

#include "gemm_blocks.h"

namespace nntrain {

namespace {

struct KernelTable {
  Isa isa;
  GemmKernel<float> sgemm;
  GemmKernel<double> dgemm;
  ElementwiseKernels<float> selementwise;
  ElementwiseKernels<double> delementwise;
  WinogradKernels<float> swinograd;
  WinogradKernels<double> dwinograd;
  OptimKernels<float> soptim;
  OptimKernels<double> doptim;
};

// The ISA file gives a kernel's register tile; the cache blocks are cut to this machine's caches.
template <class T>
GemmKernel<T> with_blocks(GemmKernel<T> kern) {
  const GemmBlocks blocks = gemm_blocks(kern.mr, kern.nr, sizeof(T), cache_sizes());
  kern.mc = blocks.mc;
  kern.kc = blocks.kc;
  kern.nc = blocks.nc;
  return kern;
}

KernelTable table_for(Isa isa) {
  switch (isa) {
    case Isa::Avx512:
      return {isa, with_blocks(sgemm_kernel_avx512()), with_blocks(dgemm_kernel_avx512()),
              elementwise_kernels_float_avx512(), elementwise_kernels_double_avx512(), swinograd_kernels_avx512(),
              dwinograd_kernels_avx512(), optim_kernels_float_avx512(), optim_kernels_double_avx512()};
    case Isa::Avx2:
      return {isa, with_blocks(sgemm_kernel_avx2()), with_blocks(dgemm_kernel_avx2()),
              elementwise_kernels_float_avx2(), elementwise_kernels_double_avx2(), swinograd_kernels_avx2(),
              dwinograd_kernels_avx2(), optim_kernels_float_avx2(), optim_kernels_double_avx2()};
    case Isa::Ref: break;
  }
  return {Isa::Ref, with_blocks(sgemm_kernel_ref()), with_blocks(dgemm_kernel_ref()), elementwise_kernels_float_ref(),
          elementwise_kernels_double_ref(), swinograd_kernels_ref(), dwinograd_kernels_ref(), optim_kernels_float_ref(),
          optim_kernels_double_ref()};
}

std::string g_note;

KernelTable initial_table() {
  Isa best = best_supported_isa();
  const char* env = std::getenv("NNTRAIN_ISA");
  if (env == nullptr || *env == '\0' || std::string(env) == "auto") return table_for(best);
  try {
    Isa wanted = parse_isa(env);
    if (static_cast<int>(wanted) <= static_cast<int>(best)) return table_for(wanted);
    g_note = std::string("NNTRAIN_ISA=") + env + " is not supported by this CPU; using " + isa_name(best);
  } catch (const std::invalid_argument&) {
    g_note = std::string("NNTRAIN_ISA=") + env + " is not one of ref, avx2, avx512, auto; using " +
             isa_name(best);
  }
  return table_for(best);
}

KernelTable g_table = initial_table();

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    case Isa::Ref: break;
  }
  return "ref";
}

Isa best_supported_isa() {
  // __builtin_cpu_supports also checks that the OS saves the wider registers (XCR0).
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
  return Isa::Ref;
}

Isa active_isa() { return g_table.isa; }

void select_isa(Isa isa) {
  NN_CHECK(static_cast<int>(isa) <= static_cast<int>(best_supported_isa()),
           std::string("isa: this CPU cannot run ") + isa_name(isa) + " kernels (best: " +
               isa_name(best_supported_isa()) + ")");
  g_table = table_for(isa);
}

Isa parse_isa(const std::string& name) {
  if (name == "ref") return Isa::Ref;
  if (name == "avx2") return Isa::Avx2;
  if (name == "avx512") return Isa::Avx512;
  throw std::invalid_argument("isa: expected one of ref, avx2, avx512, got '" + name + "'");
}

const std::string& isa_note() { return g_note; }

std::vector<DispatchedKernel> dispatched_kernels() {
  return {{"sgemm", g_table.sgemm.compiled_for, g_table.sgemm.mr, g_table.sgemm.nr},
          {"dgemm", g_table.dgemm.compiled_for, g_table.dgemm.mr, g_table.dgemm.nr},
          {"swinograd", g_table.swinograd.compiled_for, g_table.swinograd.mr, g_table.swinograd.nr},
          {"dwinograd", g_table.dwinograd.compiled_for, g_table.dwinograd.mr, g_table.dwinograd.nr},
          {"soptim", g_table.soptim.compiled_for, 0, 0},
          {"doptim", g_table.doptim.compiled_for, 0, 0}};
}

template <>
const GemmKernel<float>& gemm_kernel<float>() { return g_table.sgemm; }
template <>
const GemmKernel<double>& gemm_kernel<double>() { return g_table.dgemm; }
template <>
const ElementwiseKernels<float>& elementwise_kernels<float>() { return g_table.selementwise; }
template <>
const ElementwiseKernels<double>& elementwise_kernels<double>() { return g_table.delementwise; }
template <>
const WinogradKernels<float>& winograd_kernel<float>() { return g_table.swinograd; }
template <>
const WinogradKernels<double>& winograd_kernel<double>() { return g_table.dwinograd; }
template <>
const OptimKernels<float>& optim_kernels<float>() { return g_table.soptim; }
template <>
const OptimKernels<double>& optim_kernels<double>() { return g_table.doptim; }

}  // namespace nntrain
