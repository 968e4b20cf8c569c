// A follower whose log the leader compacted past catches up from the leader's image: the image
// is written, streamed chunk by chunk, installed in place of the follower's state, and the
// follower's log continues after it. Only the durable store compacts its log (an in-memory
// state machine keeps nothing a compacted log could rely on), so only it is tested here.

#include <filesystem>

#include <gtest/gtest.h>

#include "dengine/log_store.h"
#include "runtime/compaction_record.h"
#include "runtime/snapshot_inbox.h"
#include "tests/runtime/cluster_fixture.h"

#if DENGINE_WITH_ROCKSDB
#include "kv/rocksdb_kv_store.h"

namespace dengine::runtime::test {
namespace {

using std::chrono::seconds;

class SnapshotInstallTest : public ClusterTest {
 protected:
  SnapshotInstallTest() {
    adjust_options_ = [](EngineOptions& options) {
      options.snapshot_every_entries = 20;
      options.retained_log_entries = 5;
    };
  }

  // Puts key/<i> for i in [first, last) through the leader.
  void write_keys(NodeId leader, int first, int last) {
    for (int i = first; i < last; ++i) {
      ASSERT_TRUE(kv(leader).put("key/" + std::to_string(i), "value " + std::to_string(i)));
    }
  }

  // Every key/<i> for i < count, read locally on `id`.
  void expect_keys_on(NodeId id, int count) {
    Result<RangeResponse> all = kv(id).range_prefix("key/", {.consistency = Read::Eventual});
    ASSERT_TRUE(all) << all.status().to_string();
    ASSERT_EQ(all->kvs.size(), static_cast<size_t>(count)) << "on node " << id;
  }

