#pragma once

// The clock half of leases (etcd's lessor): when each lease expires. The replicated half
// (which leases exist, their TTLs, their keys, checkpointed remaining TTLs) lives in the state
// machine; the apply worker mirrors it here as entries are applied.
//
// Only the leader keeps time (docs/architecture.md §4, etcd's primary lessor): followers hold every
// lease "forever". A leader that has confirmed its leadership is promoted: each lease then expires
// its remaining TTL (the checkpointed one, else the full TTL) plus `extend_on_promote` from
// now, so a leader change never cuts a TTL short. Keep-alives are served by the primary
// without a log entry; expired leases are revoked through the log by the core thread.
//
// Thread-safe: the apply worker, the core thread and callers use it concurrently. Time is
// passed in (nanoseconds of the engine's monotonic clock), so tests drive it by hand.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "dengine/kv_types.h"
#include "dengine/status.h"

namespace dengine::runtime {

struct LessorOptions {
  // Added to every lease's TTL when a leader is promoted (etcd: one election timeout), so that
  // clients have time to find the new leader before their leases expire.
  uint64_t extend_on_promote_nanos = 1'000'000'000;
  // How often the leader records the remaining TTL of long leases in the log; 0: never.
  uint64_t checkpoint_interval_nanos = 300'000'000'000;  // etcd: 5 minutes
  // An expired lease whose revoke has not been applied after this long is proposed again.
  uint64_t revoke_retry_nanos = 3'000'000'000;
};

// What keep-alive and time-to-live calls learn.
struct LeaseTimeLeft {
  LeaseId id = kNoLease;
  int64_t ttl_seconds = 0;          // remaining, truncated to whole seconds (as etcd)
  int64_t granted_ttl_seconds = 0;  // as granted
};

class Lessor {
 public:
  explicit Lessor(LessorOptions options) : options_(options) {}

  // ---- the replicated facts (apply worker, and boot) ----
  // `info` is the lease's state after an applied entry; nullopt: it no longer exists.
  void on_lease_changed(LeaseId id, const std::optional<LeaseInfo>& info, uint64_t now);
  // The state machine was replaced by a leader's image: its leases are all there are now.
  void replace_all(const std::vector<LeaseInfo>& leases, uint64_t now);

  // ---- leadership (core thread) ----
  [[nodiscard]] bool is_primary() const;
  void promote(uint64_t now);
  void demote();
  // Expired leases not already being revoked (or whose revoke is overdue); each is marked as
  // being revoked. Empty unless primary.
  std::vector<LeaseId> take_expired(uint64_t now);
  // Remaining TTLs of long leases, when a checkpoint round is due. Empty unless primary.
  std::vector<LeaseCheckpoint> take_checkpoints(uint64_t now);

  // ---- callers ----
  // Restarts the lease's TTL. kNotLeader unless primary; kLeaseNotFound for an unknown lease.
  // `clear_checkpoint` is set when the log still holds a checkpointed remaining TTL that the
  // renewal outdates (the caller proposes a checkpoint of 0, as etcd does).
  Result<LeaseTimeLeft> renew(LeaseId id, uint64_t now, bool& clear_checkpoint);
  // kNotLeader unless primary; kLeaseNotFound for an unknown lease.
  Result<LeaseTimeLeft> time_left(LeaseId id, uint64_t now) const;
  [[nodiscard]] size_t size() const;

 private:
  struct Lease {
    int64_t ttl_seconds = 0;
    int64_t checkpointed_remaining_seconds = 0;  // 0: none
    uint64_t expiry = 0;                         // meaningful only while primary
    uint64_t revoke_proposed_at = 0;             // 0: not being revoked
  };

  [[nodiscard]] uint64_t expiry_after(const Lease& lease, uint64_t now, uint64_t extend) const;
  static Status not_primary();

  const LessorOptions options_;
  mutable std::mutex mutex_;
  std::map<LeaseId, Lease> leases_;
  bool primary_ = false;
  uint64_t next_checkpoint_ = 0;
};

}  // namespace dengine::runtime
