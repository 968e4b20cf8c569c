#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dengine/state_machine.h"
#include "kv/kv_applier.h"

namespace dengine::kv {

struct MemoryKvStoreOptions {
  KvApplyOptions apply;
  // Keep a durable image that lags the live state until flush(), so that simulate_crash() loses
  // exactly the unflushed applies, as a real store would. Off (MemFirst mode, where nothing is
  // durable anyway): flush() only advances durable_applied_index() and crashes cannot be
  // simulated.
  bool model_durability = true;
  // Like a memtable filling up: past this many unflushed entries the store flushes on its own,
  // so the durable index also moves without explicit flushes (and the backlog stays bounded).
  size_t max_unflushed_entries = 10'000;
};

// The in-memory StateMachine: etcd's MVCC keyspace and leases in memory, for tests, the
// simulator and MemFirst mode.
//
// Durability model: a durable image of the state trails the live one. flush() brings it up to
// date by replaying the entries applied since the last flush (applying is deterministic, so
// the image becomes equal to the live state), at the cost of those entries rather than of the
// whole state. simulate_crash() puts the live state back to the image.
class MemoryKvStore final : public StateMachine {
 public:
  static constexpr const char* kSnapshotFileName = "kv.snapshot";

  explicit MemoryKvStore(MemoryKvStoreOptions options = {}) : options_(options) {}

  Result<ApplyResult> apply(Index index, const std::string& command) override;
  void record_applied(Index index) override;
  [[nodiscard]] Index applied_index() const override { return live_.applied_index; }
  [[nodiscard]] Index durable_applied_index() const override { return durable_applied_index_; }
  Status flush() override;

  [[nodiscard]] int64_t current_revision() const override { return live_.mvcc.revision(); }
  [[nodiscard]] int64_t compact_revision() const override { return live_.mvcc.compact_revision(); }
  Result<RangeResponse> range(const RangeRequest& request) const override;
  Result<TxnResponse> read_only_txn(const TxnRequest& request) const override;
  Result<EventBatch> events(const EventQuery& query) const override;
  [[nodiscard]] std::optional<LeaseInfo> lease(LeaseId id, bool with_keys) const override;
  [[nodiscard]] std::vector<LeaseInfo> leases() const override;
  [[nodiscard]] std::vector<MemberRecord> member_records() const override;
  [[nodiscard]] std::vector<Alarm> alarms() const override;

  // The image is one file, kSnapshotFileName, holding the snapshot codec's bytes.
  Result<Index> write_snapshot(const std::string& dir) override;
  Status install_snapshot(const std::string& dir) override;

  // The whole state as the snapshot codec's bytes, and back (the simulator and tests).
  [[nodiscard]] Result<std::string> snapshot() const;
  Status restore(std::string_view snapshot);

  // A power cut: everything applied since the last flush is lost. Needs model_durability.
  Status simulate_crash();
  // The store's internal invariants (for tests and the simulator's checks).
  [[nodiscard]] Status check_consistency() const;

 private:
  // An applied entry not yet in the durable image; no command for record_applied entries.
  struct UnflushedEntry {
    Index index = 0;
    std::optional<std::string> command;
  };

  void remember_unflushed(Index index, std::optional<std::string> command);

  MemoryKvStoreOptions options_;
  KvState live_;
  KvState durable_;  // used only with model_durability
  Index durable_applied_index_ = 0;
  std::vector<UnflushedEntry> unflushed_;
};

}  // namespace dengine::kv
