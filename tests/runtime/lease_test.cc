// Leases on an EmbeddedEngine with a manual clock: TTLs, keep-alives, expiry through the log,
// and a restart that never cuts a TTL short.

#include <future>

#include <asio/use_future.hpp>
#include <gtest/gtest.h>

#include "tests/runtime/engine_fixture.h"

namespace dengine::runtime::test {
namespace {

using std::chrono::seconds;

class LeaseTest : public ClockedEngineTest {
 protected:
  bool exists(const std::string& key) {
    Result<std::optional<KeyValue>> got = kv().get(key);
    EXPECT_TRUE(got) << got.status().to_string();
    return got && got->has_value();
  }
};

INSTANTIATE_TEST_SUITE_P(Storage, LeaseTest, testing::ValuesIn(storage_kinds()), storage_name);

TEST_P(LeaseTest, AKeyOnALeaseGoesWhenTheTtlPassesWithoutKeepAlives) {
  start();
  Result<LeaseGrantResponse> lease = kv().grant(seconds(5));
  ASSERT_TRUE(lease) << lease.status().to_string();
  EXPECT_EQ(lease->ttl_seconds, 5);
  ASSERT_TRUE(kv().put("svc/a", "10.0.0.1", {.lease = lease->id}));
  Watch deletes = kv().watch("svc/a", {.no_put = true});

  advance(seconds(4));
  EXPECT_TRUE(exists("svc/a"));
  Result<LeaseTimeToLiveResponse> left = kv().time_to_live(lease->id, /*with_keys=*/true);
  ASSERT_TRUE(left) << left.status().to_string();
  EXPECT_EQ(left->ttl_seconds, 1);
  EXPECT_EQ(left->granted_ttl_seconds, 5);
  EXPECT_EQ(left->keys, std::vector<std::string>{"svc/a"});

  advance(seconds(1));
  EXPECT_FALSE(exists("svc/a"));
  Result<WatchBatch> deleted = deletes.next();
  ASSERT_TRUE(deleted) << deleted.status().to_string();
  ASSERT_EQ(deleted->events.size(), 1U);
  EXPECT_EQ(deleted->events[0].type, EventType::kDelete);
  EXPECT_EQ(kv().time_to_live(lease->id).status().message(),
            Status::of(ErrorDetail::kLeaseNotFound).message());
  EXPECT_TRUE(kv().leases().value().empty());
}

TEST_P(LeaseTest, KeepAliveOnceRestartsTheTtlWithoutALogEntry) {
  start();
  LeaseId id = kv().grant(seconds(5)).value().id;
  ASSERT_TRUE(kv().put("k", "v", {.lease = id}));
  const int64_t revision = kv().put("test/settle", "x").value().revision;
  for (int i = 0; i < 5; ++i) {
    clock_->advance(seconds(3));
    Result<LeaseKeepAliveResponse> renewed = kv().keep_alive_once(id);
    ASSERT_TRUE(renewed) << renewed.status().to_string();
    EXPECT_EQ(renewed->ttl_seconds, 5);
  }
  // No entry was written for the renewals: the revision only moved with the settle writes.
  advance(seconds(1));
  EXPECT_TRUE(exists("k"));
  EXPECT_EQ(kv().get("test/settle").value()->mod_revision, revision + 2);
  EXPECT_EQ(kv().keep_alive_once(424242).status().message(),
            Status::of(ErrorDetail::kLeaseNotFound).message());
}

TEST_P(LeaseTest, BackgroundKeepAliveHoldsTheLeaseUntilStopped) {
  start();
  LeaseId id = kv().grant(seconds(6)).value().id;
  ASSERT_TRUE(kv().put("svc/b", "10.0.0.2", {.lease = id}));
  {
    LeaseKeepAlive keep_alive = kv().keep_alive(id);
    for (int second = 0; second < 30; ++second) advance(seconds(1));
    EXPECT_TRUE(exists("svc/b"));
    EXPECT_TRUE(keep_alive.status()) << keep_alive.status().to_string();
    EXPECT_GE(keep_alive.renewals(), 10);
  }
  advance(seconds(5));
  EXPECT_TRUE(exists("svc/b"));
  advance(seconds(2));
  EXPECT_FALSE(exists("svc/b"));
}

TEST_P(LeaseTest, AKeepAliveOfARevokedLeaseReportsItLost) {
  start();
  LeaseId id = kv().grant(seconds(10)).value().id;
  LeaseKeepAlive keep_alive = kv().keep_alive(id);
  ASSERT_TRUE(kv().revoke(id));
  advance(seconds(4));  // a renewal is due
  EXPECT_EQ(keep_alive.status().message(), Status::of(ErrorDetail::kLeaseNotFound).message());
}

TEST_P(LeaseTest, RevokeDeletesEveryKeyOfTheLeaseInOneRevision) {
  start();
  LeaseId id = kv().grant(seconds(60)).value().id;
  for (const char* key : {"a", "b", "c"}) ASSERT_TRUE(kv().put(key, "v", {.lease = id}));
  Watch all = kv().watch_range("a", "d");
  Result<LeaseRevokeResponse> revoked = kv().revoke(id);
  ASSERT_TRUE(revoked) << revoked.status().to_string();
  Result<WatchBatch> batch = all.next();
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->events.size(), 3U);
  for (const Event& event : batch->events) {
    EXPECT_EQ(event.type, EventType::kDelete);
    EXPECT_EQ(event.kv.mod_revision, revoked->revision);
  }
  EXPECT_EQ(kv().revoke(id).status().message(), Status::of(ErrorDetail::kLeaseNotFound).message());
}

TEST_P(LeaseTest, PutWithTtlGrantsALeaseForTheKey) {
  start();
  ASSERT_TRUE(kv().put("session", "alive", {.ttl = seconds(3)}));
  Result<std::optional<KeyValue>> got = kv().get("session");
  ASSERT_TRUE(got && got->has_value());
  const LeaseId id = (*got)->lease;
  ASSERT_NE(id, kNoLease);
  EXPECT_EQ(kv().time_to_live(id).value().granted_ttl_seconds, 3);
  advance(seconds(3));
  EXPECT_FALSE(exists("session"));

  EXPECT_EQ(kv().put("k", "v", {.lease = id, .ttl = seconds(3)}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(kv().put("k", "v", {.ttl = seconds(-1)}).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(LeaseTest, TtlsBelowTheMinimumAreRaisedAndChosenIdsAreHonoured) {
  start();
  Result<LeaseGrantResponse> tiny = kv().grant(seconds(1));
  ASSERT_TRUE(tiny);
  EXPECT_EQ(tiny->ttl_seconds, 2);  // etcd: 1.5 election timeouts, rounded up
  Result<LeaseGrantResponse> chosen = kv().grant(seconds(30), 77);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->id, 77);
  EXPECT_EQ(kv().grant(seconds(30), 77).status().message(),
            Status::of(ErrorDetail::kLeaseExists).message());
  Result<std::vector<LeaseInfo>> all = kv().leases();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2U);
}

TEST_P(LeaseTest, ARestartedLeaderNeverCutsATtlShort) {
  start();
  LeaseId id = kv().grant(seconds(10)).value().id;
  ASSERT_TRUE(kv().put("k", "v", {.lease = id}));
  advance(seconds(8));
  start();  // stop and start again: a new term, the lease clock starts afresh
  Result<LeaseTimeToLiveResponse> left = kv().time_to_live(id);
  ASSERT_TRUE(left) << left.status().to_string();
  EXPECT_GE(left->ttl_seconds, 10);
  advance(seconds(9));
  EXPECT_TRUE(exists("k"));
  advance(seconds(2));  // past the full TTL and the one-election-timeout extension
  EXPECT_FALSE(exists("k"));
}

TEST_P(LeaseTest, AsyncLeaseCallsComplete) {
  start();
  std::future<Result<LeaseGrantResponse>> granted = kv().async_grant(seconds(5), asio::use_future);
  Result<LeaseGrantResponse> lease = granted.get();
  ASSERT_TRUE(lease);
  Result<LeaseKeepAliveResponse> renewed =
      kv().async_keep_alive_once(lease->id, asio::use_future).get();
  ASSERT_TRUE(renewed);
  Result<LeaseTimeToLiveResponse> left =
      kv().async_time_to_live(lease->id, false, asio::use_future).get();
  ASSERT_TRUE(left);
  EXPECT_EQ(left->granted_ttl_seconds, 5);
  ASSERT_TRUE(kv().async_revoke(lease->id, asio::use_future).get());
}

}  // namespace
}  // namespace dengine::runtime::test
