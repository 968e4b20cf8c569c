// The StateMachine contract with the log: idempotent apply by index, the durable index and
// what a crash loses, snapshots.

#include <cstdint>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

class KvLifecycle : public KvSemanticsTest {
 protected:
  // A little of everything: puts, a txn, a lease with keys, a delete, a compaction.
  void write_mixed_history() {
    grant(42, 600);
    put("a", "1", 42);
    put("b", "1");
    TxnRequest request;
    request.compare = {compare_value("b", CompareResult::kEqual, "1")};
    request.success = {op_put("c", "1"), op_delete("b")};
    txn(request);
    put("a", "2", 42);
    compact(3);
    LeaseCheckpointRequest checkpoint;
    checkpoint.checkpoints = {{42, 77}};
    apply(checkpoint);
  }
  std::string snapshot_of(const StateMachine& machine) { return GetParam().fingerprint(machine); }
  // Writes an image of store() into a new directory; returns its path.
  std::string write_image() {
    const std::string dir = fresh_test_dir() + "/image";
    const Result<Index> written = store().write_snapshot(dir);
    EXPECT_TRUE(written.has_value()) << written.status().to_string();
    if (written) {
      EXPECT_EQ(*written, store().applied_index());
    }
    return dir;
  }
};
DENGINE_KV_SUITE(KvLifecycle);

TEST_P(KvLifecycle, ApplyingAnIndexAgainIsANoOp) {
  const std::string command = encoded(put_request("k", "v"));
  ASSERT_TRUE(apply_bytes(5, command).has_value());
  EXPECT_EQ(store().applied_index(), 5U);
  const Result<ApplyResult> again = apply_bytes(5, command);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->already_applied);
  EXPECT_TRUE(again->events.empty());
  const Result<ApplyResult> older = apply_bytes(3, encoded(put_request("k", "other")));
  ASSERT_TRUE(older.has_value());
  EXPECT_TRUE(older->already_applied);
  EXPECT_EQ(kv("k").version, 1);
  EXPECT_EQ(kv("k").value, "v");
  EXPECT_EQ(store().current_revision(), 2);
}

TEST_P(KvLifecycle, IndexZeroCountsAsAlreadyApplied) {
  const Result<ApplyResult> result = apply_bytes(0, encoded(put_request("k", "v")));
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->already_applied);
}

TEST_P(KvLifecycle, IndexesMaySkipAndRecordAppliedAdvances) {
  ASSERT_TRUE(apply_bytes(3, encoded(put_request("k", "v"))).has_value());
  store().record_applied(7);  // e.g. a membership change
  EXPECT_EQ(store().applied_index(), 7U);
  store().record_applied(6);  // older: ignored
  EXPECT_EQ(store().applied_index(), 7U);
  EXPECT_TRUE(apply_bytes(7, encoded(put_request("k", "w")))->already_applied);
}

TEST_P(KvLifecycle, FailedCommandStillConsumesItsIndex) {
  ASSERT_TRUE(apply_bytes(4, encoded(put_request("k", "v", 99))).has_value());
  EXPECT_EQ(store().applied_index(), 4U);
}

TEST_P(KvLifecycle, UndecodableCommandIsAnErrorAndIsNotApplied) {
  const Result<ApplyResult> result = apply_bytes(1, std::string("\x01\x63junk", 6));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.status().code(), StatusCode::kCorruption);
  EXPECT_NE(result.status().message().find("entry 1"), std::string::npos);
  EXPECT_EQ(store().applied_index(), 0U);
  const Result<ApplyResult> newer_format = apply_bytes(1, std::string("\x09\x01", 2));
  ASSERT_FALSE(newer_format.has_value());
  EXPECT_EQ(newer_format.status().code(), StatusCode::kFailedPrecondition);
}

TEST_P(KvLifecycle, DurableIndexTrailsUntilFlush) {
  put("a", "1");
  put("b", "2");
  EXPECT_EQ(store().applied_index(), 2U);
  EXPECT_EQ(store().durable_applied_index(), 0U);
  ASSERT_TRUE(store().flush().is_ok());
  EXPECT_EQ(store().durable_applied_index(), 2U);
}

