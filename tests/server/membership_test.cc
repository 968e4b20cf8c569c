// The Cluster service end to end, driven by Debian's etcdctl 3.4.23: a single dengine-server
// grown to three members (learners added, caught up from the leader's image, promoted) while a
// client keeps writing, then the original member removed; and etcd's answers to the member
// commands that must be refused.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "raftpb/raft.grpc.pb.h"
#include "tests/server/server_process.h"
#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Small enough that the members added later must start from an image of the leader's state.
const std::vector<std::string> kCompactingFlags = {"--snapshot-count=100",
                                                   "--experimental-snapshot-catchup-entries=20"};

class Membership : public ::testing::Test {
 protected:
  Membership() {
    for (MemberFlags& member : plan_) member.binary = binary_;
  }

  std::string peer_url(size_t i) const {
    return "http://127.0.0.1:" + std::to_string(plan_[i].peer_port);
  }

  // Member i's flags in a cluster grown from m1: --initial-cluster names m1..m(i+1), as the
  // ETCD_INITIAL_CLUSTER that `etcdctl member add` prints.
  MemberFlags grown_flags(size_t i) const {
    MemberFlags flags = plan_[i];
    flags.initial_cluster.clear();
    for (size_t j = 0; j <= i; ++j) {
      flags.initial_cluster += (j == 0 ? "" : ",") + plan_[j].name + "=" + peer_url(j);
    }
    return flags;
  }

  void start_first() {
    members_[0] = std::make_unique<ServerProcess>(grown_flags(0), dirs_[0], flags_);
    ASSERT_TRUE(members_[0]->wait_healthy()) << members_[0]->log();
  }

  // Starts member i to join the running cluster, as `member add` told it to.
  void start_joining(size_t i) {
    std::vector<std::string> flags = flags_;
    flags.emplace_back("--initial-cluster-state=existing");
    members_[i] = std::make_unique<ServerProcess>(grown_flags(i), dirs_[i], flags);
  }

  CommandResult etcdctl(size_t via, const std::vector<std::string>& args) {
    return members_[via]->etcdctl(args);
  }
  std::string ok(size_t via, const std::vector<std::string>& args) {
    CommandResult result = etcdctl(via, args);
    EXPECT_EQ(result.exit_code, 0)
        << "etcdctl " << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << result.err;
    return result.out;
  }

  // "Member 5f2e... added to cluster ..." -> the new member's id in hex.
  static std::string added_id(const std::string& out) {
    std::smatch match;
    // etcdctl pads the id to 16 characters with spaces.
    if (!std::regex_search(out, match, std::regex("Member +([0-9a-f]+) added"))) return "";
    return match[1];
  }

  // The id of the member named `name` in `member list` through `via`.
  std::string id_of(size_t via, const std::string& name) {
    const std::string list = ok(via, {"member", "list"});
    std::smatch match;
    if (!std::regex_search(list, match, std::regex("([0-9a-f]+), started, " + name + ","))) {
      return "";
    }
    return match[1];
  }

  // Promotes the learner once it has caught up: etcd refuses until its log is within 10% of
  // the leader's, so an operator (and this test) retries that refusal.
  void promote_when_in_sync(size_t via, const std::string& id) {
    const auto give_up = std::chrono::steady_clock::now() + seconds(30);
    while (true) {
      CommandResult result = etcdctl(via, {"member", "promote", id});
      if (result.exit_code == 0) return;
      ASSERT_NE(result.err.find("in sync with leader"), std::string::npos) << result.err;
      ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "the learner never caught up";
      std::this_thread::sleep_for(milliseconds(100));
    }
  }

  void grow_and_drop_the_first(bool from_image);

  static constexpr size_t kMostMembers = 5;
  static std::vector<std::string> member_dirs(const std::string& root) {
    std::vector<std::string> dirs;
    for (size_t i = 1; i <= kMostMembers; ++i) dirs.push_back(root + "/m" + std::to_string(i));
    return dirs;
  }

  std::string binary_ = DENGINE_SERVER_PATH;
  std::vector<std::string> flags_ = kCompactingFlags;
  std::vector<MemberFlags> plan_ = plan_cluster(kMostMembers);
  std::vector<std::string> dirs_ = member_dirs(fresh_test_dir());
  std::unique_ptr<ServerProcess> members_[kMostMembers];
};

