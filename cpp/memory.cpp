#include "memory.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace nntrain {

namespace {
bool g_keeps = false;
}

bool keep_freed_memory() {
#if defined(__GLIBC__)
  const char* env = std::getenv("NNTRAIN_KEEP_FREED_MEMORY");
  if (env != nullptr && std::strcmp(env, "0") == 0) return g_keeps = false;
  // Blocks up to 256 MiB come from the heap, and up to 1 GiB of free heap top is kept.
  g_keeps = mallopt(M_MMAP_THRESHOLD, 256 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
#endif
  return g_keeps;
}

bool keeps_freed_memory() { return g_keeps; }

}  // namespace nntrain
