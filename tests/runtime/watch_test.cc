// Watches on an EmbeddedEngine: every event once, in revision order, whole revisions per
// batch; history replay; filters; slow consumers; compaction; cancellation; stop.

#include <future>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <gtest/gtest.h>

#include "tests/runtime/engine_fixture.h"

namespace dengine::runtime::test {
namespace {

class WatchTest : public ClockedEngineTest {
 protected:
  void SetUp() override {
    ClockedEngineTest::SetUp();
    start();
  }

  // Reads batches until `count` events arrived; fails the test on an error.
  static std::vector<Event> take(Watch& watch, size_t count) {
    std::vector<Event> events;
    while (events.size() < count) {
      Result<WatchBatch> batch = watch.next();
      EXPECT_TRUE(batch) << batch.status().to_string();
      if (!batch) break;
      events.insert(events.end(), batch->events.begin(), batch->events.end());
    }
    return events;
  }
};

INSTANTIATE_TEST_SUITE_P(Storage, WatchTest, testing::ValuesIn(storage_kinds()), storage_name);

TEST_P(WatchTest, AKeyWatchSeesPutsAndDeletesOfThatKeyOnly) {
  Watch watch = kv().watch("config/a");
  ASSERT_TRUE(kv().put("config/b", "x"));
  const int64_t put = kv().put("config/a", "1").value().revision;
  const int64_t erased = kv().erase("config/a").value().revision;
  std::vector<Event> events = take(watch, 2);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].type, EventType::kPut);
  EXPECT_EQ(events[0].kv.value, "1");
  EXPECT_EQ(events[0].kv.mod_revision, put);
  EXPECT_FALSE(events[0].prev_kv.has_value());
  EXPECT_EQ(events[1].type, EventType::kDelete);
  EXPECT_EQ(events[1].kv.key, "config/a");
  EXPECT_EQ(events[1].kv.mod_revision, erased);
  EXPECT_FALSE(watch.poll().has_value());
}

TEST_P(WatchTest, APrefixWatchWithPrevKvAndFilters) {
  Watch all = kv().watch_prefix("svc/", {.prev_kv = true});
  Watch puts_only = kv().watch_prefix("svc/", {.no_delete = true});
  Watch deletes_only = kv().watch_prefix("svc/", {.no_put = true});
  ASSERT_TRUE(kv().put("svc/a", "1"));
  ASSERT_TRUE(kv().put("svc/a", "2"));
  ASSERT_TRUE(kv().put("svd", "outside"));
  ASSERT_TRUE(kv().erase("svc/a"));

  std::vector<Event> events = take(all, 3);
  ASSERT_EQ(events.size(), 3U);
  ASSERT_TRUE(events[1].prev_kv.has_value());
  EXPECT_EQ(events[1].prev_kv->value, "1");
  ASSERT_TRUE(events[2].prev_kv.has_value());
  EXPECT_EQ(events[2].prev_kv->value, "2");
  EXPECT_EQ(take(puts_only, 2).size(), 2U);
  std::vector<Event> deletes = take(deletes_only, 1);
  ASSERT_EQ(deletes.size(), 1U);
  EXPECT_EQ(deletes[0].type, EventType::kDelete);
  EXPECT_FALSE(puts_only.poll().has_value());
}

TEST_P(WatchTest, ATxnArrivesAsOneBatchAtOneRevision) {
  Watch watch = kv().watch_prefix("t/");
  TxnRequest txn;
  for (const char* key : {"t/1", "t/2", "t/3"}) {
    PutRequest put;
    put.key = key;
    put.value = "v";
    txn.success.push_back(RequestOp{put});
  }
  const int64_t revision = kv().txn(txn).value().revision;
  Result<WatchBatch> batch = watch.next();
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->events.size(), 3U);
  for (const Event& event : batch->events) EXPECT_EQ(event.kv.mod_revision, revision);
  EXPECT_EQ(batch->revision, revision);
}

TEST_P(WatchTest, FromAPastRevisionHistoryThenLiveWithoutGapsOrDuplicates) {
  const int64_t first = kv().put("h/0", "0").value().revision;
  for (int i = 1; i < 600; ++i) ASSERT_TRUE(kv().put("h/" + std::to_string(i % 7), "v"));
  Watch watch = kv().watch_prefix("h/", {.start_revision = first});
  for (int i = 600; i < 700; ++i) ASSERT_TRUE(kv().put("h/" + std::to_string(i % 7), "v"));
  std::vector<Event> events = take(watch, 700);
  ASSERT_EQ(events.size(), 700U);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].kv.mod_revision, first + static_cast<int64_t>(i));
  }
  EXPECT_FALSE(watch.poll().has_value());
}

TEST_P(WatchTest, AStartRevisionInTheFutureSkipsEarlierChanges) {
  const int64_t now = kv().put("f", "0").value().revision;
  Watch watch = kv().watch("f", {.start_revision = now + 3});
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(kv().put("f", std::to_string(i)));
  std::vector<Event> events = take(watch, 2);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].kv.mod_revision, now + 3);
  EXPECT_EQ(events[1].kv.value, "4");
}

TEST_P(WatchTest, ASlowConsumerCatchesUpFromHistoryWithEveryEventOnce) {
  Watch watch = kv().watch_prefix("slow/", {.buffer_events = 4});
  const int64_t first = kv().put("slow/0", "0").value().revision;
  for (int i = 1; i < 300; ++i) ASSERT_TRUE(kv().put("slow/" + std::to_string(i % 5), "v"));
  std::vector<Event> events = take(watch, 300);
  ASSERT_EQ(events.size(), 300U);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].kv.mod_revision, first + static_cast<int64_t>(i));
  }
}

