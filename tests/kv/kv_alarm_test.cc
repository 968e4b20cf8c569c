// Alarms: a NOSPACE alarm caps the store as etcd's applierV3Capped does (no put, no txn that
// puts, no lease grant; reads, deletes and compaction go on) until it is disarmed; a CORRUPT
// alarm refuses every write as etcd's applierV3Corrupt does; alarms survive a restart and
// travel in images, and never move the revision.

#include <gtest/gtest.h>

#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

const Alarm kNoSpace{.member = 5, .type = AlarmType::kNoSpace};

class KvAlarm : public KvSemanticsTest {
 protected:
  void raise(Alarm alarm) { ASSERT_TRUE(apply(AlarmChangeRequest{true, alarm}).status.is_ok()); }
  void disarm(Alarm alarm) { ASSERT_TRUE(apply(AlarmChangeRequest{false, alarm}).status.is_ok()); }
  static bool is_no_space(const Status& status) { return status.detail() == ErrorDetail::kNoSpace; }
};
DENGINE_KV_SUITE(KvAlarm);

TEST_P(KvAlarm, NoSpaceRefusesWhatWouldGrowTheStore) {
  put("a", "1");
  grant(7, 60);
  const int64_t revision = store().current_revision();
  raise(kNoSpace);
  EXPECT_EQ(store().current_revision(), revision);
  EXPECT_EQ(store().alarms(), std::vector<Alarm>{kNoSpace});

  EXPECT_TRUE(is_no_space(status_of(put_request("b", "2"))));
  EXPECT_EQ(status_of(put_request("b", "2")).message(),
            "etcdserver: mvcc: database space exceeded");
  EXPECT_TRUE(is_no_space(status_of(LeaseGrantRequest{8, 60})));
  TxnRequest putting;
  putting.failure = {RequestOp{put_request("c", "3")}};  // even only in the branch not taken
  EXPECT_TRUE(is_no_space(status_of(putting)));
  EXPECT_EQ(store().current_revision(), revision);

  // Reads, deletes, delete-only txns, revokes and compaction still go through.
  EXPECT_EQ(kv("a").value, "1");
  TxnRequest deleting;
  deleting.success = {op_delete("zzz")};
  EXPECT_TRUE(status_of(deleting).is_ok());
  EXPECT_EQ(del("a").deleted, 1);
  EXPECT_TRUE(status_of(LeaseRevokeRequest{7}).is_ok());
  EXPECT_TRUE(status_of(CompactionRequest{store().current_revision()}).is_ok());

  disarm(kNoSpace);
  EXPECT_TRUE(store().alarms().empty());
  put("b", "2");
  EXPECT_EQ(kv("b").value, "2");
}

TEST_P(KvAlarm, OtherMembersAlarmsAreKeptApartAndDisarmedOneByOne) {
  const Alarm other{.member = 9, .type = AlarmType::kNoSpace};
  const Alarm corrupt{.member = 5, .type = AlarmType::kCorrupt};
  raise(other);
  raise(kNoSpace);
  raise(corrupt);
  raise(kNoSpace);  // raising twice keeps one
  EXPECT_EQ(store().alarms(), (std::vector<Alarm>{kNoSpace, corrupt, other}));
  // CORRUPT refuses before NOSPACE caps.
  EXPECT_EQ(status_of(put_request("b", "2")).detail(), ErrorDetail::kCorrupt);
  disarm(corrupt);
  disarm(kNoSpace);
  EXPECT_TRUE(is_no_space(status_of(put_request("b", "2"))));  // member 9's still stands
  disarm(other);
  EXPECT_TRUE(status_of(put_request("b", "2")).is_ok());
}

TEST_P(KvAlarm, CorruptRefusesEveryWriteButReadsCheckpointsAndDisarmingGoOn) {
  put("a", "1");
  grant(7, 60);
  const int64_t revision = store().current_revision();
  const Alarm corrupt{.member = 3, .type = AlarmType::kCorrupt};
  raise(corrupt);
  EXPECT_EQ(store().current_revision(), revision);

  auto is_corrupt = [](const Status& status) {
    return status.detail() == ErrorDetail::kCorrupt &&
           status.message() == "etcdserver: corrupt cluster";
  };
  EXPECT_TRUE(is_corrupt(status_of(put_request("b", "2"))));
  EXPECT_TRUE(
      is_corrupt(status_of(DeleteRangeRequest{.key = "a", .range_end = {}, .prev_kv = false})));
  TxnRequest deleting;  // a write in either branch
  deleting.success = {RequestOp{range_request("a")}};
  deleting.failure = {op_delete("a")};
  EXPECT_TRUE(is_corrupt(status_of(deleting)));
  TxnRequest reading;  // a read-only txn is a read
  reading.success = {RequestOp{range_request("a")}};
  EXPECT_TRUE(status_of(reading).is_ok());
  EXPECT_TRUE(is_corrupt(status_of(CompactionRequest{revision})));
  EXPECT_TRUE(is_corrupt(status_of(LeaseGrantRequest{8, 60})));
  EXPECT_TRUE(is_corrupt(status_of(LeaseRevokeRequest{7})));
  EXPECT_EQ(store().current_revision(), revision);
  EXPECT_EQ(kv("a").value, "1");
  EXPECT_TRUE(store().lease(7, false).has_value());

  LeaseCheckpointRequest checkpoint;
  checkpoint.checkpoints = {{7, 30}};
  EXPECT_TRUE(status_of(checkpoint).is_ok());
  disarm(corrupt);
  EXPECT_TRUE(status_of(LeaseRevokeRequest{7}).is_ok());
  put("b", "2");
  EXPECT_EQ(kv("b").value, "2");
}

TEST_P(KvAlarm, AlarmsSurviveARestartAndTravelInImages) {
  raise(kNoSpace);
  ASSERT_TRUE(store().flush().is_ok());
  crash_and_recover();
  EXPECT_EQ(store().alarms(), std::vector<Alarm>{kNoSpace});
  EXPECT_TRUE(is_no_space(status_of(put_request("b", "2"))));

  const std::string image = fresh_test_dir() + "/image";
  ASSERT_TRUE(store().write_snapshot(image).has_value());
  auto restored = GetParam().create();
  ASSERT_TRUE(restored->install_snapshot(image).is_ok());
  EXPECT_EQ(restored->alarms(), std::vector<Alarm>{kNoSpace});
}

}  // namespace
}  // namespace dengine::kv::test
