#include "dengine/session.h"

#include <string>
#include <utility>

#include "recipes/key_queue.h"

namespace dengine {

Result<std::unique_ptr<Session>> Session::create(KvClient& kv, SessionOptions options) {
  std::shared_ptr<Clock> clock = options.clock ? std::move(options.clock) : steady_clock();
  LeaseId lease = options.lease;
  std::chrono::seconds ttl = options.ttl;
  if (lease == kNoLease) {
    if (options.ttl.count() <= 0) {
      return Status::invalid_argument("session: ttl must be positive, not " +
                                      std::to_string(options.ttl.count()) + " s");
    }
    Result<LeaseGrantResponse> granted = kv.grant(options.ttl);
    if (!granted) return granted.status().with_context("session: granting its lease");
    lease = granted->id;
    ttl = std::chrono::seconds(granted->ttl_seconds);
  } else {
    // A renewal both proves the lease still exists and tells its TTL.
    Result<LeaseKeepAliveResponse> renewed = kv.keep_alive_once(lease);
    if (!renewed) {
      return renewed.status().with_context("session: resuming lease " + recipes::lease_hex(lease));
    }
    ttl = std::chrono::seconds(renewed->ttl_seconds);
  }
  return std::unique_ptr<Session>(
      new Session(kv, lease, ttl, std::move(clock), kv.keep_alive(lease)));
}

Session::Session(KvClient& kv, LeaseId lease, std::chrono::seconds ttl,
                 std::shared_ptr<Clock> clock, LeaseKeepAlive keep_alive)
    : kv_(&kv),
      lease_(lease),
      ttl_(ttl),
      clock_(std::move(clock)),
      keep_alive_(std::move(keep_alive)) {}

Status Session::status() const {
  if (orphaned_.load(std::memory_order_acquire)) {
    return Status::cancelled("session: lease " + recipes::lease_hex(lease_) +
                             " is no longer kept alive (orphaned or closed)");
  }
  return keep_alive_.status();
}

void Session::orphan() {
  orphaned_.store(true, std::memory_order_release);
  keep_alive_.stop();
}

Status Session::close() {
  orphan();
  Result<LeaseRevokeResponse> revoked = kv_->revoke(lease_);
  if (!revoked) {
    return revoked.status().with_context("session: revoking lease " + recipes::lease_hex(lease_));
  }
  return Status::ok();
}

}  // namespace dengine
