#pragma once

// What the benchmarks share: a scratch directory on the disk under test, and percentiles of
// per-operation samples.

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace dengine::bench {

// A fresh directory under $DENGINE_BENCH_DIR (default /tmp), removed with everything in it.
class BenchDir {
 public:
  explicit BenchDir(std::string_view name) {
    const char* base = std::getenv("DENGINE_BENCH_DIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                          "/dengine-" + std::string(name) + "-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~BenchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The sample at `fraction` (0.5: the median) of `values`, which it reorders; 0 when empty.
inline double percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  const auto rank = static_cast<size_t>(fraction * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(rank), values.end());
  return values[rank];
}

}  // namespace dengine::bench