TEST_P(WatchTest, AProgressBatchCarriesTheStoreRevisionAfterEveryEarlierEvent) {
  Watch watch = kv().watch("quiet");
  ASSERT_TRUE(kv().put("other", "1"));
  const int64_t now = kv().put("other", "2").value().revision;
  watch.request_progress();
  Result<WatchBatch> progress = watch.next();
  ASSERT_TRUE(progress) << progress.status().to_string();
  EXPECT_TRUE(progress->events.empty());
  EXPECT_EQ(progress->revision, now);

  // Events still undelivered come first (or in the same batch): never a progress past them.
  const int64_t put = kv().put("quiet", "x").value().revision;
  watch.request_progress();
  std::vector<Event> events;
  int64_t seen = 0;
  while (seen < put) {
    Result<WatchBatch> batch = watch.next();
    ASSERT_TRUE(batch) << batch.status().to_string();
    events.insert(events.end(), batch->events.begin(), batch->events.end());
    seen = batch->revision;
    if (events.empty()) {
      EXPECT_LT(seen, put) << "progress reported past an undelivered event";
    }
  }
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kv.mod_revision, put);
}

TEST_P(WatchTest, AWatchStillCatchingUpGetsNoProgressUntilItIsSynced) {
  const int64_t first = kv().put("c/0", "0").value().revision;
  for (int i = 1; i < 2000; ++i) ASSERT_TRUE(kv().put("c/" + std::to_string(i % 7), "v"));
  Watch watch = kv().watch_prefix("c/", {.start_revision = first, .buffer_events = 16});
  watch.request_progress();
  // Whatever comes, a revision is only claimed once every event up to it has come.
  size_t events = 0;
  while (events < 2000) {
    Result<WatchBatch> batch = watch.next();
    ASSERT_TRUE(batch) << batch.status().to_string();
    events += batch->events.size();
    EXPECT_EQ(batch->revision, first + static_cast<int64_t>(events) - 1);
  }
}

TEST_P(WatchTest, AStartRevisionAlreadyCompactedEndsTheWatchNamingTheRevision) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(kv().put("c", std::to_string(i)));
  const int64_t compacted = kv().put("c", "last").value().revision;
  ASSERT_TRUE(kv().compact(compacted));
  Watch watch = kv().watch("c", {.start_revision = 2});
  Result<WatchBatch> batch = watch.next();
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.status().detail(), ErrorDetail::kCompacted);
  EXPECT_NE(batch.status().message().find("compacted at " + std::to_string(compacted)),
            std::string::npos)
      << batch.status().to_string();
  EXPECT_EQ(watch.compact_revision(), compacted);
}

TEST_P(WatchTest, AConsumerBehindACompactionIsCancelledAsCompacted) {
  Watch watch = kv().watch("k", {.buffer_events = 1});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(kv().put("k", std::to_string(i)));
  const int64_t last = kv().put("k", "last").value().revision;
  ASSERT_TRUE(kv().compact(last));
  // The first event was buffered before the compaction; the rest are gone from history.
  Result<WatchBatch> first = watch.next();
  ASSERT_TRUE(first);
  Result<WatchBatch> rest = watch.next();
  ASSERT_FALSE(rest);
  EXPECT_EQ(rest.status().detail(), ErrorDetail::kCompacted);
  EXPECT_EQ(watch.compact_revision(), last);
}

TEST_P(WatchTest, CancelEndsAWaitingNext) {
  Watch watch = kv().watch("never");
  std::future<Result<WatchBatch>> waiting = watch.async_next(asio::use_future);
  watch.cancel();
  Result<WatchBatch> ended = waiting.get();
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.status().code(), StatusCode::kCancelled);
  ASSERT_TRUE(kv().put("never", "x"));  // nothing is delivered to a cancelled watch
  EXPECT_EQ(watch.next().status().code(), StatusCode::kCancelled);
}

TEST_P(WatchTest, StoppingTheEngineEndsEveryWatch) {
  Watch watch = kv().watch_prefix("");
  ASSERT_TRUE(kv().put("a", "1"));
  ASSERT_TRUE(engine_->stop());
  Result<WatchBatch> buffered = watch.next();
  ASSERT_TRUE(buffered);  // what was delivered before the stop is still read
  Result<WatchBatch> ended = watch.next();
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.status().code(), StatusCode::kUnavailable);
  engine_.reset();  // the handle outlives its engine
  EXPECT_EQ(watch.next().status().code(), StatusCode::kUnavailable);
}

TEST_P(WatchTest, ACoroutineConsumesAWatch) {
  Watch watch = kv().watch_prefix("co/");
  asio::io_context io;
  std::vector<std::string> seen;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        while (seen.size() < 3) {
          Result<WatchBatch> batch = co_await watch.async_next(asio::use_awaitable);
          if (!batch) co_return;
          for (const Event& event : batch->events) seen.push_back(event.kv.value);
        }
      },
      asio::detached);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(kv().put("co/k", std::to_string(i)));
  io.run();
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2"}));
}

TEST_P(WatchTest, AThousandWatchersEachGetTheirKeysEventsOnce) {
  std::vector<Watch> watches;
  for (int i = 0; i < 1000; ++i) watches.push_back(kv().watch("w/" + std::to_string(i % 10)));
  Watch everything = kv().watch_prefix("w/");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(kv().put("w/" + std::to_string(i), "v"));
  for (int i = 0; i < 1000; ++i) {
    std::vector<Event> events = take(watches[i], 1);
    ASSERT_EQ(events.size(), 1U);
    EXPECT_EQ(events[0].kv.key, "w/" + std::to_string(i % 10));
    EXPECT_FALSE(watches[i].poll().has_value());
  }
  EXPECT_EQ(take(everything, 10).size(), 10U);
}

}  // namespace
}  // namespace dengine::runtime::test
