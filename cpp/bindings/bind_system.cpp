// Build facts, thread count and instruction-set selection.
#include "bindings/bind.h"
#include "bindings/checks.h"
#include "cache_sizes.h"
#include "dispatch.h"
#include "gemm_blocks.h"
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
    const CacheSizes& caches = cache_sizes();
    info["caches"] = py::dict(py::arg("l1d") = caches.l1d, py::arg("l2") = caches.l2, py::arg("l3") = caches.l3,
                              py::arg("source") = caches.source);
    return info;
  }, "Compiler, OpenMP, SIMD level in use and supported, thread count, denormal mode.");
  m.def("detect_cache_sizes", [](const std::string& sysfs_dir, bool use_sysconf) {
    const CacheSizes c = detect_cache_sizes(sysfs_dir, use_sysconf);
    return py::dict(py::arg("l1d") = c.l1d, py::arg("l2") = c.l2, py::arg("l3") = c.l3, py::arg("source") = c.source);
  }, py::arg("sysfs_dir") = "/sys/devices/system/cpu/cpu0/cache", py::arg("use_sysconf") = true,
  "The cache sizes GEMM's blocks are cut to, detected again: sysconf, else sysfs_dir's index*/ entries, else "
  "a conservative fallback; 'source' says which for each level.");
  m.def("gemm_blocks", [](int mr, int nr, index_t element_bytes, index_t l1d, index_t l2, index_t l3) {
    if (mr < 1 || nr < 1 || element_bytes < 1 || l1d < 1 || l2 < 1 || l3 < 1)
      fail("gemm_blocks: every argument must be >= 1");
    const GemmBlocks b = gemm_blocks(mr, nr, element_bytes, CacheSizes{l1d, l2, l3, "given"});
    return py::dict(py::arg("mc") = b.mc, py::arg("kc") = b.kc, py::arg("nc") = b.nc);
  }, py::arg("mr"), py::arg("nr"), py::arg("element_bytes"), py::arg("l1d"), py::arg("l2"), py::arg("l3"),
  "GEMM's cache blocks (mc, kc, nc) for an mr x nr register tile on caches of the given sizes in bytes.");
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
