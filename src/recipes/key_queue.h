#pragma once

// The queue both recipes stand in (etcd clientv3/concurrency's mutex.go, election.go, key.go):
// each session puts one key, prefix + its lease id in hex, on its lease; the keys under the
// prefix queue in the order of their create revisions, and the oldest one owns the lock or
// leads the election. A session waits for its turn by watching, one at a time, the key just
// ahead of it until it is deleted, so a release wakes only the next in line.

#include <cstdint>
#include <string>
#include <string_view>

#include "dengine/kv_client.h"
#include "dengine/kv_types.h"
#include "dengine/status.h"
#include "recipes/deadline.h"

namespace dengine::recipes {

// etcd's fmt "%x": lowercase hex, no leading zeros.
std::string lease_hex(LeaseId lease);

// Where a session stands in the queue after enqueue().
struct QueuePlace {
  KeyValue own;          // the session's key as the txn left it
  bool created = false;  // false: the session's key was already there (etcd reuses it)
  bool first = false;    // no older key under the prefix: the session owns it already
};

// One txn: puts `key` with `value` on `lease` unless it exists (else reads it), and reads the
// oldest key under `prefix`.
Result<QueuePlace> enqueue(KvClient& kv, const std::string& prefix, const std::string& key,
                           const std::string& value, LeaseId lease);

// True in a txn while `key` exists as the generation created at `create_revision`; with 0,
// while it does not exist.
Compare created_at(const std::string& key, int64_t create_revision);

// The oldest key under `prefix` (etcd's WithFirstCreate).
RangeRequest first_created(const std::string& prefix);

// etcd's waitDeletes: returns once no key under `prefix` was created at or before
// `max_create_revision`.
Status wait_for_deletes(KvClient& kv, const std::string& prefix, int64_t max_create_revision,
                        const Deadline& deadline);

// After waiting (etcd 3.5's recheck): whether `key` still exists as the generation created at
// `create_revision`. It is gone if the session's lease expired or was revoked meanwhile.
Result<bool> still_queued(KvClient& kv, const std::string& key, int64_t create_revision);

}  // namespace dengine::recipes
