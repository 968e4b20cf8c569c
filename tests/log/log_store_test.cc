// One behaviour suite for every LogStore: the in-memory store, the WAL on the fault-injecting
// file layer, the WAL on real files and, when built, the RocksDB store.
#include "dengine/log_store.h"

#include <memory>

#include <gtest/gtest.h>

#include "log/fault_injecting_file_system.h"
#include "log/memory_log_store.h"
#include "log/segmented_wal.h"
#include "tests/log/log_test_util.h"

namespace dengine::log {
namespace {

using testing::make_entries;
using testing::make_entry;

// Small segments, so that a few entries already span several of them.
constexpr WalOptions kSmallSegments{.segment_bytes = 4096};

struct MemoryStore {
  static constexpr bool kDurable = false;
  std::unique_ptr<LogStore> open() { return make_memory_log_store(); }
};

struct FaultFsWal {
  static constexpr bool kDurable = true;
  std::shared_ptr<FaultInjectingFileSystem> fs = std::make_shared<FaultInjectingFileSystem>(7);
  RecoveredLog recovered;
  std::unique_ptr<LogStore> open() {
    auto opened = SegmentedWal::open(fs, "/data", kSmallSegments);
    EXPECT_TRUE(opened.has_value()) << opened.status().to_string();
    if (!opened) return nullptr;
    recovered = std::move(opened->recovered);
    return std::move(opened->wal);
  }
};

struct PosixWal {
  static constexpr bool kDurable = true;
  testing::TempDir dir;
  RecoveredLog recovered;
  std::unique_ptr<LogStore> open() {
    auto opened = open_wal_log_store(dir.path() + "/data", kSmallSegments);
    EXPECT_TRUE(opened.has_value()) << opened.status().to_string();
    if (!opened) return nullptr;
    recovered = std::move(opened->recovered);
    return std::move(opened->store);
  }
};

#if DENGINE_WITH_ROCKSDB
struct RocksDbLog {
  static constexpr bool kDurable = true;
  testing::TempDir dir;
  RecoveredLog recovered;
  std::unique_ptr<LogStore> open() {
    auto opened = open_rocksdb_log_store(dir.path() + "/data");
    EXPECT_TRUE(opened.has_value()) << opened.status().to_string();
    if (!opened) return nullptr;
    recovered = std::move(opened->recovered);
    return std::move(opened->store);
  }
};
#endif

template <typename Backend>
class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = backend_.open();
    ASSERT_NE(store_, nullptr);
  }

  // Closes and reopens (durable stores only); returns what recovery found.
  RecoveredLog reopen() {
    store_.reset();
    store_ = backend_.open();
    return backend_.recovered;
  }

  void append(const std::vector<Entry>& entries, std::optional<HardState> hard_state = {}) {
    const Status st = store_->append(entries, hard_state);
    ASSERT_TRUE(st) << st.to_string();
    model_.append(entries, hard_state);
  }

  void expect_matches_model() {
    ASSERT_EQ(store_->last_index(), model_.last_index());
    const Index first = store_->first_index();
    ASSERT_GE(first, 1u);
    Result<std::vector<Entry>> read = store_->entries(first, model_.last_index() + 1, UINT64_MAX);
    ASSERT_TRUE(read.has_value()) << read.status().to_string();
    ASSERT_EQ(read->size(), model_.last_index() + 1 - first);
    for (const Entry& entry : *read) {
      ASSERT_EQ(entry, model_.entries[entry.index - 1]) << entry.index;
      ASSERT_EQ(*store_->term(entry.index), entry.term);
    }
    EXPECT_EQ(*store_->term(first - 1), model_.term_at(first - 1));
    EXPECT_EQ(store_->hard_state(), model_.hard_state);
  }

  Backend backend_;
  std::unique_ptr<LogStore> store_;
  testing::LogModel model_;
};

#if DENGINE_WITH_ROCKSDB
using Backends = ::testing::Types<MemoryStore, FaultFsWal, PosixWal, RocksDbLog>;
using DurableBackends = ::testing::Types<FaultFsWal, PosixWal, RocksDbLog>;
#else
using Backends = ::testing::Types<MemoryStore, FaultFsWal, PosixWal>;
using DurableBackends = ::testing::Types<FaultFsWal, PosixWal>;
#endif
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, MemoryStore>) return "Memory";
    if (std::is_same_v<T, FaultFsWal>) return "WalOnFaultFs";
    if (std::is_same_v<T, PosixWal>) return "WalOnPosix";
    return "RocksDb";
  }
};
TYPED_TEST_SUITE(LogStoreTest, Backends, BackendNames);

