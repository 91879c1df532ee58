#include "gemm_blocks.h"

#include <algorithm>

namespace nntrain {

namespace {
index_t round_down(index_t v, index_t step) { return std::max(step, v / step * step); }

// A group takes up to all of L2 to reach 16 panels: each group reads every A micro-panel into L1 again.
// Measured on AMD Zen 4 (1 MiB L2, AVX-512, kc 512), nc 512 against the 256 of half of L2, 1 / 2 threads:
// 1040^3 1.04 / 1.00x, 2064^3 1.01 / 1.03x; the cnn's im2col products 0.98-1.00x, and the mlp's
// 256x784x64 weight gradient 0.99 / 0.95x (it trains on Linear's row split: the mlp step 1.00x).
constexpr index_t kMinGroupPanels = 16;
}  // namespace

GemmBlocks gemm_blocks(int mr, int nr, index_t element_bytes, const CacheSizes& caches) {
  const index_t kc = std::clamp<index_t>(round_down(caches.l1d * 3 / 4 / (mr * element_bytes), 16), 128, 512);
  const index_t l2_rows = caches.l2 / 2 / (kc * element_bytes);  // rows of kc values in half of L2
  const index_t group_rows = std::max(l2_rows, std::min(kMinGroupPanels * nr, 2 * l2_rows));
  return {round_down(std::clamp<index_t>(l2_rows, 4 * mr, 1024), mr), kc,
          round_down(std::clamp<index_t>(group_rows, 2 * nr, 1024), nr)};
}

}  // namespace nntrain
