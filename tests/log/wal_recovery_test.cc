// Recovery of the segmented WAL: clean ends, torn tails, damage before the tail, lost
// directory entries and crashes at every step of a segment change.
#include <gtest/gtest.h>

#include "log/segment.h"
#include "tests/log/wal_test_util.h"

namespace dengine::log {
namespace {

using testing::make_entries;
using testing::WalDriver;

constexpr WalOptions kSegments4k{.segment_bytes = 4096};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class WalRecovery : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(driver_.open().has_value()); }

  Result<RecoveredLog> reopen() {
    driver_.close();
    return driver_.open();
  }

  void append_synced(Index first, Index last, Term term, size_t size = 300) {
    ASSERT_TRUE(driver_.append(make_entries(first, last, term, size),
                               HardState{.term = term, .vote = 1, .commit = first - 1}));
    ASSERT_TRUE(driver_.sync());
  }

  std::string segment_path(Index first_index) const {
    return join_path(testing::kWalDir, segment_file_name(first_index));
  }

  std::shared_ptr<FaultInjectingFileSystem> fs_ = std::make_shared<FaultInjectingFileSystem>(3);
  WalDriver driver_{fs_, kSegments4k};
};

TEST_F(WalRecovery, CleanCloseRecoversEverythingWithoutRepairs) {
  append_synced(1, 30, 1);
  ASSERT_GT(fs_->list_dir(testing::kWalDir)->size(), 2u);  // several segments
  Result<RecoveredLog> recovered = reopen();
  ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
  EXPECT_EQ(testing::mismatch(driver_.current(), *recovered), "");
  EXPECT_TRUE(recovered->repairs.empty());
  EXPECT_EQ(driver_.check_zeros_after_tail(), "");
}

TEST_F(WalRecovery, PowerCutLosesOnlyWhatWasNotSynced) {
  append_synced(1, 5, 1);
  ASSERT_TRUE(driver_.append(make_entries(6, 8, 1, 300), {}));
  fs_->power_cut(PowerCutOptions{.keep_unsynced_prefix = false, .tear_page = false});
  Result<RecoveredLog> recovered = reopen();
  ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
  EXPECT_EQ(testing::mismatch(driver_.durable(), *recovered), "");
}

TEST_F(WalRecovery, TornTailIsTruncatedOnRecovery) {
  int torn = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    auto fs = std::make_shared<FaultInjectingFileSystem>(seed);
    WalDriver driver(fs, WalOptions{.segment_bytes = 64 * 1024});
    ASSERT_TRUE(driver.open().has_value());
    ASSERT_TRUE(driver.append(make_entries(1, 5, 1, 300), {}));
    ASSERT_TRUE(driver.sync());
    ASSERT_TRUE(driver.append(make_entries(6, 30, 1, 300), {}));
    // The sync writes the appended records and its fdatasync fails, so they were written but
    // never made durable: the power cut keeps a prefix of them and may tear a page.
    fs->fail_nth_sync(1);
    ASSERT_FALSE(driver.sync());
    fs->power_cut(PowerCutOptions{.keep_unsynced_prefix = true, .tear_page = true});
    driver.close();
    Result<RecoveredLog> recovered = driver.open();
    ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
    ASSERT_EQ(driver.check_and_adopt(*recovered), "") << "seed " << seed;
    ASSERT_EQ(driver.check_zeros_after_tail(), "") << "seed " << seed;
    if (!recovered->repairs.empty()) {
      ++torn;
      EXPECT_TRUE(contains(recovered->repairs.front(),
                           "torn tail of segment " + segment_file_name(1) + " at offset"))
          << recovered->repairs.front();
    }
    // The repaired WAL takes new writes, and they survive the next power cut.
    ASSERT_TRUE(driver.append(
        make_entries(driver.current().last_index() + 1, driver.current().last_index() + 3, 2, 300),
        {}));
    ASSERT_TRUE(driver.sync());
    fs->power_cut();
    driver.close();
    recovered = driver.open();
    ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
    ASSERT_EQ(testing::mismatch(driver.durable(), *recovered), "") << "seed " << seed;
  }
  EXPECT_GT(torn, 10);
}

