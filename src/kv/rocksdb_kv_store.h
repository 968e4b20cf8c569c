#pragma once

// The RocksDB StateMachine (docs/architecture.md §3): etcd's MVCC keyspace and leases, laid out as
// etcd lays them out. The records of every write live in RocksDB (rocksdb_records.h gives the
// layout); the key index and the lease table live in memory and are rebuilt from RocksDB at open,
// as etcd rebuilds its treeIndex and lessor from bbolt.
//
// Each applied entry is one WriteBatch: its records, the leases it changed and the applied
// index, written with RocksDB's WAL off (the Raft log is the WAL). A crash therefore loses the
// applies since the last flush, and the store reports as durable only what a completed flush
// carried: with atomic_flush, every column family flushes up to the same write, so the meta
// family's flushed sequence number says which applied index reached the disk. Replaying the
// log from durable_applied_index() + 1 after a crash rebuilds exactly the same state.
//
// Directory layout under the store's directory:
//   ACTIVE         the name of the live database directory (replaced atomically)
//   db-<n>/        the live database; db-<n+1> while a snapshot is being installed
// Snapshots are RocksDB checkpoints (hard links to the immutable table files).

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dengine/state_machine.h"
#include "kv/kv_applier.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace dengine::kv {

struct RocksKvStoreOptions {
  KvApplyOptions apply;
  // RocksDB's memtable size per column family: applies past it are flushed in the background,
  // which also moves durable_applied_index().
  uint64_t write_buffer_bytes = 32ULL << 20;
  // RocksDB's block cache, shared by the column families.
  uint64_t block_cache_bytes = 64ULL << 20;
  // Decoded records by revision (kv/record_cache.h), filled by reads: a point read of a hot key
  // skips RocksDB's lookup and the decoding. 0 turns it off.
  uint64_t record_cache_bytes = 32ULL << 20;
};

class RocksKvStore final : public StateMachine {
 public:
  // Opens (creating if needed) the store in `dir` and rebuilds its in-memory index. A damaged
  // database is refused with kCorruption naming the problem.
  static Result<std::unique_ptr<RocksKvStore>> open(const std::string& dir,
                                                    RocksKvStoreOptions options = {});
  ~RocksKvStore() override;
  RocksKvStore(const RocksKvStore&) = delete;
  RocksKvStore& operator=(const RocksKvStore&) = delete;

  Result<ApplyResult> apply(Index index, const std::string& command) override;
  void record_applied(Index index) override;
  void begin_group() override;
  Status end_group() override;
  [[nodiscard]] Index applied_index() const override { return state().applied_index; }
  [[nodiscard]] Index durable_applied_index() const override;
  Status flush() override;
  [[nodiscard]] Status defragment() const override;

  [[nodiscard]] int64_t current_revision() const override { return state().mvcc.revision(); }
  [[nodiscard]] int64_t compact_revision() const override {
    return state().mvcc.compact_revision();
  }
  Result<RangeResponse> range(const RangeRequest& request) const override;
  Result<TxnResponse> read_only_txn(const TxnRequest& request) const override;
  Result<EventBatch> events(const EventQuery& query) const override;
  [[nodiscard]] std::optional<LeaseInfo> lease(LeaseId id, bool with_keys) const override;
  [[nodiscard]] std::vector<LeaseInfo> leases() const override;
  [[nodiscard]] std::vector<MemberRecord> member_records() const override;
  [[nodiscard]] std::vector<Alarm> alarms() const override;
  [[nodiscard]] uint64_t approximate_bytes() const override;

  Result<Index> write_snapshot(const std::string& dir) override;
  Status install_snapshot(const std::string& dir) override;

  // Durably drops every member record and alarm, changing nothing else (not the applied index):
  // a restored image starts a new cluster, whose members publish themselves again (etcd's
  // snapshot restore rewrites its members bucket likewise).
  Status forget_cluster();

  [[nodiscard]] const std::string& dir() const { return dir_; }
  // The whole state in the in-memory store's snapshot encoding (tests compare stores by it).
  [[nodiscard]] std::string logical_image() const;
  // The in-memory index agrees with the stored records, and leases with the keys.
  [[nodiscard]] Status check_consistency() const;

 private:
  // One open database with its in-memory state.
  struct Database;

  RocksKvStore(std::string dir, RocksKvStoreOptions options, std::unique_ptr<Database> database);
  [[nodiscard]] const KvState& state() const;
  // What applied entries changed besides their records, to be written with them.
  struct Touched {
    std::vector<LeaseId> leases;
    std::vector<NodeId> members;
    std::vector<Alarm> alarms;
  };
  // Writes the staged records, the current state of what `touched` names, and the revisions
  // and applied index as one batch.
  Status commit(const Touched& touched);

  std::string dir_;
  // Refreshes approximate_bytes_ (on the applying thread).
  void measure() const;

  static constexpr int kCommitsPerMeasure = 64;
  RocksKvStoreOptions options_;
  std::unique_ptr<Database> db_;
  mutable std::atomic<uint64_t> approximate_bytes_{0};
  int commits_since_measure_ = 0;
  // Inside begin_group()/end_group(): applies stage their writes and end_group() commits them.
  bool grouping_ = false;
  int entries_since_commit_ = 0;  // applied in the group being staged
  Touched group_touched_;
};

}  // namespace dengine::kv
