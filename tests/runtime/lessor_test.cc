// The lessor's clock rules (etcd's lessor), driven by hand: time is a number passed in.

#include "runtime/lessor.h"

#include <gtest/gtest.h>

namespace dengine::runtime {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kStart = 100 * kSecond;

LessorOptions options() {
  return LessorOptions{.extend_on_promote_nanos = 1 * kSecond,
                       .checkpoint_interval_nanos = 60 * kSecond,
                       .revoke_retry_nanos = 3 * kSecond};
}

LeaseInfo lease(LeaseId id, int64_t ttl, int64_t checkpointed = 0) {
  return LeaseInfo{
      .id = id, .granted_ttl_seconds = ttl, .remaining_ttl_seconds = checkpointed, .keys = {}};
}

TEST(Lessor, AFollowerNeverExpiresALease) {
  Lessor lessor(options());
  lessor.on_lease_changed(1, lease(1, 5), kStart);
  EXPECT_TRUE(lessor.take_expired(kStart + 1000 * kSecond).empty());
  bool clear = false;
  EXPECT_EQ(lessor.renew(1, kStart, clear).status().code(), StatusCode::kNotLeader);
  EXPECT_EQ(lessor.time_left(1, kStart).status().code(), StatusCode::kNotLeader);
}

TEST(Lessor, APromotedLeaderStartsEveryLeaseAfreshPlusTheExtension) {
  Lessor lessor(options());
  lessor.on_lease_changed(1, lease(1, 5), kStart);
  lessor.promote(kStart);
  // 5 s TTL + 1 s extension: not cut short by the leader change.
  EXPECT_TRUE(lessor.take_expired(kStart + 6 * kSecond - 1).empty());
  EXPECT_EQ(lessor.take_expired(kStart + 6 * kSecond), std::vector<LeaseId>{1});
}

TEST(Lessor, AGrantOnThePrimaryStartsItsTtlAtOnceWithoutExtension) {
  Lessor lessor(options());
  lessor.promote(kStart);
  lessor.on_lease_changed(7, lease(7, 10), kStart);
  Result<LeaseTimeLeft> left = lessor.time_left(7, kStart + kSecond / 2);
  ASSERT_TRUE(left);
  EXPECT_EQ(left->ttl_seconds, 9);  // truncated, as etcd reports it
  EXPECT_EQ(left->granted_ttl_seconds, 10);
  EXPECT_EQ(lessor.take_expired(kStart + 10 * kSecond), std::vector<LeaseId>{7});
}

TEST(Lessor, RenewRestartsTheTtlAndExpiredLeasesCannotBeRenewed) {
  Lessor lessor(options());
  lessor.promote(kStart);
  lessor.on_lease_changed(1, lease(1, 5), kStart);
  bool clear = true;
  ASSERT_TRUE(lessor.renew(1, kStart + 4 * kSecond, clear));
  EXPECT_FALSE(clear);
  EXPECT_TRUE(lessor.take_expired(kStart + 9 * kSecond - 1).empty());
  EXPECT_EQ(lessor.renew(1, kStart + 9 * kSecond, clear).status().message(),
            Status::of(ErrorDetail::kLeaseNotFound).message());
  EXPECT_EQ(lessor.renew(2, kStart, clear).status().message(),
            Status::of(ErrorDetail::kLeaseNotFound).message());
}

TEST(Lessor, AnExpiredLeaseIsProposedForRevokeOnceThenAgainOnlyWhenOverdue) {
  Lessor lessor(options());
  lessor.promote(kStart);
  lessor.on_lease_changed(1, lease(1, 2), kStart);
  EXPECT_EQ(lessor.take_expired(kStart + 2 * kSecond), std::vector<LeaseId>{1});
  EXPECT_TRUE(lessor.take_expired(kStart + 4 * kSecond).empty());
  EXPECT_EQ(lessor.take_expired(kStart + 5 * kSecond), std::vector<LeaseId>{1});
  lessor.on_lease_changed(1, std::nullopt, kStart + 5 * kSecond);  // the revoke applied
  EXPECT_TRUE(lessor.take_expired(kStart + 100 * kSecond).empty());
  EXPECT_EQ(lessor.size(), 0U);
}

TEST(Lessor, ADemotedLeaderStopsExpiringLeases) {
  Lessor lessor(options());
  lessor.promote(kStart);
  lessor.on_lease_changed(1, lease(1, 2), kStart);
  lessor.demote();
  EXPECT_FALSE(lessor.is_primary());
  EXPECT_TRUE(lessor.take_expired(kStart + 100 * kSecond).empty());
}

TEST(Lessor, LongLeasesAreCheckpointedAndANewLeaderStartsFromTheCheckpoint) {
  Lessor leader(options());
  leader.promote(kStart);
  leader.on_lease_changed(1, lease(1, 600), kStart);  // long: outlives a checkpoint round
  leader.on_lease_changed(2, lease(2, 30), kStart);   // short: gone or renewed by then
  EXPECT_TRUE(leader.take_checkpoints(kStart + 59 * kSecond).empty());
  std::vector<LeaseCheckpoint> checkpoints = leader.take_checkpoints(kStart + 60 * kSecond);
  ASSERT_EQ(checkpoints.size(), 1U);
  EXPECT_EQ(checkpoints[0].id, 1);
  EXPECT_EQ(checkpoints[0].remaining_ttl_seconds, 540);

  // Another node applies the checkpoint, then becomes leader.
  Lessor next(options());
  next.on_lease_changed(1, lease(1, 600, 540), kStart + 60 * kSecond);
  next.promote(kStart + 61 * kSecond);
  Result<LeaseTimeLeft> left = next.time_left(1, kStart + 61 * kSecond);
  ASSERT_TRUE(left);
  EXPECT_EQ(left->ttl_seconds, 541);  // the checkpoint plus the extension, not the full 600
}

TEST(Lessor, RenewingACheckpointedLeaseAsksForTheCheckpointToBeCleared) {
  Lessor lessor(options());
  lessor.on_lease_changed(1, lease(1, 600, 540), kStart);
  lessor.promote(kStart);
  bool clear = false;
  ASSERT_TRUE(lessor.renew(1, kStart, clear));
  EXPECT_TRUE(clear);
  ASSERT_TRUE(lessor.renew(1, kStart, clear));
  EXPECT_FALSE(clear);
}

TEST(Lessor, HugeTtlsDoNotOverflowTheClock) {
  Lessor lessor(options());
  lessor.promote(kStart);
  lessor.on_lease_changed(1, lease(1, kv_limits::kMaxLeaseTtlSeconds), kStart);
  EXPECT_TRUE(lessor.take_expired(kStart + 1'000'000 * kSecond).empty());
  Result<LeaseTimeLeft> left = lessor.time_left(1, kStart);
  ASSERT_TRUE(left);
  EXPECT_GT(left->ttl_seconds, 1'000'000'000);
}

}  // namespace
}  // namespace dengine::runtime