TEST_F(WalRecovery, GarbageInThePreallocatedSpaceIsDiscarded) {
  append_synced(1, 3, 1);
  driver_.close();
  ASSERT_TRUE(fs_->damage(segment_path(1), [](std::string& bytes) { bytes[3000] = 'x'; }));
  Result<RecoveredLog> recovered = driver_.open();
  ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
  EXPECT_EQ(testing::mismatch(driver_.current(), *recovered), "");
  ASSERT_EQ(recovered->repairs.size(), 1u);
  EXPECT_TRUE(contains(recovered->repairs.front(), "nonzero bytes after the last record"));
  EXPECT_EQ(driver_.check_zeros_after_tail(), "");
}

TEST_F(WalRecovery, ChecksumMismatchBeforeTheTailIsCorruption) {
  append_synced(1, 2, 1);  // records at 104 and 440, then the hard state
  append_synced(3, 4, 1);  // written after the first batch was synced
  driver_.close();
  ASSERT_TRUE(fs_->damage(segment_path(1), [](std::string& bytes) { bytes[200] ^= 0x40; }));
  Result<RecoveredLog> recovered = driver_.open();
  ASSERT_FALSE(recovered.has_value());
  const Status& st = recovered.status();
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_TRUE(contains(st.message(),
                       "wal: checksum mismatch in segment 0000000000000001.wal at "
                       "offset 104 (expected 0x"))
      << st.message();
  EXPECT_TRUE(contains(st.message(), ", found 0x")) << st.message();
}

TEST_F(WalRecovery, DamageInTheLastSyncedBatchLooksTornAndIsTruncated) {
  // Nothing was written after the last batch was synced, so nothing proves it was durable:
  // the same bytes a power cut in the middle of its write would leave.
  append_synced(1, 2, 1);
  append_synced(3, 4, 1);
  driver_.close();
  ASSERT_TRUE(fs_->damage(segment_path(1), [](std::string& bytes) { bytes[900] ^= 0x40; }));
  Result<RecoveredLog> recovered = driver_.open();
  ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
  EXPECT_EQ(recovered->last_index(), 2u);
  EXPECT_EQ(recovered->repairs.size(), 1u);
}

