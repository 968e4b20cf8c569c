#pragma once

#include <chrono>

#include "tests/support/scratch_dir.h"

namespace dengine::runtime::test {

using ::dengine::test::fresh_test_dir;

// Generous real-time bound for waits that a correct engine meets in milliseconds. Tests never
// assert on timing: they only fail when something hangs.
inline constexpr std::chrono::seconds kPatience{20};

}  // namespace dengine::runtime::test
