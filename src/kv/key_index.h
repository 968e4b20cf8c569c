#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "kv/revision.h"

namespace dengine::kv {

// One life of a key: from the put that created it to the delete (tombstone) that ended it.
struct Generation {
  int64_t version = 0;              // puts in this generation so far, the tombstone included
  Revision created;                 // the first put
  std::vector<Revision> revisions;  // ascending; a finished generation ends with its tombstone

  friend bool operator==(const Generation&, const Generation&) = default;
};

// The revisions at which a key was written, grouped into generations: etcd's keyIndex
// (server/mvcc/key_index.go), whose rules decide create_revision, version, what a read at a
// past revision sees and what compaction keeps.
//
// The last generation is the current one; it is empty while the key is deleted.
class KeyIndex {
 public:
  struct Version {
    Revision modified;  // the put visible at the requested revision
    Revision created;
    int64_t version = 0;
  };

  KeyIndex() = default;
  // Rebuilds an index from its parts (snapshot restore). The caller validates them.
  KeyIndex(Revision modified, std::vector<Generation> generations)
      : modified_(modified), generations_(std::move(generations)) {}

  // Records a put at `revision`, which must be newer than every earlier write of the key.
  void put(Revision revision);
  // Records a put read back from storage (rebuilding the index): like put(), but when it opens
  // a generation, that generation takes `created_main` and `version` from the stored record,
  // because compaction may have dropped its earlier revisions.
  void restore_put(Revision revision, int64_t created_main, int64_t version);
  // Records a delete: the tombstone ends the current generation. False (and no change) when
  // the key is not live.
  bool tombstone(Revision revision);
  // The put visible at store revision `at` (the latest one at or before it, in a generation
  // not yet ended by then), or nothing when the key did not exist at `at`.
  [[nodiscard]] std::optional<Version> get(int64_t at) const;

  // Forgets what no read at revision >= `at` can see, following etcd's keyIndex.compact:
  // in the generation live at `at` keep the latest revision <= at and everything after it;
  // drop ended generations whose tombstone is <= at. Appends the revisions <= at that remain
  // (their records must be kept) to `kept`.
  void compact(int64_t at, std::vector<Revision>& kept);
  // Nothing left: the index may be removed.
  [[nodiscard]] bool empty() const {
    return generations_.empty() || (generations_.size() == 1 && generations_[0].revisions.empty());
  }

  [[nodiscard]] Revision modified() const { return modified_; }
  [[nodiscard]] const std::vector<Generation>& generations() const { return generations_; }

  friend bool operator==(const KeyIndex&, const KeyIndex&) = default;

 private:
  const Generation* generation_at(int64_t at) const;

  Revision modified_;  // the last write, tombstones included
  std::vector<Generation> generations_;
};

}  // namespace dengine::kv
