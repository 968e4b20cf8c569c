#pragma once

// The StateMachine implementations that the shared etcd semantics suite runs against: each
// suite is instantiated over all_store_factories() (the in-memory store, and the RocksDB
// store when it is built).

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "dengine/state_machine.h"
#include "dengine/status.h"
#include "tests/support/scratch_dir.h"

namespace dengine::kv::test {

struct KvStoreFactory {
  std::string name;
  std::function<std::unique_ptr<StateMachine>()> create;
  // A power cut and restart: returns the store as it comes back, having kept exactly what it
  // had made durable (applies since the last flush are lost).
  std::function<std::unique_ptr<StateMachine>(std::unique_ptr<StateMachine>)> crash_and_recover;
  // The implementation's internal invariants, checked after every test.
  std::function<Status(const StateMachine&)> check_invariants;
  // The whole state as bytes (the snapshot codec's encoding): equal states, equal bytes.
  std::function<std::string(const StateMachine&)> fingerprint;
};

std::vector<KvStoreFactory> all_store_factories();

using ::dengine::test::fresh_test_dir;

// gtest prints parameters with this.
inline void PrintTo(const KvStoreFactory& factory, std::ostream* os) {
  *os << factory.name;
}

}  // namespace dengine::kv::test
