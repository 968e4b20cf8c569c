#pragma once

// Session: a lease kept alive in the background for as long as a client is alive (etcd
// clientv3/concurrency's Session). The lock and election recipes (dengine/lock.h,
// dengine/election.h) put their keys on it, so they vanish when the session's process does:
// once nobody renews the lease, its keys go when the TTL passes.
//
//   auto session = dengine::Session::create(engine.client(), {.ttl = std::chrono::seconds(10)});
//   if (!session) { /* session.status() says why */ }
//   ...
//   (*session)->close();  // revokes the lease: every key of the session goes at once
//
// Destroying a Session only stops the keep-alive (etcd's Orphan): a destructor cannot report a
// failed revoke, and must not reach for a KvClient that may be gone. Its keys then outlive it
// by up to one TTL; call close() to release them at once.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>

#include "dengine/clock.h"
#include "dengine/kv_client.h"
#include "dengine/kv_types.h"
#include "dengine/status.h"

namespace dengine {

struct SessionOptions {
  // How long the session's keys outlive its last renewal (etcd's default: 60 s). Must be
  // positive; raised to the engine's minimum TTL.
  std::chrono::seconds ttl{60};
  // Resume an existing lease instead of granting one (etcd's WithLease): a restarted process
  // reclaims the lock or leadership it held, since the recipes' keys are named after the lease.
  LeaseId lease = kNoLease;
  // Where the recipes measure their timeouts; null: the real monotonic clock. Tests pass the
  // engine's ManualClock.
  std::shared_ptr<Clock> clock = nullptr;
};

// When a recipe stops waiting (Lock::acquire, Election::campaign, ElectionObserver::next).
struct WaitOptions {
  // kTimedOut after this long on the session's clock; nullopt: as long as it takes.
  std::optional<std::chrono::milliseconds> timeout = std::nullopt;
  // kCancelled once a stop is requested on this token.
  std::stop_token stop = {};
};

class Session {
 public:
  // Grants a lease of `options.ttl` (or checks `options.lease` exists) and keeps it alive.
  static Result<std::unique_ptr<Session>> create(KvClient& kv, SessionOptions options = {});

  ~Session() { orphan(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  [[nodiscard]] KvClient& client() const { return *kv_; }
  [[nodiscard]] LeaseId lease() const { return lease_; }
  // The lease's TTL as granted.
  [[nodiscard]] std::chrono::seconds ttl() const { return ttl_; }
  // Where the recipes on this session measure their timeouts.
  [[nodiscard]] const std::shared_ptr<Clock>& clock() const { return clock_; }

  // OK while the lease is kept alive; kCancelled once orphaned or closed; why it was lost
  // otherwise (ErrorDetail::kLeaseNotFound: it expired or was revoked). A loss shows at the first
  // renewal that fails, every third of the TTL (etcd's Done channel closes then too).
  [[nodiscard]] Status status() const;

  // Stops renewing without revoking (etcd's Orphan): the keys stay until the TTL passes, e.g.
  // for another process to resume the lease. Idempotent.
  void orphan();
  // Orphans the session, then revokes its lease, deleting every key on it in one revision.
  // The revoke's error if it fails (kLeaseNotFound when the lease had already gone).
  Status close();

 private:
  Session(KvClient& kv, LeaseId lease, std::chrono::seconds ttl, std::shared_ptr<Clock> clock,
          LeaseKeepAlive keep_alive);

  KvClient* kv_;
  LeaseId lease_;
  std::chrono::seconds ttl_;
  std::shared_ptr<Clock> clock_;
  LeaseKeepAlive keep_alive_;
  std::atomic<bool> orphaned_{false};
};

}  // namespace dengine
