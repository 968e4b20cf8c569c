#pragma once

// DENGINE_CHECK: the project's invariant check. Unlike assert() it never compiles away, so
// Release builds of the tests and the simulator check every invariant on every step.

#include <string_view>

namespace dengine {

// Called with a description of the broken invariant. The default prints it to stderr and
// aborts. The simulator installs one that reports the seed before giving up.
using CheckFailureHandler = void (*)(std::string_view condition, std::string_view file, int line,
                                     std::string_view detail);

// Returns the previous handler.
CheckFailureHandler set_check_failure_handler(CheckFailureHandler handler);

namespace detail {
[[noreturn]] void check_failed(std::string_view condition, std::string_view file, int line,
                               std::string_view detail);
}  // namespace detail

}  // namespace dengine

#define DENGINE_CHECK(condition)                                                           \
  do {                                                                                     \
    if (!(condition)) [[unlikely]] {                                                       \
      ::dengine::detail::check_failed(#condition, __FILE__, __LINE__, std::string_view{}); \
    }                                                                                      \
  } while (false)

// The explanation is only evaluated when the check fails.
#define DENGINE_CHECK_MSG(condition, explanation)                                     \
  do {                                                                                \
    if (!(condition)) [[unlikely]] {                                                  \
      ::dengine::detail::check_failed(#condition, __FILE__, __LINE__, (explanation)); \
    }                                                                                 \
  } while (false)
