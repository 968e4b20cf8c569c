// Three ClusterMembers (dengine/cluster_member.h) in this test process, on loopback ports: the
// public API of a networked member, without the etcd client API. Whoever calls stop() on a
// leader's engine, leadership moves to another voter first.

#include "dengine/cluster_member.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "dengine/member_config.h"
#include "tests/server/server_process.h"
#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

using Clock = std::chrono::steady_clock;

class ClusterMembers : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = fresh_test_dir();
    std::vector<int> ports;
    std::string initial;
    for (int i = 0; i < 3; ++i) {
      ports.push_back(free_local_port());
      initial += (i == 0 ? "" : ",") + name(i) + "=" + url(ports.back());
    }
    for (int i = 0; i < 3; ++i) {
      Result<MemberConfig> config = parse_member_config(
          std::vector<std::string>{"--name=" + name(i), "--data-dir=" + root + "/" + name(i),
                                   "--listen-peer-urls=" + url(ports[i]),
                                   "--initial-advertise-peer-urls=" + url(ports[i]),
                                   "--initial-cluster=" + initial},
          {});
      ASSERT_TRUE(config) << config.status().to_string();
      Result<std::unique_ptr<ClusterMember>> member = ClusterMember::start(*config);
      ASSERT_TRUE(member) << member.status().to_string();
      members_.push_back(std::move(*member));
    }
    for (auto& member : members_) {
      ASSERT_TRUE(member->wait_ready(std::chrono::seconds(30)));
    }
  }

  static std::string name(int i) { return "m" + std::to_string(i + 1); }
  static std::string url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

  ClusterMember* leader() {
    for (auto& member : members_) {
      if (member && member->is_leader()) return member.get();
    }
    return nullptr;
  }

  std::vector<std::unique_ptr<ClusterMember>> members_;
};

TEST_F(ClusterMembers, AWriteOnOneIsReadOnEveryOneAndTheRecordsNameThem) {
  ASSERT_TRUE(members_[0]->client().put("greeting", "hello"));
  for (auto& member : members_) {
    Result<std::optional<KeyValue>> got = member->client().get("greeting");
    ASSERT_TRUE(got && got->has_value()) << "member " << member->id();
    EXPECT_EQ((*got)->value, "hello");
    EXPECT_EQ(member->cluster_id(), members_[0]->cluster_id());
  }
  // Each publishes its name once a leader is known (etcd's publish).
  const auto give_up = Clock::now() + std::chrono::seconds(10);
  std::vector<ClusterMemberRecord> records;
  while (Clock::now() < give_up) {
    records = members_[2]->members_with_records();
    if (records.size() == 3 && !records[0].record.name.empty() && !records[1].record.name.empty() &&
        !records[2].record.name.empty()) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(records.size(), 3U);
  for (const ClusterMemberRecord& listed : records) {
    EXPECT_FALSE(listed.record.name.empty()) << listed.record.id;
    EXPECT_FALSE(listed.is_learner);
    EXPECT_EQ(listed.record.peer_urls.size(), 1U);
  }
}

TEST_F(ClusterMembers, StoppingTheLeadersEngineHandsLeadershipOverFirst) {
  ClusterMember* old_leader = leader();
  ASSERT_NE(old_leader, nullptr);
  ASSERT_TRUE(old_leader->engine().stop());
  // The transfer completed before stop() went on: another member leads already.
  NodeId now_leading = kNoNode;
  for (auto& member : members_) {
    if (member.get() != old_leader && member->is_leader()) now_leading = member->id();
  }
  EXPECT_NE(now_leading, kNoNode) << "nobody led the moment the old leader's engine stopped";
  for (auto& member : members_) {
    if (member.get() == old_leader) continue;
    EXPECT_TRUE(member->client().put("after", "hand-over")) << "member " << member->id();
  }
  EXPECT_TRUE(old_leader->stop());  // the rest of the member's teardown
}

}  // namespace
}  // namespace dengine::test
