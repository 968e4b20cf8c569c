// EmbeddedEngine on real files in temporary directories.

#include <filesystem>
#include <fstream>
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

std::vector<StorageKind> storage_kinds() {
#if DENGINE_WITH_ROCKSDB
  return {StorageKind::kDurable, StorageKind::kWalWithMemoryState};
#else
  return {StorageKind::kWalWithMemoryState};
#endif
}

std::string storage_name(const testing::TestParamInfo<StorageKind>& info) {
  return info.param == StorageKind::kDurable ? "WalAndRocksDb" : "WalAndMemory";
}

class EngineTest : public testing::TestWithParam<StorageKind> {
 protected:
  EngineOptions options(const std::string& dir) {
    EngineOptions options;
    options.data_dir = dir;
    options.storage = GetParam();
    return options;
  }

  std::unique_ptr<EmbeddedEngine> start(const EngineOptions& options) {
    Result<std::unique_ptr<EmbeddedEngine>> started = EmbeddedEngine::start(options);
    EXPECT_TRUE(started) << started.status().to_string();
    if (!started) return nullptr;
    EXPECT_TRUE((*started)->wait_ready(kPatience));
    return std::move(*started);
  }
};

INSTANTIATE_TEST_SUITE_P(Storage, EngineTest, testing::ValuesIn(storage_kinds()), storage_name);

TEST(Engine, StartsOnAnEmptyDirectoryWithNoConfigurationAndLeads) {
  const std::string dir = fresh_test_dir() + "/data";
  Result<std::unique_ptr<EmbeddedEngine>> started = EmbeddedEngine::start(dir);
  ASSERT_TRUE(started) << started.status().to_string();
  EmbeddedEngine& engine = **started;
  ASSERT_TRUE(engine.wait_ready(kPatience));
  EXPECT_TRUE(engine.is_leader());
  EXPECT_EQ(engine.leader(), engine.id());
  EXPECT_EQ(engine.members().voters, std::vector<NodeId>{1});
  Result<PutResponse> put = engine.client().put("hello", "world");
  ASSERT_TRUE(put) << put.status().to_string();
  EXPECT_EQ(put->revision, 2);
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/wal"));
}

TEST_P(EngineTest, PutGetDeleteAtEveryConsistency) {
  auto engine = start(options(fresh_test_dir()));
  ASSERT_TRUE(engine);
  KvClient& kv = engine->client();
  ASSERT_TRUE(kv.put("a", "1"));
  ASSERT_TRUE(kv.put("a", "2"));
  for (Read consistency : {Read::Linearizable, Read::Lease, Read::Eventual}) {
    Result<std::optional<KeyValue>> got = kv.get("a", {.consistency = consistency});
    ASSERT_TRUE(got) << got.status().to_string();
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->value, "2");
    EXPECT_EQ((*got)->version, 2);
  }
  Result<std::optional<KeyValue>> old = kv.get("a", {.revision = 2});
  ASSERT_TRUE(old && old->has_value());
  EXPECT_EQ((*old)->value, "1");
  Result<DeleteRangeResponse> erased = kv.erase("a");
  ASSERT_TRUE(erased);
  EXPECT_EQ(erased->deleted, 1);
  Result<std::optional<KeyValue>> gone = kv.get("a");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
}

TEST_P(EngineTest, PrefixRangeCompareAndSwapAndTxn) {
  auto engine = start(options(fresh_test_dir()));
  ASSERT_TRUE(engine);
  KvClient& kv = engine->client();
  ASSERT_TRUE(kv.put("svc/a", "1"));
  ASSERT_TRUE(kv.put("svc/b", "2"));
  ASSERT_TRUE(kv.put("svd", "3"));
  Result<RangeResponse> services = kv.range_prefix("svc/");
  ASSERT_TRUE(services);
  ASSERT_EQ(services->kvs.size(), 2u);
  EXPECT_EQ(services->kvs[1].key, "svc/b");

  EXPECT_EQ(kv.compare_and_swap("lock", std::nullopt, "me").value(), true);
  EXPECT_EQ(kv.compare_and_swap("lock", std::nullopt, "you").value(), false);
  EXPECT_EQ(kv.compare_and_swap("lock", "me", "you").value(), true);
  EXPECT_EQ(kv.get("lock").value()->value, "you");

  TxnRequest read_only;
  RangeRequest range;
  range.key = "svd";
  read_only.success.push_back(RequestOp{range});
  Result<TxnResponse> txn = kv.txn(read_only, {.consistency = Read::Eventual});
  ASSERT_TRUE(txn) << txn.status().to_string();
  EXPECT_TRUE(txn->succeeded);
}

TEST_P(EngineTest, CommandErrorsComeBackAsEtcdErrors) {
  auto engine = start(options(fresh_test_dir()));
  ASSERT_TRUE(engine);
  Result<PutResponse> no_key = engine->client().put("", "v");
  EXPECT_FALSE(no_key);
  EXPECT_NE(no_key.status().message().find("key is not provided"), std::string::npos);
  Result<PutResponse> no_lease = engine->client().put("k", "v", {.lease = 12345});
  EXPECT_FALSE(no_lease);
  EXPECT_NE(no_lease.status().message().find("lease not found"), std::string::npos);
  Result<PutResponse> too_large =
      engine->client().put("k", std::string(kv_limits::kMaxValueBytes + 1, 'x'));
  EXPECT_FALSE(too_large);
  EXPECT_NE(too_large.status().message().find("exceeds the bound"), std::string::npos)
      << too_large.status().to_string();
}

