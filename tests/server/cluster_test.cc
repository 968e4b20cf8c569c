// Three dengine-server processes (and, for the tests of ClusterOf, three embedded-node
// processes) on 127.0.0.1 form one cluster and are driven by Debian's etcdctl 3.4.23 through
// any member: writes and reads, txn, leases, watches and compaction
// through followers; etcdctl's lock and elect between contending processes; the leader killed
// with SIGKILL while etcdctl keeps writing; hostile bytes and foreign peers on the peer port.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
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

using Clock = std::chrono::steady_clock;

class Cluster : public ::testing::Test {
 protected:
  void SetUp() override {
    for (size_t i = 0; i < plan_.size(); ++i) start(i);
    for (size_t i = 0; i < plan_.size(); ++i) {
      ASSERT_TRUE(members_[i]->wait_healthy()) << "member " << i << ":\n" << members_[i]->log();
    }
  }

  void start(size_t i) {
    members_[i] = std::make_unique<ServerProcess>(plan_[i], data_dirs_[i], extra_flags_);
  }

  ServerProcess& member(size_t i) { return *members_[i]; }

  // etcdctl through member `i`, expecting success: its stdout.
  std::string ok(size_t i, const std::vector<std::string>& args, const std::string& input = "") {
    CommandResult result = member(i).etcdctl(args, input);
    EXPECT_EQ(result.exit_code, 0) << "etcdctl via member " << i << " failed: " << result.err;
    return result.out;
  }
  // etcdctl through member `i`, expecting failure: its stderr.
  std::string fails(size_t i, const std::vector<std::string>& args) {
    CommandResult result = member(i).etcdctl(args);
    EXPECT_NE(result.exit_code, 0) << "etcdctl via member " << i << " succeeded: " << result.out;
    return result.err;
  }

