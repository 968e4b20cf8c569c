#pragma once

// EmbeddedEngine tests on a manual clock, run once per storage kind.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dengine/clock.h"
#include "dengine/embedded_engine.h"
#include "tests/runtime/runtime_test_util.h"

namespace dengine::runtime::test {

inline std::vector<StorageKind> storage_kinds() {
#if DENGINE_WITH_ROCKSDB
  return {StorageKind::kDurable, StorageKind::kWalWithMemoryState};
#else
  return {StorageKind::kWalWithMemoryState};
#endif
}

inline std::string storage_name(const testing::TestParamInfo<StorageKind>& info) {
  return info.param == StorageKind::kDurable ? "WalAndRocksDb" : "WalAndMemory";
}

class ClockedEngineTest : public testing::TestWithParam<StorageKind> {
 protected:
  void SetUp() override { dir_ = fresh_test_dir(); }

  EngineOptions options() const {
    EngineOptions options;
    options.data_dir = dir_;
    options.storage = GetParam();
    options.clock = clock_;
    return options;
  }
  // Starts (or restarts) the engine on this test's data dir and waits until it leads.
  void start() {
    engine_.reset();
    Result<std::unique_ptr<EmbeddedEngine>> started = EmbeddedEngine::start(options());
    ASSERT_TRUE(started) << started.status().to_string();
    engine_ = std::move(*started);
    ASSERT_TRUE(engine_->wait_ready(kPatience));
  }
  KvClient& kv() { return engine_->client(); }

  // Moves the clock, then returns once the engine has acted on it: the core thread takes the
  // clock's wake-up no later than the first write below (one producer's pushes stay in
  // order), anything it proposed in that round precedes the second write, and the second
  // write is answered only once everything before it is applied.
  void advance(std::chrono::nanoseconds by) {
    clock_->advance(by);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(kv().put("test/settle", std::to_string(i)));
  }

  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::string dir_;
  std::unique_ptr<EmbeddedEngine> engine_;
};

}  // namespace dengine::runtime::test