TEST_P(EngineTest, RestartRecoversEveryAcknowledgedWrite) {
  const std::string dir = fresh_test_dir();
  EngineOptions opts = options(dir);
  opts.snapshot_every_entries = 300;  // several images and compactions on the way
  opts.retained_log_entries = 50;
  int64_t last_revision = 0;
  {
    auto engine = start(opts);
    ASSERT_TRUE(engine);
    for (int i = 0; i < 1000; ++i) {
      Result<PutResponse> put =
          engine->client().put("key/" + std::to_string(i % 100), "value " + std::to_string(i));
      ASSERT_TRUE(put) << put.status().to_string();
      last_revision = put->revision;
    }
    ASSERT_TRUE(engine->stop());
  }
  auto engine = start(opts);
  ASSERT_TRUE(engine);
  Result<RangeResponse> all = engine->client().range_prefix("key/");
  ASSERT_TRUE(all) << all.status().to_string();
  ASSERT_EQ(all->kvs.size(), 100u);
  EXPECT_EQ(all->kvs[99].value, "value 999");
  EXPECT_EQ(all->revision, last_revision);
  Result<PutResponse> next = engine->client().put("key/0", "after restart");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->revision, last_revision + 1);
}

TEST_P(EngineTest, AsyncFormsWorkWithCallbacksFuturesAndCoroutines) {
  auto engine = start(options(fresh_test_dir()));
  ASSERT_TRUE(engine);
  KvClient& kv = engine->client();

  std::promise<int64_t> via_callback;
  kv.async_put("cb", "1", {},
               [&](Result<PutResponse> put) { via_callback.set_value(put ? put->revision : -1); });
  EXPECT_EQ(via_callback.get_future().get(), 2);

  std::future<Result<PutResponse>> via_future = kv.async_put("f", "2", {}, asio::use_future);
  Result<PutResponse> put = via_future.get();
  ASSERT_TRUE(put);
  EXPECT_EQ(put->revision, 3);

  asio::io_context io;
  int64_t seen_by_coroutine = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Result<PutResponse> written = co_await kv.async_put("co", "3", {}, asio::use_awaitable);
        RangeRequest request;
        request.key = "co";
        Result<RangeResponse> read = co_await kv.async_range(request, {}, asio::use_awaitable);
        if (written && read && !read->kvs.empty()) seen_by_coroutine = read->kvs[0].mod_revision;
      },
      asio::detached);
  io.run();
  EXPECT_EQ(seen_by_coroutine, 4);
}

TEST(Engine, InvalidOptionsAreRefusedNamingTheField) {
  EngineOptions options;
  options.data_dir = fresh_test_dir();
  options.election_timeout = std::chrono::milliseconds(200);
  Result<std::unique_ptr<EmbeddedEngine>> started = EmbeddedEngine::start(options);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(started.status().message().find("election_timeout"), std::string::npos);

  Result<std::unique_ptr<EmbeddedEngine>> no_dir = EmbeddedEngine::start(std::string());
  ASSERT_FALSE(no_dir);
  EXPECT_NE(no_dir.status().message().find("data_dir"), std::string::npos);
}

TEST(Engine, ADataDirectoryOfAnotherMemberIsRefused) {
  const std::string dir = fresh_test_dir();
  {
    Result<std::unique_ptr<EmbeddedEngine>> first = EmbeddedEngine::start(dir);
    ASSERT_TRUE(first);
  }
  EngineOptions options;
  options.data_dir = dir;
  options.node_id = 7;
  Result<std::unique_ptr<EmbeddedEngine>> other = EmbeddedEngine::start(options);
  ASSERT_FALSE(other);
  EXPECT_NE(other.status().message().find("belongs to member 1"), std::string::npos);
}

TEST(Engine, ADamagedMemberFileIsCorruptionNamingIt) {
  const std::string dir = fresh_test_dir();
  {
    Result<std::unique_ptr<EmbeddedEngine>> first = EmbeddedEngine::start(dir);
    ASSERT_TRUE(first);
  }
  std::ofstream(dir + "/member", std::ios::trunc) << "garbage";
  Result<std::unique_ptr<EmbeddedEngine>> reopened = EmbeddedEngine::start(dir);
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(reopened.status().message().find(dir + "/member"), std::string::npos);
}

TEST(Engine, StopIsIdempotentAndLaterCallsFailCleanly) {
  Result<std::unique_ptr<EmbeddedEngine>> started = EmbeddedEngine::start(fresh_test_dir());
  ASSERT_TRUE(started);
  EmbeddedEngine& engine = **started;
  ASSERT_TRUE(engine.wait_ready(kPatience));
  EXPECT_TRUE(engine.stop());
  EXPECT_TRUE(engine.stop());
  Result<PutResponse> late = engine.client().put("k", "v");
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(engine.wait_ready(std::chrono::milliseconds(10)).code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace dengine
