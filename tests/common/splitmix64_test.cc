#include "common/splitmix64.h"

#include <gtest/gtest.h>

namespace dengine {
namespace {

// The reference sequence from state 0 (Vigna's splitmix64.c): seeds replay and stored values
// (lease ids, WAL segment salts) depend on it.
TEST(Splitmix64, FollowsTheReferenceSequence) {
  uint64_t state = 0;
  EXPECT_EQ(splitmix64_next(state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(splitmix64_next(state), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(splitmix64_next(state), 0x06c45d188009454fULL);
  EXPECT_EQ(state, 3 * kSplitmix64Increment);
}

TEST(Splitmix64, OfIsTheNextValueWithoutAState) {
  for (uint64_t x : {0ULL, 1ULL, 42ULL, ~0ULL}) {
    uint64_t state = x;
    EXPECT_EQ(splitmix64_of(x), splitmix64_next(state)) << x;
  }
  static_assert(splitmix64_of(0) == 0xe220a8397b1dcdafULL);
}

}  // namespace
}  // namespace dengine
