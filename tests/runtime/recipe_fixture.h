#pragma once

// Lock and election tests: an engine on a manual clock, sessions whose timeouts run on that
// clock, and a way to know that a waiter has queued before the test moves on.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dengine/session.h"
#include "tests/runtime/engine_fixture.h"

namespace dengine::runtime::test {

class RecipeTest : public ClockedEngineTest {
 protected:
  void SetUp() override {
    ClockedEngineTest::SetUp();
    start();
  }

  std::unique_ptr<Session> new_session(std::chrono::seconds ttl = std::chrono::seconds(60)) {
    Result<std::unique_ptr<Session>> created = Session::create(kv(), {.ttl = ttl, .clock = clock_});
    EXPECT_TRUE(created) << created.status().to_string();
    return created ? std::move(*created) : nullptr;
  }

  // Blocks until `key` is put: the session behind it has queued.
  static void await_put(Watch& watch, const std::string& key) {
    while (true) {
      Result<WatchBatch> batch = watch.next();
      ASSERT_TRUE(batch) << batch.status().to_string();
      for (const Event& event : batch->events) {
        if (event.type == EventType::kPut && event.kv.key == key) return;
      }
    }
  }

  // The keys under `prefix`, in key order.
  std::vector<std::string> keys_under(const std::string& prefix) {
    std::vector<std::string> keys;
    Result<RangeResponse> range = kv().range_prefix(prefix);
    EXPECT_TRUE(range) << range.status().to_string();
    if (range) {
      for (const KeyValue& entry : range->kvs) keys.push_back(entry.key);
    }
    return keys;
  }
};

}  // namespace dengine::runtime::test
