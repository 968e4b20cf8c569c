// Ready contract step 1 on the core thread (WalSubmitter): which writes go to the WAL worker,
// and with which write ids.

#include "runtime/wal_submitter.h"

#include <optional>

#include <gtest/gtest.h>

namespace dengine::runtime {
namespace {

constexpr Term kTerm = 2;
constexpr NodeId kVote = 1;

Ready append_ready(uint64_t write_id, Index index, Index commit) {
  Ready ready;
  ready.write_id = write_id;
  ready.hard_state = HardState{kTerm, kVote, commit};
  ready.entries.push_back(
      Entry{.term = kTerm, .index = index, .type = EntryType::kNormal, .data = "x"});
  return ready;
}

Ready commit_ready(uint64_t write_id, Index commit) {
  Ready ready;
  ready.write_id = write_id;
  ready.hard_state = HardState{kTerm, kVote, commit};
  return ready;
}

TEST(WalSubmitter, ACommitOnlyWriteWithNoneInFlightRidesWithTheNextWrite) {
  WalSubmitter submitter;
  Ready first = append_ready(1, 1, 0);
  ASSERT_TRUE(submitter.take(first).has_value());
  submitter.on_persisted(1);
  Ready commit = commit_ready(2, 1);
  EXPECT_FALSE(submitter.take(commit).has_value());  // persisted at once, no disk of its own
  Ready next = append_ready(3, 2, 1);
  next.hard_state.reset();  // the core hands out no new hard state
  std::optional<StorageWrite> write = submitter.take(next);
  ASSERT_TRUE(write.has_value());
  EXPECT_EQ(write->write_id, 3u);
  ASSERT_TRUE(write->hard_state.has_value());
  EXPECT_EQ(write->hard_state->commit, 1u);
}

TEST(WalSubmitter, ACommitOnlyWriteGoesToTheWalWhileAnEarlierWriteIsInFlight) {
  WalSubmitter submitter;
  Ready first = append_ready(1, 1, 0);
  ASSERT_TRUE(submitter.take(first).has_value());
  // Write 1 is not durable yet: write 2 must complete after it, so it goes the same way.
  Ready commit = commit_ready(2, 1);
  std::optional<StorageWrite> write = submitter.take(commit);
  ASSERT_TRUE(write.has_value());
  EXPECT_EQ(write->write_id, 2u);
}

TEST(WalSubmitter, NoFinalWriteWhenNoCommitIsDeferred) {
  WalSubmitter submitter;
  Ready first = append_ready(1, 1, 1);
  ASSERT_TRUE(submitter.take(first).has_value());
  EXPECT_FALSE(submitter.take_final_write().has_value());
}

TEST(WalSubmitter, TheFinalWriteAtStopCarriesTheDeferredCommit) {
  WalSubmitter submitter;
  Ready first = append_ready(1, 1, 0);
  ASSERT_TRUE(submitter.take(first).has_value());
  submitter.on_persisted(1);
  Ready commit = commit_ready(2, 1);
  ASSERT_FALSE(submitter.take(commit).has_value());
  std::optional<StorageWrite> last = submitter.take_final_write();
  ASSERT_TRUE(last.has_value());
  ASSERT_TRUE(last->hard_state.has_value());
  EXPECT_EQ(last->hard_state->commit, 1u);
  EXPECT_TRUE(last->entries.empty());
}

// The write a clean stop adds is a write of its own: its persistence report must not be
// mistaken for that of the commit-only write it carries, which counted as persisted already.
TEST(WalSubmitter, TheFinalWriteAtStopTakesAFreshWriteId) {
  WalSubmitter submitter;
  Ready first = append_ready(1, 1, 0);
  ASSERT_TRUE(submitter.take(first).has_value());
  submitter.on_persisted(1);
  Ready commit = commit_ready(2, 1);
  ASSERT_FALSE(submitter.take(commit).has_value());
  std::optional<StorageWrite> last = submitter.take_final_write();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->write_id, 3u);  // after every id handed out, as the core numbers its writes
}

}  // namespace
}  // namespace dengine::runtime