// Writes keys w/<n> through one member's gRPC endpoint until stopped; counts what failed.
class Writer {
 public:
  explicit Writer(const std::string& endpoint)
      : stub_(etcdserverpb::KV::NewStub(
            grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()))),
        thread_([this] { run(); }) {}
  ~Writer() { stop(); }

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] int acknowledged() const { return acknowledged_.load(); }
  [[nodiscard]] int failed() const { return failed_.load(); }
  [[nodiscard]] const std::string& first_failure() const { return first_failure_; }

 private:
  void run() {
    while (!stopping_) {
      etcdserverpb::PutRequest put;
      put.set_key("w/" + std::to_string(acknowledged_.load()));
      put.set_value("v");
      etcdserverpb::PutResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + seconds(10));
      const grpc::Status status = stub_->Put(&context, put, &response);
      if (status.ok()) {
        ++acknowledged_;
      } else if (failed_++ == 0) {
        first_failure_ = status.error_message();
      }
    }
  }

  std::unique_ptr<etcdserverpb::KV::Stub> stub_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> acknowledged_{0};
  std::atomic<int> failed_{0};
  std::string first_failure_;
  std::thread thread_;
};

int64_t count_of_prefix(const std::string& endpoint, const std::string& prefix) {
  auto stub =
      etcdserverpb::KV::NewStub(grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  etcdserverpb::RangeRequest range;
  range.set_key(prefix);
  std::string end = prefix;
  end.back() = static_cast<char>(end.back() + 1);
  range.set_range_end(end);
  range.set_count_only(true);
  etcdserverpb::RangeResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  if (!stub->Range(&context, range, &response).ok()) return -1;
  return response.count();
}

// Grows m1 to three members while a client writes, then removes m1. `from_image`: the members
// joining find the leader's log compacted and start from its image; else they replay the log.
void Membership::grow_and_drop_the_first(bool from_image) {
  if (!from_image) flags_.clear();
  ASSERT_NO_FATAL_FAILURE(start_first());
  for (int i = 0; i < 300; ++i) ok(0, {"put", "pre/" + std::to_string(i), "v"});
  Writer writer(members_[0]->endpoint());

  for (size_t i = 1; i <= 2; ++i) {
    const std::string added =
        ok(0, {"member", "add", plan_[i].name, "--learner", "--peer-urls=" + peer_url(i)});
    const std::string id = added_id(added);
    ASSERT_FALSE(id.empty()) << added;
    EXPECT_NE(added.find("ETCD_INITIAL_CLUSTER_STATE=\"existing\""), std::string::npos) << added;
    ASSERT_NO_FATAL_FAILURE(start_joining(i));
    ASSERT_NO_FATAL_FAILURE(promote_when_in_sync(0, id));
    ASSERT_TRUE(members_[i]->wait_healthy()) << members_[i]->log();
  }
  writer.stop();
  EXPECT_EQ(writer.failed(), 0) << writer.first_failure();
  EXPECT_GT(writer.acknowledged(), 0);
  // With compaction the learners started from the leader's image; without, from its log.
  EXPECT_EQ(
      members_[0]->log().find("sent an image of the state to a follower") != std::string::npos,
      from_image)
      << members_[0]->log();

  const std::string list = ok(1, {"member", "list"});
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NE(list.find(", started, " + plan_[i].name + ", " + peer_url(i) + ", http://" +
                        members_[i]->endpoint() + ", false"),
              std::string::npos)
        << list;
  }
  // Every acknowledged write is on the newest member.
  EXPECT_EQ(count_of_prefix(members_[2]->endpoint(), "pre/"), 300);
  EXPECT_EQ(count_of_prefix(members_[2]->endpoint(), "w/"), writer.acknowledged());

  // The first member goes; it stops by itself, and the other two serve on.
  const std::string first = id_of(1, "m1");
  ASSERT_FALSE(first.empty());
  ok(1, {"member", "remove", first});
  EXPECT_EQ(members_[0]->wait_for_exit(seconds(20)), 0) << members_[0]->log();
  EXPECT_NE(members_[0]->log().find("permanently removed from the cluster"), std::string::npos);
  ok(1, {"put", "after", "removal"});
  EXPECT_EQ(ok(2, {"get", "after", "--print-value-only"}), "removal\n");
  const std::string two = ok(2, {"member", "list"});
  EXPECT_EQ(two.find("m1"), std::string::npos) << two;
  EXPECT_EQ(count_of_prefix(members_[1]->endpoint(), "w/"), writer.acknowledged());

  // The peers no longer admit m1, though it was the member they started knowing.
  auto maintenance = etcdserverpb::Maintenance::NewStub(
      grpc::CreateChannel(members_[1]->endpoint(), grpc::InsecureChannelCredentials()));
  etcdserverpb::StatusResponse status;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(maintenance->Status(&context, etcdserverpb::StatusRequest(), &status).ok());
  }
  auto peer = raftpb::RaftPeer::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(plan_[1].peer_port), grpc::InsecureChannelCredentials()));
  raftpb::ProposeRequest from_removed;
  from_removed.mutable_header()->set_cluster_id(status.header().cluster_id());
  from_removed.mutable_header()->set_from(std::stoull(first, nullptr, 16));
  from_removed.set_command("anything");
  from_removed.set_hops(1);
  raftpb::ProposeResponse proposed;
  grpc::Status refused;
  // The address book follows the applied records within a poll of the membership thread.
  for (int attempt = 0; attempt < 50; ++attempt) {
    grpc::ClientContext context;
    refused = peer->Propose(&context, from_removed, &proposed);
    if (refused.error_code() == grpc::StatusCode::PERMISSION_DENIED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED) << refused.error_message();
  EXPECT_NE(refused.error_message().find("is not a member"), std::string::npos)
      << refused.error_message();
}

