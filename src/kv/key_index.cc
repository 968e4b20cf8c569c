#include "kv/key_index.h"

#include "common/check.h"

namespace dengine::kv {

void KeyIndex::put(Revision revision) {
  // Revisions only grow: a smaller one means the store applied writes out of order.
  DENGINE_CHECK(generations_.empty() || revision > modified_);
  if (generations_.empty()) generations_.emplace_back();
  Generation& current = generations_.back();
  if (current.revisions.empty()) current.created = revision;  // (re)creation of the key
  current.revisions.push_back(revision);
  ++current.version;
  modified_ = revision;
}

void KeyIndex::restore_put(Revision revision, int64_t created_main, int64_t version) {
  const bool opens_generation = generations_.empty() || generations_.back().revisions.empty();
  put(revision);
  if (!opens_generation) return;
  Generation& current = generations_.back();
  // The create record itself, when it survived, gives the exact sub-revision.
  current.created = created_main == revision.main ? revision : Revision{created_main, 0};
  current.version = version;
}

bool KeyIndex::tombstone(Revision revision) {
  if (generations_.empty() || generations_.back().revisions.empty()) return false;
  put(revision);
  generations_.emplace_back();  // the key's next put starts a new life at version 1
  return true;
}

const Generation* KeyIndex::generation_at(int64_t at) const {
  const size_t last = generations_.size() - 1;
  for (size_t i = generations_.size(); i-- > 0;) {
    const Generation& g = generations_[i];
    if (g.revisions.empty()) continue;
    // An ended generation whose tombstone is at or before `at`: the key was deleted then.
    if (i != last && g.revisions.back().main <= at) return nullptr;
    if (g.revisions.front().main <= at) return &g;
  }
  return nullptr;
}

std::optional<KeyIndex::Version> KeyIndex::get(int64_t at) const {
  if (empty()) return std::nullopt;
  const Generation* g = generation_at(at);
  if (g == nullptr) return std::nullopt;
  const auto& revs = g->revisions;
  for (size_t n = revs.size(); n-- > 0;) {
    if (revs[n].main <= at) {
      // The generation's version counts every put; those after n were not there yet at `at`.
      const auto later_puts = static_cast<int64_t>(revs.size() - n - 1);
      return Version{revs[n], g->created, g->version - later_puts};
    }
  }
  return std::nullopt;
}

void KeyIndex::compact(int64_t at, std::vector<Revision>& kept) {
  if (empty()) return;
  // The first generation not ended by `at` (or the current one): older ones are all history.
  size_t first = 0;
  while (first + 1 < generations_.size() && generations_[first].revisions.back().main <= at) {
    ++first;
  }
  Generation& g = generations_[first];
  if (!g.revisions.empty()) {
    // The latest revision <= at stays visible at `at`; older ones nobody can read any more.
    size_t keep_from = g.revisions.size();
    for (size_t n = g.revisions.size(); n-- > 0;) {
      if (g.revisions[n].main <= at) {
        keep_from = n;
        kept.push_back(g.revisions[n]);
        break;
      }
    }
    if (keep_from < g.revisions.size()) {
      g.revisions.erase(g.revisions.begin(), g.revisions.begin() + static_cast<long>(keep_from));
    }
    // Only a tombstone left in an ended generation: the key was deleted; drop that life too.
    if (g.revisions.size() == 1 && first + 1 != generations_.size()) {
      if (!kept.empty() && kept.back() == g.revisions.front()) kept.pop_back();
      ++first;
    }
  }
  generations_.erase(generations_.begin(), generations_.begin() + static_cast<long>(first));
}

}  // namespace dengine::kv
