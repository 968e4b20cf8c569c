#pragma once

// Engines in one process (an InProcessNetwork) on real files and one manual clock: elections
// and lease time run on the clock the test moves; real time only bounds the waits.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "dengine/clock.h"
#include "dengine/embedded_engine.h"
#include "dengine/in_process_network.h"
#include "runtime/engine_internals.h"
#include "tests/runtime/engine_fixture.h"

namespace dengine::runtime::test {

// A put that retries until it is acknowledged: while no leader is known (the test moves the
// clock meanwhile), or when the outcome was unknown. Returns its revision, or 0.
inline int64_t put_until_acknowledged(KvClient& kv, const std::string& key,
                                      const std::string& value) {
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (std::chrono::steady_clock::now() < give_up) {
    Result<PutResponse> put = kv.put(key, value);
    if (put) return put->revision;
    std::this_thread::yield();
  }
  return 0;
}

class ClusterTest : public testing::TestWithParam<StorageKind> {
 protected:
  void SetUp() override { root_ = fresh_test_dir(); }
  void TearDown() override {
    for (auto& [id, engine] : engines_) engine.reset();
  }

  EngineOptions options(NodeId id, std::vector<NodeId> members) const {
    EngineOptions options;
    options.data_dir = root_ + "/node-" + std::to_string(id);
    options.node_id = id;
    options.initial_members = std::move(members);
    options.network = network_;
    options.storage = GetParam();
    options.clock = clock_;
    if (adjust_options_) adjust_options_(options);
    return options;
  }
  // Starts (or restarts, on its data dir) node `id` with `members` as its initial voters.
  void start_node(NodeId id, std::vector<NodeId> members) {
    Result<std::unique_ptr<EmbeddedEngine>> started =
        EmbeddedEngine::start(options(id, std::move(members)));
    ASSERT_TRUE(started) << started.status().to_string();
    engines_[id] = std::move(*started);
  }
  void start_cluster(const std::vector<NodeId>& members) {
    for (NodeId id : members) start_node(id, members);
  }
  void stop_node(NodeId id) { engines_.erase(id); }
  EmbeddedEngine& engine(NodeId id) { return *engines_.at(id); }
  KvClient& kv(NodeId id) { return engines_.at(id)->client(); }

  // One tick on the manual clock, then waits until every running engine has taken it.
  void tick() {
    clock_->advance(std::chrono::milliseconds(100));
    const uint64_t now = clock_->now_nanos();
    for (auto& [id, engine] : engines_) {
      (void)runtime_of(*engine).wait_for_round_at(now, kPatience);
    }
  }

  // Moves the clock a tick at a time until a running node leads with a committed entry of its
  // term, and every running voter knows it.
  NodeId await_leader() {
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < give_up) {
      NodeId leader = kNoNode;
      bool agreed = true;
      for (auto& [id, engine] : engines_) {
        if (engine->is_leader() && engine->wait_ready(std::chrono::milliseconds(0))) leader = id;
      }
      for (auto& [id, engine] : engines_) agreed = agreed && engine->leader() == leader;
      if (leader != kNoNode && agreed) return leader;
      tick();
    }
    return kNoNode;
  }

  // Moves the clock a tick at a time, letting the engines exchange messages after each tick
  // (a burst of ticks would look like a paused process and cost the leader its quorum), until
  // `done()` holds or `limit` of virtual time passed. Returns whether `done()` held.
  template <typename Done>
  bool run_clock_until(Done done, std::chrono::nanoseconds limit) {
    for (std::chrono::nanoseconds passed{0}; passed < limit;
         passed += std::chrono::milliseconds(100)) {
      if (done()) return true;
      tick();
    }
    return done();
  }
  void run_clock_for(std::chrono::nanoseconds span) {
    (void)run_clock_until([] { return false; }, span);
  }

  NodeId follower_of(NodeId leader) const {
    for (const auto& [id, engine] : engines_) {
      if (id != leader) return id;
    }
    return kNoNode;
  }

  std::function<void(EngineOptions&)> adjust_options_;  // applied to every node's options
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::shared_ptr<InProcessNetwork> network_ = InProcessNetwork::create();
  std::string root_;
  std::map<NodeId, std::unique_ptr<EmbeddedEngine>> engines_;
};

}  // namespace dengine::runtime::test
