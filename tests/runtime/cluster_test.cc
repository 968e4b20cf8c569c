// Three (and four) EmbeddedEngines in one process on real files: forwarding, reads from
// followers, failover under writes, leases and watches across a leader change, membership
// changes under write load, growth from one member, leadership transfer.

#include <algorithm>
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "runtime/reconfig_checks.h"
#include "tests/runtime/cluster_fixture.h"

namespace dengine::runtime::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

INSTANTIATE_TEST_SUITE_P(Storage, ClusterTest, testing::ValuesIn(storage_kinds()), storage_name);

// Writes key/<i> for i in [first, last) through `kv`, recording each acknowledged revision.
class Writer {
 public:
  Writer(KvClient& kv, int first, int last)
      : thread_([this, &kv, first, last] {
          for (int i = first; i < last && !failed_ && !stop_; ++i) {
            const int64_t revision = put_until_acknowledged(kv, "key/" + std::to_string(i),
                                                            "value " + std::to_string(i));
            if (revision == 0) failed_ = true;
            acknowledged_.fetch_add(1);
          }
        }) {}
  ~Writer() { join(); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  // Ends after the write in progress; keys [first, first + acknowledged()) were written.
  void stop() {
    stop_ = true;
    join();
  }
  [[nodiscard]] int acknowledged() const { return acknowledged_.load(); }
  [[nodiscard]] bool failed() const { return failed_.load(); }

 private:
  std::atomic<int> acknowledged_{0};
  std::atomic<bool> failed_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Every key/<i> for i < count holds its value on `kv` (a linearizable read).
void expect_all_present(KvClient& kv, int count) {
  Result<RangeResponse> all = kv.range_prefix("key/");
  ASSERT_TRUE(all) << all.status().to_string();
  std::map<std::string, std::string> seen;
  for (const KeyValue& kv_pair : all->kvs) seen[kv_pair.key] = kv_pair.value;
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(seen["key/" + std::to_string(i)], "value " + std::to_string(i)) << "key/" << i;
  }
}

TEST_P(ClusterTest, WritesAnywhereReachTheLeaderAndFollowersReadLinearizably) {
  start_cluster({1, 2, 3});
  const NodeId leader = await_leader();
  ASSERT_NE(leader, kNoNode);
  int64_t last = 0;
  for (NodeId via : {1, 2, 3}) {
    Result<PutResponse> put = kv(via).put("shared", "from " + std::to_string(via));
    ASSERT_TRUE(put) << "via node " << via << ": " << put.status().to_string();
    EXPECT_GT(put->revision, last);
    last = put->revision;
  }
  for (NodeId via : {1, 2, 3}) {
    Result<std::optional<KeyValue>> got = kv(via).get("shared");
    ASSERT_TRUE(got && got->has_value()) << "via node " << via;
    EXPECT_EQ((*got)->value, "from 3");
    EXPECT_EQ((*got)->mod_revision, last);
  }
  EXPECT_EQ(engine(follower_of(leader)).members().voters, (std::vector<NodeId>{1, 2, 3}));
}

TEST_P(ClusterTest, TheLeaderStopsAndRestartsWhileClientsWriteAndNoAcknowledgedWriteIsLost) {
  start_cluster({1, 2, 3});
  const NodeId first = await_leader();
  ASSERT_NE(first, kNoNode);
  const NodeId via = follower_of(first);
  constexpr int kWrites = 120;
  Writer writer(kv(via), 0, kWrites);
  while (writer.acknowledged() < 30 && !writer.failed()) std::this_thread::yield();
  stop_node(first);
  const NodeId second = await_leader();
  ASSERT_NE(second, kNoNode);
  ASSERT_NE(second, first);
  while (writer.acknowledged() < 60 && !writer.failed()) std::this_thread::yield();
  start_node(first, {1, 2, 3});  // the old leader comes back as a follower
  writer.join();
  ASSERT_FALSE(writer.failed());
  ASSERT_NE(await_leader(), kNoNode);
  for (NodeId id : {1, 2, 3}) expect_all_present(kv(id), kWrites);
}

TEST_P(ClusterTest, ALeaseOutlivesALeaderChangeAndIsThenExpiredByTheNewLeader) {
  start_cluster({1, 2, 3});
  const NodeId first = await_leader();
  ASSERT_NE(first, kNoNode);
  const NodeId survivor = follower_of(first);
  const LeaseId lease = kv(first).grant(seconds(5)).value().id;
  ASSERT_TRUE(kv(first).put("svc/a", "10.0.0.1", {.lease = lease}));
  Watch deletes = kv(survivor).watch("svc/a", {.no_put = true});

  stop_node(first);
  const auto stopped_at = clock_->now_nanos();
  const NodeId second = await_leader();
  ASSERT_NE(second, kNoNode);
  // The old leader would have expired the lease 5 s after the grant; the new one starts it
  // afresh (plus an election timeout) once it leads, so 5 s after the failover it still holds.
  const auto elected_after = std::chrono::nanoseconds(clock_->now_nanos() - stopped_at);
  run_clock_for(seconds(5) - elected_after + milliseconds(500));
  ASSERT_TRUE(put_until_acknowledged(kv(second), "settle", "1"));
  ASSERT_TRUE(put_until_acknowledged(kv(second), "settle", "2"));
  Result<std::optional<KeyValue>> held = kv(survivor).get("svc/a");
  ASSERT_TRUE(held) << held.status().to_string();
  EXPECT_TRUE(held->has_value()) << "the new leader cut the lease short";
  EXPECT_FALSE(deletes.poll().has_value());

  Result<LeaseTimeToLiveResponse> left = kv(survivor).time_to_live(lease);  // forwarded
  ASSERT_TRUE(left) << left.status().to_string();
  EXPECT_GT(left->ttl_seconds, 0);

  std::optional<Result<WatchBatch>> deleted;
  ASSERT_TRUE(run_clock_until([&] { return (deleted = deletes.poll()).has_value(); }, seconds(30)))
      << "the new leader never expired the lease";
  ASSERT_TRUE(*deleted) << deleted->status().to_string();
  ASSERT_EQ((*deleted)->events.size(), 1U);
  EXPECT_EQ((*deleted)->events[0].type, EventType::kDelete);
}

TEST_P(ClusterTest, KeepAlivesThroughAFollowerHoldALeaseAcrossALeaderChange) {
  start_cluster({1, 2, 3});
  const NodeId first = await_leader();
  ASSERT_NE(first, kNoNode);
  const NodeId via = follower_of(first);
  const LeaseId lease = kv(via).grant(seconds(3)).value().id;
  ASSERT_TRUE(kv(via).put("session", "alive", {.lease = lease}));
  LeaseKeepAlive keep_alive = kv(via).keep_alive(lease);
  stop_node(first);
  ASSERT_NE(await_leader(), kNoNode);
  run_clock_for(seconds(10));  // three TTLs
  EXPECT_TRUE(keep_alive.status()) << keep_alive.status().to_string();
  Result<std::optional<KeyValue>> held = kv(via).get("session");
  ASSERT_TRUE(held) << held.status().to_string();
  EXPECT_TRUE(held->has_value());
}

TEST_P(ClusterTest, AWatchContinuesAcrossALeaderChangeAndResumesElsewhereFromARevision) {
  start_cluster({1, 2, 3});
  const NodeId first = await_leader();
  ASSERT_NE(first, kNoNode);
  const NodeId watcher = follower_of(first);
  Watch live = kv(watcher).watch_prefix("key/");
  {
    Writer writer(kv(watcher), 0, 60);
    while (writer.acknowledged() < 20 && !writer.failed()) std::this_thread::yield();
    stop_node(first);
    ASSERT_NE(await_leader(), kNoNode);
    writer.join();
    ASSERT_FALSE(writer.failed());
  }
  start_node(first, {1, 2, 3});  // back, so that the watcher can go away below
  // What the watch saw is exactly the history of the prefix on this node: no gap, no repeat.
  const int64_t now = kv(watcher).get("key/59").value()->mod_revision;
  std::vector<Event> seen;
  while (seen.empty() || seen.back().kv.mod_revision < now) {
    Result<WatchBatch> batch = live.next();
    ASSERT_TRUE(batch) << batch.status().to_string();
    seen.insert(seen.end(), batch->events.begin(), batch->events.end());
  }
  Watch history = kv(watcher).watch_prefix("key/", {.start_revision = 1});
  std::vector<Event> expected;
  while (expected.size() < seen.size()) {
    Result<WatchBatch> batch = history.next();
    ASSERT_TRUE(batch) << batch.status().to_string();
    expected.insert(expected.end(), batch->events.begin(), batch->events.end());
  }
  EXPECT_EQ(seen, expected);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_LT(seen[i - 1].kv.mod_revision, seen[i].kv.mod_revision);
  }

