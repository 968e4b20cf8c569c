// Write-behind appends and sync_async(): appended entries are readable before any sync, a
// callback runs only once its appends are durable, in call order, and carries the error that
// stopped the WAL.
#include <algorithm>
#include <functional>
#include <latch>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include "tests/log/wal_test_util.h"

namespace dengine::log {
namespace {

using testing::make_entries;
using testing::WalDriver;

class WalWriteBehind : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(driver_.open().has_value()); }

  // Calls sync_async and waits for its callback; returns its status.
  Status sync_async_and_wait() {
    std::latch called(1);
    Status result = Status::internal("callback never ran");
    driver_.wal().sync_async([&](const Status& st) {
      result = st;
      called.count_down();
    });
    called.wait();
    return result;
  }

  // Power cut, reopen: the recovered log must equal `expected` exactly.
  void expect_after_power_cut(const testing::LogModel& expected) {
    fs_->power_cut(PowerCutOptions{.keep_unsynced_prefix = false, .tear_page = false});
    driver_.close();
    Result<RecoveredLog> recovered = driver_.open();
    ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
    EXPECT_EQ(testing::mismatch(expected, *recovered), "");
  }

  std::shared_ptr<FaultInjectingFileSystem> fs_ = std::make_shared<FaultInjectingFileSystem>(9);
  WalDriver driver_{fs_, WalOptions{.segment_bytes = 64 * 1024}};
};

TEST_F(WalWriteBehind, EntriesAreReadableBeforeTheSyncThatWritesThem) {
  ASSERT_TRUE(driver_.append(make_entries(1, 4, 1, 100), {}));
  ASSERT_TRUE(driver_.sync());
  const uint64_t written = driver_.wal().stats().bytes_written;
  ASSERT_TRUE(driver_.append(make_entries(5, 9, 1, 100), {}));
  EXPECT_EQ(driver_.wal().stats().bytes_written, written) << "written before a sync";
  // One read spanning written records (1-4) and buffered ones (5-9), and one of buffered only.
  for (const Index lo : {Index{2}, Index{6}}) {
    Result<std::vector<Entry>> read = driver_.wal().entries(lo, 10, 1 << 20);
    ASSERT_TRUE(read.has_value()) << read.status().to_string();
    ASSERT_EQ(read->size(), 10 - lo);
    for (size_t i = 0; i < read->size(); ++i) {
      EXPECT_EQ((*read)[i], driver_.current().entries[lo - 1 + i]) << "entry " << lo + i;
    }
  }
}

TEST_F(WalWriteBehind, NothingAppendedSinceTheLastSyncSurvivesAPowerCut) {
  ASSERT_TRUE(driver_.append(make_entries(1, 4, 1, 100), {}));
  ASSERT_TRUE(driver_.sync());
  const testing::LogModel synced = driver_.current();
  ASSERT_TRUE(driver_.append(make_entries(5, 9, 1, 100), {}));
  expect_after_power_cut(synced);
}

TEST_F(WalWriteBehind, ACallbackRunsOnlyOnceItsAppendsAreDurable) {
  ASSERT_TRUE(driver_.append(make_entries(1, 6, 1, 200), HardState{.term = 1, .vote = 1}));
  ASSERT_TRUE(sync_async_and_wait());
  EXPECT_EQ(driver_.wal().stats().async_syncs, 1u);
  expect_after_power_cut(driver_.current());
}

TEST_F(WalWriteBehind, WithNothingToSyncTheCallbackRunsAtOnceOnTheCallingThread) {
  ASSERT_TRUE(driver_.append(make_entries(1, 2, 1, 100), {}));
  ASSERT_TRUE(driver_.sync());
  const uint64_t fdatasyncs = driver_.wal().stats().fdatasyncs;
  bool called = false;
  driver_.wal().sync_async([&](const Status& st) {
    EXPECT_TRUE(st) << st.to_string();
    called = true;
  });
  EXPECT_TRUE(called);
  EXPECT_EQ(driver_.wal().stats().fdatasyncs, fdatasyncs);
}

TEST_F(WalWriteBehind, ChainedCallbacksRunInOrderAndShareFdatasyncs) {
  // Eight appenders in flight, each appending its next entry from its callback, as an event
  // loop would: every entry is durable when its callback runs, and syncs are shared.
  constexpr int kAppenders = 8;
  constexpr int kRecordsEach = 25;
  std::mutex mu;  // guards the driver's model and `completed`
  std::vector<Index> completed;
  std::latch finished(kAppenders);
  std::function<void(int)> append_next = [&](int remaining) {
    // Held across the append and sync_async, so callbacks are queued in index order.
    std::lock_guard lock(mu);
    const Index index = driver_.current().last_index() + 1;
    EXPECT_TRUE(driver_.append(make_entries(index, index, 1, 64), {}));
    driver_.wal().sync_async([&, index, remaining](const Status& st) {
      EXPECT_TRUE(st) << st.to_string();
      {
        std::lock_guard completed_lock(mu);
        completed.push_back(index);
      }
      if (remaining == 1) {
        finished.count_down();
      } else {
        append_next(remaining - 1);
      }
    });
  };
  for (int a = 0; a < kAppenders; ++a) append_next(kRecordsEach);
  finished.wait();

  ASSERT_EQ(completed.size(), size_t{kAppenders * kRecordsEach});
  EXPECT_TRUE(std::is_sorted(completed.begin(), completed.end()));
  const WalStats stats = driver_.wal().stats();
  // Ideally one sync per round of all eight (about 25); how the chains start depends on the
  // scheduler, and a loaded CI machine once needed 51. Unshared would be 200.
  EXPECT_LT(stats.fdatasyncs, uint64_t{kAppenders * kRecordsEach} / 2) << "syncs not shared";
  // Every callback ran after a sync that covered its entry: all of them survive a power cut.
  ASSERT_TRUE(driver_.sync());  // for the driver's model only: nothing is left to write
  EXPECT_EQ(driver_.wal().stats().fdatasyncs, stats.fdatasyncs);
  expect_after_power_cut(driver_.current());
}

TEST_F(WalWriteBehind, AFailedSyncReachesEveryWaitingCallbackAndLaterOnes) {
  ASSERT_TRUE(driver_.append(make_entries(1, 3, 1, 100), {}));
  ASSERT_TRUE(driver_.sync());
  const testing::LogModel synced = driver_.current();
  ASSERT_TRUE(driver_.append(make_entries(4, 6, 1, 100), {}));
  fs_->fail_nth_sync(1);
  const Status failed = sync_async_and_wait();
  EXPECT_EQ(failed.code(), StatusCode::kIoError);
  EXPECT_NE(failed.message().find("fdatasync"), std::string::npos) << failed.message();
  // The WAL has stopped: a later call gets the same error at once.
  bool called = false;
  driver_.wal().sync_async([&](const Status& st) {
    EXPECT_EQ(st.code(), StatusCode::kIoError);
    called = true;
  });
  EXPECT_TRUE(called);
  fs_->clear_faults();
  expect_after_power_cut(synced);
}

TEST_F(WalWriteBehind, DestroyingTheWalRunsEveryPendingCallbackFirst) {
  ASSERT_TRUE(driver_.append(make_entries(1, 3, 1, 100), {}));
  int called = 0;
  for (int i = 0; i < 5; ++i) {
    driver_.wal().sync_async([&](const Status& st) {
      EXPECT_TRUE(st) << st.to_string();
      ++called;  // only the flusher thread runs these
    });
  }
  driver_.close();  // joins the flusher after it has run all five
  EXPECT_EQ(called, 5);
}

}  // namespace
}  // namespace dengine::log
