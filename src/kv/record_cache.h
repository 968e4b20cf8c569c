#pragma once

// A bounded cache of decoded MVCC records by revision, in front of a record store on disk.
// A record never changes once written (a revision names one write for good), so a cached copy
// can only go stale by being erased: compaction erases through the cache, and a snapshot
// install replaces the whole store and its cache with it. That is why this is cheaper than
// RocksDB's row cache for a point get: no per-file lookup, no key building, no decoding.
//
// Thread-safe: readers on several threads may look up and fill it at once.

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>

#include "kv/point_index.h"
#include "kv/record_store.h"
#include "kv/revision.h"

namespace dengine::kv {

class RecordCache {
 public:
  // At most `capacity_bytes` of keys, values and bookkeeping; 0 caches nothing.
  explicit RecordCache(uint64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}
  RecordCache(const RecordCache&) = delete;
  RecordCache& operator=(const RecordCache&) = delete;

  [[nodiscard]] std::optional<MvccRecord> find(Revision revision);
  // Keeps a copy, evicting the oldest records not read since they were cached (CLOCK) until
  // it fits.
  void insert(Revision revision, const MvccRecord& record);
  void erase(Revision revision);

  [[nodiscard]] uint64_t size_bytes() const;

 private:
  // Eviction is FIFO with a second chance (CLOCK): a hit only marks its entry, so a lookup
  // touches the index slot and the entry, nothing else. Entries live in the order list, whose
  // nodes never move (a second chance splices, it does not copy), so the index points at them.
  struct Entry {
    Revision revision;
    MvccRecord record;
    uint64_t charge_bytes = 0;
    bool referenced = false;
    std::list<Entry>::iterator position;  // its own node, to erase it when found by revision
  };

  void erase_locked(std::list<Entry>::iterator it);

  const uint64_t capacity_bytes_;
  mutable std::mutex mutex_;
  std::list<Entry> order_;  // oldest first
  PointIndex<Revision, Entry, RevisionHash> index_;
  uint64_t size_bytes_ = 0;
};

}  // namespace dengine::kv
