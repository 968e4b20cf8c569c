// HeartbeatRounds: numbered heartbeat rounds that confirm ReadIndex reads (thesis §6.4) and
// date leader leases (thesis §6.4.1).

#include "raft/heartbeat_rounds.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "tests/raft/raft_test_util.h"

namespace dengine::raft::test {
namespace {

constexpr NodeId kSelf = 1;

MajorityConfig three_voters() {
  return MajorityConfig({1, 2, 3});
}

PendingRead local_read(uint64_t request_id) {
  return PendingRead{.request_id = request_id, .from = kNoNode, .index = 0};
}

std::vector<uint64_t> ids_of(const std::vector<PendingRead>& reads) {
  std::vector<uint64_t> ids;
  for (const PendingRead& read : reads) ids.push_back(read.request_id);
  return ids;
}

// Thesis §6.4 step 3: a round proves leadership only as of its sending, so it confirms the
// reads queued before it and none queued after.
TEST(HeartbeatRounds, RoundConfirmsOnlyReadsQueuedBeforeIt) {
  HeartbeatRounds rounds(/*max_rounds=*/8);
  std::vector<PendingRead> aborted;
  rounds.add_read(local_read(1));
  const uint64_t first = rounds.start_round(/*sent_at=*/100, &aborted);
  rounds.add_read(local_read(2));
  rounds.start_round(/*sent_at=*/200, &aborted);

  const HeartbeatRounds::Confirmed confirmed =
      rounds.acknowledge(/*voter=*/2, first, kSelf, three_voters());
  EXPECT_TRUE(confirmed.any);
  EXPECT_EQ(confirmed.sent_at, 100U);
  EXPECT_EQ(ids_of(confirmed.reads), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(aborted.empty());
}

// Thesis §6.4: a read queued after every round sent so far waits for the next round.
TEST(HeartbeatRounds, ReadQueuedAfterRoundIsNotConfirmedByIt) {
  HeartbeatRounds rounds(/*max_rounds=*/8);
  std::vector<PendingRead> aborted;
  const uint64_t round = rounds.start_round(/*sent_at=*/100, &aborted);
  rounds.add_read(local_read(1));

  const HeartbeatRounds::Confirmed confirmed = rounds.acknowledge(2, round, kSelf, three_voters());
  EXPECT_TRUE(confirmed.reads.empty());
  EXPECT_TRUE(rounds.has_queued_reads());
}

// A round needs a quorum: in five voters, the leader and one answer are not enough.
TEST(HeartbeatRounds, RoundNeedsQuorumOfAnswers) {
  HeartbeatRounds rounds(/*max_rounds=*/8);
  std::vector<PendingRead> aborted;
  rounds.add_read(local_read(1));
  const uint64_t round = rounds.start_round(100, &aborted);
  const MajorityConfig five({1, 2, 3, 4, 5});

  EXPECT_FALSE(rounds.acknowledge(2, round, kSelf, five).any);
  const HeartbeatRounds::Confirmed confirmed = rounds.acknowledge(3, round, kSelf, five);
  EXPECT_TRUE(confirmed.any);
  EXPECT_EQ(ids_of(confirmed.reads), (std::vector<uint64_t>{1}));
}

// Answering a later round implies answering every earlier one (its heartbeat was sent after
// theirs), so a quorum on the later round confirms the earlier rounds' reads too.
TEST(HeartbeatRounds, AcknowledgingLaterRoundConfirmsEarlierOnes) {
  HeartbeatRounds rounds(/*max_rounds=*/8);
  std::vector<PendingRead> aborted;
  rounds.add_read(local_read(1));
  rounds.start_round(100, &aborted);
  rounds.add_read(local_read(2));
  const uint64_t second = rounds.start_round(200, &aborted);

  const HeartbeatRounds::Confirmed confirmed = rounds.acknowledge(3, second, kSelf, three_voters());
  EXPECT_EQ(ids_of(confirmed.reads), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(confirmed.sent_at, 200U) << "the lease runs from the newest confirmed round";
}

// Answers of different voters to different rounds combine: one voter answered round 1 only,
// another round 2; round 1 then has a quorum of the five (leader, 2 and 3).
TEST(HeartbeatRounds, AnswersToDifferentRoundsCombineForEarlierRound) {
  HeartbeatRounds rounds(/*max_rounds=*/8);
  std::vector<PendingRead> aborted;
  const MajorityConfig five({1, 2, 3, 4, 5});
  rounds.add_read(local_read(1));
  const uint64_t first = rounds.start_round(100, &aborted);
  rounds.add_read(local_read(2));
  const uint64_t second = rounds.start_round(200, &aborted);

  EXPECT_FALSE(rounds.acknowledge(2, first, kSelf, five).any);
  const HeartbeatRounds::Confirmed confirmed = rounds.acknowledge(3, second, kSelf, five);
  EXPECT_EQ(ids_of(confirmed.reads), (std::vector<uint64_t>{1}));
  EXPECT_EQ(confirmed.sent_at, 100U);
}

// STYLE.md "Errors and limits": outstanding rounds are bounded; past max rounds the oldest is
// dropped and its reads are handed back as aborted (the caller retries them).
TEST(HeartbeatRounds, OldestRoundIsDroppedPastMaxRoundsAndItsReadsAborted) {
  HeartbeatRounds rounds(/*max_rounds=*/2);
  std::vector<PendingRead> aborted;
  rounds.add_read(local_read(1));
  const uint64_t first = rounds.start_round(100, &aborted);
  rounds.add_read(local_read(2));
  rounds.start_round(200, &aborted);
  EXPECT_TRUE(aborted.empty());

  rounds.add_read(local_read(3));
  rounds.start_round(300, &aborted);
  EXPECT_EQ(ids_of(aborted), (std::vector<uint64_t>{1}));
  EXPECT_FALSE(rounds.acknowledge(2, first, kSelf, three_voters()).any)
      << "the dropped round can no longer be confirmed";
}

// Thesis §6.4: a leader that steps down can confirm nothing; every read waiting in a round or
// in the queue comes back.
TEST(HeartbeatRounds, TakeAllReturnsEveryUnconfirmedRead) {
  HeartbeatRounds rounds(/*max_rounds=*/8);
  std::vector<PendingRead> aborted;
  rounds.add_read(local_read(1));
  rounds.start_round(100, &aborted);
  rounds.add_read(local_read(2));
  rounds.start_round(200, &aborted);
  rounds.add_read(local_read(3));

  std::vector<uint64_t> ids = ids_of(rounds.take_all());
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_FALSE(rounds.has_queued_reads());
  EXPECT_TRUE(rounds.take_all().empty());
}

// STYLE.md "Errors and limits": a bound must allow progress. With max_heartbeat_rounds 0 every
// heartbeat would drop the oldest of no rounds at all.
TEST(RaftConfig, MaxHeartbeatRoundsMustBePositive) {
  EXPECT_EQ(ConfigBuilder(1, {1, 2, 3}).max_heartbeat_rounds(0).build().validate().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dengine::raft::test
