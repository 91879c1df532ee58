// GEMM's cache blocks from the cache sizes, after BLIS's analytical model (Low et al., "Analytical
// modeling is enough for high-performance BLIS", ACM TOMS 2016), simplified to three rules for the
// column-panel loops of gemm.cpp:
//
//   kc: the A micro-panel (mr x kc) the microkernel reuses across a group of B panels takes 3/4 of L1;
//   nc: the group of B panels packed together (kc x nc) takes half of L2, or up to all of it to reach 16
//       panels (each group reads every A micro-panel into L1 again), a multiple of nr;
//   mc: the blocked path's packed A block (mc x kc) takes half of L2, a multiple of mr.
//
// Each is clamped to a range measured to work (kc in [128, 512]: shorter blocks pay a C tile load and store
// too often, longer ones gain nothing; mc and nc at most 1024). The dispatch table fills these in once
// per kernel from cache_sizes(). For float32: on a 48 KiB L1 / 2 MiB L2 Sapphire Rapids, kc = 512 and
// nc = 512 on AVX2 and AVX-512 alike; on a 32 KiB / 1 MiB Zen 4, kc = 512 and nc = 512 for AVX-512 (half
// of L1 gave kc = 336: against it, with A's rows 4 KiB apart copied whole, 1 / 2 threads, the mlp's
// 64x256x784 forward ran 1.03 / 1.05x, 1024^3 1.02 / 1.10x, 1040^3 and 2064^3 1.00-1.03x, the cnn's
// im2col products 0.97-1.00x); on a 32 KiB / 512 KiB Zen 3, kc = 512 and nc = 256 for AVX2.
#pragma once

#include "cache_sizes.h"
#include "common.h"

namespace nntrain {

struct GemmBlocks {
  index_t mc, kc, nc;
};

GemmBlocks gemm_blocks(int mr, int nr, index_t element_bytes, const CacheSizes& caches);

}  // namespace nntrain
