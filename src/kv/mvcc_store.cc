#include "kv/mvcc_store.h"

#include <algorithm>
#include <string>

#include "common/check.h"

namespace dengine::kv {
namespace {

// Calls visit(key, key_index) for every indexed key in `span`, in key order, until it
// returns false.
template <typename Visit>
void for_each_key(const MvccStore& store, const KeySpan& span, Visit&& visit) {
  if (span.is_single_key()) {
    if (const KeyIndex* key_index = store.find_key(span.first())) {
      visit(span.first(), *key_index);
    }
    return;
  }
  const MvccStore::KeyIndexMap& index = store.index();
  for (auto it = index.lower_bound(span.first()); it != index.end(); ++it) {
    if (span.is_past(it->first)) return;
    if (!visit(it->first, it->second)) return;
  }
}

// etcd's tombstone KeyValue in an event: only the key and the deleting revision.
KeyValue tombstone_kv(const std::string& key, int64_t revision) {
  return KeyValue{.key = key,
                  .create_revision = 0,
                  .mod_revision = revision,
                  .version = 0,
                  .value = {},
                  .lease = kNoLease};
}

}  // namespace

// ---- reads ----

MvccRecord MvccStore::record_at(Revision revision) const {
  std::optional<MvccRecord> record = records_->get(revision);
  DENGINE_CHECK_MSG(record.has_value(), "an indexed revision has no record");
  return std::move(*record);
}

const KeyIndex* MvccStore::find_key(std::string_view key) const {
  return point_index_.find(key);
}

void MvccStore::index_points() {
  point_index_.clear();
  point_index_.reserve(index_.size());
  for (auto& [key, key_index] : index_) point_index_.insert(key, &key_index);
}

KeyIndex& MvccStore::key_index_for_write(std::string_view key) {
  if (KeyIndex* existing = point_index_.find(key)) return *existing;
  auto [it, inserted] = index_.try_emplace(std::string(key));
  DENGINE_CHECK(inserted);
  point_index_.insert(it->first, &it->second);
  return it->second;
}

void MvccStore::erase_key(KeyIndexMap::iterator it) {
  point_index_.erase(it->first);
  index_.erase(it);
}

std::optional<KeyValue> MvccStore::find_at(std::string_view key, int64_t at) const {
  const KeyIndex* key_index = find_key(key);
  if (key_index == nullptr) return std::nullopt;
  const std::optional<KeyIndex::Version> version = key_index->get(at);
  if (!version) return std::nullopt;
  return record_at(version->modified).kv;
}

Result<RawRange> MvccStore::range(const KeySpan& span, const RawRangeOptions& options) const {
  return range_at(span, options, current_revision_);
}

// etcd's rangeKeys: the future check uses the reader's revision, the compaction check the
// store's; a read exactly at the compacted revision is still answered.
Result<RawRange> MvccStore::range_at(const KeySpan& span, const RawRangeOptions& options,
                                     int64_t reader_revision) const {
  if (options.revision > reader_revision) return Status::of(ErrorDetail::kFutureRevision);
  const int64_t at = options.revision <= 0 ? reader_revision : options.revision;
  if (at < compact_revision_) return Status::of(ErrorDetail::kCompacted);

  RawRange result;
  result.revision = reader_revision;
  // A get names one key: at most one record to read, and no list of visible revisions to
  // build first (a limit, being >= 1 when set, cannot cut it).
  if (span.is_single_key()) {
    const KeyIndex* key_index = find_key(span.first());
    const std::optional<KeyIndex::Version> version =
        key_index == nullptr ? std::nullopt : key_index->get(at);
    result.count = version ? 1 : 0;
    if (version && !options.count_only) result.kvs.push_back(record_at(version->modified).kv);
    return result;
  }

  std::vector<Revision> visible;
  for_each_key(*this, span, [&](std::string_view, const KeyIndex& key_index) {
    if (auto version = key_index.get(at)) visible.push_back(version->modified);
    return true;
  });
  result.count = static_cast<int64_t>(visible.size());
  if (options.count_only) return result;
  size_t wanted = visible.size();
  if (options.limit > 0 && static_cast<uint64_t>(options.limit) < wanted) {
    wanted = static_cast<size_t>(options.limit);
  }
  result.kvs.reserve(wanted);
  for (size_t i = 0; i < wanted; ++i) result.kvs.push_back(record_at(visible[i]).kv);
  return result;
}

Result<EventBatch> MvccStore::events(const KeySpan& span, int64_t start, bool prev_kv,
                                     int64_t max_revisions) const {
  if (max_revisions <= 0) {
    return Status::invalid_argument("kv: an event query needs max_revisions > 0");
  }
  EventBatch batch;
  if (start <= 0) {  // a watch from "now" has no history to replay
    batch.next_revision = current_revision_ + 1;
    return batch;
  }
  // etcd's watch: a start below the compacted revision is refused; a start exactly at it is
  // served from what compaction kept at that revision.
  if (start < compact_revision_) return Status::of(ErrorDetail::kCompacted);
  batch.next_revision = std::max(start, current_revision_ + 1);

  int64_t revisions_seen = 0;
  int64_t last_main = 0;
  records_->scan(Revision{start, 0}, [&](Revision revision, const MvccRecord& record) {
    if (revision.main != last_main) {
      if (revisions_seen == max_revisions) {
        batch.next_revision = revision.main;
        return false;
      }
      ++revisions_seen;
      last_main = revision.main;
    }
    if (!span.contains(record.kv.key)) return true;
    Event event;
    event.type = record.tombstone ? EventType::kDelete : EventType::kPut;
    event.kv = record.tombstone ? tombstone_kv(record.kv.key, revision.main) : record.kv;
    const bool creates_key = !record.tombstone && record.kv.create_revision == revision.main;
    // etcd reads prev_kv at the previous revision; once compacted, it is simply absent.
    if (prev_kv && !creates_key && revision.main - 1 >= compact_revision_) {
      event.prev_kv = find_at(record.kv.key, revision.main - 1);
    }
    batch.events.push_back(std::move(event));
    return true;
  });
  return batch;
}

// ---- compaction ----

Status MvccStore::compact(int64_t revision) {
  if (revision <= compact_revision_) return Status::of(ErrorDetail::kCompacted);
  if (revision > current_revision_) return Status::of(ErrorDetail::kFutureRevision);
  compact_revision_ = revision;

  std::vector<Revision> kept;
  for (auto it = index_.begin(); it != index_.end();) {
    it->second.compact(revision, kept);
    auto next = std::next(it);
    if (it->second.empty()) erase_key(it);
    it = next;
  }
  std::sort(kept.begin(), kept.end());
  std::vector<Revision> dropped;
  records_->scan(Revision{}, [&](Revision at, const MvccRecord&) {
    if (at.main > revision) return false;
    if (!std::binary_search(kept.begin(), kept.end(), at)) dropped.push_back(at);
    return true;
  });
  for (const Revision at : dropped) records_->erase(at);
  return Status::ok();
}

// ---- restore and invariants ----

Result<MvccStore> MvccStore::from_parts(int64_t current_revision, int64_t compact_revision,
                                        KeyIndexMap index, Records records) {
  if (current_revision < 1 || compact_revision < -1 || compact_revision > current_revision) {
    return Status::corruption("kv: snapshot has impossible revisions (current " +
                              std::to_string(current_revision) + ", compacted " +
                              std::to_string(compact_revision) + ")");
  }
  MvccStore store(current_revision, compact_revision, std::move(index),
                  std::make_unique<MemoryRecordStore>(std::move(records)));
  if (Status consistent = store.check_consistency(); !consistent) {
    return Status::corruption("kv: snapshot is inconsistent: " + consistent.message());
  }
  return store;
}

Status MvccStore::check_consistency() const {
  size_t indexed = 0;
  for (const auto& [key, key_index] : index_) {
    if (key_index.empty()) return Status::corruption("key index of '" + key + "' is empty");
    // A later put must be able to follow the last write (KeyIndex::put checks it).
    if (key_index.modified().main > current_revision_) {
      return Status::corruption("key '" + key + "' was modified after the current revision");
    }
    const auto& generations = key_index.generations();
    Revision previous{0, -1};
    for (size_t g = 0; g < generations.size(); ++g) {
      const auto& revisions = generations[g].revisions;
      const bool finished = g + 1 < generations.size();
      if (finished && revisions.empty()) {
        return Status::corruption("key '" + key + "' has an empty finished generation");
      }
      for (size_t r = 0; r < revisions.size(); ++r) {
        const Revision revision = revisions[r];
        if (revision <= previous || revision.main > current_revision_) {
          return Status::corruption("key '" + key + "' has revisions out of order");
        }
        if (revision > key_index.modified()) {
          return Status::corruption("key '" + key + "' has a revision after its last write");
        }
        previous = revision;
        const std::optional<MvccRecord> record = records_->get(revision);
        if (!record || record->kv.key != key) {
          return Status::corruption("key '" + key + "' has a revision without its record");
        }
        const bool is_tombstone = finished && r + 1 == revisions.size();
        if (record->tombstone != is_tombstone) {
          return Status::corruption("key '" + key + "' has a misplaced tombstone");
        }
        // A put's record repeats what the index implies: KeyIndex::get computes versions and
        // the create revision from the generation, reads return the record.
        const auto later_writes = static_cast<int64_t>(revisions.size() - r - 1);
        const KeyValue& kv = record->kv;
        if (!is_tombstone && (kv.mod_revision != revision.main || kv.version <= 0 ||
                              kv.version != generations[g].version - later_writes ||
                              kv.create_revision != generations[g].created.main)) {
          return Status::corruption("key '" + key + "' has a record that disagrees with it");
        }
        ++indexed;
      }
    }
  }
  size_t stored = 0;
  bool beyond_current = false;
  records_->scan(Revision{}, [&](Revision revision, const MvccRecord&) {
    ++stored;
    beyond_current = beyond_current || revision.main > current_revision_;
    return true;
  });
  if (beyond_current) return Status::corruption("a record is newer than the current revision");
  if (indexed != stored) {
    return Status::corruption("records exist that no key index refers to (" +
                              std::to_string(stored - indexed) + " of " + std::to_string(stored) +
                              ")");
  }
  return Status::ok();
}

// etcd's restore (server/mvcc/kvstore.go): the index is rebuilt by replaying every record.
// A put opening a generation takes its created revision and version from the record, since
// compaction may have removed the generation's earlier revisions.
Result<MvccStore> MvccStore::rebuild(int64_t current_revision, int64_t compact_revision,
                                     std::unique_ptr<RecordStore> records) {
  if (current_revision < 1 || compact_revision < -1 || compact_revision > current_revision) {
    return Status::corruption("kv: impossible revisions (current " +
                              std::to_string(current_revision) + ", compacted " +
                              std::to_string(compact_revision) + ")");
  }
  KeyIndexMap index;
  Status problem;
  records->scan(Revision{}, [&](Revision revision, const MvccRecord& record) {
    const std::string where = "record at revision " + std::to_string(revision.main) + "." +
                              std::to_string(revision.sub) + " (key '" + record.kv.key + "')";
    KeyIndex& key_index = index[record.kv.key];
    const bool out_of_order = !key_index.generations().empty() && revision <= key_index.modified();
    if (out_of_order) {
      problem = Status::corruption("kv: " + where + " is older than the key's last write");
      return false;
    }
    if (record.tombstone) {
      if (!key_index.tombstone(revision)) {
        problem = Status::corruption("kv: " + where + " deletes a key that is not live");
        return false;
      }
      return true;
    }
    if (record.kv.version <= 0 || record.kv.create_revision <= 0 ||
        record.kv.create_revision > revision.main) {
      problem =
          Status::corruption("kv: " + where + " has an impossible version or create revision");
      return false;
    }
    key_index.restore_put(revision, record.kv.create_revision, record.kv.version);
    return true;
  });
  if (!problem) return problem;
  for (auto it = index.begin(); it != index.end();) {
    it = it->second.empty() ? index.erase(it) : std::next(it);
  }
  MvccStore store(current_revision, compact_revision, std::move(index), std::move(records));
  if (Status consistent = store.check_consistency(); !consistent) {
    return Status::corruption("kv: stored records are inconsistent: " + consistent.message());
  }
  return store;
}

MvccStore::MvccStore(const MvccStore& other)
    : current_revision_(other.current_revision_),
      compact_revision_(other.compact_revision_),
      index_(other.index_),
      records_(other.records_->clone()) {
  DENGINE_CHECK_MSG(records_ != nullptr, "this MVCC store's records cannot be copied");
  index_points();
}

MvccStore& MvccStore::operator=(const MvccStore& other) {
  if (this != &other) *this = MvccStore(other);
  return *this;
}

bool operator==(const MvccStore& a, const MvccStore& b) {
  if (a.current_revision_ != b.current_revision_ || a.compact_revision_ != b.compact_revision_ ||
      a.index_ != b.index_) {
    return false;
  }
  std::vector<std::pair<Revision, MvccRecord>> left;
  a.records_->scan(Revision{}, [&](Revision revision, const MvccRecord& record) {
    left.emplace_back(revision, record);
    return true;
  });
  size_t position = 0;
  bool equal = true;
  b.records_->scan(Revision{}, [&](Revision revision, const MvccRecord& record) {
    equal = position < left.size() && left[position].first == revision &&
            left[position].second == record;
    ++position;
    return equal;
  });
  return equal && position == left.size();
}

// ---- the write transaction ----

WriteTxn::~WriteTxn() {
  // Writes are already in the index; ending publishes the new revision.
  DENGINE_CHECK_MSG(ended_ || changes_.empty(), "a write transaction was dropped without end()");
}

Result<RawRange> WriteTxn::range(const KeySpan& span, const RawRangeOptions& options) const {
  return store_.range_at(span, options, revision());
}

int64_t WriteTxn::put(std::string_view key, std::string_view value, LeaseId lease) {
  DENGINE_CHECK(!ended_);
  const Revision revision = next_revision();
  KeyIndex& key_index = store_.key_index_for_write(key);

  KeyValue kv{.key = std::string(key),
              .create_revision = revision.main,
              .mod_revision = revision.main,
              .version = 1,
              .value = std::string(value),
              .lease = lease};
  Event event{.type = EventType::kPut, .kv = {}, .prev_kv = std::nullopt};
  LeaseId old_lease = kNoLease;
  // The key's state as this transaction sees it (its earlier writes included).
  if (auto current = key_index.get(revision.main)) {
    kv.create_revision = current->created.main;
    kv.version = current->version + 1;
    event.prev_kv = store_.record_at(current->modified).kv;
    old_lease = leases_.lease_of(key);
  }
  key_index.put(revision);
  store_.records_->put(revision, MvccRecord{kv, false});

  if (old_lease != kNoLease) leases_.detach(old_lease, key);
  if (lease != kNoLease) leases_.attach(lease, key);

  event.kv = std::move(kv);
  changes_.push_back(std::move(event));
  return revision.main;
}

std::pair<int64_t, int64_t> WriteTxn::delete_range(const KeySpan& span) {
  DENGINE_CHECK(!ended_);
  const int64_t at = revision();
  std::vector<std::string> live_keys;
  for_each_key(store_, span, [&](std::string_view key, const KeyIndex& key_index) {
    if (key_index.get(at)) live_keys.emplace_back(key);
    return true;
  });
  for (const std::string& key : live_keys) {
    const Revision revision = next_revision();
    KeyIndex& key_index = store_.key_index_for_write(key);
    KeyValue previous = store_.record_at(key_index.get(at)->modified).kv;
    const bool was_live = key_index.tombstone(revision);
    DENGINE_CHECK(was_live);
    // A stored tombstone keeps only its key (etcd); its revision is the record's position.
    store_.records_->put(revision, MvccRecord{tombstone_kv(key, 0), true});
    if (const LeaseId lease = leases_.lease_of(key); lease != kNoLease) {
      leases_.detach(lease, key);
    }
    changes_.push_back(Event{.type = EventType::kDelete,
                             .kv = tombstone_kv(key, revision.main),
                             .prev_kv = std::move(previous)});
  }
  const auto deleted = static_cast<int64_t>(live_keys.size());
  const int64_t response_revision =
      (deleted != 0 || !changes_.empty()) ? begin_revision_ + 1 : begin_revision_;
  return {deleted, response_revision};
}

std::vector<Event> WriteTxn::end() {
  DENGINE_CHECK(!ended_);
  ended_ = true;
  if (!changes_.empty()) store_.current_revision_ = begin_revision_ + 1;
  return std::move(changes_);
}

}  // namespace dengine::kv
