// I/O errors are fatal, and group commit shares fdatasyncs between concurrent callers.
#include <atomic>
#include <condition_variable>
#include <thread>

#include <gtest/gtest.h>

#include "tests/log/wal_test_util.h"

namespace dengine::log {
namespace {

using testing::make_entries;
using testing::make_entry;
using testing::WalDriver;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class WalFailure : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(driver_.open().has_value());
    ASSERT_TRUE(
        driver_.append(make_entries(1, 5, 1, 100), HardState{.term = 1, .vote = 1, .commit = 2}));
    ASSERT_TRUE(driver_.sync());
  }

  // Every call fails with kIoError naming `cause`.
  void expect_stopped(const std::string& cause) {
    SegmentedWal& wal = driver_.wal();
    const std::vector<Status> results = {
        wal.append(std::vector<Entry>{make_entry(6, 1)}, {}),
        wal.append({}, HardState{.term = 2, .vote = 0, .commit = 2}),
        wal.sync(),
        wal.entries(1, 3, 1000).status(),
        wal.term(2).status(),
        wal.compact(3),
    };
    for (const Status& st : results) {
      EXPECT_EQ(st.code(), StatusCode::kIoError) << st.to_string();
      EXPECT_TRUE(contains(st.message(), cause)) << st.message();
      EXPECT_TRUE(contains(st.message(), "the WAL has stopped")) << st.message();
    }
  }

  // After a power cut the WAL opens again and holds what was synced.
  void expect_recovers_synced_state() {
    fs_->clear_faults();
    fs_->power_cut();
    driver_.close();
    Result<RecoveredLog> recovered = driver_.open();
    ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
    EXPECT_EQ(driver_.check_and_adopt(*recovered), "");
  }

  std::shared_ptr<FaultInjectingFileSystem> fs_ = std::make_shared<FaultInjectingFileSystem>(5);
  WalDriver driver_{fs_, WalOptions{.segment_bytes = 4096}};
};

TEST_F(WalFailure, FdatasyncErrorIsFatal) {
  ASSERT_TRUE(driver_.append(make_entries(6, 8, 1, 100), {}));
  fs_->fail_nth_sync(1);
  const Status st = driver_.sync();
  ASSERT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_TRUE(contains(st.message(), "wal: fdatasync of segment 0000000000000001.wal"))
      << st.message();
  EXPECT_TRUE(contains(st.message(), "Input/output error")) << st.message();
  // Never retried: a second sync would succeed on the fault layer, and must not be tried.
  const uint64_t syncs = fs_->file_sync_count();
  expect_stopped("fdatasync of segment 0000000000000001.wal");
  EXPECT_EQ(fs_->file_sync_count(), syncs);
  expect_recovers_synced_state();
}

TEST_F(WalFailure, DirectoryFsyncErrorWhenStartingASegmentIsFatal) {
  fs_->fail_nth_dir_sync(1);
  const Status st = driver_.append(make_entries(6, 60, 1, 100), {});
  ASSERT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_TRUE(contains(st.message(), "fsync of the wal dir")) << st.message();
  expect_stopped("fsync of the wal dir");
  expect_recovers_synced_state();
}

TEST_F(WalFailure, WriteErrorIsFatal) {
  fs_->fail_writes_after_bytes(150);
  // Appends are written behind, by the next sync: that is where the error shows.
  ASSERT_TRUE(driver_.append(make_entries(6, 8, 1, 100), {}));
  const Status st = driver_.sync();
  ASSERT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_TRUE(contains(st.message(), "writing")) << st.message();
  EXPECT_TRUE(contains(st.message(), "at offset")) << st.message();
  expect_stopped("Input/output error");
  expect_recovers_synced_state();
}

TEST_F(WalFailure, NoSpaceForANewSegmentIsFatal) {
  fs_->set_capacity_bytes(4096 + 2048);  // the first segment, and half of a second
  const Status st = driver_.append(make_entries(6, 60, 1, 100), {});
  ASSERT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_TRUE(contains(st.message(), "No space left on device")) << st.message();
  EXPECT_TRUE(contains(st.message(), "preallocating segment")) << st.message();
  expect_stopped("No space left on device");
  expect_recovers_synced_state();
}

TEST_F(WalFailure, RefusedArgumentsAreNotFatal) {
  EXPECT_EQ(driver_.wal().append(make_entries(9, 9, 1), {}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(driver_.append(make_entries(6, 6, 1), {}));
  EXPECT_TRUE(driver_.sync());
}

TEST(WalGroupCommit, SyncsWaitingOnARunningSyncShareTheNextFdatasync) {
  auto fs = std::make_shared<FaultInjectingFileSystem>(1);
  Result<SegmentedWal::Opened> opened =
      SegmentedWal::open(fs, testing::kDataDir, WalOptions{.segment_bytes = 1 << 20});
  ASSERT_TRUE(opened.has_value());
  SegmentedWal& wal = *opened->wal;

  // Hold the first fdatasync in flight until seven more appenders wait behind it.
  std::mutex mu;
  std::condition_variable cv;
  int syncs_entered = 0;
  bool release = false;
  fs->set_sync_hook([&](const std::string&) {
    std::unique_lock lock(mu);
    ++syncs_entered;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  const uint64_t fdatasyncs_before = wal.stats().fdatasyncs;
  const uint64_t calls_before = wal.stats().sync_calls;

  ASSERT_TRUE(wal.append(std::vector<Entry>{make_entry(1, 1)}, {}));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  threads.emplace_back([&] { ok += wal.sync().is_ok() ? 1 : 0; });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return syncs_entered == 1; });
  }
  for (Index i = 2; i <= 8; ++i) {
    ASSERT_TRUE(wal.append(std::vector<Entry>{make_entry(i, 1)}, {}));
    threads.emplace_back([&] { ok += wal.sync().is_ok() ? 1 : 0; });
  }
  // No sleeping: wait until all eight sync() calls are inside the WAL.
  while (wal.stats().sync_calls < calls_before + 8) std::this_thread::yield();
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(ok.load(), 8);
  // One fdatasync for the first appender, one shared by the seven that waited.
  EXPECT_EQ(wal.stats().fdatasyncs - fdatasyncs_before, 2u);
  EXPECT_EQ(syncs_entered, 2);
}

TEST(WalGroupCommit, ConcurrentAppendersLoseNothing) {
  auto fs = std::make_shared<FaultInjectingFileSystem>(2);
  WalDriver driver(fs, WalOptions{.segment_bytes = 16384});
  ASSERT_TRUE(driver.open().has_value());
  SegmentedWal& wal = driver.wal();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::mutex index_mu;  // assigns indexes in append order, as a Raft leader would
  Index next = 1;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        {
          std::lock_guard lock(index_mu);
          const Entry entry = make_entry(next, 1, static_cast<size_t>(t * 10 + i % 50));
          if (!wal.append(std::vector<Entry>{entry}, {})) ++failures;
          ++next;
        }
        if (!wal.sync()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);
  const WalStats stats = wal.stats();
  std::printf("group commit: %llu sync() calls ran %llu fdatasyncs\n",
              static_cast<unsigned long long>(stats.sync_calls),
              static_cast<unsigned long long>(stats.fdatasyncs));
  fs->power_cut();
  driver.close();
  Result<RecoveredLog> recovered = driver.open();
  ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
  ASSERT_EQ(recovered->last_index(), Index{kThreads * kPerThread});
  for (const Entry& entry : recovered->entries) {
    ASSERT_EQ(entry.data, testing::payload(entry.index, 1, entry.data.size())) << entry.index;
  }
}

}  // namespace
}  // namespace dengine::log
