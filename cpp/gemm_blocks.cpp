#include "gemm_blocks.h"

#include <algorithm>
#include <cstdlib>

namespace nntrain {

namespace {
index_t round_down(index_t v, index_t step) { return std::max(step, v / step * step); }
index_t tune(const char* name, index_t v) {  // TEMPORARY tuning hook
  const char* e = std::getenv(name);
  return e ? std::atoll(e) : v;
}
}  // namespace

GemmBlocks gemm_blocks(int mr, int nr, index_t element_bytes, const CacheSizes& caches) {
  const index_t kc = tune("NN_KC", std::clamp<index_t>(round_down(caches.l1d / 2 / (mr * element_bytes), 16), 128, 512));
  const index_t mc = tune("NN_MC", round_down(std::clamp<index_t>(caches.l2 / 2 / (kc * element_bytes), 4 * mr, 1024), mr));
  const index_t nc = tune("NN_NC", round_down(std::clamp<index_t>(caches.l2 / 2 / (kc * element_bytes), 2 * nr, 1024), nr));
  return {mc, kc, nc};
}

}  // namespace nntrain
