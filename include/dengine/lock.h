#pragma once

// Lock: a distributed lock on a key prefix, with etcd clientv3/concurrency's Mutex semantics.
//
//   auto session = dengine::Session::create(engine.client());
//   dengine::Lock lock(**session, "locks/report");
//   Result<int64_t> token = lock.acquire({.timeout = std::chrono::seconds(5)});
//   if (!token) { /* kTimedOut, kCancelled, kAborted (session lost), or the engine's error */ }
//   ... write, fenced by *token or by lock.owner_compare() in a txn ...
//   lock.release();
//
// Each session puts one key, <prefix>/<lease id in hex>, on its lease; the session whose key
// is oldest holds the lock. The lock is the session's, not the thread's nor the Lock
// object's: two Locks on one session and one prefix share one key and both hold it, so
// contending threads need a session each.
//
// Holding the lock only means the key was oldest when acquire() returned: if the session's
// lease is lost (a pause longer than the TTL), another session may acquire it while this one
// still believes it holds it. Writes that must not interleave carry the fencing token (the
// key's create revision, larger for every later holder), or go through a txn guarded by
// owner_compare(), which fails once the key is gone.
//
// A Lock is used by one thread at a time. Destroying it does not release it (a destructor
// cannot report a failed delete): release() it, or close the session.

#include <cstdint>
#include <string>

#include "dengine/kv_types.h"
#include "dengine/session.h"
#include "dengine/status.h"

namespace dengine {

class Lock {
 public:
  // The keys go under `prefix` + "/" (etcd's NewMutex).
  Lock(Session& session, std::string prefix);
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  Lock(Lock&&) noexcept = default;
  Lock& operator=(Lock&&) noexcept = default;

  // Blocks until this session holds the lock; returns the fencing token. Errors: kTimedOut,
  // kCancelled (options), kAborted when the session's key vanished while it waited (its lease
  // expired or was revoked: start a new session), or the engine's. When it gives up waiting
  // it deletes the session's key again, as etcd does, so that it blocks nobody behind it.
  Result<int64_t> acquire(WaitOptions options = {});
  // Deletes the session's key, handing the lock to the next in line. kFailedPrecondition if
  // this Lock does not hold it.
  Status release();

  // Whether acquire() succeeded and no release() followed: what this Lock believes, which
  // owner_compare() checks against the store.
  [[nodiscard]] bool held() const { return held_; }
  // The session's key under the prefix (etcd's Key), and the fencing token of the last
  // acquire(): that key's create revision.
  [[nodiscard]] const std::string& key() const { return key_; }
  [[nodiscard]] int64_t fencing_token() const { return create_revision_; }
  // True in a txn only while this Lock's key still exists as the generation it acquired
  // (etcd's IsOwner).
  [[nodiscard]] Compare owner_compare() const;

 private:
  Session* session_;
  std::string prefix_;  // with the trailing "/"
  std::string key_;
  int64_t create_revision_ = 0;
  bool held_ = false;
};

}  // namespace dengine
