#include "kv/record_cache.h"

namespace dengine::kv {
namespace {

// What one cached record costs beyond its key and value: the hash node (the KeyValue's fixed
// fields inside it) and bucket, and the order list's node.
constexpr uint64_t kEntryOverheadBytes = 160;

uint64_t charge_of(const MvccRecord& record) {
  return kEntryOverheadBytes + record.kv.key.size() + record.kv.value.size();
}

}  // namespace

std::optional<MvccRecord> RecordCache::find(Revision revision) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(revision);
  if (it == slots_.end()) return std::nullopt;
  it->second.referenced = true;
  return it->second.record;
}

void RecordCache::insert(Revision revision, const MvccRecord& record) {
  const uint64_t charge = charge_of(record);
  if (charge > capacity_bytes_) return;
  std::lock_guard lock(mutex_);
  if (slots_.contains(revision)) return;  // records never change: the copy is the same
  while (!order_.empty() && size_bytes_ + charge > capacity_bytes_) {
    auto oldest = slots_.find(order_.front());
    if (oldest->second.referenced) {
      oldest->second.referenced = false;
      order_.splice(order_.end(), order_, order_.begin());
      continue;
    }
    erase_locked(oldest);
  }
  order_.push_back(revision);
  slots_.emplace(revision, Slot{record, charge, false, std::prev(order_.end())});
  size_bytes_ += charge;
}

void RecordCache::erase(Revision revision) {
  std::lock_guard lock(mutex_);
  if (auto it = slots_.find(revision); it != slots_.end()) erase_locked(it);
}

uint64_t RecordCache::size_bytes() const {
  std::lock_guard lock(mutex_);
  return size_bytes_;
}

void RecordCache::erase_locked(Slots::iterator it) {
  size_bytes_ -= it->second.charge_bytes;
  order_.erase(it->second.position);
  slots_.erase(it);
}

}  // namespace dengine::kv