  // Waits until node `id` applied everything the leader applied by now. The image is written,
  // streamed and installed in real time, so each tick also waits a little of that.
  bool catch_up(NodeId id, NodeId leader) {
    // The leader's state machine, which a put's answer waits for; its status lags a little.
    const Index target = runtime_of(engine(leader)).read_local([](const StateMachine& machine) {
      return machine.applied_index();
    });
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < give_up) {
      if (runtime_of(engine(id))
              .wait_for_status([&](const NodeStatus& status) { return status.applied >= target; },
                               std::chrono::milliseconds(20))) {
        return true;
      }
      tick();
    }
    return false;
  }
};

INSTANTIATE_TEST_SUITE_P(Storage, SnapshotInstallTest, testing::Values(StorageKind::kDurable),
                         storage_name);

TEST_P(SnapshotInstallTest, AFollowerBackAfterCompactionInstallsTheLeadersImage) {
  start_cluster({1, 2, 3});
  const NodeId leader = await_leader();
  ASSERT_NE(leader, kNoNode);
  const NodeId lagging = follower_of(leader);
  write_keys(leader, 0, 10);
  const LeaseId lease = kv(leader).grant(seconds(60)).value().id;
  ASSERT_TRUE(kv(leader).put("leased", "v", {.lease = lease}));
  stop_node(lagging);

  write_keys(leader, 10, 200);  // the leader compacts its log meanwhile
  start_node(lagging, {1, 2, 3});
  // From the revision this node has: the revisions the image brings must arrive as events,
  // once each and in order, although they were never applied here one by one.
  const int64_t had =
      kv(lagging).get("key/0", {.consistency = Read::Eventual}).value()->mod_revision;
  Watch watch = kv(lagging).watch_prefix("key/", {.start_revision = had + 1});
  ASSERT_TRUE(catch_up(lagging, leader));

  EXPECT_GE(runtime_of(engine(leader)).images_sent(), 1U);
  expect_keys_on(lagging, 200);
  Result<std::vector<LeaseInfo>> leases = kv(lagging).leases();
  ASSERT_TRUE(leases);
  ASSERT_EQ(leases->size(), 1U);
  EXPECT_EQ(leases->front().id, lease);

  int next = 1;
  int64_t last_revision = had;
  while (next < 200) {
    Result<WatchBatch> batch = watch.next();
    ASSERT_TRUE(batch) << batch.status().to_string();
    for (const Event& event : batch->events) {
      ASSERT_GT(event.kv.mod_revision, last_revision);
      last_revision = event.kv.mod_revision;
      EXPECT_EQ(event.kv.key, "key/" + std::to_string(next)) << "after key/" << next - 1;
      ++next;
    }
  }

  // The installed image is durable: a restart boots from it and the log after it.
  write_keys(leader, 200, 210);
  ASSERT_TRUE(catch_up(lagging, leader));
  stop_node(lagging);
  start_node(lagging, {1, 2, 3});
  expect_keys_on(lagging, 210);
}

TEST_P(SnapshotInstallTest, ALearnerAddedAfterCompactionStartsFromTheImage) {
  start_cluster({1, 2, 3});
  const NodeId leader = await_leader();
  ASSERT_NE(leader, kNoNode);
  write_keys(leader, 0, 100);

  start_node(4, {1, 2, 3});
  Status added = engine(leader).add_learner(4);
  ASSERT_TRUE(added) << added.to_string();
  ASSERT_TRUE(catch_up(4, leader));
  EXPECT_GE(runtime_of(engine(leader)).images_sent(), 1U);
  expect_keys_on(4, 100);

  Status promoted = engine(leader).promote(4);
  ASSERT_TRUE(promoted) << promoted.to_string();
  write_keys(leader, 100, 120);
  ASSERT_TRUE(catch_up(4, leader));
  expect_keys_on(4, 120);
}

TEST_P(SnapshotInstallTest, AnImageThePeerCannotTakeFailsNamingThePeerAndWhy) {
  // Node 4 keeps its state in memory, which never takes images (it never compacts either).
  adjust_options_ = [](EngineOptions& options) {
    options.snapshot_every_entries = 20;
    options.retained_log_entries = 5;
    if (options.node_id == 4) options.storage = StorageKind::kWalWithMemoryState;
  };
  start_cluster({1, 2, 3});
  const NodeId leader = await_leader();
  ASSERT_NE(leader, kNoNode);
  write_keys(leader, 0, 100);

  start_node(4, {1, 2, 3});
  Status added = engine(leader).add_learner(4);
  ASSERT_TRUE(added) << added.to_string();
  ASSERT_TRUE(run_clock_until(
      [&] { return !runtime_of(engine(leader)).last_image_failure().is_ok(); }, seconds(30)));
  const Status failure = runtime_of(engine(leader)).last_image_failure();
  EXPECT_NE(failure.message().find("node 4 takes no snapshots"), std::string::npos)
      << failure.to_string();
  // Node 4 took nothing from the image. (Images may still go to nodes 2 and 3: on a loaded
  // machine a voter can fall behind the compacted log too, so images_sent() proves nothing.)
  expect_keys_on(4, 0);
  // The cluster carries on without it.
  write_keys(leader, 100, 110);
  expect_keys_on(leader, 110);
}

// A crash after the follower recorded the image in its log (compaction record, log reset) but
// before its state machine installed it: the next start installs the received image first.
TEST(SnapshotInstallRepair, AnImageRecordedButNotInstalledIsInstalledAtTheNextStart) {
  const std::string root = fresh_test_dir();
  const std::string leader_dir = root + "/leader";
  const std::string follower_dir = root + "/follower";
  auto run = [](const std::string& dir, const std::function<void(KvClient&)>& work) {
    Result<std::unique_ptr<EmbeddedEngine>> engine = EmbeddedEngine::start(dir);
    ASSERT_TRUE(engine) << engine.status().to_string();
    ASSERT_TRUE((*engine)->wait_ready(kPatience));
    work((*engine)->client());
    ASSERT_TRUE((*engine)->stop());
  };
  run(leader_dir, [](KvClient& kv) {
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(kv.put("key/" + std::to_string(i), "v"));
  });
  run(follower_dir, [](KvClient& kv) { ASSERT_TRUE(kv.put("own", "x")); });

  // The leader's image, received whole by the follower.
  Index image_index = 0;
  {
    Result<std::unique_ptr<kv::RocksKvStore>> leader = kv::RocksKvStore::open(leader_dir + "/kv");
    ASSERT_TRUE(leader) << leader.status().to_string();
    image_index = (*leader)->applied_index();
    std::filesystem::create_directories(follower_dir + "/snapshots/in");
    ASSERT_TRUE((*leader)->write_snapshot(
        SnapshotInbox::image_dir(follower_dir + "/snapshots", image_index)));
  }
  // The follower's log already continues after it (both nodes only ever had term 1).
  const SnapshotMeta image{.index = image_index, .term = 1, .conf = ConfState{.voters = {1}}};
  ASSERT_TRUE(CompactionRecord(follower_dir, "compaction").save(image));
  {
    Result<OpenedLogStore> log = open_wal_log_store(follower_dir);
    ASSERT_TRUE(log) << log.status().to_string();
    ASSERT_TRUE(log->store->reset(image.index, image.term));
    ASSERT_TRUE(log->store->sync());
  }

  run(follower_dir, [](KvClient& kv) {
    Result<RangeResponse> keys = kv.range_prefix("key/");
    ASSERT_TRUE(keys) << keys.status().to_string();
    EXPECT_EQ(keys->kvs.size(), 10U);
    EXPECT_FALSE(kv.get("own").value().has_value()) << "the image replaces the whole state";
  });
  EXPECT_FALSE(std::filesystem::exists(follower_dir + "/snapshots"));
}

}  // namespace
}  // namespace dengine::runtime::test

#endif  // DENGINE_WITH_ROCKSDB