  // The watching node goes away; the client resumes on another node after what it saw.
  const int64_t resume_from = seen.back().kv.mod_revision + 1;
  const NodeId other = [&] {
    for (const auto& [id, engine] : engines_) {
      if (id != watcher) return id;
    }
    return kNoNode;
  }();
  stop_node(watcher);
  ASSERT_NE(await_leader(), kNoNode);
  live = kv(other).watch_prefix("key/", {.start_revision = resume_from});
  ASSERT_TRUE(put_until_acknowledged(kv(other), "key/after", "x"));
  Result<WatchBatch> resumed = live.next();
  ASSERT_TRUE(resumed) << resumed.status().to_string();
  ASSERT_EQ(resumed->events.size(), 1U);
  EXPECT_EQ(resumed->events[0].kv.key, "key/after");
}

TEST_P(ClusterTest, ALearnerIsAddedPromotedAndAMemberRemovedUnderWriteLoad) {
  start_cluster({1, 2, 3});
  const NodeId leader = await_leader();
  ASSERT_NE(leader, kNoNode);
  MembershipWatch membership = engine(leader).watch_membership();
  ASSERT_TRUE(membership.next(milliseconds(0)));  // the membership now
  // Writes go on until the changes are done: they also carry the commit index to the
  // followers, whose waits below need it (the manual clock sends no heartbeats meanwhile).
  Writer writer(kv(leader), 0, 1'000'000);

  start_node(4, {1, 2, 3});  // joins: lists the voters, not itself
  const NodeId asked = follower_of(leader);
  Status added = engine(asked).add_learner(4);  // asked of a follower: the leader does it
  ASSERT_TRUE(added) << added.to_string();
  ASSERT_TRUE(engine(4).wait_ready(kPatience));
  // In force on the member asked; the leader, whose own write of the entry may still be on
  // its way to disk, follows a moment later (the writer carries the commit meanwhile).
  const auto leader_has_learner = [&] {
    const std::vector<NodeId> learners = engine(leader).members().learners;
    return std::find(learners.begin(), learners.end(), 4) != learners.end();
  };
  const auto give_up_waiting = std::chrono::steady_clock::now() + kPatience;
  while (!leader_has_learner() && std::chrono::steady_clock::now() < give_up_waiting) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(leader_has_learner());
  // The leader refuses while the learner's log is not within 10% of its own.
  Status promoted;
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  do {
    promoted = engine(leader).promote(4);
  } while (promoted.detail() == ErrorDetail::kLearnerNotInSync &&
           std::chrono::steady_clock::now() < give_up);
  ASSERT_TRUE(promoted) << promoted.to_string();

  const NodeId removed = asked;
  Status gone = engine(leader).remove_member(removed);
  ASSERT_TRUE(gone) << gone.to_string();
  stop_node(removed);

  writer.stop();
  ASSERT_FALSE(writer.failed());
  const int written = writer.acknowledged();
  ConfState final_members = engine(leader).members();
  std::vector<NodeId> expected_voters;
  for (NodeId id : {1, 2, 3, 4}) {
    if (id != removed) expected_voters.push_back(id);
  }
  std::sort(final_members.voters.begin(), final_members.voters.end());
  EXPECT_EQ(final_members.voters, expected_voters);
  EXPECT_TRUE(final_members.learners.empty());
  for (const auto& [id, engine] : engines_) expect_all_present(engine->client(), written);

  bool saw_four = false;
  for (int i = 0; i < 20 && !saw_four; ++i) {
    Result<MembershipEvent> event = membership.next(milliseconds(0));
    if (!event) break;
    saw_four = std::find(event->members.voters.begin(), event->members.voters.end(), 4) !=
               event->members.voters.end();
  }
  EXPECT_TRUE(saw_four);
}