TEST_F(Membership, GrowsFromOneMemberToThreeFromTheLeadersImageWhileAClientWrites) {
  grow_and_drop_the_first(/*from_image=*/true);
}

TEST_F(Membership, GrowsFromOneMemberToThreeReplayingTheWholeLogWhileAClientWrites) {
  grow_and_drop_the_first(/*from_image=*/false);
}

TEST_F(Membership, MemberCommandsAreRefusedWithEtcdsErrors) {
  ASSERT_NO_FATAL_FAILURE(start_first());
  ok(0, {"put", "some", "data"});
  EXPECT_NE(ok(0, {"member", "list"})
                .find(", started, m1, " + peer_url(0) + ", http://" + members_[0]->endpoint() +
                      ", false"),
            std::string::npos);

  CommandResult taken = etcdctl(0, {"member", "add", "x", "--peer-urls=" + peer_url(0)});
  EXPECT_NE(taken.err.find("etcdserver: Peer URLs already exists"), std::string::npos) << taken.err;
  // etcdctl itself refuses a URL without a port.
  CommandResult bad = etcdctl(0, {"member", "add", "x", "--peer-urls=http://127.0.0.1"});
  EXPECT_NE(bad.exit_code, 0);
  std::string many;
  for (int i = 0; i < 70; ++i)
    many += (i == 0 ? "" : ",") + ("http://10.0.0." + std::to_string(i) + ":2380");
  CommandResult too_many = etcdctl(0, {"member", "add", "x", "--peer-urls=" + many});
  EXPECT_NE(
      too_many.err.find(
          "code = InvalidArgument desc = etcdserver: kv: 70 peer URLs exceed the bound of 64"),
      std::string::npos)
      << too_many.err;

  const std::string learner =
      added_id(ok(0, {"member", "add", "m2", "--learner", "--peer-urls=" + peer_url(1)}));
  ASSERT_FALSE(learner.empty());
  CommandResult second =
      etcdctl(0, {"member", "add", "m3", "--learner", "--peer-urls=" + peer_url(2)});
  EXPECT_NE(second.err.find("etcdserver: too many learner members in cluster"), std::string::npos)
      << second.err;
  // Never started: its log is empty.
  CommandResult behind = etcdctl(0, {"member", "promote", learner});
  EXPECT_NE(
      behind.err.find("etcdserver: can only promote a learner member which is in sync with leader"),
      std::string::npos)
      << behind.err;
  const std::string first = id_of(0, "m1");
  CommandResult voter = etcdctl(0, {"member", "promote", first});
  EXPECT_NE(voter.err.find("etcdserver: can only promote a learner member"), std::string::npos)
      << voter.err;
  CommandResult unknown = etcdctl(0, {"member", "remove", "1234"});
  EXPECT_NE(unknown.err.find("etcdserver: member not found"), std::string::npos) << unknown.err;

  const std::string moved = "http://127.0.0.1:" + std::to_string(free_local_port());
  ok(0, {"member", "update", learner, "--peer-urls=" + moved});
  const std::string list = ok(0, {"member", "list"});
  EXPECT_NE(list.find(learner + ", unstarted, , " + moved + ", , true"), std::string::npos) << list;

  ok(0, {"member", "remove", learner});
  const std::string after = ok(0, {"member", "list"});
  EXPECT_EQ(after.find(learner), std::string::npos) << after;
  EXPECT_EQ(ok(0, {"get", "some", "--print-value-only"}), "data\n");
}