TYPED_TEST(LogStoreTest, StartsEmptyAtIndexOne) {
  EXPECT_EQ(this->store_->first_index(), 1u);
  EXPECT_EQ(this->store_->last_index(), 0u);
  EXPECT_EQ(*this->store_->term(0), 0u);
  EXPECT_EQ(this->store_->hard_state(), HardState{});
  EXPECT_TRUE(this->store_->entries(1, 1, 100)->empty());
}

TYPED_TEST(LogStoreTest, AppendedEntriesReadBack) {
  this->append(make_entries(1, 40, 1, 100), HardState{.term = 1, .vote = 2, .commit = 10});
  this->append(make_entries(41, 60, 2, 0));
  ASSERT_TRUE(this->store_->sync());
  this->expect_matches_model();
  Result<std::vector<Entry>> middle = this->store_->entries(17, 23, UINT64_MAX);
  ASSERT_EQ(middle->size(), 6u);
  EXPECT_EQ(middle->front().index, 17u);
}

TYPED_TEST(LogStoreTest, ReadStopsAtMaxBytesButReturnsAtLeastOneEntry) {
  this->append(make_entries(1, 10, 1, 100));
  EXPECT_EQ(this->store_->entries(1, 11, 0)->size(), 1u);
  EXPECT_EQ(this->store_->entries(1, 11, 99)->size(), 1u);
  EXPECT_EQ(this->store_->entries(1, 11, 250)->size(), 2u);
  EXPECT_EQ(this->store_->entries(1, 11, 1000)->size(), 10u);
}

TYPED_TEST(LogStoreTest, ConflictingSuffixIsReplaced) {
  this->append(make_entries(1, 10, 1));
  this->append(make_entries(6, 8, 2), HardState{.term = 2, .vote = 0, .commit = 5});
  EXPECT_EQ(this->store_->last_index(), 8u);
  EXPECT_EQ(*this->store_->term(6), 2u);
  this->expect_matches_model();
}

TYPED_TEST(LogStoreTest, TruncationReachingBackAcrossSegmentsIsReplaced) {
  // 300-byte entries: about a dozen per 4 KiB segment.
  this->append(make_entries(1, 100, 1, 300));
  this->append(make_entries(5, 7, 3, 300));
  this->expect_matches_model();
  this->append(make_entries(8, 60, 3, 300));
  this->append(make_entries(60, 61, 4, 300));
  ASSERT_TRUE(this->store_->sync());
  this->expect_matches_model();
}

TYPED_TEST(LogStoreTest, TruncatingEverythingStartsOver) {
  this->append(make_entries(1, 30, 1, 300));
  this->append(make_entries(1, 2, 2, 300));
  this->expect_matches_model();
}

TYPED_TEST(LogStoreTest, LatestHardStateWins) {
  this->append({}, HardState{.term = 1, .vote = 1, .commit = 0});
  this->append(make_entries(1, 3, 1), HardState{.term = 1, .vote = 1, .commit = 3});
  this->append({}, HardState{.term = 2, .vote = 3, .commit = 3});
  this->expect_matches_model();
}

