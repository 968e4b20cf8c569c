#pragma once

#include <cstdint>

namespace dengine {

// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and the same sequence on every platform
// (std::uniform_int_distribution is not), so anything seeded from it replays exactly.
// Advances `state` and returns the next value.
inline uint64_t splitmix64_next(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ULL;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace dengine
