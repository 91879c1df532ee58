#include "cache_sizes.h"

#include <unistd.h>

#include <fstream>

namespace nntrain {

namespace {

// "48K", "2048K", "300M" or a plain byte count; 0 if unreadable.
index_t parse_size(const std::string& text) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    return 0;
  }
  const char unit = used < text.size() ? text[used] : ' ';
  if (unit == 'K' || unit == 'k') value *= 1024;
  if (unit == 'M' || unit == 'm') value *= 1024 * 1024;
  if (unit == 'G' || unit == 'g') value *= 1024LL * 1024 * 1024;
  return value > 0 ? value : 0;
}

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

void from_sysfs(const std::string& dir, index_t sizes[3]) {
  for (int index = 0; index < 16; ++index) {
    const std::string base = dir + "/index" + std::to_string(index) + "/";
    const std::string level = read_line(base + "level"), type = read_line(base + "type");
    if (level.empty()) continue;
    if (type != "Data" && type != "Unified") continue;
    const int l = level[0] - '1';
    if (l >= 0 && l < 3 && sizes[l] == 0) sizes[l] = parse_size(read_line(base + "size"));
  }
}

}  // namespace

CacheSizes detect_cache_sizes(const std::string& sysfs_dir, bool use_sysconf) {
  index_t conf[3] = {0, 0, 0}, fs[3] = {0, 0, 0};
  if (use_sysconf) {
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE) && defined(_SC_LEVEL3_CACHE_SIZE)
    const long v[3] = {sysconf(_SC_LEVEL1_DCACHE_SIZE), sysconf(_SC_LEVEL2_CACHE_SIZE), sysconf(_SC_LEVEL3_CACHE_SIZE)};
    for (int l = 0; l < 3; ++l) conf[l] = v[l] > 0 ? v[l] : 0;
#endif
  }
  from_sysfs(sysfs_dir, fs);
  const index_t fallback[3] = {kFallbackL1, kFallbackL2, kFallbackL3};
  index_t chosen[3];
  std::string source;
  for (int l = 0; l < 3; ++l) {
    const char* from = fs[l] > 0 ? "sysfs" : conf[l] > 0 ? "sysconf" : "fallback";
    chosen[l] = fs[l] > 0 ? fs[l] : conf[l] > 0 ? conf[l] : fallback[l];
    source += (l ? "," : "") + std::string(from);
  }
  return {chosen[0], chosen[1], chosen[2], source};
}

const CacheSizes& cache_sizes() {
  static const CacheSizes sizes = detect_cache_sizes("/sys/devices/system/cpu/cpu0/cache", true);
  return sizes;
}

}  // namespace nntrain