TYPED_TEST(LogStoreTest, RefusesGapsHolesAndOverwritingCommittedEntries) {
  this->append(make_entries(1, 5, 1), HardState{.term = 1, .vote = 1, .commit = 3});
  EXPECT_EQ(this->store_->append(make_entries(7, 8, 1), {}).code(), StatusCode::kInvalidArgument);
  std::vector<Entry> holey = make_entries(6, 8, 1);
  holey.erase(holey.begin() + 1);
  EXPECT_EQ(this->store_->append(holey, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->append(make_entries(3, 4, 2), {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->append({}, HardState{.term = 1, .vote = 1, .commit = 6}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->append(make_entries(0, 1, 1), {}).code(), StatusCode::kInvalidArgument);
  // Refusals change nothing, and the store goes on working.
  this->expect_matches_model();
  this->append(make_entries(4, 6, 2));
  this->expect_matches_model();
}

TYPED_TEST(LogStoreTest, ReadsOutsideTheLogAreRefused) {
  this->append(make_entries(1, 5, 1));
  EXPECT_EQ(this->store_->entries(3, 7, 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->entries(4, 3, 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->term(6).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(LogStoreTest, CompactionKeepsEverythingAfterTheIndex) {
  this->append(make_entries(1, 100, 1, 300), HardState{.term = 1, .vote = 1, .commit = 90});
  ASSERT_TRUE(this->store_->compact(50));
  const Index first = this->store_->first_index();
  EXPECT_LE(first, 51u);
  EXPECT_GT(first, 1u) << "nothing was compacted";
  EXPECT_EQ(this->store_->entries(first - 1, 60, 100).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->term(first - 2).status().code(), StatusCode::kNotFound);
  this->expect_matches_model();
  this->append(make_entries(95, 120, 2, 300));
  ASSERT_TRUE(this->store_->compact(1000));  // past the end: the WAL keeps its last segment
  this->expect_matches_model();
}

TYPED_TEST(LogStoreTest, ResetStartsTheLogAfterASnapshot) {
  this->append(make_entries(1, 40, 1, 300), HardState{.term = 1, .vote = 1, .commit = 10});
  EXPECT_EQ(this->store_->reset(9, 1).code(), StatusCode::kInvalidArgument);  // commits 10
  EXPECT_EQ(this->store_->reset(0, 1).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(this->store_->reset(100, 3));
  EXPECT_EQ(this->store_->first_index(), 101u);
  EXPECT_EQ(this->store_->last_index(), 100u);
  EXPECT_EQ(*this->store_->term(100), 3u);
  EXPECT_EQ(this->store_->entries(100, 101, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->append(make_entries(100, 100, 3), {}).code(),
            StatusCode::kInvalidArgument);
  this->model_.reset(100, 3);
  this->append(make_entries(101, 110, 3, 300), HardState{.term = 3, .vote = 0, .commit = 100});
  ASSERT_TRUE(this->store_->sync());
  this->expect_matches_model();
  if constexpr (TypeParam::kDurable) {
    const RecoveredLog recovered = this->reopen();
    EXPECT_EQ(recovered.first_index, 101u);
    EXPECT_EQ(recovered.prev_term, 3u);
    EXPECT_EQ(testing::mismatch(this->model_, recovered), "");
    this->expect_matches_model();
  }
}

// The stores that survive a close.
template <typename Backend>
class DurableLogStoreTest : public LogStoreTest<Backend> {};
TYPED_TEST_SUITE(DurableLogStoreTest, DurableBackends, BackendNames);

TYPED_TEST(DurableLogStoreTest, ReopenRecoversEverythingAfterACleanClose) {
  this->append(make_entries(1, 60, 1, 300), HardState{.term = 1, .vote = 1, .commit = 20});
  this->append(make_entries(30, 70, 2, 200), HardState{.term = 2, .vote = 2, .commit = 25});
  ASSERT_TRUE(this->store_->compact(20));
  this->append(make_entries(71, 72, 2, 10));
  ASSERT_TRUE(this->store_->sync());
  const Index first = this->store_->first_index();
  const RecoveredLog recovered = this->reopen();
  EXPECT_EQ(testing::mismatch(this->model_, recovered), "");
  EXPECT_EQ(recovered.first_index, first);
  EXPECT_TRUE(recovered.repairs.empty()) << recovered.repairs.front();
  this->expect_matches_model();
  // And it goes on working.
  this->append(make_entries(73, 90, 3, 300), HardState{.term = 3, .vote = 0, .commit = 73});
  ASSERT_TRUE(this->store_->sync());
  EXPECT_EQ(testing::mismatch(this->model_, this->reopen()), "");
}

TYPED_TEST(DurableLogStoreTest, DiscardedSuffixStaysDiscardedAfterReopen) {
  this->append(make_entries(1, 30, 1, 300), HardState{.term = 1, .vote = 1, .commit = 5});
  this->append(make_entries(10, 12, 2, 300), HardState{.term = 2, .vote = 2, .commit = 5});
  ASSERT_TRUE(this->store_->sync());
  const RecoveredLog recovered = this->reopen();
  EXPECT_EQ(testing::mismatch(this->model_, recovered), "");
  this->expect_matches_model();
}

}  // namespace
}  // namespace dengine::log