TEST_F(Membership, AMemberNotAddedFirstCannotJoin) {
  ASSERT_NO_FATAL_FAILURE(start_first());
  ASSERT_NO_FATAL_FAILURE(start_joining(1));
  EXPECT_EQ(members_[1]->wait_for_exit(seconds(20)), 1);
  EXPECT_NE(members_[1]->log().find("add this member first: etcdctl member add m2"),
            std::string::npos)
      << members_[1]->log();
  // Nothing was written that would make a later, proper join look like a restart.
  EXPECT_FALSE(std::filesystem::exists(dirs_[1] + "/server-ids"));
}

// etcdctl member update moves a member's peer URLs: the others reach it at the new address once
// it restarts there (on its data dir, which keeps its identity).
TEST_F(Membership, AMemberRestartedAtItsUpdatedPeerUrlIsReachedThere) {
  for (size_t i = 0; i < 3; ++i) {
    members_[i] = std::make_unique<ServerProcess>(plan_[i], dirs_[i]);
  }
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(members_[i]->wait_healthy()) << members_[i]->log();
  const std::string id = id_of(0, "m3");
  ASSERT_FALSE(id.empty());
  MemberFlags moved = plan_[2];
  moved.peer_port = free_local_port();
  const std::string moved_url = "http://127.0.0.1:" + std::to_string(moved.peer_port);
  // As an operator would, its flags name the new URL (the data dir's ids still rule).
  moved.initial_cluster = "m1=" + peer_url(0) + ",m2=" + peer_url(1) + ",m3=" + moved_url;
  ok(0, {"member", "update", id, "--peer-urls=" + moved_url});
  EXPECT_NE(ok(1, {"member", "list"}).find(", started, m3, " + moved_url + ","), std::string::npos);

  ASSERT_EQ(members_[2]->terminate(), 0);
  members_[2] = std::make_unique<ServerProcess>(moved, dirs_[2]);
  ASSERT_TRUE(members_[2]->wait_healthy()) << members_[2]->log();
  ok(0, {"put", "moved", "yes"});
  // A serializable read on m3 shows what it received from the leader at its new address.
  const auto give_up = std::chrono::steady_clock::now() + seconds(20);
  std::string value;
  while (std::chrono::steady_clock::now() < give_up) {
    value = ok(2, {"get", "moved", "--print-value-only", "--consistency=s"});
    if (value == "yes\n") break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(value, "yes\n");
}

// etcd answers `member add` (a voter) on a one-member cluster once the change is committed,
// though the new voter does not run yet and the cluster then has no quorum until it does: a
// single change takes one step (no joint configuration to leave), which the lone member
// commits by itself. The new member then starts, joins, and the two serve.
TEST_F(Membership, AVoterAddedToALoneMemberIsAnsweredAsEtcdDoes) {
  flags_.clear();
  ASSERT_NO_FATAL_FAILURE(start_first());
  ok(0, {"put", "before", "add"});
  const auto asked = std::chrono::steady_clock::now();
  const CommandResult added =
      etcdctl(0, {"member", "add", plan_[1].name, "--peer-urls=" + peer_url(1)});
  const auto answered_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - asked).count();
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_FALSE(added_id(added.out).empty()) << added.out;
  std::printf("member add (a voter) on a lone member answered in %lld ms\n",
              static_cast<long long>(answered_ms));
  ASSERT_NO_FATAL_FAILURE(start_joining(1));
  ASSERT_TRUE(members_[1]->wait_healthy()) << members_[1]->log();
  ASSERT_TRUE(members_[0]->wait_healthy()) << members_[0]->log();
  ok(1, {"put", "after", "add"});
  EXPECT_EQ(ok(0, {"get", "before", "--print-value-only"}), "add\n");
  EXPECT_EQ(ok(1, {"get", "after", "--print-value-only"}), "add\n");
  const std::string list = ok(1, {"member", "list"});
  EXPECT_NE(list.find(", started, " + plan_[1].name + ", " + peer_url(1)), std::string::npos)
      << list;
}

