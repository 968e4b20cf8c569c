#pragma once

// Where the MVCC layer keeps the records of its writes, ordered by revision (etcd's "key"
// bucket). The key index, which says which record each key shows at a revision, stays in
// memory (etcd's treeIndex); the records, which hold the values, may live on disk.
//
// Implementations: MemoryRecordStore below, and the RocksDB store's record store, which
// stages the writes of one applied entry and commits them in one batch with the applied index.

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "dengine/kv_types.h"
#include "kv/point_index.h"
#include "kv/revision.h"

namespace dengine::kv {

// The stored form of one write: a put's full KeyValue, or a delete's tombstone (key only).
struct MvccRecord {
  KeyValue kv;
  bool tombstone = false;

  friend bool operator==(const MvccRecord&, const MvccRecord&) = default;
};

class RecordStore {
 public:
  // Return false to stop a scan.
  using Visitor = std::function<bool(Revision, const MvccRecord&)>;

  virtual ~RecordStore() = default;
  RecordStore() = default;
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  [[nodiscard]] virtual std::optional<MvccRecord> get(Revision revision) const = 0;
  virtual void put(Revision revision, const MvccRecord& record) = 0;
  virtual void erase(Revision revision) = 0;
  // Visits the records at or after `from`, in revision order, until `visit` returns false.
  // The store must not be changed during the scan.
  virtual void scan(Revision from, const Visitor& visit) const = 0;
  // A deep copy, or nullptr for a store that cannot be copied (one backed by a database).
  [[nodiscard]] virtual std::unique_ptr<RecordStore> clone() const = 0;
};

// Records in an ordered map, for scans, and a hash index of the same nodes beside it, for
// point reads (a get): the map's O(log n) descent costs a cache miss per level on a large
// store, the hash lookup about one.
class MemoryRecordStore final : public RecordStore {
 public:
  using Records = std::map<Revision, MvccRecord>;

  MemoryRecordStore() = default;
  explicit MemoryRecordStore(Records records) : records_(std::move(records)) {
    point_index_.reserve(records_.size());
    for (const auto& [revision, record] : records_) point_index_.insert(revision, &record);
  }

  [[nodiscard]] std::optional<MvccRecord> get(Revision revision) const override {
    const MvccRecord* record = point_index_.find(revision);
    if (record == nullptr) return std::nullopt;
    return *record;
  }
  void put(Revision revision, const MvccRecord& record) override {
    auto [it, inserted] = records_.insert_or_assign(revision, record);
    if (inserted) point_index_.insert(revision, &it->second);
  }
  void erase(Revision revision) override {
    records_.erase(revision);
    point_index_.erase(revision);
  }
  void scan(Revision from, const Visitor& visit) const override {
    for (auto it = records_.lower_bound(from); it != records_.end(); ++it) {
      if (!visit(it->first, it->second)) return;
    }
  }
  [[nodiscard]] std::unique_ptr<RecordStore> clone() const override {
    return std::make_unique<MemoryRecordStore>(records_);
  }

 private:
  Records records_;
  PointIndex<Revision, const MvccRecord, RevisionHash> point_index_;  // into records_' nodes
};

}  // namespace dengine::kv
