// etcd's v3lock and v3election gRPC services, driven by a C++ gRPC client against real
// dengine-server processes: holders contending for a lock never overlap and each later holder's
// key has a larger revision (a fencing token); a holder whose lease is not kept alive loses the
// lock after its TTL; a waiter that gives up leaves nothing behind; Campaign, Leader, Proclaim
// and Resign hand leadership over as etcd's do and Observe reports every leader in order; a
// server stop ends the calls that wait; and all of it through the followers of a cluster.

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "etcd/v3electionpb/v3election.grpc.pb.h"
#include "etcd/v3lockpb/v3lock.grpc.pb.h"
#include "tests/server/server_process.h"
#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

using Clock = std::chrono::steady_clock;
using v3electionpb::LeaderKey;
using v3electionpb::LeaderResponse;

// How long any call of these tests may take before it counts as hung.
constexpr auto kCallDeadline = std::chrono::seconds(30);

void limit(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
}

// etcd names a lease's key in a lock or an election after the lease: %x.
std::string hex(int64_t lease) {
  char digits[24];
  const auto written = std::to_chars(std::begin(digits), std::end(digits), lease, 16);
  return {std::begin(digits), written.ptr};
}

// Polls `done` until it holds or `timeout` passes; whether it held.
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto give_up = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// A gRPC client of one member. Failures of the plain KV and Lease calls fail the test.
class Client {
 public:
  explicit Client(const std::string& endpoint)
      : channel_(grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials())),
        kv_(etcdserverpb::KV::NewStub(channel_)),
        leases_(etcdserverpb::Lease::NewStub(channel_)),
        locks_(v3lockpb::Lock::NewStub(channel_)),
        elections_(v3electionpb::Election::NewStub(channel_)) {}

  int64_t grant(int64_t ttl_seconds) {
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(ttl_seconds);
    etcdserverpb::LeaseGrantResponse response;
    grpc::ClientContext context;
    limit(context);
    const grpc::Status status = leases_->LeaseGrant(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.id();
  }
  // The lease's remaining TTL: -1 once it is gone.
  int64_t time_to_live(int64_t lease) {
    etcdserverpb::LeaseTimeToLiveRequest request;
    request.set_id(lease);
    etcdserverpb::LeaseTimeToLiveResponse response;
    grpc::ClientContext context;
    limit(context);
    const grpc::Status status = leases_->LeaseTimeToLive(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.ttl();
  }

  void put(const std::string& key, const std::string& value) {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    grpc::ClientContext context;
    limit(context);
    const grpc::Status status = kv_->Put(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  // The keys under `prefix` (or the key itself with an empty prefix end), oldest first, as
  // they were at `revision` (0: now).
  std::vector<mvccpb::KeyValue> range(const std::string& key, bool prefix, int64_t revision = 0) {
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    if (prefix) {
      std::string end = key;
      end.back() = static_cast<char>(end.back() + 1);
      request.set_range_end(end);
    }
    request.set_revision(revision);
    request.set_sort_target(etcdserverpb::RangeRequest::CREATE);
    request.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
    etcdserverpb::RangeResponse response;
    grpc::ClientContext context;
    limit(context);
    const grpc::Status status = kv_->Range(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.kvs().begin(), response.kvs().end()};
  }
  std::vector<std::string> keys_under(const std::string& prefix) {
    std::vector<std::string> keys;
    for (const mvccpb::KeyValue& kv : range(prefix, true)) keys.push_back(kv.key());
    return keys;
  }
  // The key's create revision: the fencing token of the lock it names. 0 when it is gone.
  int64_t create_revision(const std::string& key) {
    const std::vector<mvccpb::KeyValue> found = range(key, false);
    return found.empty() ? 0 : found.front().create_revision();
  }

  // `context` (when given) lets another thread cancel the call.
  grpc::Status lock(const std::string& name, int64_t lease, v3lockpb::LockResponse* response,
                    grpc::ClientContext* context = nullptr) {
    v3lockpb::LockRequest request;
    request.set_name(name);
    request.set_lease(lease);
    grpc::ClientContext own;
    if (context == nullptr) context = &own;
    limit(*context);
    return locks_->Lock(context, request, response);
  }
  grpc::Status unlock(const std::string& key) {
    v3lockpb::UnlockRequest request;
    request.set_key(key);
    v3lockpb::UnlockResponse response;
    grpc::ClientContext context;
    limit(context);
    return locks_->Unlock(&context, request, &response);
  }

  grpc::Status campaign(const std::string& name, int64_t lease, const std::string& value,
                        LeaderKey* leader) {
    v3electionpb::CampaignRequest request;
    request.set_name(name);
    request.set_lease(lease);
    request.set_value(value);
    v3electionpb::CampaignResponse response;
    grpc::ClientContext context;
    limit(context);
    const grpc::Status status = elections_->Campaign(&context, request, &response);
    *leader = response.leader();
    return status;
  }
  grpc::Status proclaim(const LeaderKey& leader, const std::string& value) {
    v3electionpb::ProclaimRequest request;
    *request.mutable_leader() = leader;
    request.set_value(value);
    v3electionpb::ProclaimResponse response;
    grpc::ClientContext context;
    limit(context);
    return elections_->Proclaim(&context, request, &response);
  }
  grpc::Status leader(const std::string& name, LeaderResponse* response) {
    v3electionpb::LeaderRequest request;
    request.set_name(name);
    grpc::ClientContext context;
    limit(context);
    return elections_->Leader(&context, request, response);
  }
  grpc::Status resign(const LeaderKey& leader) {
    v3electionpb::ResignRequest request;
    *request.mutable_leader() = leader;
    v3electionpb::ResignResponse response;
    grpc::ClientContext context;
    limit(context);
    return elections_->Resign(&context, request, &response);
  }
  std::unique_ptr<grpc::ClientReader<LeaderResponse>> observe(const std::string& name,
                                                              grpc::ClientContext* context) {
    v3electionpb::LeaderRequest request;
    request.set_name(name);
    limit(*context);
    return elections_->Observe(context, request);
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> leases_;
  std::unique_ptr<v3lockpb::Lock::Stub> locks_;
  std::unique_ptr<v3electionpb::Election::Stub> elections_;
};

// The value of the next leader an Observe stream reports, with its header's revision.
struct Observed {
  std::string value;
  int64_t revision = 0;
};
std::optional<Observed> next_leader(grpc::ClientReader<LeaderResponse>& stream) {
  LeaderResponse response;
  if (!stream.Read(&response)) return std::nullopt;
  return Observed{.value = response.kv().value(), .revision = response.header().revision()};
}

class OneServer : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.started()) << "dengine-server did not start:\n" << server_.log();
  }

  ServerProcess server_{fresh_test_dir() + "/data"};
  Client client_{server_.endpoint()};
};

using LockService = OneServer;
using ElectionService = OneServer;

TEST_F(LockService, ContendingHoldersEnterOneAtATimeWithIncreasingFencingRevisions) {
  constexpr int kHolders = 4;
  constexpr int kRounds = 3;
  client_.put("counter", "0");
  std::mutex mutex;
  std::vector<std::pair<int, bool>> sections;  // (holder, entered), in the order they happened
  std::vector<int64_t> fencing;                // each holder's key revision, in entry order

  std::vector<std::thread> holders;
  for (int holder = 0; holder < kHolders; ++holder) {
    holders.emplace_back([&, holder] {
      Client client(server_.endpoint());
      const int64_t lease = client.grant(60);
      for (int round = 0; round < kRounds; ++round) {
        v3lockpb::LockResponse held;
        const grpc::Status locked = client.lock("contended", lease, &held);
        ASSERT_TRUE(locked.ok()) << locked.error_message();
        EXPECT_EQ(held.key(), "contended/" + hex(lease));
        const int64_t token = client.create_revision(held.key());
        {
          std::lock_guard lock(mutex);
          sections.emplace_back(holder, true);
          fencing.push_back(token);
        }
        // A read-modify-write that loses an update whenever two holders interleave.
        const std::vector<mvccpb::KeyValue> counter = client.range("counter", false);
        ASSERT_EQ(counter.size(), 1U);
        client.put("counter", std::to_string(std::stoi(counter.front().value()) + 1));
        {
          std::lock_guard lock(mutex);
          sections.emplace_back(holder, false);
        }
        const grpc::Status unlocked = client.unlock(held.key());
        EXPECT_TRUE(unlocked.ok()) << unlocked.error_message();
      }
    });
  }
  for (std::thread& holder : holders) holder.join();

  EXPECT_EQ(client_.range("counter", false).front().value(), std::to_string(kHolders * kRounds));
  ASSERT_EQ(sections.size(), 2U * kHolders * kRounds);
  for (size_t i = 0; i < sections.size(); i += 2) {
    EXPECT_TRUE(sections[i].second) << "section " << i / 2 << " began with an exit";
    EXPECT_FALSE(sections[i + 1].second) << "holder " << sections[i + 1].first << " entered "
                                         << "while holder " << sections[i].first << " held it";
    EXPECT_EQ(sections[i].first, sections[i + 1].first);
  }
  for (size_t i = 1; i < fencing.size(); ++i) {
    EXPECT_LT(fencing[i - 1], fencing[i]) << "holder " << i << " got an older fencing token";
  }
  EXPECT_TRUE(client_.keys_under("contended/").empty());
}

TEST_F(LockService, AHolderWhoseLeaseExpiresLosesTheLockToTheNextWaiter) {
  // Nobody keeps the first lease alive: the engine's minimum TTL, 2 s.
  const int64_t forgotten = client_.grant(2);
  const int64_t kept = client_.grant(60);
  v3lockpb::LockResponse first;
  const grpc::Status locked = client_.lock("expiring", forgotten, &first);
  ASSERT_TRUE(locked.ok()) << locked.error_message();
  const int64_t first_token = client_.create_revision(first.key());

  const auto waiting_since = Clock::now();
  v3lockpb::LockResponse next;
  const grpc::Status relocked = client_.lock("expiring", kept, &next);
  const auto waited = Clock::now() - waiting_since;
  ASSERT_TRUE(relocked.ok()) << relocked.error_message();
  std::printf("the next waiter got the lock %lld ms after it asked\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()));

  // It was answered only once the first key had gone with its lease.
  EXPECT_TRUE(client_.range(first.key(), false, next.header().revision()).empty());
  EXPECT_EQ(client_.time_to_live(forgotten), -1);
  EXPECT_EQ(client_.keys_under("expiring/"), std::vector<std::string>{next.key()});
  EXPECT_GT(client_.create_revision(next.key()), first_token);
}

TEST_F(LockService, AWaiterThatCancelsLeavesNoKeyBehind) {
  const int64_t holder_lease = client_.grant(60);
  const int64_t quitter_lease = client_.grant(60);
  v3lockpb::LockResponse held;
  ASSERT_TRUE(client_.lock("door", holder_lease, &held).ok());

  grpc::ClientContext quitter_context;
  grpc::Status quitter_status;
  std::thread quitter([&] {
    v3lockpb::LockResponse never;
    quitter_status = client_.lock("door", quitter_lease, &never, &quitter_context);
  });
  const std::vector<std::string> both = {held.key(), "door/" + hex(quitter_lease)};
  EXPECT_TRUE(eventually([&] { return client_.keys_under("door/") == both; }));
  quitter_context.TryCancel();
  quitter.join();
  EXPECT_EQ(quitter_status.error_code(), grpc::StatusCode::CANCELLED);

  // The server withdraws the waiter's key, so that it blocks nobody once the holder leaves.
  EXPECT_TRUE(eventually([&] {
    return client_.keys_under("door/") == std::vector<std::string>{held.key()};
  })) << "the cancelled waiter's key is still there";
  ASSERT_TRUE(client_.unlock(held.key()).ok());
  v3lockpb::LockResponse next;
  const grpc::Status locked = client_.lock("door", client_.grant(60), &next);
  EXPECT_TRUE(locked.ok()) << locked.error_message();
}

TEST_F(LockService, AnUnknownLeaseIsRefusedWithEtcdsError) {
  v3lockpb::LockResponse response;
  const grpc::Status refused = client_.lock("nobody", 0x1234567, &response);
  // etcd's v3lock hands its in-process client's error to gRPC as it is: Unknown, etcd's text.
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(refused.error_message(), "etcdserver: requested lease not found");
  EXPECT_TRUE(client_.keys_under("nobody/").empty());
  EXPECT_TRUE(client_.unlock("nobody/1234567").ok()) << "as etcd: unlocking nothing is no error";
}

TEST_F(LockService, AServerStopEndsTheCallsThatWait) {
  const int64_t lease = client_.grant(60);
  v3lockpb::LockResponse held;
  ASSERT_TRUE(client_.lock("stop-lock", lease, &held).ok());
  LeaderKey leader;
  ASSERT_TRUE(client_.campaign("stop-election", lease, "me", &leader).ok());

  grpc::Status waiter_status;
  std::thread waiter([&] {
    v3lockpb::LockResponse never;
    waiter_status = client_.lock("stop-lock", client_.grant(60), &never);
  });
  grpc::ClientContext observer_context;
  std::unique_ptr<grpc::ClientReader<LeaderResponse>> observer =
      client_.observe("stop-election", &observer_context);
  ASSERT_TRUE(next_leader(*observer).has_value());
  ASSERT_TRUE(eventually([&] { return client_.keys_under("stop-lock/").size() == 2; }));

  const auto stopping_since = Clock::now();
  EXPECT_EQ(server_.terminate(), 0);
  std::printf("the server stopped in %lld ms with a lock and an observer waiting\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         Clock::now() - stopping_since)
                                         .count()));
  waiter.join();
  // etcd's "server stopped", which clients retry on another member; not gRPC's own cancel
  // at the end of the shutdown grace.
  EXPECT_EQ(waiter_status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(waiter_status.error_message(), "etcdserver: server stopped");
  EXPECT_FALSE(next_leader(*observer).has_value());
  const grpc::Status observer_status = observer->Finish();
  EXPECT_EQ(observer_status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(observer_status.error_message(), "etcdserver: server stopped");
}

TEST_F(ElectionService, CampaignLeaderProclaimAndResignHandLeadershipOver) {
  LeaderResponse current;
  grpc::Status none = client_.leader("jobs", &current);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(none.error_message(), "election: no leader");

  const int64_t alice_lease = client_.grant(60);
  const int64_t bob_lease = client_.grant(60);
  LeaderKey alice;
  ASSERT_TRUE(client_.campaign("jobs", alice_lease, "alice", &alice).ok());
  EXPECT_EQ(alice.name(), "jobs");
  EXPECT_EQ(alice.key(), "jobs/" + hex(alice_lease));
  EXPECT_EQ(alice.lease(), alice_lease);
  EXPECT_EQ(alice.rev(), client_.create_revision(alice.key()));
  ASSERT_TRUE(client_.leader("jobs", &current).ok());
  EXPECT_EQ(current.kv().key(), alice.key());
  EXPECT_EQ(current.kv().value(), "alice");

  // Bob waits in line; alice goes on leading and changes her announcement.
  LeaderKey bob;
  grpc::Status bob_status;
  std::thread bob_campaign([&] { bob_status = client_.campaign("jobs", bob_lease, "bob", &bob); });
  ASSERT_TRUE(eventually([&] { return client_.keys_under("jobs/").size() == 2; }));
  ASSERT_TRUE(client_.proclaim(alice, "alice, again").ok());
  ASSERT_TRUE(client_.leader("jobs", &current).ok());
  EXPECT_EQ(current.kv().value(), "alice, again");

  // A LeaderKey that does not lead may not proclaim.
  LeaderKey pretender = alice;
  pretender.set_key("jobs/" + hex(bob_lease));
  const grpc::Status refused = client_.proclaim(pretender, "bob is boss");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(refused.error_message(), "election: not leader");

  ASSERT_TRUE(client_.resign(alice).ok());
  bob_campaign.join();
  ASSERT_TRUE(bob_status.ok()) << bob_status.error_message();
  EXPECT_EQ(bob.key(), "jobs/" + hex(bob_lease));
  EXPECT_GT(bob.rev(), alice.rev());
  ASSERT_TRUE(client_.leader("jobs", &current).ok());
  EXPECT_EQ(current.kv().value(), "bob");
  // Alice's key no longer leads: her proclamations are refused, her resignation is harmless.
  EXPECT_EQ(client_.proclaim(alice, "alice, back").error_message(), "election: not leader");
  EXPECT_TRUE(client_.resign(alice).ok());

  ASSERT_TRUE(client_.resign(bob).ok());
  EXPECT_EQ(client_.leader("jobs", &current).error_message(), "election: no leader");
}

TEST_F(ElectionService, ObserveReportsTheCurrentLeaderFirstThenEveryChangeInOrder) {
  // One observer from before any candidate, one that joins while alice leads.
  grpc::ClientContext early_context;
  std::unique_ptr<grpc::ClientReader<LeaderResponse>> early =
      client_.observe("board", &early_context);
  LeaderKey alice;
  ASSERT_TRUE(client_.campaign("board", client_.grant(60), "a1", &alice).ok());
  std::vector<Observed> seen_early;
  seen_early.push_back(next_leader(*early).value_or(Observed{}));
  ASSERT_TRUE(client_.proclaim(alice, "a2").ok());
  seen_early.push_back(next_leader(*early).value_or(Observed{}));

  grpc::ClientContext late_context;
  std::unique_ptr<grpc::ClientReader<LeaderResponse>> late =
      client_.observe("board", &late_context);
  std::vector<Observed> seen_late;
  seen_late.push_back(next_leader(*late).value_or(Observed{}));

  // Bob waits in line while alice proclaims once more, then resigns; carol comes after bob.
  LeaderKey bob;
  std::thread bob_campaign(
      [&] { EXPECT_TRUE(client_.campaign("board", client_.grant(60), "b1", &bob).ok()); });
  ASSERT_TRUE(eventually([&] { return client_.keys_under("board/").size() == 2; }));
  ASSERT_TRUE(client_.proclaim(alice, "a3").ok());
  ASSERT_TRUE(client_.resign(alice).ok());
  bob_campaign.join();
  ASSERT_TRUE(client_.resign(bob).ok());
  LeaderKey carol;
  ASSERT_TRUE(client_.campaign("board", client_.grant(60), "c1", &carol).ok());

  for (int i = 0; i < 3; ++i) {
    seen_early.push_back(next_leader(*early).value_or(Observed{}));
    seen_late.push_back(next_leader(*late).value_or(Observed{}));
  }
  auto values = [](const std::vector<Observed>& seen) {
    std::vector<std::string> out;
    for (const Observed& leader : seen) out.push_back(leader.value);
    return out;
  };
  EXPECT_EQ(values(seen_early), (std::vector<std::string>{"a1", "a2", "a3", "b1", "c1"}));
  EXPECT_EQ(values(seen_late), (std::vector<std::string>{"a2", "a3", "b1", "c1"}));
  for (const std::vector<Observed>* seen : {&seen_early, &seen_late}) {
    for (size_t i = 1; i < seen->size(); ++i) {
      // Not strictly: a proclamation's batch may end with the key's delete, at the revision
      // the next leader is then read at.
      EXPECT_LE((*seen)[i - 1].revision, (*seen)[i].revision) << "report " << i;
    }
  }

  // The client's cancel ends the stream.
  early_context.TryCancel();
  EXPECT_EQ(early->Finish().error_code(), grpc::StatusCode::CANCELLED);
  late_context.TryCancel();
  EXPECT_EQ(late->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

class LockElectionCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    for (size_t i = 0; i < plan_.size(); ++i) {
      members_.push_back(std::make_unique<ServerProcess>(plan_[i], root_ + "/" + plan_[i].name));
    }
    for (size_t i = 0; i < plan_.size(); ++i) {
      ASSERT_TRUE(members_[i]->wait_healthy()) << "member " << i << ":\n" << members_[i]->log();
    }
    for (size_t i = 0; i < plan_.size(); ++i) {
      if (!leads(i)) followers_.push_back(std::make_unique<Client>(members_[i]->endpoint()));
    }
    ASSERT_EQ(followers_.size(), 2U) << "expected one leader among three members";
  }

  bool leads(size_t i) {
    auto stub = etcdserverpb::Maintenance::NewStub(
        grpc::CreateChannel(members_[i]->endpoint(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    limit(context);
    etcdserverpb::StatusResponse status;
    if (!stub->Status(&context, etcdserverpb::StatusRequest(), &status).ok()) return false;
    return status.leader() != 0 && status.leader() == status.header().member_id();
  }

  std::vector<MemberFlags> plan_ = plan_cluster(3);
  std::string root_ = fresh_test_dir();
  std::vector<std::unique_ptr<ServerProcess>> members_;
  std::vector<std::unique_ptr<Client>> followers_;
};

TEST_F(LockElectionCluster, FollowersServeLocksAndElectionsOfTheWholeCluster) {
  Client& one = *followers_[0];
  Client& other = *followers_[1];

  // A lock held through one follower blocks a waiter on the other until it is unlocked.
  const int64_t first_lease = one.grant(60);
  v3lockpb::LockResponse first;
  ASSERT_TRUE(one.lock("shared", first_lease, &first).ok());
  const int64_t first_token = one.create_revision(first.key());
  v3lockpb::LockResponse second;
  grpc::Status second_status;
  std::thread waiter([&] { second_status = other.lock("shared", other.grant(60), &second); });
  ASSERT_TRUE(eventually([&] { return one.keys_under("shared/").size() == 2; }));
  ASSERT_TRUE(other.unlock(first.key()).ok());
  waiter.join();
  ASSERT_TRUE(second_status.ok()) << second_status.error_message();
  EXPECT_GT(other.create_revision(second.key()), first_token);
  EXPECT_EQ(one.keys_under("shared/"), std::vector<std::string>{second.key()});

  // An observer on one follower sees the candidates of the other take turns.
  LeaderKey alice;
  ASSERT_TRUE(one.campaign("cluster-election", first_lease, "alice", &alice).ok());
  grpc::ClientContext observer_context;
  std::unique_ptr<grpc::ClientReader<LeaderResponse>> observer =
      other.observe("cluster-election", &observer_context);
  EXPECT_EQ(next_leader(*observer).value_or(Observed{}).value, "alice");
  LeaderKey bob;
  std::thread bob_campaign(
      [&] { EXPECT_TRUE(other.campaign("cluster-election", other.grant(60), "bob", &bob).ok()); });
  ASSERT_TRUE(eventually([&] { return other.keys_under("cluster-election/").size() == 2; }));
  ASSERT_TRUE(other.resign(alice).ok());
  bob_campaign.join();
  EXPECT_EQ(next_leader(*observer).value_or(Observed{}).value, "bob");
  LeaderResponse current;
  ASSERT_TRUE(one.leader("cluster-election", &current).ok());
  EXPECT_EQ(current.kv().key(), bob.key());
  observer_context.TryCancel();
  EXPECT_EQ(observer->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace dengine::test