TEST_F(WalRecovery, DamageInASealedSegmentIsCorruption) {
  append_synced(1, 30, 1);
  driver_.close();
  ASSERT_TRUE(fs_->damage(segment_path(1), [](std::string& bytes) { bytes[1000] ^= 1; }));
  Result<RecoveredLog> recovered = driver_.open();
  ASSERT_FALSE(recovered.has_value());
  EXPECT_EQ(recovered.status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(contains(recovered.status().message(), "segment 0000000000000001.wal at offset"))
      << recovered.status().message();
}

TEST_F(WalRecovery, TruncatedSealedSegmentIsCorruption) {
  append_synced(1, 30, 1);
  driver_.close();
  ASSERT_TRUE(fs_->damage(segment_path(1), [](std::string& bytes) { bytes.resize(2000); }));
  Result<RecoveredLog> recovered = driver_.open();
  ASSERT_FALSE(recovered.has_value());
  EXPECT_TRUE(contains(recovered.status().message(), "corrupt")) << recovered.status().message();
  EXPECT_TRUE(contains(recovered.status().message(), segment_file_name(1)));
}

TEST_F(WalRecovery, MissingSegmentIsCorruption) {
  append_synced(1, 40, 1);
  Result<std::vector<std::string>> names = fs_->list_dir(testing::kWalDir);
  ASSERT_GE(names->size(), 3u);
  driver_.close();
  ASSERT_TRUE(fs_->remove(join_path(testing::kWalDir, (*names)[1])));
  Result<RecoveredLog> recovered = driver_.open();
  ASSERT_FALSE(recovered.has_value());
  EXPECT_EQ(recovered.status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(contains(recovered.status().message(), "a segment is missing"))
      << recovered.status().message();
  EXPECT_TRUE(contains(recovered.status().message(), (*names)[2]));
}

TEST_F(WalRecovery, ZeroedSegmentHeaderIsCorruption) {
  append_synced(1, 3, 1);
  driver_.close();
  ASSERT_TRUE(fs_->damage(segment_path(1), [](std::string& bytes) {
    std::fill(bytes.begin(), bytes.begin() + 64, '\0');
  }));
  Result<RecoveredLog> recovered = driver_.open();
  ASSERT_FALSE(recovered.has_value());
  EXPECT_TRUE(contains(recovered.status().message(),
                       "checksum mismatch in segment header of 0000000000000001.wal at offset 0"))
      << recovered.status().message();
}

TEST_F(WalRecovery, NewSegmentsDirectoryEntryIsDurableBeforeAnythingInItIsAcknowledged) {
  append_synced(1, 30, 1);  // several segment changes
  fs_->power_cut(PowerCutOptions{.keep_unsynced_prefix = false,
                                 .tear_page = false,
                                 .garbage = false,
                                 .keep_dir_ops_prefix = false});
  Result<RecoveredLog> recovered = reopen();
  ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
  EXPECT_EQ(testing::mismatch(driver_.durable(), *recovered), "");
}

TEST_F(WalRecovery, SegmentWhoseDirectoryEntryWasLostIsForgottenConsistently) {
  append_synced(1, 10, 1);
  // The next segment change fails at its directory fsync: the new segment's name is not
  // durable, and the power cut forgets it.
  fs_->fail_nth_dir_sync(1);
  const Status st = driver_.append(make_entries(11, 30, 1, 300), {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  fs_->clear_faults();
  fs_->power_cut(PowerCutOptions{.keep_unsynced_prefix = false, .keep_dir_ops_prefix = false});
  Result<RecoveredLog> recovered = reopen();
  ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
  EXPECT_EQ(driver_.check_and_adopt(*recovered), "");
  EXPECT_GE(recovered->last_index(), 10u);
}

TEST_F(WalRecovery, LeftoverTempFileIsRemoved) {
  append_synced(1, 3, 1);
  driver_.close();
  auto temp = fs_->create(join_path(testing::kWalDir, "0000000000000004.wal.tmp"));
  ASSERT_TRUE(temp.has_value());
  Result<RecoveredLog> recovered = driver_.open();
  ASSERT_TRUE(recovered.has_value());
  ASSERT_EQ(recovered->repairs.size(), 1u);
  EXPECT_TRUE(contains(recovered->repairs.front(), "removed 0000000000000004.wal.tmp"));
  EXPECT_FALSE(fs_->exists(join_path(testing::kWalDir, "0000000000000004.wal.tmp")));
}

// Runs `scenario` once to count its file-system calls, then once per call with a crash (every
// call from there on fails) and a power cut at that point; recovery must find an allowed state.
template <typename Setup, typename Scenario>
void crash_at_every_step(Setup setup, Scenario scenario, int* cases) {
  uint64_t total = 0;
  {
    auto fs = std::make_shared<FaultInjectingFileSystem>(0);
    WalDriver driver(fs, kSegments4k);
    ASSERT_TRUE(driver.open().has_value());
    setup(driver);
    const uint64_t before = fs->mutating_op_count();
    scenario(driver);
    total = fs->mutating_op_count() - before;
  }
  for (uint64_t crash_at = 0; crash_at <= total; ++crash_at) {
    for (uint64_t seed = 0; seed < 3; ++seed) {
      auto fs = std::make_shared<FaultInjectingFileSystem>(crash_at * 7 + seed);
      WalDriver driver(fs, kSegments4k);
      ASSERT_TRUE(driver.open().has_value());
      setup(driver);
      fs->crash_after_ops(crash_at);
      scenario(driver);
      fs->clear_faults();
      fs->power_cut();
      driver.close();
      Result<RecoveredLog> recovered = driver.open();
      ASSERT_TRUE(recovered.has_value())
          << "crash after " << crash_at << " calls: " << recovered.status().to_string();
      ASSERT_EQ(driver.check_and_adopt(*recovered), "") << "crash after " << crash_at;
      ASSERT_EQ(driver.check_zeros_after_tail(), "") << "crash after " << crash_at;
      ++*cases;
    }
  }
}

TEST(WalCrashSteps, TruncationReachingBackAcrossSegments) {
  int cases = 0;
  crash_at_every_step(
      [](WalDriver& driver) {
        ASSERT_TRUE(driver.append(make_entries(1, 40, 1, 300),
                                  HardState{.term = 1, .vote = 1, .commit = 3}));
        ASSERT_TRUE(driver.sync());
      },
      [](WalDriver& driver) {
        // Back into the first segment from the fourth, twice.
        const HardState hard_state{.term = 2, .vote = 2, .commit = 4};
        if (!driver.append(make_entries(5, 20, 2, 300), hard_state)) return;
        if (!driver.sync()) return;
        if (!driver.append(make_entries(5, 6, 3, 300), {})) return;
        if (!driver.sync()) return;
        if (!driver.append(make_entries(7, 8, 3, 300), {})) return;
        static_cast<void>(driver.sync());
      },
      &cases);
  RecordProperty("cases", cases);
  std::printf("crash steps, truncation across segments: %d crashes, all recovered allowed states\n",
              cases);
}

TEST(WalCrashSteps, TruncatingTheWholeLog) {
  int cases = 0;
  crash_at_every_step(
      [](WalDriver& driver) {
        ASSERT_TRUE(driver.append(make_entries(1, 30, 1, 300), {}));
        ASSERT_TRUE(driver.sync());
      },
      [](WalDriver& driver) {
        if (!driver.append(make_entries(1, 3, 2, 300), {})) return;
        static_cast<void>(driver.sync());
      },
      &cases);
  RecordProperty("cases", cases);
  std::printf("crash steps, truncating the whole log: %d crashes, all recovered allowed states\n",
              cases);
}

TEST(WalCrashSteps, SegmentChangesAndCompaction) {
  int cases = 0;
  crash_at_every_step(
      [](WalDriver& driver) {
        ASSERT_TRUE(driver.append(make_entries(1, 20, 1, 300),
                                  HardState{.term = 1, .vote = 1, .commit = 20}));
        ASSERT_TRUE(driver.sync());
      },
      [](WalDriver& driver) {
        for (Index i = 21; i <= 45; i += 5) {
          if (!driver.append(make_entries(i, i + 4, 1, 300),
                             HardState{.term = 1, .vote = 1, .commit = i})) {
            return;
          }
          if (!driver.sync()) return;
        }
        if (!driver.compact(30)) return;
        static_cast<void>(driver.append(make_entries(50, 52, 1, 300), {}));
      },
      &cases);
  RecordProperty("cases", cases);
  std::printf(
      "crash steps, segment changes and compaction: %d crashes, all recovered allowed states\n",
      cases);
}

TEST(WalCrashSteps, InstallingASnapshot) {
  int cases = 0;
  crash_at_every_step(
      [](WalDriver& driver) {
        ASSERT_TRUE(driver.append(make_entries(1, 30, 1, 300),
                                  HardState{.term = 1, .vote = 1, .commit = 10}));
        ASSERT_TRUE(driver.sync());
      },
      [](WalDriver& driver) {
        if (!driver.reset(100, 4)) return;
        if (!driver.append(make_entries(101, 103, 4, 300),
                           HardState{.term = 4, .vote = 0, .commit = 100})) {
          return;
        }
        if (!driver.sync()) return;
        if (!driver.reset(20, 5)) return;  // behind the log: everything goes, again
        static_cast<void>(driver.append(make_entries(21, 22, 5, 300), {}));
      },
      &cases);
  RecordProperty("cases", cases);
  std::printf("crash steps, installing a snapshot: %d crashes, all recovered allowed states\n",
              cases);
}

}  // namespace
}  // namespace dengine::log
