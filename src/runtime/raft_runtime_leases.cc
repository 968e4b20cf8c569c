// etcd's leases on this node (the lease/lessor-facing part of RaftRuntime): renewals and
// time-to-live served by the leader from the lease time it keeps, without a log entry, or asked
// of the leader through the router; the keep-alives; and, on the core thread, the leader's half
// of the lessor (promotion, expiry, checkpoints).

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kv/command_codec.h"
#include "runtime/raft_runtime.h"

namespace dengine::runtime {

void RaftRuntime::start_lease_keeping() {
  for (const LeaseInfo& lease : state_machine_.leases()) {
    lessor_.on_lease_changed(lease.id, lease, clock_->now_nanos());
  }
  keep_alives_.set_retry_interval(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.tick_interval).count()));
  renew_for_keep_alive_ = [this](LeaseId id, KeepAlives::RenewDone done) {
    renew_lease(id, keep_alive_answer(std::move(done)));
  };
}

PeerRouter::LeaseDone RaftRuntime::keep_alive_answer(KeepAlives::RenewDone done) {
  return [done = std::move(done)](Result<LeaseTimeLeft> renewed) mutable {
    if (!renewed) return done(renewed.status());
    done(LeaseKeepAliveResponse{renewed->id, renewed->granted_ttl_seconds});
  };
}

void RaftRuntime::renew_lease(LeaseId id, PeerRouter::LeaseDone done) {
  Result<LeaseTimeLeft> renewed = renew_lease_as_leader(id);
  if (renewed || renewed.status().code() != StatusCode::kNotLeader) return done(renewed);
  const NodeId leader = reachable_leader();
  if (leader == kNoNode) return done(renewed);
  router_->renew_lease(leader, id, std::move(done));
}

Result<LeaseTimeLeft> RaftRuntime::renew_lease_as_leader(LeaseId id) {
  if (stopped_.load(std::memory_order_acquire)) return refusal_after_stop();
  bool clear_checkpoint = false;
  Result<LeaseTimeLeft> renewed = lessor_.renew(id, clock_->now_nanos(), clear_checkpoint);
  if (renewed && clear_checkpoint) {
    // A new leader would otherwise start the lease from the outdated checkpoint (etcd #9924).
    Result<std::string> clear =
        kv::encode_command(LeaseCheckpointRequest{{LeaseCheckpoint{id, 0}}});
    if (clear) propose(std::move(*clear), [](Result<ApplyResult>) {});
  }
  return renewed;
}

void RaftRuntime::lease_time_left(LeaseId id, PeerRouter::LeaseDone done) {
  Result<LeaseTimeLeft> left = lease_time_left_as_leader(id);
  if (left || left.status().code() != StatusCode::kNotLeader) return done(left);
  const NodeId leader = reachable_leader();
  if (leader == kNoNode) return done(left);
  router_->lease_time_left(leader, id, std::move(done));
}

Result<LeaseTimeLeft> RaftRuntime::lease_time_left_as_leader(LeaseId id) const {
  if (stopped_.load(std::memory_order_acquire)) return refusal_after_stop();
  return lessor_.time_left(id, clock_->now_nanos());
}

void RaftRuntime::keep_alive(std::shared_ptr<KeepAliveTicketImpl> ticket) {
  // The first renewal happens now, as etcd's client sends its first keep-alive at once; the
  // core thread does the rest on the engine's clock.
  const LeaseId id = ticket->id();
  renew_lease(id, keep_alive_answer(
                      KeepAlives::follow_up(keep_alives_, std::move(ticket), clock_->now_nanos())));
}

void RaftRuntime::keep_lease_time() {
  const uint64_t now = clock_->now_nanos();
  if (raft_->role() != RaftRole::kLeader) {
    if (lease_primary_term_ != 0) {
      lessor_.demote();
      lease_primary_term_ = 0;
    }
  } else if (lease_primary_term_ != raft_->term() && applied_current_term() &&
             raft_->lease_read(now)) {
    // Leadership confirmed by a quorum: this leader keeps lease time from now on, starting
    // every lease afresh (never cutting one short). Not before it applied an entry of its
    // term: until then the lessor lacks leases granted in earlier terms and would answer
    // keep-alives of live leases with "lease not found".
    lessor_.promote(now);
    lease_primary_term_ = raft_->term();
  }
  // Expiry is decided only while leadership is confirmed (the lease of thesis §6.4.1): a
  // deposed leader that has not noticed yet revokes nothing.
  if (lease_primary_term_ != 0 && raft_->lease_read(now)) {
    for (const LeaseId id : lessor_.take_expired(now)) {
      Result<std::string> revoke = kv::encode_command(LeaseRevokeRequest{id});
      if (revoke) propose_internal(std::move(*revoke));
    }
    std::vector<LeaseCheckpoint> checkpoints = lessor_.take_checkpoints(now);
    for (size_t begin = 0; begin < checkpoints.size();
         begin += kv_limits::kMaxLeaseCheckpointsPerCommand) {
      const size_t end =
          std::min(checkpoints.size(), begin + kv_limits::kMaxLeaseCheckpointsPerCommand);
      LeaseCheckpointRequest request;
      request.checkpoints.assign(checkpoints.begin() + static_cast<long>(begin),
                                 checkpoints.begin() + static_cast<long>(end));
      Result<std::string> command = kv::encode_command(request);
      if (command) propose_internal(std::move(*command));
    }
  }
  keep_alives_.run(now, renew_for_keep_alive_);
}

void RaftRuntime::propose_internal(std::string command) {
  // A refused proposal (leadership just lost, log full) is retried by the lessor later.
  (void)raft_->propose(std::move(command));
}

}  // namespace dengine::runtime
