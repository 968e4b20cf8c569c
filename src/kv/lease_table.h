#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dengine/kv_types.h"

namespace dengine::kv {

// The replicated facts of every lease (etcd's lessor without its clock): id, granted TTL, the
// last checkpointed remaining TTL, and which keys are attached. Expiry is decided outside.
class LeaseTable {
 public:
  struct Lease {
    int64_t ttl_seconds = 0;
    int64_t remaining_ttl_seconds = 0;  // 0: no checkpoint
    std::set<std::string, std::less<>> keys;

    friend bool operator==(const Lease&, const Lease&) = default;
  };

  [[nodiscard]] bool contains(LeaseId id) const { return leases_.contains(id); }
  [[nodiscard]] const Lease* find(LeaseId id) const;
  [[nodiscard]] const std::map<LeaseId, Lease>& all() const { return leases_; }

  // Precondition: no lease `id` yet.
  void grant(LeaseId id, int64_t ttl_seconds, int64_t remaining_ttl_seconds = 0);
  // Drops the lease; its keys must have been deleted (detached) first.
  void remove(LeaseId id);
  // Unknown leases are ignored, as etcd's lessor does.
  void checkpoint(LeaseId id, int64_t remaining_ttl_seconds);

  // The lease a key is attached to, or kNoLease.
  [[nodiscard]] LeaseId lease_of(std::string_view key) const;
  // Precondition: the lease exists.
  void attach(LeaseId id, std::string_view key);
  void detach(LeaseId id, std::string_view key);

  [[nodiscard]] static LeaseInfo info(LeaseId id, const Lease& lease, bool with_keys);

  friend bool operator==(const LeaseTable&, const LeaseTable&) = default;

 private:
  std::map<LeaseId, Lease> leases_;
  std::map<std::string, LeaseId, std::less<>> lease_of_key_;
};

}  // namespace dengine::kv
