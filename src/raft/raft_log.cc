#include "raft/raft_log.h"

#include <algorithm>
#include <string>

#include "common/check.h"

namespace dengine::raft {

RaftLog::RaftLog(SnapshotMeta snapshot, std::vector<Entry> entries, Index committed, Index applied)
    : snapshot_index_(snapshot.index),
      snapshot_term_(snapshot.term),
      entries_(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end())) {
  for (Index i = 0; i < entries_.size(); ++i) {
    DENGINE_CHECK(entries_[i].index == snapshot_index_ + i + 1);
  }
  written_ = stable_ = last_index();
  // A persisted commit index may exceed what survived of the log only if storage lost
  // acknowledged entries; refuse to run on that.
  DENGINE_CHECK(committed <= last_index());
  DENGINE_CHECK(applied <= committed);
  DENGINE_CHECK(applied >= snapshot_index_);
  committed_ = std::max(committed, snapshot_index_);
  applying_ = applied_ = applied;
}

std::optional<Term> RaftLog::term_at(Index index) const {
  if (index == snapshot_index_) return snapshot_term_;
  if (index < snapshot_index_ || index > last_index()) return std::nullopt;
  return entry(index).term;
}

const Entry& RaftLog::at(Index index) const {
  DENGINE_CHECK(index >= first_index() && index <= last_index());
  return entry(index);
}

bool RaftLog::candidate_is_up_to_date(Index candidate_last_index, Term candidate_last_term) const {
  const Term our_last_term = last_term();
  if (candidate_last_term != our_last_term) return candidate_last_term > our_last_term;
  return candidate_last_index >= last_index();
}

Index RaftLog::last_index_with_term_at_most(Index index, Term term) const {
  index = std::min(index, last_index());
  while (index > snapshot_index_ && entry(index).term > term) --index;
  return index;
}

void RaftLog::append(Entry entry) {
  DENGINE_CHECK(entry.index == last_index() + 1);
  DENGINE_CHECK(entry.term >= last_term());
  entries_.push_back(std::move(entry));
}

Index RaftLog::merge(Index prev_index, std::vector<Entry> entries) {
  DENGINE_CHECK(prev_index <= last_index());
  DENGINE_CHECK(prev_index >= snapshot_index_);
  size_t first_new = 0;
  // Raft §5.3: "If an existing entry conflicts with a new one (same index but different
  // terms), delete the existing entry and all that follow it."
  while (first_new < entries.size()) {
    const Entry& incoming = entries[first_new];
    DENGINE_CHECK(incoming.index == prev_index + 1 + first_new);
    const std::optional<Term> existing = term_at(incoming.index);
    if (!existing) break;
    if (*existing != incoming.term) {
      // Log Matching + Leader Completeness: a committed entry is never overwritten.
      DENGINE_CHECK_MSG(incoming.index > committed_,
                        "conflict at committed index " + std::to_string(incoming.index));
      entries_.resize(incoming.index - 1 - snapshot_index_);
      written_ = std::min(written_, incoming.index - 1);
      stable_ = std::min(stable_, incoming.index - 1);
      break;
    }
    ++first_new;
  }
  for (size_t i = first_new; i < entries.size(); ++i) entries_.push_back(std::move(entries[i]));
  return prev_index + entries.size();
}

std::vector<Entry> RaftLog::slice(Index from, uint64_t max_bytes) const {
  DENGINE_CHECK(from >= first_index());
  std::vector<Entry> out;
  uint64_t bytes = 0;
  for (Index index = from; index <= last_index(); ++index) {
    const Entry& next = entry(index);
    bytes += entry_bytes(next);
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(next);
  }
  return out;
}

void RaftLog::commit_to(Index index) {
  if (index <= committed_) return;  // commit never decreases
  DENGINE_CHECK_MSG(index <= last_index(), "commit " + std::to_string(index) + " past last index " +
                                               std::to_string(last_index()));
  committed_ = index;
}

std::vector<Entry> RaftLog::take_unwritten() {
  const Index from = std::max(written_, snapshot_index_) - snapshot_index_;
  std::vector<Entry> out(entries_.begin() + static_cast<std::ptrdiff_t>(from), entries_.end());
  written_ = last_index();
  return out;
}

void RaftLog::stable_to(Index index, Term term) {
  if (index <= stable_ || !matches(index, term)) return;
  DENGINE_CHECK(index <= written_);
  stable_ = index;
}

bool RaftLog::has_entries_to_apply() const {
  return applying_ < std::min(committed_, stable_);
}

std::vector<Entry> RaftLog::take_entries_to_apply(uint64_t max_bytes) {
  const Index limit = std::min(committed_, stable_);
  std::vector<Entry> out;
  uint64_t bytes = 0;
  while (applying_ < limit) {
    const Entry& next = entry(applying_ + 1);
    bytes += entry_bytes(next);
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(next);
    ++applying_;
  }
  return out;
}

void RaftLog::applied_to(Index index) {
  DENGINE_CHECK(index <= applying_);
  if (index > applied_) applied_ = index;
}

void RaftLog::compact(Index index) {
  if (index <= snapshot_index_) return;
  // The image must already stand for these entries, locally durable and applied.
  DENGINE_CHECK(index <= applied_ && index <= stable_ && index <= last_index());
  const Term term = entry(index).term;
  entries_.erase(entries_.begin(),
                 entries_.begin() + static_cast<std::ptrdiff_t>(index - snapshot_index_));
  snapshot_index_ = index;
  snapshot_term_ = term;
}

void RaftLog::restore(const SnapshotMeta& snapshot) {
  // A snapshot never replaces what this node knows is committed (Raft §7: if it does not
  // extend the log, the entries after it are retained — handled by the caller).
  DENGINE_CHECK(snapshot.index > committed_);
  entries_.clear();
  snapshot_index_ = snapshot.index;
  snapshot_term_ = snapshot.term;
  committed_ = snapshot.index;
  // The image is handed to storage and, once durable, installed in the state machine; nothing
  // at or below its index is applied again.
  written_ = snapshot.index;
  stable_ = std::min(stable_, snapshot.index);
  applying_ = snapshot.index;
}

}  // namespace dengine::raft
