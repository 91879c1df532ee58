// Build facts, thread count and instruction-set selection.
#include "bindings/bind.h"
#include "bindings/checks.h"
#include "dispatch.h"
#include "kernels/compiled_isa.h"
#include "memory.h"

#ifndef NNTRAIN_COMPILER
#define NNTRAIN_COMPILER "unknown"
#endif

namespace nntrain::bind {

void bind_system(py::module_& m) {
  m.def("build_info", [] {
    py::dict info;
    info["compiler"] = NNTRAIN_COMPILER;
    info["openmp"] = openmp_enabled();
    info["threads"] = num_threads();
    info["isa"] = isa_name(active_isa());
    info["isa_supported"] = isa_name(best_supported_isa());
    info["isa_note"] = isa_note();
    info["baseline"] = NNTRAIN_COMPILED_ISA;  // what this file, like all but the ISA files, was compiled for
    info["flush_denormals"] = workers_flush_denormals();
    info["keep_freed_memory"] = keeps_freed_memory();
    return info;
  }, "Compiler, OpenMP, SIMD level in use and supported, thread count, denormal mode.");
  m.def("dispatched_kernels", [] {
    py::dict kernels;
    for (const DispatchedKernel& k : dispatched_kernels())
      kernels[k.name] = py::dict(py::arg("compiled_for") = k.compiled_for, py::arg("mr") = k.mr, py::arg("nr") = k.nr);
    return kernels;
  }, "Each entry of the kernel table in use: the instruction set its code was compiled for and, for GEMM, the "
     "register tile (mr x nr); 0 where a kernel has none.");
  m.def("get_num_threads", &num_threads, "Threads the kernels use.");
  m.def("set_num_threads", [](int n) {
    if (n < 1) fail("num_threads must be >= 1, got " + std::to_string(n));
    set_num_threads(n);
  }, py::arg("n"), "Sets the threads the kernels use (ignored without OpenMP).");
  m.def("select_isa", [](const std::string& name) {
    if (name == "auto") select_isa(best_supported_isa());
    else select_isa(parse_isa(name));
  }, py::arg("name"), "Chooses the kernels: 'ref', 'avx2', 'avx512' or 'auto' (the best this CPU runs).");
}

}  // namespace nntrain::bind
