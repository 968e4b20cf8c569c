#pragma once

// The state machine behind the Raft log: applies committed commands (dengine's own encoding,
// owned by kv/) in index order and serves reads that need no log entry. It knows nothing of
// replication: the runtime hands it committed entries and asks what it has made durable.
//
// Implementations: the in-memory MVCC store (tests, the simulator, MemFirst mode) and the
// RocksDB store (the default); both pass the same etcd semantics suite (tests/kv/).
//
// Not thread-safe: the caller serializes mutating calls (apply, record_applied, flush,
// restore) against everything else. Const calls may run concurrently with each other.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dengine/alarm.h"
#include "dengine/kv_types.h"
#include "dengine/member_record.h"
#include "dengine/status.h"
#include "dengine/types.h"

namespace dengine {

struct ApplyResult {
  // The index was at or below applied_index(): nothing happened (a replay after restart).
  bool already_applied = false;
  // The command's own outcome as its client sees it (etcd's errors: an unknown lease, a
  // compacted revision...). The entry counts as applied either way; an error changes nothing.
  Status status;
  KvResponse response;  // set when status is OK and the entry was not already applied
  // The changes at this entry's revision, in write order, each with prev_kv when the key
  // existed before: what watchers of these keys receive.
  std::vector<Event> events;
  int64_t revision = 0;  // the store revision after the entry
  // The entry's index in the log. Set by the engine, not the state machine: a member that
  // forwarded the write waits until it applied this index itself before it answers.
  Index log_index = 0;
  // The leases whose replicated facts (existence, TTL, checkpointed TTL) the entry changed;
  // key attachments are not among them. The engine's lease clock follows these.
  std::vector<LeaseId> changed_leases;
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // ---- the replicated path ----

  // Applies the command of committed entry `index`. Indexes must rise but may skip (entries
  // without a command: see record_applied). An index <= applied_index() is a no-op reported
  // through ApplyResult::already_applied. An error Result means the entry could not be applied
  // at all (undecodable: corruption, or a newer format) and nothing changed: the node must stop
  // rather than diverge from its peers.
  virtual Result<ApplyResult> apply(Index index, const std::string& command) = 0;
  // Marks an entry that carries no command (a Raft no-op, a membership change) as applied.
  virtual void record_applied(Index index) = 0;
  // The applies and record_applied calls between begin_group() and end_group() may reach
  // storage as one write (the RocksDB store: one write batch, its bookkeeping keys written
  // once rather than once per entry). Until end_group() returns they are seen by this object's
  // reads only (the caller serializes those with applies anyway). end_group() reports a failed
  // write: the store has stopped, as after an apply that failed to write, and the entries must
  // be applied again from the log after a restart. Groups do not nest. Default: every apply
  // writes at once and both calls do nothing.
  virtual void begin_group() {}
  virtual Status end_group() { return Status::ok(); }
  [[nodiscard]] virtual Index applied_index() const = 0;
  // What survives a crash. The Raft log may be compacted only up to here, never merely up to
  // applied_index(): the state machine persists on its own schedule (flush, checkpoint).
  [[nodiscard]] virtual Index durable_applied_index() const = 0;
  // Makes everything applied so far durable.
  virtual Status flush() = 0;
  // Rewrites the store's files compactly, giving back the space of compacted history (etcd's
  // defragment). Changes nothing a read can see; may take long, and applies wait meanwhile.
  // A store kept in memory has nothing to do.
  [[nodiscard]] virtual Status defragment() const { return Status::ok(); }

  // ---- reads that do not go through the log (serializable; the runtime adds linearizability)

  [[nodiscard]] virtual int64_t current_revision() const = 0;
  // Reads below this revision fail as compacted; -1 before the first compaction (as in etcd).
  [[nodiscard]] virtual int64_t compact_revision() const = 0;
  virtual Result<RangeResponse> range(const RangeRequest& request) const = 0;
  // A txn whose every op is a range (is_read_only); others are refused.
  virtual Result<TxnResponse> read_only_txn(const TxnRequest& request) const = 0;
  // Events from an uncompacted revision on, for watches (start < compact_revision(): compacted).
  virtual Result<EventBatch> events(const EventQuery& query) const = 0;
  [[nodiscard]] virtual std::optional<LeaseInfo> lease(LeaseId id, bool with_keys) const = 0;
  // Every lease, in id order, keys omitted.
  [[nodiscard]] virtual std::vector<LeaseInfo> leases() const = 0;
  // The members' names and URLs, in id order, as the log recorded them. A state machine that
  // keeps none reports none (an engine whose members need no addresses).
  [[nodiscard]] virtual std::vector<MemberRecord> member_records() const { return {}; }
  // The alarms in force, in (member, type) order.
  [[nodiscard]] virtual std::vector<Alarm> alarms() const { return {}; }
  // About how many bytes the store takes on disk, for the backend quota (etcd's
  // --quota-backend-bytes). Unlike every other call, safe from any thread at any time.
  [[nodiscard]] virtual uint64_t approximate_bytes() const { return 0; }

  // ---- snapshots: an image is a directory of files, which log/snapshot_sender.h streams ----

  // Writes an image of the whole state (keyspace with its history, leases, applied index) into
  // `dir`, which must not exist yet (its parent must), and makes it durable. Returns the
  // applied index the image holds. The files are a file format of the implementation: an image
  // installs only into the same kind of state machine.
  virtual Result<Index> write_snapshot(const std::string& dir) = 0;
  // Replaces the whole state with the image in `dir`, and takes the directory over (moves it
  // into the store, or removes it); it must be on the file system of the store's data. The
  // restored state counts as durable. A damaged, incomplete or foreign image is refused with
  // kCorruption and changes nothing.
  virtual Status install_snapshot(const std::string& dir) = 0;
};

}  // namespace dengine
