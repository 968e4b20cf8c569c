// KvClient's async forms of the blocking calls (get, erase, compare_and_swap, txn, the lease
// calls) on an engine in this process: each answers as its blocking form does, with a callback,
// a future or a coroutine.

#include <future>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <gtest/gtest.h>

#include "dengine/embedded_engine.h"
#include "tests/runtime/runtime_test_util.h"

namespace dengine {
namespace {

using runtime::test::fresh_test_dir;
using runtime::test::kPatience;
using std::chrono::seconds;

class KvClientAsync : public testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.data_dir = fresh_test_dir();
    options.storage = StorageKind::kWalWithMemoryState;
    Result<std::unique_ptr<EmbeddedEngine>> started = EmbeddedEngine::start(options);
    ASSERT_TRUE(started) << started.status().to_string();
    engine_ = std::move(*started);
    ASSERT_TRUE(engine_->wait_ready(kPatience));
  }
  KvClient& kv() { return engine_->client(); }

  std::unique_ptr<EmbeddedEngine> engine_;
};

TEST_F(KvClientAsync, GetAnswersTheValueOrNulloptAsTheBlockingGet) {
  ASSERT_TRUE(kv().put("k", "v1"));
  ASSERT_TRUE(kv().put("k", "v2"));
  Result<std::optional<KeyValue>> latest = kv().async_get("k", {}, asio::use_future).get();
  ASSERT_TRUE(latest) << latest.status().to_string();
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->value, "v2");
  Result<std::optional<KeyValue>> old =
      kv().async_get("k", {.consistency = Read::Eventual, .revision = 2}, asio::use_future).get();
  ASSERT_TRUE(old && old->has_value());
  EXPECT_EQ((*old)->value, "v1");
  Result<std::optional<KeyValue>> missing = kv().async_get("nope", {}, asio::use_future).get();
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  Result<std::optional<KeyValue>> future_revision =
      kv().async_get("k", {.revision = 100}, asio::use_future).get();
  ASSERT_FALSE(future_revision);
  EXPECT_EQ(future_revision.status().detail(), ErrorDetail::kFutureRevision);
}

TEST_F(KvClientAsync, CompareAndSwapSwapsOnlyOnTheExpectedValue) {
  std::promise<Result<bool>> created;
  kv().async_compare_and_swap("lock", std::nullopt, "a",
                              [&](Result<bool> swapped) { created.set_value(swapped); });
  Result<bool> first = created.get_future().get();
  ASSERT_TRUE(first) << first.status().to_string();
  EXPECT_TRUE(*first);
  EXPECT_FALSE(
      kv().async_compare_and_swap("lock", std::nullopt, "b", asio::use_future).get().value());
  EXPECT_FALSE(kv().async_compare_and_swap("lock", "x", "b", asio::use_future).get().value());
  EXPECT_TRUE(kv().async_compare_and_swap("lock", "a", "b", asio::use_future).get().value());
  EXPECT_EQ(kv().get("lock").value()->value, "b");
}

TEST_F(KvClientAsync, EraseAndRangePrefixAnswerAsTheirBlockingForms) {
  ASSERT_TRUE(kv().put("p/a", "1"));
  ASSERT_TRUE(kv().put("p/b", "2"));
  ASSERT_TRUE(kv().put("q", "3"));
  Result<RangeResponse> prefix = kv().async_range_prefix("p/", {}, asio::use_future).get();
  ASSERT_TRUE(prefix);
  ASSERT_EQ(prefix->kvs.size(), 2U);
  EXPECT_EQ(prefix->kvs[1].key, "p/b");
  Result<DeleteRangeResponse> erased = kv().async_erase("p/a", asio::use_future).get();
  ASSERT_TRUE(erased) << erased.status().to_string();
  EXPECT_EQ(erased->deleted, 1);
  EXPECT_EQ(erased->revision, 5);
  EXPECT_EQ(kv().async_erase("p/a", asio::use_future).get().value().deleted, 0);
}

TEST_F(KvClientAsync, TxnWithReadOptionsServesAReadOnlyTxnAndWritesOtherwise) {
  ASSERT_TRUE(kv().put("k", "v"));
  TxnRequest read;
  RangeRequest range;
  range.key = "k";
  read.success.push_back(RequestOp{range});
  Result<TxnResponse> read_only =
      kv().async_txn(read, {.consistency = Read::Lease}, asio::use_future).get();
  ASSERT_TRUE(read_only) << read_only.status().to_string();
  EXPECT_TRUE(read_only->succeeded);
  EXPECT_EQ(read_only->revision, 2);
  TxnRequest write;
  PutRequest put;
  put.key = "k";
  put.value = "w";
  write.success.push_back(RequestOp{put});
  Result<TxnResponse> written = kv().async_txn(write, {}, asio::use_future).get();
  ASSERT_TRUE(written) << written.status().to_string();
  EXPECT_EQ(written->revision, 3);
}

TEST_F(KvClientAsync, LeaseCallsInACoroutine) {
  asio::io_context io;
  Status failed;
  std::vector<LeaseInfo> listed;
  LeaseTimeToLiveResponse left;
  Result<LeaseRevokeResponse> revoked = Status::internal("not run");
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Result<LeaseGrantResponse> lease =
            co_await kv().async_grant(LeaseGrantRequest{42, 30}, asio::use_awaitable);
        if (!lease) {
          failed = lease.status();
          co_return;
        }
        Result<LeaseKeepAliveResponse> renewed =
            co_await kv().async_keep_alive_once(lease->id, asio::use_awaitable);
        Result<LeaseTimeToLiveResponse> ttl =
            co_await kv().async_time_to_live(lease->id, false, asio::use_awaitable);
        Result<std::vector<LeaseInfo>> leases = co_await kv().async_leases(asio::use_awaitable);
        if (!renewed || !ttl || !leases) {
          failed = !renewed ? renewed.status() : !ttl ? ttl.status() : leases.status();
          co_return;
        }
        left = *ttl;
        listed = *leases;
        revoked = co_await kv().async_revoke(lease->id, asio::use_awaitable);
      },
      asio::detached);
  io.run();
  ASSERT_TRUE(failed.is_ok()) << failed.to_string();
  EXPECT_EQ(left.id, 42);
  EXPECT_EQ(left.granted_ttl_seconds, 30);
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].id, 42);
  EXPECT_TRUE(revoked) << revoked.status().to_string();
  Result<std::vector<LeaseInfo>> after = kv().async_leases(asio::use_future).get();
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
}

}  // namespace
}  // namespace dengine
