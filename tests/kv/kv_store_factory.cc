#include "tests/kv/kv_store_factory.h"

#include "kv/memory_kv_store.h"

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
  return factory;
}

}  // namespace

std::vector<KvStoreFactory> all_store_factories() {
  return {memory_store_factory()};
}

}  // namespace dengine::kv::test
