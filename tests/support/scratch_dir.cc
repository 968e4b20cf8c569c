#include "tests/support/scratch_dir.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>
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

ScratchRoot& scratch_root() {
  static ScratchRoot root;
  return root;
}

// The root is on tmpfs, which is memory: a long --gtest_repeat run that kept every test's
// files until the process exits once filled 21 GB. Each test's directories go when it ends
// (after its fixture is destroyed, so no engine still has them open).
class ScratchDirsOfATest : public testing::EmptyTestEventListener {
 public:
  void add(std::string dir) {
    std::lock_guard lock(mutex_);
    dirs_.push_back(std::move(dir));
  }
  void OnTestEnd(const testing::TestInfo& /*test*/) override {
    std::vector<std::string> dirs;
    {
      std::lock_guard lock(mutex_);
      dirs.swap(dirs_);
    }
    std::error_code ignored;
    for (const std::string& dir : dirs) std::filesystem::remove_all(dir, ignored);
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> dirs_;
};

ScratchDirsOfATest& scratch_dirs_of_a_test() {
  // Owned by GoogleTest's listener list once appended.
  static ScratchDirsOfATest* const listener = [] {
    auto* created = new ScratchDirsOfATest;
    testing::UnitTest::GetInstance()->listeners().Append(created);
    return created;
  }();
  return *listener;
}

}  // namespace

std::string fresh_test_dir() {
  static std::atomic<uint64_t> next{0};
  const std::string dir = scratch_root().path() + "/" + std::to_string(next.fetch_add(1));
  std::filesystem::create_directories(dir);
  scratch_dirs_of_a_test().add(dir);
  return dir;
}

}  // namespace dengine::test
