// A counter-based random generator: the i-th number of stream `seed` is a pure function of (seed, i),
// so any thread can draw any element's number and the same seed gives the same numbers whatever the
// thread count or chunking. It is SplitMix64 (Steele, Lea, Flood 2014) evaluated at position i: the
// Weyl sequence seed + (i+1)*gamma through its 64-bit finaliser, which passes BigCrush.
#pragma once

//
// Internal linkage: the elementwise kernels include this in each ISA file, and an inline function with
// external linkage compiled there could be the copy the linker keeps for code that runs on an older CPU.
#include <cstdint>

namespace nntrain {
namespace {

inline std::uint64_t counter_random(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A uniform 24-bit integer in [0, 2^24): the resolution of a float in [0, 1).
inline std::uint32_t counter_uniform24(std::uint64_t seed, std::uint64_t i) {
  return static_cast<std::uint32_t>(counter_random(seed, i) >> 40);
}

}  // namespace
}  // namespace nntrain
