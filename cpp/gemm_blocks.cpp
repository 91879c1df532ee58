#include "gemm_blocks.h"

#include <algorithm>

namespace nntrain {

namespace {
index_t round_down(index_t v, index_t step) { return std::max(step, v / step * step); }
}  // namespace

GemmBlocks gemm_blocks(int mr, int nr, index_t element_bytes, const CacheSizes& caches) {
  const index_t kc = std::clamp<index_t>(round_down(caches.l1d / 2 / (mr * element_bytes), 16), 128, 512);
  const index_t l2_rows = caches.l2 / 2 / (kc * element_bytes);  // rows of kc values in half of L2
  return {round_down(std::clamp<index_t>(l2_rows, 4 * mr, 1024), mr), kc,
          round_down(std::clamp<index_t>(l2_rows, 2 * nr, 1024), nr)};
}

}  // namespace nntrain
