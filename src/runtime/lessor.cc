#include "runtime/lessor.h"

#include <algorithm>
#include <string>

namespace dengine::runtime {
namespace {

constexpr uint64_t kNanosPerSecond = 1'000'000'000;

uint64_t seconds_to_nanos(int64_t seconds) {
  // Leases may be granted up to kv_limits::kMaxLeaseTtlSeconds (9e9 s), past uint64 nanos.
  constexpr auto kMaxSeconds = static_cast<int64_t>(UINT64_MAX / kNanosPerSecond / 2);
  return static_cast<uint64_t>(std::clamp<int64_t>(seconds, 0, kMaxSeconds)) * kNanosPerSecond;
}

}  // namespace

Status Lessor::not_primary() {
  return Status::not_leader("lease: this node is not the leader keeping lease time");
}

uint64_t Lessor::expiry_after(const Lease& lease, uint64_t now, uint64_t extend) const {
  const int64_t seconds = lease.checkpointed_remaining_seconds > 0
                              ? lease.checkpointed_remaining_seconds
                              : lease.ttl_seconds;
  return now + seconds_to_nanos(seconds) + extend;
}

void Lessor::on_lease_changed(LeaseId id, const std::optional<LeaseInfo>& info, uint64_t now) {
  std::lock_guard lock(mutex_);
  if (!info) {
    leases_.erase(id);
    return;
  }
  auto [it, granted] = leases_.try_emplace(id);
  Lease& lease = it->second;
  lease.ttl_seconds = info->granted_ttl_seconds;
  lease.checkpointed_remaining_seconds = info->remaining_ttl_seconds;
  // A grant starts its TTL now on the leader; a checkpoint changes only what a future leader
  // will start from.
  if (granted && primary_) lease.expiry = expiry_after(lease, now, 0);
}

void Lessor::replace_all(const std::vector<LeaseInfo>& leases, uint64_t now) {
  std::map<LeaseId, Lease> replaced;
  for (const LeaseInfo& info : leases) {
    Lease& lease = replaced[info.id];
    lease.ttl_seconds = info.granted_ttl_seconds;
    lease.checkpointed_remaining_seconds = info.remaining_ttl_seconds;
  }
  std::lock_guard lock(mutex_);
  // Only a follower installs an image, but a lease already timed here keeps its clock.
  for (auto& [id, lease] : replaced) {
    auto kept = leases_.find(id);
    if (kept != leases_.end()) {
      lease.expiry = kept->second.expiry;
    } else if (primary_) {
      lease.expiry = expiry_after(lease, now, 0);
    }
  }
  leases_ = std::move(replaced);
}

bool Lessor::is_primary() const {
  std::lock_guard lock(mutex_);
  return primary_;
}

void Lessor::promote(uint64_t now) {
  std::lock_guard lock(mutex_);
  primary_ = true;
  for (auto& [id, lease] : leases_) {
    lease.expiry = expiry_after(lease, now, options_.extend_on_promote_nanos);
    lease.revoke_proposed_at = 0;
  }
  next_checkpoint_ =
      options_.checkpoint_interval_nanos == 0 ? 0 : now + options_.checkpoint_interval_nanos;
}

void Lessor::demote() {
  std::lock_guard lock(mutex_);
  primary_ = false;
}

std::vector<LeaseId> Lessor::take_expired(uint64_t now) {
  std::vector<LeaseId> expired;
  std::lock_guard lock(mutex_);
  if (!primary_) return expired;
  for (auto& [id, lease] : leases_) {
    if (lease.expiry > now) continue;
    const bool overdue = lease.revoke_proposed_at != 0 &&
                         now - lease.revoke_proposed_at >= options_.revoke_retry_nanos;
    if (lease.revoke_proposed_at != 0 && !overdue) continue;
    lease.revoke_proposed_at = now;
    expired.push_back(id);
  }
  return expired;
}

std::vector<LeaseCheckpoint> Lessor::take_checkpoints(uint64_t now) {
  std::vector<LeaseCheckpoint> checkpoints;
  std::lock_guard lock(mutex_);
  if (!primary_ || next_checkpoint_ == 0 || now < next_checkpoint_) return checkpoints;
  next_checkpoint_ = now + options_.checkpoint_interval_nanos;
  for (const auto& [id, lease] : leases_) {
    // Only leases that outlive the next round: a shorter one is gone or renewed by then.
    if (lease.expiry <= now || lease.expiry - now < options_.checkpoint_interval_nanos) continue;
    const auto remaining = static_cast<int64_t>((lease.expiry - now) / kNanosPerSecond);
    if (remaining == lease.checkpointed_remaining_seconds) continue;
    checkpoints.push_back(LeaseCheckpoint{id, remaining});
  }
  return checkpoints;
}

Result<LeaseTimeLeft> Lessor::renew(LeaseId id, uint64_t now, bool& clear_checkpoint) {
  clear_checkpoint = false;
  std::lock_guard lock(mutex_);
  if (!primary_) return not_primary();
  auto it = leases_.find(id);
  // A lease past its expiry is as good as revoked: its revoke is on its way through the log.
  if (it == leases_.end() || it->second.expiry <= now) {
    return Status::of(ErrorDetail::kLeaseNotFound);
  }
  Lease& lease = it->second;
  clear_checkpoint = lease.checkpointed_remaining_seconds > 0;
  lease.checkpointed_remaining_seconds = 0;
  lease.expiry = now + seconds_to_nanos(lease.ttl_seconds);
  return LeaseTimeLeft{id, lease.ttl_seconds, lease.ttl_seconds};
}

Result<LeaseTimeLeft> Lessor::time_left(LeaseId id, uint64_t now) const {
  std::lock_guard lock(mutex_);
  if (!primary_) return not_primary();
  auto it = leases_.find(id);
  if (it == leases_.end()) return Status::of(ErrorDetail::kLeaseNotFound);
  const Lease& lease = it->second;
  const uint64_t left = lease.expiry > now ? lease.expiry - now : 0;
  return LeaseTimeLeft{id, static_cast<int64_t>(left / kNanosPerSecond), lease.ttl_seconds};
}

size_t Lessor::size() const {
  std::lock_guard lock(mutex_);
  return leases_.size();
}

}  // namespace dengine::runtime
