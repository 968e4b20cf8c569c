#include "tests/kv/kv_store_factory.h"

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

#include "kv/memory_kv_store.h"
#if DENGINE_WITH_ROCKSDB
#include "kv/rocksdb_kv_store.h"
#endif

namespace dengine::kv::test {
namespace {

// The scratch directory of this test process; removed when the process exits.
class ScratchRoot {
 public:
  // tmpfs when there is one: every RocksDB open and flush fsyncs several files, which on a
  // real disk makes the suite minutes long. Crash tests do not rely on the disk: a RocksDB
  // store's crash is a close without flush, and the power-cut tests have their own file layer.
  ScratchRoot() {
    for (const std::filesystem::path& base :
         {std::filesystem::path("/dev/shm"), std::filesystem::temp_directory_path()}) {
      std::string pattern = (base / "dengine-kv-test-XXXXXX").string();
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

KvStoreFactory memory_store_factory() {
  KvStoreFactory factory;
  factory.name = "Memory";
  factory.create = [] { return std::make_unique<MemoryKvStore>(); };
  factory.crash_and_recover = [](std::unique_ptr<StateMachine> store) {
    auto& memory = dynamic_cast<MemoryKvStore&>(*store);
    Status crashed = memory.simulate_crash();
    if (!crashed) return std::unique_ptr<StateMachine>();
    return store;
  };
  factory.check_invariants = [](const StateMachine& store) {
    return dynamic_cast<const MemoryKvStore&>(store).check_consistency();
  };
  factory.fingerprint = [](const StateMachine& store) {
    Result<std::string> image = dynamic_cast<const MemoryKvStore&>(store).snapshot();
    return image ? *image : std::string();
  };
  return factory;
}

#if DENGINE_WITH_ROCKSDB
KvStoreFactory rocksdb_store_factory() {
  KvStoreFactory factory;
  factory.name = "RocksDB";
  factory.create = []() -> std::unique_ptr<StateMachine> {
    Result<std::unique_ptr<RocksKvStore>> opened = RocksKvStore::open(fresh_test_dir());
    if (!opened) return nullptr;
    return std::move(opened).value();
  };
  // Closing without a flush loses the memtables, as a crash does (the store never flushes on
  // close); what background or explicit flushes wrote survives.
  factory.crash_and_recover = [](std::unique_ptr<StateMachine> store) {
    const std::string dir = dynamic_cast<RocksKvStore&>(*store).dir();
    store.reset();
    Result<std::unique_ptr<RocksKvStore>> reopened = RocksKvStore::open(dir);
    if (!reopened) return std::unique_ptr<StateMachine>();
    return std::unique_ptr<StateMachine>(std::move(reopened).value());
  };
  factory.check_invariants = [](const StateMachine& store) {
    return dynamic_cast<const RocksKvStore&>(store).check_consistency();
  };
  factory.fingerprint = [](const StateMachine& store) {
    return dynamic_cast<const RocksKvStore&>(store).logical_image();
  };
  return factory;
}
#endif

}  // namespace

std::string fresh_test_dir() {
  static ScratchRoot root;
  static std::atomic<uint64_t> next{0};
  const std::string dir = root.path() + "/" + std::to_string(next.fetch_add(1));
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<KvStoreFactory> all_store_factories() {
#if DENGINE_WITH_ROCKSDB
  return {memory_store_factory(), rocksdb_store_factory()};
#else
  return {memory_store_factory()};
#endif
}

}  // namespace dengine::kv::test
