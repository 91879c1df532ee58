// The data-cache sizes GEMM's blocks are cut to, found once at start-up: Linux's
// /sys/devices/system/cpu/cpu0/cache (the kernel's reading of the CPU's cache leaves, what lscpu shows),
// else sysconf (glibc's own reading of cpuid, which on an AMD EPYC VM gave an L3 of 320 MiB where sysfs
// and lscpu give 32 MiB), else a conservative guess (a Haswell-class core: 32 KiB L1, 256 KiB L2, 4 MiB L3)
// so that blocks never assume more cache than there is.
#pragma once

#include <string>

#include "common.h"

namespace nntrain {

struct CacheSizes {
  index_t l1d, l2, l3;  // bytes; L3 is the whole cache, shared or not
  std::string source;   // where each level came from: "sysconf", "sysfs" or "fallback", e.g. "sysfs,sysfs,fallback"
};

constexpr index_t kFallbackL1 = 32 * 1024, kFallbackL2 = 256 * 1024, kFallbackL3 = 4 * 1024 * 1024;

const CacheSizes& cache_sizes();  // this machine's, detected on first use

// The detection itself, with its inputs exposed for tests: sysfs_dir replaces
// /sys/devices/system/cpu/cpu0/cache, and use_sysconf = false skips sysconf.
CacheSizes detect_cache_sizes(const std::string& sysfs_dir, bool use_sysconf);

}  // namespace nntrain
