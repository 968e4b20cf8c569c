#include "kv/lease_table.h"

#include "common/check.h"

namespace dengine::kv {

const LeaseTable::Lease* LeaseTable::find(LeaseId id) const {
  auto it = leases_.find(id);
  return it == leases_.end() ? nullptr : &it->second;
}

void LeaseTable::grant(LeaseId id, int64_t ttl_seconds, int64_t remaining_ttl_seconds) {
  DENGINE_CHECK(id != kNoLease);
  const bool inserted = leases_.emplace(id, Lease{ttl_seconds, remaining_ttl_seconds, {}}).second;
  DENGINE_CHECK(inserted);
}

void LeaseTable::remove(LeaseId id) {
  auto it = leases_.find(id);
  DENGINE_CHECK(it != leases_.end());
  DENGINE_CHECK_MSG(it->second.keys.empty(), "a lease is removed only after its keys are deleted");
  leases_.erase(it);
}

void LeaseTable::checkpoint(LeaseId id, int64_t remaining_ttl_seconds) {
  auto it = leases_.find(id);
  if (it != leases_.end()) it->second.remaining_ttl_seconds = remaining_ttl_seconds;
}

LeaseId LeaseTable::lease_of(std::string_view key) const {
  auto it = lease_of_key_.find(key);
  return it == lease_of_key_.end() ? kNoLease : it->second;
}

void LeaseTable::attach(LeaseId id, std::string_view key) {
  auto it = leases_.find(id);
  DENGINE_CHECK(it != leases_.end());
  it->second.keys.emplace(key);
  lease_of_key_.insert_or_assign(std::string(key), id);
}

void LeaseTable::detach(LeaseId id, std::string_view key) {
  auto it = leases_.find(id);
  DENGINE_CHECK(it != leases_.end());
  auto key_it = it->second.keys.find(key);
  if (key_it != it->second.keys.end()) it->second.keys.erase(key_it);
  auto owner = lease_of_key_.find(key);
  if (owner != lease_of_key_.end() && owner->second == id) lease_of_key_.erase(owner);
}

LeaseInfo LeaseTable::info(LeaseId id, const Lease& lease, bool with_keys) {
  LeaseInfo info{.id = id,
                 .granted_ttl_seconds = lease.ttl_seconds,
                 .remaining_ttl_seconds = lease.remaining_ttl_seconds,
                 .keys = {}};
  if (with_keys) {
    for (const std::string& key : lease.keys) info.keys.push_back(key);
  }
  return info;
}

}  // namespace dengine::kv