// etcdctl member add on a one-member cluster: a single change takes one step, committed by the
// lone voter alone, so it completes while the new member is not running yet (through a joint
// configuration the entry leaving it would wait for the new member forever). The new member
// then starts, joins and serves.
TEST_P(ClusterTest, ALoneMemberAddsAVoterThatIsNotRunningYet) {
  start_cluster({1});
  ASSERT_EQ(await_leader(), NodeId{1});
  const Status added = engine(1).add_voter(2, seconds(10));
  ASSERT_TRUE(added) << added.to_string();
  ConfState members = engine(1).members();
  std::sort(members.voters.begin(), members.voters.end());
  EXPECT_EQ(members.voters, (std::vector<NodeId>{1, 2}));
  EXPECT_TRUE(members.voters_outgoing.empty());

  start_node(2, {1});  // joins: lists the voters, not itself
  ASSERT_NE(await_leader(), kNoNode);
  ASSERT_NE(put_until_acknowledged(kv(2), "after", "growth"), 0);
  ConfState seen_by_two = engine(2).members();
  std::sort(seen_by_two.voters.begin(), seen_by_two.voters.end());
  EXPECT_EQ(seen_by_two.voters, (std::vector<NodeId>{1, 2}));
}

TEST_P(ClusterTest, LeadershipIsTransferredOnRequest) {
  start_cluster({1, 2, 3});
  const NodeId leader = await_leader();
  ASSERT_NE(leader, kNoNode);
  const NodeId target = follower_of(leader);
  ASSERT_TRUE(kv(leader).put("before", "1"));
  Status moved = engine(leader).transfer_leadership(target);
  ASSERT_TRUE(moved) << moved.to_string();
  EXPECT_EQ(engine(leader).leader(), target);
  EXPECT_EQ(await_leader(), target);
  ASSERT_TRUE(put_until_acknowledged(kv(leader), "after", "2"));  // forwarded to the new leader
  EXPECT_EQ(engine(target).client().get("before").value()->value, "1");
}

TEST(ClusterOptions, PeersWithoutANetworkAreRefusedNamingTheField) {
  EngineOptions options;
  options.data_dir = fresh_test_dir();
  options.initial_members = {1, 2, 3};
  Result<std::unique_ptr<EmbeddedEngine>> started = EmbeddedEngine::start(options);
  ASSERT_FALSE(started);
  EXPECT_NE(started.status().message().find("network"), std::string::npos);
}

}  // namespace
}  // namespace dengine::runtime::test
