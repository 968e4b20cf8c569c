// RemoteClient against a real member over etcd's v3 gRPC API: dengine-server and Debian's etcd
// 3.4.23, each started by the test on 127.0.0.1 with free ports. Every case runs against both
// and expects the same: the remote client is judged against etcd itself.

#include "dengine/remote_client.h"

#include <csignal>
#include <thread>

#include <asio/use_future.hpp>
#include <gtest/gtest.h>

#include "dengine/lock.h"
#include "dengine/session.h"
#include "tests/server/server_process.h"
#include "tests/support/scratch_dir.h"

namespace dengine {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::MemberFlags;
using test::ServerProcess;

enum class Server : uint8_t { kDengine, kEtcd };

std::string server_name(const testing::TestParamInfo<Server>& info) {
  return info.param == Server::kDengine ? "DengineServer" : "Etcd";
}

class RemoteClientTest : public testing::TestWithParam<Server> {
 protected:
  void SetUp() override {
    member_ = test::plan_cluster(1).front();
    if (GetParam() == Server::kEtcd) member_.binary = DENGINE_ETCD_PATH;
    data_dir_ = test::fresh_test_dir() + "/data";
    start_server();
  }
  void start_server() {
    server_ = std::make_unique<ServerProcess>(member_, data_dir_);
    ASSERT_TRUE(server_->wait_healthy()) << server_->log();
  }
  std::unique_ptr<RemoteClient> connect(std::vector<std::string> endpoints = {},
                                        RemoteClientOptions options = {}) {
    if (endpoints.empty()) endpoints = {server_->endpoint()};
    Result<std::unique_ptr<RemoteClient>> connected = RemoteClient::connect(endpoints, options);
    EXPECT_TRUE(connected) << connected.status().to_string();
    return connected ? std::move(*connected) : nullptr;
  }

  MemberFlags member_;
  std::string data_dir_;
  std::unique_ptr<ServerProcess> server_;
};

INSTANTIATE_TEST_SUITE_P(Servers, RemoteClientTest,
                         testing::Values(Server::kDengine, Server::kEtcd), server_name);

TEST_P(RemoteClientTest, EveryKvCallAnswersAsOnTheEngine) {
  auto remote = connect();
  ASSERT_TRUE(remote);
  KvClient& kv = remote->client();
  Result<PutResponse> first = kv.put("k", "v1");
  ASSERT_TRUE(first) << first.status().to_string();
  EXPECT_EQ(first->revision, 2);
  EXPECT_EQ(kv.put("k", "v2", {.prev_kv = true}).value().prev_kv->value, "v1");
  EXPECT_EQ(kv.get("k").value()->value, "v2");
  EXPECT_EQ(kv.get("k", {.consistency = Read::Eventual, .revision = 2}).value()->value, "v1");
  EXPECT_FALSE(kv.get("missing").value().has_value());
  EXPECT_TRUE(kv.compare_and_swap("k", "v2", "v3").value());
  EXPECT_FALSE(kv.compare_and_swap("k", "v2", "v4").value());
  EXPECT_TRUE(kv.async_compare_and_swap("new", std::nullopt, "x", asio::use_future).get().value());
  ASSERT_TRUE(kv.put("p/a", "1"));
  ASSERT_TRUE(kv.put("p/b", "2"));
  Result<RangeResponse> prefix = kv.range_prefix("p/");
  ASSERT_TRUE(prefix);
  ASSERT_EQ(prefix->kvs.size(), 2U);
  EXPECT_EQ(prefix->kvs[1].key, "p/b");
  EXPECT_EQ(kv.async_erase("p/a", asio::use_future).get().value().deleted, 1);

  // etcd's errors come back with their ErrorDetail.
  Result<std::optional<KeyValue>> future = kv.get("k", {.revision = 1000});
  ASSERT_FALSE(future);
  EXPECT_EQ(future.status().detail(), ErrorDetail::kFutureRevision);
  const int64_t now = kv.put("k", "v5").value().revision;
  ASSERT_TRUE(kv.compact(now));
  Result<std::optional<KeyValue>> compacted = kv.get("k", {.revision = 2});
  ASSERT_FALSE(compacted);
  EXPECT_EQ(compacted.status().detail(), ErrorDetail::kCompacted);
  Result<LeaseTimeToLiveResponse> no_lease = kv.time_to_live(12345);
  ASSERT_FALSE(no_lease);
  EXPECT_EQ(no_lease.status().detail(), ErrorDetail::kLeaseNotFound);
  Result<PutResponse> empty_key = kv.put("", "x");
  ASSERT_FALSE(empty_key);
  EXPECT_EQ(empty_key.status().detail(), ErrorDetail::kEmptyKey);
}

TEST_P(RemoteClientTest, LeasesAreKeptAliveInTheBackground) {
  auto remote = connect();
  ASSERT_TRUE(remote);
  KvClient& kv = remote->client();
  Result<LeaseGrantResponse> lease = kv.grant(seconds(5));
  ASSERT_TRUE(lease) << lease.status().to_string();
  ASSERT_TRUE(kv.put("svc/a", "1", {.lease = lease->id}));
  LeaseKeepAlive alive = kv.keep_alive(lease->id);
  const auto give_up = std::chrono::steady_clock::now() + seconds(10);
  while (alive.renewals() < 2 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_GE(alive.renewals(), 2);
  EXPECT_TRUE(alive.status().is_ok()) << alive.status().to_string();
  Result<LeaseTimeToLiveResponse> left = kv.time_to_live(lease->id, /*with_keys=*/true);
  ASSERT_TRUE(left) << left.status().to_string();
  EXPECT_EQ(left->granted_ttl_seconds, 5);
  EXPECT_EQ(left->keys, std::vector<std::string>{"svc/a"});
  EXPECT_EQ(kv.leases().value().size(), 1U);
  ASSERT_TRUE(kv.revoke(lease->id));
  EXPECT_FALSE(kv.get("svc/a").value().has_value());
  EXPECT_EQ(kv.keep_alive_once(lease->id).status().detail(), ErrorDetail::kLeaseNotFound);
}

TEST_P(RemoteClientTest, AWatchResumesAfterTheServerRestartsWithoutGapsOrDuplicates) {
  auto remote = connect({}, {.dial_timeout = seconds(10), .request_timeout = seconds(10)});
  ASSERT_TRUE(remote);
  KvClient& kv = remote->client();
  Watch watch = kv.watch_prefix("w/");
  ASSERT_TRUE(kv.put("w/1", "a"));
  Result<WatchBatch> before = watch.next();
  ASSERT_TRUE(before) << before.status().to_string();
  ASSERT_EQ(before->events.size(), 1U);

  server_.reset();  // SIGTERM
  start_server();
  ASSERT_TRUE(kv.put("w/2", "b"));
  ASSERT_TRUE(kv.put("w/3", "c"));
  std::vector<std::string> seen;
  while (seen.size() < 2) {
    Result<WatchBatch> batch = watch.next();
    ASSERT_TRUE(batch) << batch.status().to_string();
    for (const Event& event : batch->events) seen.push_back(event.kv.key);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"w/2", "w/3"}));
  EXPECT_FALSE(watch.poll().has_value());  // nothing twice
}