// docs/architecture.md §9: the simulator's state machine must lose unflushed applies on a crash.
TEST_P(KvLifecycle, CrashLosesAppliesSinceTheLastFlush) {
  put("a", "1");  // index 1
  ASSERT_TRUE(store().flush().is_ok());
  put("b", "2");  // index 2, not flushed
  grant(9, 60);   // index 3, not flushed
  crash_and_recover();
  EXPECT_EQ(store().applied_index(), 1U);
  EXPECT_EQ(store().durable_applied_index(), 1U);
  EXPECT_EQ(store().current_revision(), 2);
  EXPECT_EQ(get("b").count, 0);
  EXPECT_FALSE(store().lease(9, false).has_value());
  EXPECT_EQ(kv("a").value, "1");
}

TEST_P(KvLifecycle, ReplayAfterACrashRebuildsTheSameState) {
  std::vector<std::string> log;
  auto append = [&](const KvCommand& command) {
    log.push_back(encoded(command));
    return store().apply(log.size(), log.back());
  };
  ASSERT_TRUE(append(LeaseGrantRequest{5, 60}).has_value());
  ASSERT_TRUE(append(put_request("a", "1", 5)).has_value());
  ASSERT_TRUE(store().flush().is_ok());
  ASSERT_TRUE(append(put_request("b", "1")).has_value());
  ASSERT_TRUE(append(CompactionRequest{2}).has_value());
  ASSERT_TRUE(append(LeaseRevokeRequest{5}).has_value());
  const std::string before_crash = snapshot_of(store());

  crash_and_recover();
  // The runtime replays the committed log from the durable index on.
  for (Index index = store().durable_applied_index() + 1; index <= log.size(); ++index) {
    ASSERT_TRUE(store().apply(index, log[index - 1]).has_value());
  }
  EXPECT_EQ(snapshot_of(store()), before_crash);
}

TEST_P(KvLifecycle, CrashAfterFlushKeepsEverything) {
  write_mixed_history();
  ASSERT_TRUE(store().flush().is_ok());
  const std::string flushed = snapshot_of(store());
  crash_and_recover();
  EXPECT_EQ(snapshot_of(store()), flushed);
}

TEST_P(KvLifecycle, AGroupOfAppliesIsReadAtOnceAndKeptLikeSingleApplies) {
  store().begin_group();
  write_mixed_history();
  store().record_applied(next_index());
  // Inside the group every apply is visible to reads already.
  EXPECT_EQ(kv("a").value, "2");
  EXPECT_EQ(kv("a").lease, 42);
  EXPECT_EQ(get("b").count, 0);
  ASSERT_TRUE(store().end_group().is_ok());
  const std::string grouped = snapshot_of(store());
  ASSERT_TRUE(store().flush().is_ok());
  crash_and_recover();
  EXPECT_EQ(snapshot_of(store()), grouped);
  EXPECT_EQ(store().lease(42, false)->remaining_ttl_seconds, 77);
}

TEST_P(KvLifecycle, AGroupEndedButNotFlushedIsLostToACrashAsAWhole) {
  put("a", "1");
  ASSERT_TRUE(store().flush().is_ok());
  const std::string flushed = snapshot_of(store());
  store().begin_group();
  put("b", "1");
  grant(7, 60);
  ASSERT_TRUE(store().end_group().is_ok());
  crash_and_recover();
  EXPECT_EQ(snapshot_of(store()), flushed);
  EXPECT_EQ(store().applied_index(), 1U);
}

