#include "tests/support/scratch_dir.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <system_error>

#include <unistd.h>

namespace dengine::test {
namespace {

class ScratchRoot {
 public:
  ScratchRoot() {
    for (const std::filesystem::path& base :
         {std::filesystem::path("/dev/shm"), std::filesystem::temp_directory_path()}) {
      std::string pattern = (base / "dengine-test-XXXXXX").string();
      if (::mkdtemp(pattern.data()) != nullptr) {
        path_ = pattern;
        return;
      }
    }
  }
  ~ScratchRoot() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchRoot(const ScratchRoot&) = delete;
  ScratchRoot& operator=(const ScratchRoot&) = delete;
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

}  // namespace dengine::test
