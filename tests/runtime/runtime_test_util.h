#pragma once

#include <chrono>
#include <string>

namespace dengine::runtime::test {

// A new empty directory under a per-process scratch root (on /dev/shm when it exists), removed
// when the process exits.
std::string fresh_test_dir();

// Generous real-time bound for waits that a correct engine meets in milliseconds. Tests never
// assert on timing: they only fail when something hangs.
inline constexpr std::chrono::seconds kPatience{20};

}  // namespace dengine::runtime::test