TEST_P(KvLifecycle, SnapshotRestoresAnEqualState) {
  write_mixed_history();
  const std::string snapshot = snapshot_of(store());
  const std::string image = write_image();
  EXPECT_EQ(snapshot_of(store()), snapshot);  // writing an image changes nothing
  auto restored = GetParam().create();
  ASSERT_TRUE(restored->install_snapshot(image).is_ok());
  EXPECT_FALSE(std::filesystem::exists(image));  // taken over by the store
  EXPECT_EQ(snapshot_of(*restored), snapshot);
  EXPECT_EQ(restored->applied_index(), store().applied_index());
  EXPECT_EQ(restored->durable_applied_index(), store().applied_index());
  EXPECT_EQ(restored->current_revision(), store().current_revision());
  EXPECT_EQ(restored->compact_revision(), 3);
  EXPECT_EQ(restored->lease(42, true), store().lease(42, true));
  const RangeRequest everything = range_request(kAllKeys, kAllKeys);
  EXPECT_EQ(*restored->range(everything), range(everything));
  EventQuery query;
  query.key = kAllKeys;
  query.range_end = kAllKeys;
  query.start_revision = 3;
  query.prev_kv = true;
  EXPECT_EQ(restored->events(query)->events, store().events(query)->events);
  EXPECT_TRUE(GetParam().check_invariants(*restored).is_ok());
  // Both continue identically.
  const std::string next = encoded(put_request("a", "3", 42));
  const Result<ApplyResult> on_restored = restored->apply(next_index(), next);
  const Result<ApplyResult> on_original = store().apply(next_index(), next);
  ASSERT_TRUE(on_restored.has_value() && on_original.has_value());
  EXPECT_EQ(on_restored->events, on_original->events);
}

TEST_P(KvLifecycle, InstalledSnapshotSurvivesACrash) {
  write_mixed_history();
  const std::string snapshot = snapshot_of(store());
  const std::string image = write_image();
  auto restored = GetParam().create();
  restored->record_applied(1);
  ASSERT_TRUE(restored->install_snapshot(image).is_ok());
  restored = GetParam().crash_and_recover(std::move(restored));
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(snapshot_of(*restored), snapshot);
}

TEST_P(KvLifecycle, InstallReplacesEverythingTheStoreHeld) {
  write_mixed_history();
  const std::string image = write_image();
  const std::string snapshot = snapshot_of(store());
  auto target = GetParam().create();
  ASSERT_TRUE(target->apply(1, encoded(put_request("stale", "x"))).has_value());
  ASSERT_TRUE(target->apply(2, encoded(LeaseGrantRequest{7, 60})).has_value());
  ASSERT_TRUE(target->install_snapshot(image).is_ok());
  EXPECT_EQ(snapshot_of(*target), snapshot);
  EXPECT_FALSE(target->lease(7, false).has_value());
  EXPECT_EQ(target->range(range_request("stale"))->count, 0);
}

// Flips one byte in the middle of every file of the image (some files, such as RocksDB's
// OPTIONS, are only advisory; the table files and the in-memory store's image are not).
void damage_image(const std::string& dir) {
  int damaged = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.file_size() == 0) continue;
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    const auto middle = static_cast<std::streamoff>(entry.file_size() / 2);
    file.seekg(middle);
    char byte = 0;
    file.get(byte);
    file.seekp(middle);
    file.put(static_cast<char>(byte ^ 0x10));
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
}

TEST_P(KvLifecycle, InstallRefusesADamagedImageAndChangesNothing) {
  write_mixed_history();
  const std::string image = write_image();
  damage_image(image);
  auto target = GetParam().create();
  ASSERT_TRUE(target->apply(1, encoded(put_request("mine", "1"))).has_value());
  const std::string before = snapshot_of(*target);
  const Status status = target->install_snapshot(image);
  EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.to_string();
  EXPECT_EQ(snapshot_of(*target), before);  // a refused image changes nothing
  EXPECT_EQ(target->range(range_request("mine"))->count, 1);
  ASSERT_TRUE(target->apply(2, encoded(put_request("mine", "2"))).has_value());
}

TEST_P(KvLifecycle, InstallRefusesAnEmptyOrMissingImage) {
  auto target = GetParam().create();
  const std::string empty = fresh_test_dir() + "/empty";
  std::filesystem::create_directories(empty);
  EXPECT_EQ(target->install_snapshot(empty).code(), StatusCode::kCorruption);
  EXPECT_FALSE(target->install_snapshot(fresh_test_dir() + "/missing").is_ok());
  EXPECT_EQ(target->current_revision(), 1);
}

TEST_P(KvLifecycle, WriteSnapshotRefusesAnExistingDirectory) {
  put("a", "1");
  const std::string dir = fresh_test_dir();  // exists already
  EXPECT_FALSE(store().write_snapshot(dir).has_value());
}

}  // namespace
}  // namespace dengine::kv::test