TEST_P(RemoteClientTest, AWriteThatGetsNoAnswerIsAnUnknownOutcomeNotARetry) {
  auto remote =
      connect({}, {.dial_timeout = milliseconds(500), .request_timeout = milliseconds(500)});
  ASSERT_TRUE(remote);
  KvClient& kv = remote->client();
  ASSERT_TRUE(kv.put("k", "before"));
  ASSERT_EQ(::kill(server_->pid(), SIGSTOP), 0);
  Result<PutResponse> write = kv.put("k", "during");
  Result<std::optional<KeyValue>> read = kv.get("k");
  ASSERT_EQ(::kill(server_->pid(), SIGCONT), 0);
  ASSERT_FALSE(write);
  EXPECT_EQ(write.status().code(), StatusCode::kUnknownOutcome) << write.status().to_string();
  ASSERT_FALSE(read);
  EXPECT_EQ(read.status().code(), StatusCode::kTimedOut) << read.status().to_string();
}

TEST_P(RemoteClientTest, CallsFailOverFromAnEndpointThatIsDown) {
  const std::string dead = "127.0.0.1:" + std::to_string(test::free_local_port());
  auto remote = connect({dead, server_->endpoint()});
  ASSERT_TRUE(remote);
  EXPECT_EQ(remote->endpoint(), server_->endpoint());
  EXPECT_TRUE(remote->client().put("k", "v"));
  Result<std::unique_ptr<RemoteClient>> none =
      RemoteClient::connect({dead}, {.dial_timeout = milliseconds(300)});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
}

TEST_P(RemoteClientTest, TheLockRecipeWorksUnchangedOverTheNetwork) {
  auto a = connect();
  auto b = connect();
  ASSERT_TRUE(a && b);
  auto session_a = Session::create(a->client(), {.ttl = seconds(10)});
  auto session_b = Session::create(b->client(), {.ttl = seconds(10)});
  ASSERT_TRUE(session_a && session_b);
  Lock lock_a(**session_a, "locks/x");
  Lock lock_b(**session_b, "locks/x");
  ASSERT_TRUE(lock_a.acquire({.timeout = seconds(5)}));
  Result<int64_t> waited = lock_b.acquire({.timeout = milliseconds(300)});
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.status().code(), StatusCode::kTimedOut);
  std::thread release([&] {
    std::this_thread::sleep_for(milliseconds(100));
    EXPECT_TRUE(lock_a.release().is_ok());
  });
  Result<int64_t> acquired = lock_b.acquire({.timeout = seconds(5)});
  release.join();
  ASSERT_TRUE(acquired) << acquired.status().to_string();
  EXPECT_TRUE(lock_b.release().is_ok());
  EXPECT_TRUE((*session_a)->close().is_ok());
  EXPECT_TRUE((*session_b)->close().is_ok());
}

}  // namespace
}  // namespace dengine