// Three to five processes of examples/embedded-node (C++ services on dengine::cluster): one
// grown to five while a client writes through it (learners, caught up from the leader's image,
// promoted), then two removed again, with no failed write; each process's member log reports
// every configuration it went through.
class EmbeddedMembership : public Membership {
 protected:
  EmbeddedMembership() {
    binary_ = DENGINE_EMBEDDED_NODE_PATH;
    for (MemberFlags& member : plan_) member.binary = binary_;
  }

  // The "voters: a,b,c" lines of member i's log, in order, each as a count of voters (a learner
  // added or removed logs the same voters again: counted once).
  std::vector<size_t> voter_counts(size_t i) const {
    std::vector<size_t> counts;
    const std::string log = members_[i]->log();
    const std::regex line("voters: ([0-9a-f,]+)");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
         ++it) {
      const std::string voters = (*it)[1];
      const auto count = static_cast<size_t>(std::count(voters.begin(), voters.end(), ',')) + 1;
      if (counts.empty() || counts.back() != count) counts.push_back(count);
    }
    return counts;
  }
};

TEST_F(EmbeddedMembership, GrowsFromOneProcessToFiveAndBackToThreeWhileAClientWrites) {
  ASSERT_NO_FATAL_FAILURE(start_first());
  for (int i = 0; i < 300; ++i) ok(0, {"put", "pre/" + std::to_string(i), "v"});
  Writer writer(members_[0]->endpoint());
  const auto started = std::chrono::steady_clock::now();
  for (size_t i = 1; i < 5; ++i) {
    const std::string added =
        ok(0, {"member", "add", plan_[i].name, "--learner", "--peer-urls=" + peer_url(i)});
    const std::string id = added_id(added);
    ASSERT_FALSE(id.empty()) << added;
    ASSERT_NO_FATAL_FAILURE(start_joining(i));
    ASSERT_NO_FATAL_FAILURE(promote_when_in_sync(0, id));
    ASSERT_TRUE(members_[i]->wait_healthy()) << members_[i]->log();
  }
  const auto grown = std::chrono::steady_clock::now();
  for (size_t i = 3; i < 5; ++i) {
    const std::string id = id_of(0, plan_[i].name);
    ASSERT_FALSE(id.empty());
    ok(0, {"member", "remove", id});
    EXPECT_EQ(members_[i]->wait_for_exit(seconds(20)), 0) << members_[i]->log();
  }
  writer.stop();
  std::printf(
      "grew 1 -> 5 in %lld ms and shrank to 3 while %d writes were acknowledged\n",
      static_cast<long long>(std::chrono::duration_cast<milliseconds>(grown - started).count()),
      writer.acknowledged());
  EXPECT_EQ(writer.failed(), 0) << writer.first_failure();
  EXPECT_GT(writer.acknowledged(), 0);
  EXPECT_NE(members_[0]->log().find("sent an image of the state to a follower"), std::string::npos)
      << members_[0]->log();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(count_of_prefix(members_[i]->endpoint(), "pre/"), 300) << "member " << i;
    EXPECT_EQ(count_of_prefix(members_[i]->endpoint(), "w/"), writer.acknowledged())
        << "member " << i;
    // The first saw every size from 1 to 5; each saw 5, and ended with 3.
    const std::vector<size_t> counts = voter_counts(i);
    ASSERT_FALSE(counts.empty()) << members_[i]->log();
    EXPECT_EQ(counts.back(), 3U) << members_[i]->log();
    EXPECT_NE(std::find(counts.begin(), counts.end(), 5U), counts.end()) << members_[i]->log();
  }
  const std::vector<size_t> first = voter_counts(0);
  EXPECT_EQ(first, (std::vector<size_t>{1, 2, 3, 4, 5, 4, 3})) << members_[0]->log();
}

}  // namespace
}  // namespace dengine::test
