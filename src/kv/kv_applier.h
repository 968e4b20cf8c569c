#pragma once

// etcd's applier (etcdserver/apply.go) over dengine's MVCC store and lease table: what each
// replicated command does, the txn's compare-then-branch logic, and the reads served without
// the log. Shared by every StateMachine implementation that keeps its state in a KvState.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "dengine/alarm.h"
#include "dengine/kv_types.h"
#include "dengine/member_record.h"
#include "dengine/state_machine.h"
#include "dengine/status.h"
#include "dengine/types.h"
#include "kv/kv_command.h"
#include "kv/lease_table.h"
#include "kv/mvcc_store.h"

namespace dengine::kv {

// Everything a replica's state machine holds.
struct KvState {
  MvccStore mvcc;
  LeaseTable leases;
  // The members' names and URLs (etcd's membership store), beside the keyspace: they change
  // no revision and no watcher sees them.
  std::map<NodeId, MemberRecord> members;
  // The alarms in force (etcd's alarm bucket); NOSPACE caps what the store accepts, CORRUPT
  // refuses every write.
  std::set<Alarm> alarms;
  Index applied_index = 0;

  friend bool operator==(const KvState&, const KvState&) = default;
};

struct KvApplyOptions {
  // Granted TTLs below this are raised to it (etcd: 1.5 election timeouts, rounded up to
  // whole seconds: 2 s with the default 1000 ms). Every replica must use the same value.
  int64_t min_lease_ttl_seconds = 2;
};

// Applies `command`, the entry at `index`, to `state`; does not touch state.applied_index.
// `index` only seeds the choice of a lease id when the grant leaves it to the state machine.
ApplyResult apply_command(KvState& state, Index index, const KvCommand& command,
                          const KvApplyOptions& options);

// The leases whose stored facts (ttl, checkpointed ttl, existence) `command` changed, given
// its result. Key attachments are not among those facts: they follow from the keys.
std::vector<LeaseId> leases_changed_by(const KvCommand& command, const ApplyResult& result);

// The member whose record `command` changes, or kNoNode.
NodeId changed_member(const KvCommand& command);
// The alarm `command` raises or disarms, if it is an alarm command.
std::optional<Alarm> changed_alarm(const KvCommand& command);

Result<RangeResponse> read_range(const KvState& state, const RangeRequest& request);
Result<TxnResponse> read_txn(const KvState& state, const TxnRequest& request);
Result<EventBatch> read_events(const KvState& state, const EventQuery& query);
std::optional<LeaseInfo> read_lease(const KvState& state, LeaseId id, bool with_keys);
std::vector<LeaseInfo> read_leases(const KvState& state);
std::vector<MemberRecord> read_members(const KvState& state);
std::vector<Alarm> read_alarms(const KvState& state);

// Attaches every live key to the lease its live version names (restoring a state whose lease
// attachments were not stored). kCorruption naming the key when that lease does not exist.
Status attach_live_keys_to_leases(KvState& state);

// The MVCC store's invariants, and every lease attachment matching its key's live version.
Status check_kv_state(const KvState& state);

}  // namespace dengine::kv
