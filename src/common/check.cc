#include "common/check.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace dengine {
namespace {

[[noreturn]] void print_and_abort(std::string_view condition, std::string_view file, int line,
                                  std::string_view detail) {
  std::fprintf(stderr, "dengine: invariant violated at %.*s:%d: %.*s%s%.*s\n",
               static_cast<int>(file.size()), file.data(), line, static_cast<int>(condition.size()),
               condition.data(), detail.empty() ? "" : " — ", static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

std::atomic<CheckFailureHandler> g_handler{&print_and_abort};

}  // namespace

CheckFailureHandler set_check_failure_handler(CheckFailureHandler handler) {
  return g_handler.exchange(handler != nullptr ? handler : &print_and_abort);
}

namespace detail {

void check_failed(std::string_view condition, std::string_view file, int line,
                  std::string_view detail) {
  g_handler.load()(condition, file, line, detail);
  // A handler that returns would let a broken invariant run on.
  print_and_abort(condition, file, line, detail);
}

}  // namespace detail
}  // namespace dengine
