#include "tests/kv/kv_store_factory.h"

#include <string>

#include "kv/memory_kv_store.h"
#if DENGINE_WITH_ROCKSDB
#include "kv/rocksdb_kv_store.h"
#endif

namespace dengine::kv::test {
namespace {

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

std::vector<KvStoreFactory> all_store_factories() {
#if DENGINE_WITH_ROCKSDB
  return {memory_store_factory(), rocksdb_store_factory()};
#else
  return {memory_store_factory()};
#endif
}

}  // namespace dengine::kv::test
