#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dengine/kv_types.h"
#include "dengine/status.h"
#include "kv/key_index.h"
#include "kv/key_span.h"
#include "kv/lease_table.h"
#include "kv/point_index.h"
#include "kv/record_store.h"
#include "kv/revision.h"

namespace dengine::kv {

struct RawRangeOptions {
  int64_t limit = 0;     // <= 0: every key
  int64_t revision = 0;  // <= 0: the reader's own revision
  bool count_only = false;
};

// What the MVCC layer returns for a range, before etcd's filters, sorting and limit flag.
struct RawRange {
  std::vector<KeyValue> kvs;  // key order, at most `limit`
  int64_t count = 0;          // every key in the span at the read revision
  int64_t revision = 0;       // the reader's revision (the response header's)
};

// A consistent view of the keyspace at one revision (etcd's mvcc.ReadView): the store itself
// between writes, or a write transaction, which sees its own changes.
class MvccReader {
 public:
  virtual ~MvccReader() = default;
  [[nodiscard]] virtual int64_t revision() const = 0;
  [[nodiscard]] virtual int64_t compact_revision() const = 0;
  // Fails with kFutureRevision above revision(), kCompacted below compact_revision().
  virtual Result<RawRange> range(const KeySpan& span, const RawRangeOptions& options) const = 0;
};

// The multi-version keyspace, laid out as etcd lays it out: an index from each key to the
// revisions that wrote it (KeyIndex), and the records of those writes ordered by revision
// (etcd's "key" bucket). A read at revision R asks the index which record each key shows at R;
// the event history is a scan of the records; compaction trims both.
class MvccStore final : public MvccReader {
 public:
  using Record = MvccRecord;
  using KeyIndexMap = std::map<std::string, KeyIndex, std::less<>>;
  using Records = MemoryRecordStore::Records;

  // An empty store whose records live in memory.
  MvccStore() : records_(std::make_unique<MemoryRecordStore>()) {}
  // Copies need a copyable record store (the in-memory one).
  MvccStore(const MvccStore& other);
  MvccStore& operator=(const MvccStore& other);
  // Moving keeps the map's nodes where they are, so the point index stays valid.
  MvccStore(MvccStore&&) noexcept = default;
  MvccStore& operator=(MvccStore&&) noexcept = default;
  ~MvccStore() override = default;

  // Rebuilds a store from its parts (snapshot restore), checking that they agree.
  static Result<MvccStore> from_parts(int64_t current_revision, int64_t compact_revision,
                                      KeyIndexMap index, Records records);
  // Rebuilds the key index from the records alone, as etcd does at startup: every record in
  // revision order replays its put or tombstone. Checks that the result is consistent.
  static Result<MvccStore> rebuild(int64_t current_revision, int64_t compact_revision,
                                   std::unique_ptr<RecordStore> records);

  [[nodiscard]] int64_t revision() const override { return current_revision_; }
  [[nodiscard]] int64_t compact_revision() const override { return compact_revision_; }
  Result<RawRange> range(const KeySpan& span, const RawRangeOptions& options) const override;

  // Compacts the history at `revision` (etcd's Compact): errors kCompacted when it is at or
  // below the last compaction, kFutureRevision above the current revision.
  Status compact(int64_t revision);

  // The changes to keys in `span` from revision `start` on (etcd's watch catch-up).
  Result<EventBatch> events(const KeySpan& span, int64_t start, bool prev_kv,
                            int64_t max_revisions) const;

  [[nodiscard]] const KeyIndexMap& index() const { return index_; }
  // The index of one key, or nullptr: a hash lookup, not a walk down the ordered map.
  [[nodiscard]] const KeyIndex* find_key(std::string_view key) const;
  [[nodiscard]] const RecordStore& records() const { return *records_; }
  // The KeyValue visible for `key` at `at`, if any.
  [[nodiscard]] std::optional<KeyValue> find_at(std::string_view key, int64_t at) const;
  // Every indexed revision has its record and every record is indexed, tombstones exactly at
  // the ends of finished generations, nothing above the current revision.
  [[nodiscard]] Status check_consistency() const;

  friend bool operator==(const MvccStore& a, const MvccStore& b);

 private:
  friend class WriteTxn;

  MvccStore(int64_t current_revision, int64_t compact_revision, KeyIndexMap index,
            std::unique_ptr<RecordStore> records)
      : current_revision_(current_revision),
        compact_revision_(compact_revision),
        index_(std::move(index)),
        records_(std::move(records)) {
    index_points();
  }

  void index_points();
  // Adds a key to both indexes (or finds it there).
  KeyIndex& key_index_for_write(std::string_view key);
  void erase_key(KeyIndexMap::iterator it);

  [[nodiscard]] MvccRecord record_at(Revision revision) const;
  Result<RawRange> range_at(const KeySpan& span, const RawRangeOptions& options,
                            int64_t reader_revision) const;

  int64_t current_revision_ = 1;   // an empty store is at revision 1 (etcd)
  int64_t compact_revision_ = -1;  // etcd's compactMainRev before any compaction
  KeyIndexMap index_;
  // Point lookups (a get, a txn's compare) skip the map's O(log n) cache misses: the views
  // and pointers refer to index_'s nodes, which never move while they are in it.
  PointIndex<std::string_view, KeyIndex> point_index_;
  std::unique_ptr<RecordStore> records_;
};

// One atomic write at revision begin_revision() + 1 (etcd's TxnWrite): every put and delete in
// it shares that main revision, with increasing sub-revisions. The store's revision moves only
// at end(), and only if something changed. Callers check every precondition (leases exist,
// revisions readable) before the first write: a write transaction cannot roll back.
class WriteTxn final : public MvccReader {
 public:
  WriteTxn(MvccStore& store, LeaseTable& leases)
      : store_(store), leases_(leases), begin_revision_(store.current_revision_) {}
  ~WriteTxn() override;
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;

  [[nodiscard]] int64_t begin_revision() const { return begin_revision_; }
  // Reads inside the transaction see its own writes: at begin + 1 once anything changed.
  [[nodiscard]] int64_t revision() const override {
    return changes_.empty() ? begin_revision_ : begin_revision_ + 1;
  }
  [[nodiscard]] int64_t compact_revision() const override { return store_.compact_revision_; }
  Result<RawRange> range(const KeySpan& span, const RawRangeOptions& options) const override;

  // Writes `key` (keeping its create_revision if it exists, else creating it) and moves its
  // lease attachment. Precondition: `lease` is kNoLease or exists. Returns the write revision.
  int64_t put(std::string_view key, std::string_view value, LeaseId lease);
  // Deletes every live key in `span`, detaching leases. Returns {deleted, response revision}:
  // the revision stays at begin_revision() while the transaction has changed nothing.
  std::pair<int64_t, int64_t> delete_range(const KeySpan& span);

  // Commits: returns the changes as events (with prev_kv) in write order.
  std::vector<Event> end();

 private:
  [[nodiscard]] Revision next_revision() const {
    return Revision{begin_revision_ + 1, static_cast<int64_t>(changes_.size())};
  }

  MvccStore& store_;
  LeaseTable& leases_;
  const int64_t begin_revision_;
  std::vector<Event> changes_;
  bool ended_ = false;
};

}  // namespace dengine::kv
