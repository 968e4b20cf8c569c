#pragma once

#include <cstdint>

namespace dengine {

// Raft log position (1-based; 0 means "before the first entry").
using Index = uint64_t;
// Raft term (0 before any election).
using Term = uint64_t;
// A cluster member's id; 0 is never a member.
using NodeId = uint64_t;

inline constexpr NodeId kNoNode = 0;

}  // namespace dengine
