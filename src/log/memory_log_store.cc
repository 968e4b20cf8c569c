#include "log/memory_log_store.h"

#include <memory>

#include "log/append_checks.h"

namespace dengine::log {

Status MemoryLogStore::append(std::span<const Entry> entries,
                              const std::optional<HardState>& hard_state) {
  std::lock_guard lock(mu_);
  if (Status st = check_append("memory log", first_index_, last_index_locked(), hard_state_.commit,
                               entries, hard_state);
      !st) {
    return st;
  }
  if (!entries.empty()) {
    entries_.resize(entries.front().index - first_index_);
    entries_.insert(entries_.end(), entries.begin(), entries.end());
  }
  if (hard_state) hard_state_ = *hard_state;
  return Status::ok();
}

Result<std::vector<Entry>> MemoryLogStore::entries(Index lo, Index hi, uint64_t max_bytes) const {
  std::lock_guard lock(mu_);
  if (lo < first_index_) {
    return Status::not_found("memory log: entry " + std::to_string(lo) +
                             " was compacted (first index " + std::to_string(first_index_) + ")");
  }
  if (lo > hi || hi > last_index_locked() + 1) {
    return Status::invalid_argument("memory log: entries [" + std::to_string(lo) + ", " +
                                    std::to_string(hi) + ") are not in the log (last index " +
                                    std::to_string(last_index_locked()) + ")");
  }
  std::vector<Entry> out;
  uint64_t bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& entry = entries_[i - first_index_];
    if (!out.empty() && bytes + entry.data.size() > max_bytes) break;
    bytes += entry.data.size();
    out.push_back(entry);
  }
  return out;
}

Result<Term> MemoryLogStore::term(Index index) const {
  std::lock_guard lock(mu_);
  if (index + 1 < first_index_) {
    return Status::not_found("memory log: entry " + std::to_string(index) +
                             " was compacted (first index " + std::to_string(first_index_) + ")");
  }
  if (index > last_index_locked()) {
    return Status::invalid_argument("memory log: no entry " + std::to_string(index) +
                                    " (last index " + std::to_string(last_index_locked()) + ")");
  }
  if (index + 1 == first_index_) return prev_term_;
  return entries_[index - first_index_].term;
}

Index MemoryLogStore::first_index() const {
  std::lock_guard lock(mu_);
  return first_index_;
}

Index MemoryLogStore::last_index() const {
  std::lock_guard lock(mu_);
  return last_index_locked();
}

HardState MemoryLogStore::hard_state() const {
  std::lock_guard lock(mu_);
  return hard_state_;
}

Status MemoryLogStore::compact(Index up_to_index) {
  std::lock_guard lock(mu_);
  while (!entries_.empty() && first_index_ <= up_to_index) {
    prev_term_ = entries_.front().term;
    entries_.pop_front();
    ++first_index_;
  }
  return Status::ok();
}

Status MemoryLogStore::reset(Index snapshot_index, Term snapshot_term) {
  std::lock_guard lock(mu_);
  if (Status st = check_reset("memory log", hard_state_.commit, snapshot_index, snapshot_term); !st)
    return st;
  entries_.clear();
  first_index_ = snapshot_index + 1;
  prev_term_ = snapshot_term;
  return Status::ok();
}

}  // namespace dengine::log

namespace dengine {

std::unique_ptr<LogStore> make_memory_log_store() {
  return std::make_unique<log::MemoryLogStore>();
}

}  // namespace dengine
