#pragma once

// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and the same sequence on every platform
// (std::uniform_int_distribution is not), so anything seeded from it replays exactly. The one
// copy in the tree: the core's election jitter, the lease ids every replica picks (stored in
// the state machine, so its values must never change), the fault-injecting file system, and
// the tests' and the simulator's randomness all draw from here.

#include <cstdint>

namespace dengine {

inline constexpr uint64_t kSplitmix64Increment = 0x9E3779B97F4A7C15ULL;

// The value splitmix64 yields after advancing its state to `state`: a well-mixed, deterministic
// function of `state` (every input bit avalanches).
constexpr uint64_t splitmix64_output(uint64_t state) {
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// The next value from `state`, without advancing anything: a pure hash of `x`.
constexpr uint64_t splitmix64_of(uint64_t x) {
  return splitmix64_output(x + kSplitmix64Increment);
}

// Advances `state` and returns the next value.
constexpr uint64_t splitmix64_next(uint64_t& state) {
  state += kSplitmix64Increment;
  return splitmix64_output(state);
}

}  // namespace dengine
