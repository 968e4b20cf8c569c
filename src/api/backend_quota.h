#pragma once

// etcd's backend quota (--quota-backend-bytes, etcdserver/quota.go): a write that would take
// the store past the quota is refused with "database space exceeded", and this member raises
// the NOSPACE alarm, which caps every member's store until `etcdctl alarm disarm` (after
// compaction and defragmentation have made room).

#include <cstdint>

#include "dengine/embedded_engine.h"
#include "dengine/kv_types.h"
#include "dengine/status.h"

namespace dengine::api {

class BackendQuota {
 public:
  // `quota_bytes` < 0: no quota (etcd's negative value).
  BackendQuota(EmbeddedEngine& engine, NodeId self, int64_t quota_bytes)
      : engine_(engine), self_(self), quota_bytes_(quota_bytes) {}

  // OK when the store has room for a write of `cost` bytes (etcd's cost); else raises the alarm
  // (unless it stands already) and answers etcd's error.
  [[nodiscard]] Status admit(uint64_t cost) const;

  // etcd's costs: the key and value of every put plus 256 bytes of overhead each (a txn: the
  // costlier branch), 64 bytes for a lease.
  static uint64_t cost_of(const PutRequest& put);
  static uint64_t cost_of(const TxnRequest& txn);
  static constexpr uint64_t kLeaseCost = 64;

 private:
  EmbeddedEngine& engine_;
  const NodeId self_;
  const int64_t quota_bytes_;
};

}  // namespace dengine::api
