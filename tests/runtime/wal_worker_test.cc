// The WAL worker's fdatasync rule: entries, terms and votes are synced before they are
// reported durable; a write that only moves the commit index is not synced on its own.

#include "runtime/wal_worker.h"

#include <condition_variable>
#include <mutex>
#include <optional>

#include <gtest/gtest.h>

#include "tests/support/scratch_dir.h"

namespace dengine::runtime::test {
namespace {

StorageWrite append(Entry entry, std::optional<HardState> hard_state = std::nullopt) {
  StorageWrite write;
  write.entries.push_back(std::move(entry));
  write.hard_state = hard_state;
  return write;
}

StorageWrite hard_state_only(HardState hard_state) {
  StorageWrite write;
  write.hard_state = hard_state;
  return write;
}

class WalWorkerTest : public testing::Test {
 protected:
  WalWorkerTest()
      : log_(make_memory_log_store()),
        worker_(*log_, CompactionRecord(dengine::test::fresh_test_dir(), "compaction"),
                [this](CoreInput input) {
                  if (auto* persisted = std::get_if<PersistedInput>(&input)) {
                    std::lock_guard lock(mutex_);
                    persisted_ = persisted->write_id;
                    changed_.notify_all();
                  }
                }) {}

  // Submits `write` and waits until the worker reports it durable.
  void write(StorageWrite write) {
    write.write_id = ++last_write_id_;
    worker_.submit(std::move(write));
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(changed_.wait_for(lock, std::chrono::seconds(30),
                                  [&] { return persisted_ == last_write_id_; }));
  }

  std::unique_ptr<LogStore> log_;
  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t persisted_ = 0;
  uint64_t last_write_id_ = 0;
  WalWorker worker_;
};

TEST_F(WalWorkerTest, OnlyACommitIndexMoveGoesWithoutItsOwnSync) {
  write(append(Entry{.term = 1, .index = 1, .data = "a"}, HardState{.term = 1, .vote = 1}));
  EXPECT_EQ(worker_.syncs(), 1U);

  write(hard_state_only(HardState{.term = 1, .vote = 1, .commit = 1}));
  EXPECT_EQ(worker_.syncs(), 1U) << "the commit index alone was synced";
  EXPECT_EQ(log_->hard_state().commit, 1U);

  write(append(Entry{.term = 1, .index = 2, .data = "b"}));
  EXPECT_EQ(worker_.syncs(), 2U) << "entries were reported durable without a sync";

  write(hard_state_only(HardState{.term = 2, .vote = 1, .commit = 1}));
  EXPECT_EQ(worker_.syncs(), 3U) << "a new term was reported durable without a sync";

  write(hard_state_only(HardState{.term = 2, .vote = 3, .commit = 1}));
  EXPECT_EQ(worker_.syncs(), 4U) << "a vote was reported durable without a sync";
}

}  // namespace
}  // namespace dengine::runtime::test