  // The member that leads now (asked of every running member), or -1.
  int leader() {
    for (size_t i = 0; i < members_.size(); ++i) {
      if (!members_[i] || !members_[i]->running()) continue;
      auto stub = etcdserverpb::Maintenance::NewStub(
          grpc::CreateChannel(members_[i]->endpoint(), grpc::InsecureChannelCredentials()));
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      etcdserverpb::StatusResponse status;
      if (!stub->Status(&context, etcdserverpb::StatusRequest(), &status).ok()) continue;
      if (status.leader() != 0 && status.leader() == status.header().member_id()) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  // The store revision now, from a read's header through member `i`.
  int64_t revision(size_t i) {
    const std::string fields = ok(i, {"get", "any", "-w", "fields"});
    std::smatch match;
    if (!std::regex_search(fields, match, std::regex("\"Revision\" : (\\d+)"))) return -1;
    return std::stoll(match[1]);
  }

  std::vector<std::string> extra_flags_;
  std::vector<MemberFlags> plan_ = plan_cluster(3);
  std::string root_ = fresh_test_dir();
  std::vector<std::string> data_dirs_ = {root_ + "/m1", root_ + "/m2", root_ + "/m3"};
  std::vector<std::unique_ptr<ServerProcess>> members_{3};
};

// The same tests against three dengine-server processes and against three embedded-node
// processes (examples/embedded-node: a C++ service on dengine::cluster serving etcd's API).
class ClusterOf : public Cluster, public ::testing::WithParamInterface<std::string> {
 protected:
  ClusterOf() {
    for (MemberFlags& member : plan_) member.binary = GetParam();
  }
};

INSTANTIATE_TEST_SUITE_P(Programs, ClusterOf,
                         ::testing::Values(std::string(DENGINE_SERVER_PATH),
                                           std::string(DENGINE_EMBEDDED_NODE_PATH)),
                         [](const ::testing::TestParamInfo<std::string>& program) {
                           return program.param == DENGINE_SERVER_PATH
                                      ? std::string("DengineServer")
                                      : std::string("EmbeddedNode");
                         });

TEST_P(ClusterOf, WritesThroughAnyMemberAreReadFromEveryMember) {
  EXPECT_EQ(ok(0, {"put", "fruit/apple", "red"}), "OK\n");
  EXPECT_EQ(ok(1, {"put", "fruit/banana", "yellow"}), "OK\n");
  EXPECT_EQ(ok(2, {"put", "fruit/cherry", "dark red"}), "OK\n");
  EXPECT_EQ(ok(2, {"put", "fruit/apple", "green"}), "OK\n");
  const std::string all = "fruit/apple\ngreen\nfruit/banana\nyellow\nfruit/cherry\ndark red\n";
  for (size_t i = 0; i < 3; ++i) {
    // Linearizable by default: every member sees every acknowledged write at once.
    EXPECT_EQ(ok(i, {"get", "fruit/", "--prefix"}), all) << "member " << i;
    EXPECT_EQ(
        ok(i, {"get", "fruit/", "--prefix", "--limit=1", "--sort-by=VALUE", "--order=DESCEND"}),
        "fruit/banana\nyellow\n");
    EXPECT_EQ(ok(i, {"get", "fruit/banana", "fruit/d", "--keys-only"}),
              "fruit/banana\n\nfruit/cherry\n\n");
  }
  // The first value of fruit/apple is still readable at its revision, from a follower.
  const int64_t now = revision(1);
  EXPECT_EQ(ok(1, {"get", "fruit/apple", "--rev=" + std::to_string(now - 3)}),
            "fruit/apple\nred\n");
  // Serializable reads are local: a follower catches up on its own.
  const auto give_up = Clock::now() + std::chrono::seconds(10);
  for (size_t i = 0; i < 3; ++i) {
    while (ok(i, {"get", "fruit/", "--prefix", "--consistency=s"}) != all &&
           Clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(ok(i, {"get", "fruit/", "--prefix", "--consistency=s"}), all) << "member " << i;
  }
  // Every member reports the same leader, and one of them is it.
  std::string all_endpoints;
  for (size_t i = 0; i < 3; ++i) all_endpoints += (i == 0 ? "" : ",") + member(i).endpoint();
  const CommandResult status = run_command(
      {"etcdctl", "--endpoints=" + all_endpoints, "endpoint", "status", "-w", "fields"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  std::regex leader_field("\"Leader\" : (\\d+)");
  std::set<std::string> leaders;
  for (auto it = std::sregex_iterator(status.out.begin(), status.out.end(), leader_field);
       it != std::sregex_iterator(); ++it) {
    leaders.insert((*it)[1]);
  }
  EXPECT_EQ(leaders.size(), 1U) << status.out;
  EXPECT_EQ(leaders.count("0"), 0U) << status.out;
  const CommandResult health =
      run_command({"etcdctl", "--endpoints=" + all_endpoints, "endpoint", "health"});
  EXPECT_EQ(health.exit_code, 0) << health.err;

  EXPECT_EQ(ok(1, {"del", "fruit/", "--prefix", "--prev-kv"}),
            "3\nfruit/apple\ngreen\nfruit/banana\nyellow\nfruit/cherry\ndark red\n");
  EXPECT_EQ(ok(2, {"get", "fruit/", "--prefix"}), "");
}

TEST_F(Cluster, TxnLeasesWatchesAndCompactionWorkThroughFollowers) {
  const int lead = leader();
  ASSERT_GE(lead, 0);
  const size_t a = (static_cast<size_t>(lead) + 1) % 3;
  const size_t b = (static_cast<size_t>(lead) + 2) % 3;

  // A follower answers a write once it applied it itself: a serializable (local) read right
  // after it sees the write, as in etcd.
  for (int i = 0; i < 20; ++i) {
    ok(a, {"put", "mine", std::to_string(i)});
    EXPECT_EQ(ok(a, {"get", "mine", "--consistency=s", "--print-value-only"}),
              std::to_string(i) + "\n");
  }

  // A txn in interactive mode through a follower.
  ok(a, {"put", "door", "closed"});
  const std::string prompts =
      "compares:\nsuccess requests (get, put, del):\n"
      "failure requests (get, put, del):\n";
  EXPECT_EQ(ok(a, {"txn", "-i"}, "value(\"door\") = \"closed\"\n\nput door open\n\nget door\n\n"),
            prompts + "SUCCESS\n\nOK\n");
  EXPECT_EQ(ok(b, {"get", "door"}), "door\nopen\n");

  // A lease granted through one follower, used through the other, renewed and revoked.
  const std::string granted = ok(a, {"lease", "grant", "30"});
  std::smatch match;
  ASSERT_TRUE(std::regex_search(granted, match, std::regex("lease ([0-9a-f]+) granted")));
  const std::string lease = match[1];
  ok(b, {"put", "session/a", "here", "--lease=" + lease});
  EXPECT_NE(ok(static_cast<size_t>(lead), {"lease", "timetolive", lease, "--keys"})
                .find("attached keys([session/a])"),
            std::string::npos);
  EXPECT_EQ(ok(b, {"lease", "keep-alive", "--once", lease}),
            "lease " + lease + " keepalived with TTL(30)\n");
  EXPECT_NE(ok(a, {"lease", "list"}).find(lease), std::string::npos);
  EXPECT_EQ(ok(a, {"lease", "revoke", lease}), "lease " + lease + " revoked\n");
  EXPECT_EQ(ok(b, {"get", "session/a"}), "");

  // A key goes when its lease expires, with nobody renewing it through any member.
  const std::string short_lease_text = ok(b, {"lease", "grant", "2"});
  ASSERT_TRUE(std::regex_search(short_lease_text, match, std::regex("lease ([0-9a-f]+) granted")));
  ok(a, {"put", "ephemeral", "soon gone", "--lease=" + match[1].str()});
  const auto give_up = Clock::now() + std::chrono::seconds(20);
  while (!ok(b, {"get", "ephemeral"}).empty() && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(ok(b, {"get", "ephemeral"}), "");

  // A watch on one follower replays, with previous values, what the other follower wrote.
  const int64_t start = revision(a) + 1;
  ok(a, {"put", "w/x", "1"});
  ok(a, {"put", "w/x", "2"});
  ok(a, {"del", "w/x"});
  const CommandResult watched = member(b).etcdctl_until(
      {"watch", "w/", "--prefix", "--prev-kv", "--rev=" + std::to_string(start)}, "DELETE");
  EXPECT_NE(watched.out.find("PUT\nw/x\n1\nPUT\nw/x\n1\nw/x\n2\nDELETE"), std::string::npos)
      << watched.out;

  // Compaction through a follower; the other refuses the compacted revision as etcd does.
  const int64_t now = revision(a);
  EXPECT_EQ(ok(a, {"compact", std::to_string(now)}),
            "compacted revision " + std::to_string(now) + "\n");
  EXPECT_NE(fails(b, {"get", "door", "--rev=2"})
                .find("etcdserver: mvcc: required revision has been compacted"),
            std::string::npos);
  const CommandResult compacted =
      member(b).etcdctl_until({"watch", "door", "--rev=2"}, "compacted", std::chrono::seconds(10));
  EXPECT_NE((compacted.out + compacted.err).find("required revision has been compacted"),
            std::string::npos)
      << compacted.out << compacted.err;
}

TEST_P(ClusterOf, EtcdctlLockExcludesAndElectHandsOverBetweenProcessesOnDifferentMembers) {
  // Two lock holders on different members, each logging its critical section: the sections
  // never overlap.
  const std::string log = root_ + "/sections.log";
  auto hold = [&](size_t i) {
    return member(i).etcdctl({"lock", "the-lock", "--", "sh", "-c",
                              "echo start >> " + log + "; sleep 0.5; echo end >> " + log});
  };
  CommandResult first, second;
  std::thread one([&] { first = hold(0); });
  std::thread two([&] { second = hold(2); });
  one.join();
  two.join();
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(second.exit_code, 0) << second.err;
  std::FILE* sections = std::fopen(log.c_str(), "r");
  ASSERT_NE(sections, nullptr);
  char line[64];
  std::string order;
  while (std::fgets(line, sizeof(line), sections) != nullptr) order += line;
  std::fclose(sections);
  EXPECT_EQ(order, "start\nend\nstart\nend\n");

  // The first candidate leads until interrupted (etcdctl then resigns); a second one, waiting
  // on another member meanwhile, leads only after that, and announces its own proposal.
  CommandResult alice, bob;
  // `timeout` interrupts alice 3 s after this, at the earliest; only then may bob lead. (Not
  // when alice's process is seen to exit: it resigns a moment before it exits.)
  const Clock::time_point alice_interrupted = Clock::now() + std::chrono::seconds(3);
  std::thread first_candidate([&] {
    alice = run_command({"timeout", "-s", "INT", "3", "etcdctl",
                         "--endpoints=" + member(0).endpoint(), "elect", "the-election", "alice"},
                        "", std::chrono::seconds(20));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  bob = member(1).etcdctl_until({"elect", "the-election", "bob"}, "bob", std::chrono::seconds(30));
  const Clock::time_point bob_elected = Clock::now();
  first_candidate.join();
  EXPECT_NE(alice.out.find("the-election/"), std::string::npos) << alice.out << alice.err;
  EXPECT_NE(alice.out.find("alice"), std::string::npos) << alice.out << alice.err;
  EXPECT_NE(bob.out.find("bob"), std::string::npos) << bob.out << bob.err;
  EXPECT_GE(bob_elected, alice_interrupted) << "two leaders of one election at once";
}

TEST_P(ClusterOf, WritesResumeAfterTheLeaderIsKilledAndNoAcknowledgedWriteIsLost) {
  const int killed = leader();
  ASSERT_GE(killed, 0);
  std::string all_endpoints;
  for (size_t i = 0; i < 3; ++i) {
    all_endpoints += (i == 0 ? "" : ",") + member(i).endpoint();
  }
  // One etcdctl process per write, as a shell script would, against every member.
  std::mutex mutex;
  std::vector<int> acknowledged;
  std::vector<Clock::time_point> acknowledged_at;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      const CommandResult put =
          run_command({"etcdctl", "--endpoints=" + all_endpoints, "--command-timeout=2s", "put",
                       "acked/" + std::to_string(i), "value-" + std::to_string(i)},
                      "", std::chrono::seconds(10));
      if (put.exit_code == 0) {
        std::lock_guard lock(mutex);
        acknowledged.push_back(i);
        acknowledged_at.push_back(Clock::now());
      }
    }
  });
  auto count = [&] {
    std::lock_guard lock(mutex);
    return acknowledged.size();
  };
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  while (count() < 20 && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const Clock::time_point kill_time = Clock::now();
  member(static_cast<size_t>(killed)).kill_hard();
  const size_t before_kill = count();
  while (count() < before_kill + 20 && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  writer.join();
  ASSERT_GE(acknowledged.size(), before_kill + 20) << "writes did not resume after the kill";

  // Unavailable: from the kill to the first write acknowledged after it.
  const auto resumed = *std::find_if(acknowledged_at.begin(), acknowledged_at.end(),
                                     [&](Clock::time_point at) { return at > kill_time; });
  const auto unavailable_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(resumed - kill_time).count();
  std::printf("writes were unavailable for %lld ms after the leader was killed\n",
              static_cast<long long>(unavailable_ms));
  RecordProperty("unavailable_ms", std::to_string(unavailable_ms));

  auto read_all_from = [&](size_t i) {
    for (const int key : acknowledged) {
      const std::string value =
          ok(i, {"get", "acked/" + std::to_string(key), "--print-value-only"});
      ASSERT_EQ(value, "value-" + std::to_string(key) + "\n")
          << "acknowledged write " << key << " read from member " << i;
    }
  };
  read_all_from((static_cast<size_t>(killed) + 1) % 3);
  // The killed member comes back on its data dir, catches up, and has every write too.
  start(static_cast<size_t>(killed));
  ASSERT_TRUE(member(static_cast<size_t>(killed)).wait_healthy())
      << member(static_cast<size_t>(killed)).log();
  read_all_from(static_cast<size_t>(killed));
}

// etcdctl puts through every member, one process per write as a shell script would, until
// stopped; which writes were acknowledged, and when.
class EtcdctlWriter {
 public:
  EtcdctlWriter(std::string endpoints, std::string prefix)
      : endpoints_(std::move(endpoints)), prefix_(std::move(prefix)), thread_([this] { run(); }) {}
  ~EtcdctlWriter() { stop(); }

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t count() const {
    std::lock_guard lock(mutex_);
    return acknowledged_.size();
  }
  // Waits until `n` writes are acknowledged, or `deadline`.
  void wait_for(size_t n, Clock::time_point deadline) const {
    while (count() < n && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // Once stopped.
  const std::vector<int>& acknowledged() const { return acknowledged_; }
  const std::vector<Clock::time_point>& acknowledged_at() const { return acknowledged_at_; }

 private:
  void run() {
    for (int i = 0; !stopping_.load(); ++i) {
      const CommandResult put =
          run_command({"etcdctl", "--endpoints=" + endpoints_, "--command-timeout=2s", "put",
                       prefix_ + std::to_string(i), "value-" + std::to_string(i)},
                      "", std::chrono::seconds(10));
      if (put.exit_code == 0) {
        std::lock_guard lock(mutex_);
        acknowledged_.push_back(i);
        acknowledged_at_.push_back(Clock::now());
      }
    }
  }

  const std::string endpoints_;
  const std::string prefix_;
  mutable std::mutex mutex_;
  std::vector<int> acknowledged_;
  std::vector<Clock::time_point> acknowledged_at_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// A watch on a follower runs through the leader's SIGKILL: every acknowledged write arrives
// once, in order, and nothing arrives twice.
TEST_P(ClusterOf, AWatchOnAFollowerSeesEveryWriteOnceThroughALeaderKill) {
  const int killed = leader();
  ASSERT_GE(killed, 0);
  const size_t watcher = (static_cast<size_t>(killed) + 1) % 3;
  std::string all_endpoints;
  for (size_t i = 0; i < 3; ++i) all_endpoints += (i == 0 ? "" : ",") + member(i).endpoint();
  CommandResult watched;
  std::thread watch([&] {
    watched = member(watcher).etcdctl_until({"watch", "w/", "--prefix"}, "w/end\n",
                                            std::chrono::seconds(90));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the watch is open
  EtcdctlWriter writer(all_endpoints, "w/");
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  writer.wait_for(15, give_up);
  member(static_cast<size_t>(killed)).kill_hard();
  const size_t before_kill = writer.count();
  writer.wait_for(before_kill + 15, give_up);
  writer.stop();
  ASSERT_GE(writer.acknowledged().size(), before_kill + 15) << "writes did not resume";
  EXPECT_EQ(ok(watcher, {"put", "w/end", "end"}), "OK\n");
  watch.join();

  // etcdctl prints each event as PUT, key, value.
  std::vector<int> seen;
  std::istringstream lines(watched.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("w/", 0) != 0 || line == "w/end") continue;
    seen.push_back(std::stoi(line.substr(2)));
  }
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << watched.out;
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "a duplicate event";
  for (const int key : writer.acknowledged()) {
    EXPECT_TRUE(std::binary_search(seen.begin(), seen.end(), key))
        << "acknowledged write w/" << key << " never reached the watch";
  }
  std::printf("the watch saw %zu events (%zu acknowledged writes)\n", seen.size(),
              writer.acknowledged().size());
}

// A lease granted on the leader, whose keep-alives stop with it: after the leader's SIGKILL
// the new leader still expires it, and its key goes.
TEST_P(ClusterOf, ALeaseExpiresAcrossALeaderChange) {
  const int killed = leader();
  ASSERT_GE(killed, 0);
  const size_t survivor = (static_cast<size_t>(killed) + 1) % 3;
  const std::string granted = ok(static_cast<size_t>(killed), {"lease", "grant", "3"});
  std::smatch match;
  ASSERT_TRUE(std::regex_search(granted, match, std::regex("lease ([0-9a-f]+) granted")))
      << granted;
  const std::string lease = match[1];
  EXPECT_EQ(ok(static_cast<size_t>(killed), {"put", "ephemeral", "here", "--lease=" + lease}),
            "OK\n");
  const Clock::time_point granted_at = Clock::now();
  member(static_cast<size_t>(killed)).kill_hard();
  const auto give_up = granted_at + std::chrono::seconds(30);
  std::string value = "here\n";
  while (!value.empty() && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const CommandResult get = member(survivor).etcdctl({"get", "ephemeral", "--print-value-only"});
    if (get.exit_code == 0) value = get.out;
  }
  EXPECT_EQ(value, "") << "the key outlived its lease across the leader change";
  const auto gone_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - granted_at).count();
  EXPECT_GE(gone_ms, 2'500) << "the lease expired before its TTL";
  std::printf("a 3 s lease expired %lld ms after it was granted, across a leader change\n",
              static_cast<long long>(gone_ms));
}

// etcdctl lock holders on different members: the first is killed with SIGKILL while it holds
// the lock; the second, waiting meanwhile, gets it only once the first's session lease expired.
TEST_P(ClusterOf, ALockHolderKilledHoldingTheLockLosesItOnlyWhenItsSessionExpires) {
  CommandResult first;
  Clock::time_point first_killed;
  std::thread holder([&] {
    // Killed by run_command after 4 s, holding the lock (a session TTL of 3 s).
    first = run_command(
        {"etcdctl", "--endpoints=" + member(0).endpoint(), "lock", "--ttl=3", "the-lock"}, "",
        std::chrono::seconds(4));
    first_killed = Clock::now();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const CommandResult second =
      member(2).etcdctl({"lock", "--ttl=3", "the-lock", "--", "echo", "second holds it"});
  const Clock::time_point second_held = Clock::now();
  holder.join();
  EXPECT_NE(first.out.find("the-lock/"), std::string::npos) << first.out << first.err;
  EXPECT_EQ(first.exit_code, -1) << "the first holder was not killed";
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("second holds it"), std::string::npos) << second.out;
  EXPECT_GT(second_held, first_killed) << "two holders of one lock at once";
  std::printf("the second holder got the lock %lld ms after the first was killed\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(second_held - first_killed)
                      .count()));
}

TEST_P(ClusterOf, AGracefullyStoppedLeaderHandsOverBeforeItGoes) {
  const int old_leader = leader();
  ASSERT_GE(old_leader, 0);
  EXPECT_EQ(member(static_cast<size_t>(old_leader)).terminate(), 0);
  // Another member leads the moment the old one is gone: nobody waits out an election timeout.
  const int new_leader = leader();
  EXPECT_GE(new_leader, 0);
  EXPECT_NE(new_leader, old_leader);
  const size_t survivor = (static_cast<size_t>(old_leader) + 1) % 3;
  EXPECT_EQ(ok(survivor, {"put", "after", "handover"}), "OK\n");
}

TEST_F(Cluster, EtcdctlMoveLeaderHandsLeadershipToTheMemberNamed) {
  const int old_leader = leader();
  ASSERT_GE(old_leader, 0);
  const size_t target = (static_cast<size_t>(old_leader) + 2) % 3;
  // The target's id, as etcdctl prints it.
  const std::string listed = ok(target, {"endpoint", "status", "-w", "fields"});
  std::smatch match;
  ASSERT_TRUE(std::regex_search(listed, match, std::regex("\"MemberID\" : (\\d+)"))) << listed;
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%llx", std::stoull(match[1]));
  std::string all_endpoints;
  for (size_t i = 0; i < 3; ++i) all_endpoints += (i == 0 ? "" : ",") + member(i).endpoint();
  const CommandResult moved =
      run_command({"etcdctl", "--endpoints=" + all_endpoints, "move-leader", hex});
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_NE(moved.out.find(std::string("Leadership transferred from ")), std::string::npos)
      << moved.out;
  EXPECT_NE(moved.out.find(std::string(" to ") + hex), std::string::npos) << moved.out;
  EXPECT_EQ(leader(), static_cast<int>(target));
  EXPECT_EQ(ok(target, {"put", "moved", "yes"}), "OK\n");

  // Asked of a follower, or for a node that is no member, etcd's errors.
  auto maintenance = etcdserverpb::Maintenance::NewStub(
      grpc::CreateChannel(member((target + 1) % 3).endpoint(), grpc::InsecureChannelCredentials()));
  etcdserverpb::MoveLeaderRequest request;
  request.set_targetid(std::stoull(match[1]));
  etcdserverpb::MoveLeaderResponse response;
  {
    grpc::ClientContext context;
    const grpc::Status refused = maintenance->MoveLeader(&context, request, &response);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(refused.error_message(), "etcdserver: not leader");
  }
  auto at_leader = etcdserverpb::Maintenance::NewStub(
      grpc::CreateChannel(member(target).endpoint(), grpc::InsecureChannelCredentials()));
  request.set_targetid(12345);
  {
    grpc::ClientContext context;
    const grpc::Status refused = at_leader->MoveLeader(&context, request, &response);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(refused.error_message(), "etcdserver: bad leader transferee");
  }
}

TEST_F(Cluster, EndpointHashkvIsEqualOnEveryMemberAfterAWriteLoad) {
  std::string all_endpoints;
  for (size_t i = 0; i < 3; ++i) all_endpoints += (i == 0 ? "" : ",") + member(i).endpoint();
  // The hash each member reports, as etcdctl prints it ("endpoint, hash" per line).
  auto hashes = [&](const std::string& extra) {
    std::vector<std::string> args = {"etcdctl", "--endpoints=" + all_endpoints, "endpoint",
                                     "hashkv"};
    if (!extra.empty()) args.push_back(extra);
    const CommandResult listed = run_command(args);
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    std::set<std::string> distinct;
    std::regex line("[0-9.:]+, (\\d+)");
    for (auto it = std::sregex_iterator(listed.out.begin(), listed.out.end(), line);
         it != std::sregex_iterator(); ++it) {
      distinct.insert((*it)[1]);
    }
    EXPECT_EQ(listed.out.find("127.0.0.1"), 0U) << listed.out;
    return distinct;
  };
  for (int i = 0; i < 30; ++i) {
    ok(static_cast<size_t>(i % 3), {"put", "load/" + std::to_string(i % 7), std::to_string(i)});
  }
  ok(1, {"del", "load/3"});
  const int64_t middle = revision(0);
  ok(2, {"compact", std::to_string(middle - 10)});
  for (int i = 0; i < 10; ++i) ok(0, {"put", "load/late", std::to_string(i)});
  // Every member applies at its own pace: a serializable hash may lag, so ask until they agree.
  std::set<std::string> now;
  const auto give_up = Clock::now() + std::chrono::seconds(10);
  do {
    now = hashes("");
  } while (now.size() != 1 && Clock::now() < give_up);
  EXPECT_EQ(now.size(), 1U) << "members disagree on the history";
  const std::set<std::string> earlier = hashes("--rev=" + std::to_string(middle));
  EXPECT_EQ(earlier.size(), 1U);
  EXPECT_NE(earlier, now) << "the hash ignored the later writes";
  ok(0, {"put", "load/one-more", "x"});
  std::set<std::string> after;
  do {
    after = hashes("");
  } while (after.size() != 1 && Clock::now() < give_up + std::chrono::seconds(10));
  EXPECT_NE(after, now);
}

TEST_F(Cluster, EtcdctlDefragRewritesEveryMembersStoreAndLosesNothing) {
  const std::string value(4000, 'd');
  for (int i = 0; i < 200; ++i) ok(0, {"put", "churn/" + std::to_string(i % 10), value});
  ok(1, {"compact", std::to_string(revision(1))});
  std::string all_endpoints;
  for (size_t i = 0; i < 3; ++i) all_endpoints += (i == 0 ? "" : ",") + member(i).endpoint();
  const CommandResult defragmented =
      run_command({"etcdctl", "--endpoints=" + all_endpoints, "defrag"});
  ASSERT_EQ(defragmented.exit_code, 0) << defragmented.err;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NE(
        defragmented.out.find("Finished defragmenting etcd member[" + member(i).endpoint() + "]"),
        std::string::npos)
        << defragmented.out;
    EXPECT_EQ(ok(i, {"get", "churn/", "--prefix", "--keys-only", "--consistency=s"}).size(),
              std::string("churn/0\n\n").size() * 10);
  }
  EXPECT_EQ(ok(2, {"put", "after-defrag", "fine"}), "OK\n");
}

TEST_F(Cluster, HostileBytesAndForeignPeersOnThePeerPortLeaveTheClusterServing) {
  for (const MemberFlags& flags : plan_) {
    for (const std::string& garbage :
         {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), std::string(4096, '\xff'),
          std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string(64, '\0')}) {
      EXPECT_TRUE(send_raw_bytes(flags.peer_port, garbage));
      EXPECT_TRUE(send_raw_bytes(flags.client_port, garbage));
    }
  }
  const int lead = leader();
  ASSERT_GE(lead, 0);
  auto peer = raftpb::RaftPeer::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(plan_[static_cast<size_t>(lead)].peer_port),
                          grpc::InsecureChannelCredentials()));

  // A write from a node of another cluster, and one from a node that is no member.
  raftpb::ProposeRequest foreign;
  foreign.mutable_header()->set_cluster_id(0x1234);
  foreign.mutable_header()->set_from(1);
  foreign.set_command("anything");
  raftpb::ProposeResponse response;
  {
    grpc::ClientContext context;
    const grpc::Status refused = peer->Propose(&context, foreign, &response);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_NE(refused.error_message().find("from cluster 1234"), std::string::npos)
        << refused.error_message();
  }
  // A batch of Raft messages from another cluster is refused too, before any is stepped.
  {
    grpc::ClientContext context;
    raftpb::DeliverResponse delivered;
    auto stream = peer->Deliver(&context, &delivered);
    raftpb::MessageBatch batch;
    batch.set_cluster_id(0x1234);
    batch.set_from(1);
    batch.add_messages()->set_term(1'000'000);
    (void)stream->Write(batch);
    (void)stream->WritesDone();
    const grpc::Status refused = stream->Finish();
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(ok(0, {"put", "still", "serving"}), "OK\n");
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(ok(i, {"get", "still"}), "still\nserving\n");
  EXPECT_EQ(leader(), lead) << "a foreign term must not have disturbed the leader";
}

// Members that compact their logs often, keeping only a few entries behind each image.
class CompactingCluster : public Cluster {
 protected:
  void SetUp() override {
    extra_flags_ = {"--snapshot-count=20", "--experimental-snapshot-catchup-entries=5"};
    Cluster::SetUp();
  }
};

TEST_F(CompactingCluster, AMemberBackFromDowntimeCatchesUpFromTheLeadersImage) {
  const int lead = leader();
  ASSERT_GE(lead, 0);
  const size_t away = (static_cast<size_t>(lead) + 1) % 3;
  EXPECT_EQ(member(away).terminate(), 0);
  // Far more than the 5 entries the others keep behind their images: the log that the
  // returning member misses is gone, and only an image can bring it up to date.
  for (int i = 0; i < 120; ++i) {
    ok(static_cast<size_t>(lead), {"put", "while-away/" + std::to_string(i), std::to_string(i)});
  }
  start(away);
  ASSERT_TRUE(member(away).wait_healthy()) << member(away).log();
  EXPECT_EQ(ok(away, {"get", "while-away/119", "--print-value-only"}), "119\n");
  const std::string count =
      ok(away, {"get", "while-away/", "--prefix", "--keys-only", "--consistency=s"});
  size_t keys = 0;
  for (size_t at = count.find("while-away/"); at != std::string::npos;
       at = count.find("while-away/", at + 1)) {
    ++keys;
  }
  EXPECT_EQ(keys, 120U);
  // And it takes part again: a write through it is read back from the others.
  EXPECT_EQ(ok(away, {"put", "back", "again"}), "OK\n");
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(ok(i, {"get", "back", "--print-value-only"}), "again\n");
}

}  // namespace
}  // namespace dengine::test
