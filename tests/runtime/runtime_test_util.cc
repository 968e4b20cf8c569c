#include "tests/runtime/runtime_test_util.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

namespace dengine::runtime::test {
namespace {

class ScratchRoot {
 public:
  ScratchRoot() {
    const std::filesystem::path base =
        std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    path_ = (base / ("dengine-runtime-test-" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchRoot() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

std::string fresh_test_dir() {
  static ScratchRoot root;
  static std::atomic<uint64_t> next{0};
  const std::string dir = root.path() + "/" + std::to_string(next.fetch_add(1));
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace dengine::runtime::test
