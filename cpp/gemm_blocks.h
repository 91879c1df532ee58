// GEMM's cache blocks from the cache sizes, after BLIS's analytical model (Low et al., "Analytical
// modeling is enough for high-performance BLIS", ACM TOMS 2016), simplified to three rules:
//
//   kc: the B micro-panel (kc x nr) the microkernel sweeps mc/mr times stays in L1, beside the A micro-panel
//       streaming through: kc x nr takes about half of L1;
//   mc: the packed A block (mc x kc) every B micro-panel meets stays in L2: about half of L2, a multiple of mr;
//   nc: the packed B block (kc x nc) shared by the threads stays in L3: a quarter of it, a multiple of nr.
//
// Each is clamped to a range measured to work (very small or very large caches would otherwise give
// blocks too thin to amortise a C tile's load and store, or too big to split between threads).
#pragma once

#include "cache_sizes.h"
#include "common.h"

namespace nntrain {

struct GemmBlocks {
  index_t mc, kc, nc;
};

GemmBlocks gemm_blocks(int mr, int nr, index_t element_bytes, const CacheSizes& caches);

}  // namespace nntrain
