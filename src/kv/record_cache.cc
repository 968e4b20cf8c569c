#include "kv/record_cache.h"

#include <iterator>

namespace dengine::kv {
namespace {

// What one cached record costs beyond its key and value: the order list's node (the KeyValue's
// fixed fields inside it) and the index's slot.
constexpr uint64_t kEntryOverheadBytes = 160;

uint64_t charge_of(const MvccRecord& record) {
  return kEntryOverheadBytes + record.kv.key.size() + record.kv.value.size();
}

}  // namespace

std::optional<MvccRecord> RecordCache::find(Revision revision) {
  std::lock_guard lock(mutex_);
  Entry* entry = index_.find(revision);
  if (entry == nullptr) return std::nullopt;
  entry->referenced = true;
  return entry->record;
}

void RecordCache::insert(Revision revision, const MvccRecord& record) {
  const uint64_t charge = charge_of(record);
  if (charge > capacity_bytes_) return;
  std::lock_guard lock(mutex_);
  if (index_.find(revision) != nullptr) return;  // records never change: the copy is the same
  while (!order_.empty() && size_bytes_ + charge > capacity_bytes_) {
    Entry& oldest = order_.front();
    if (oldest.referenced) {
      oldest.referenced = false;
      order_.splice(order_.end(), order_, order_.begin());
      continue;
    }
    erase_locked(order_.begin());
  }
  Entry& entry = order_.emplace_back(Entry{revision, record, charge, false, {}});
  entry.position = std::prev(order_.end());
  index_.insert(revision, &entry);
  size_bytes_ += charge;
}

void RecordCache::erase(Revision revision) {
  std::lock_guard lock(mutex_);
  if (Entry* entry = index_.find(revision)) erase_locked(entry->position);
}

uint64_t RecordCache::size_bytes() const {
  std::lock_guard lock(mutex_);
  return size_bytes_;
}

void RecordCache::erase_locked(std::list<Entry>::iterator it) {
  size_bytes_ -= it->charge_bytes;
  index_.erase(it->revision);
  order_.erase(it);
}

}  // namespace dengine::kv
