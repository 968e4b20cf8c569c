#pragma once

// A StateMachine that passes every call to another until a test arms a fault: the next group
// write fails (as a RocksDB write batch that cannot be written), or the apply of one index
// fails (as an entry that cannot be decoded). The runtime must stop rather than skip an entry
// that a quorum committed.

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "dengine/state_machine.h"

namespace dengine::runtime::test {

class FaultyStateMachine final : public StateMachine {
 public:
  explicit FaultyStateMachine(StateMachine& inner) : inner_(inner) {}

  // Any thread: every end_group() from now on fails with `why` (kIoError).
  void fail_group_writes(std::string why) {
    group_failure_ = std::move(why);
    group_writes_fail_.store(true);
  }
  // Any thread: the apply of `index` fails with kCorruption.
  void fail_apply_at(Index index) { failing_index_.store(index); }

  Result<ApplyResult> apply(Index index, const std::string& command) override {
    if (index == failing_index_.load()) {
      return Status::corruption("injected: entry " + std::to_string(index) + " is undecodable");
    }
    return inner_.apply(index, command);
  }
  void record_applied(Index index) override { inner_.record_applied(index); }
  void begin_group() override { inner_.begin_group(); }
  Status end_group() override {
    Status written = inner_.end_group();
    if (group_writes_fail_.load()) return Status::io_error("injected: " + group_failure_);
    return written;
  }
  [[nodiscard]] Index applied_index() const override { return inner_.applied_index(); }
  [[nodiscard]] Index durable_applied_index() const override {
    return inner_.durable_applied_index();
  }
  Status flush() override { return inner_.flush(); }
  [[nodiscard]] Status defragment() const override { return inner_.defragment(); }
  [[nodiscard]] int64_t current_revision() const override { return inner_.current_revision(); }
  [[nodiscard]] int64_t compact_revision() const override { return inner_.compact_revision(); }
  Result<RangeResponse> range(const RangeRequest& request) const override {
    return inner_.range(request);
  }
  Result<TxnResponse> read_only_txn(const TxnRequest& request) const override {
    return inner_.read_only_txn(request);
  }
  Result<EventBatch> events(const EventQuery& query) const override { return inner_.events(query); }
  [[nodiscard]] std::optional<LeaseInfo> lease(LeaseId id, bool with_keys) const override {
    return inner_.lease(id, with_keys);
  }
  [[nodiscard]] std::vector<LeaseInfo> leases() const override { return inner_.leases(); }
  [[nodiscard]] std::vector<MemberRecord> member_records() const override {
    return inner_.member_records();
  }
  [[nodiscard]] std::vector<Alarm> alarms() const override { return inner_.alarms(); }
  [[nodiscard]] uint64_t approximate_bytes() const override { return inner_.approximate_bytes(); }
  Result<Index> write_snapshot(const std::string& dir) override {
    return inner_.write_snapshot(dir);
  }
  Status install_snapshot(const std::string& dir) override { return inner_.install_snapshot(dir); }

 private:
  StateMachine& inner_;
  std::atomic<bool> group_writes_fail_{false};
  std::string group_failure_;  // written before group_writes_fail_ is set, read after
  std::atomic<Index> failing_index_{0};
};

}  // namespace dengine::runtime::test
