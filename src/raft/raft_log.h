#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "dengine/entry.h"
#include "dengine/types.h"

namespace dengine::raft {

// The core's view of the replicated log, held in memory (like etcd's MemoryStorage), with the
// cursors that order its journey to disk and to the state machine:
//
//   applied <= applying <= committed          (apply in order, only what is committed)
//   applying <= stable <= written <= last     (apply only what is locally durable)
//
// `written` entries were handed to the append worker; `stable` ones are known durable. Entries
// up to `snapshot_index` were compacted: a state machine image stands for them.
class RaftLog {
 public:
  RaftLog() = default;
  // `entries` are durable (recovered from storage) and follow the snapshot (or index 1).
  RaftLog(SnapshotMeta snapshot, std::vector<Entry> entries, Index committed, Index applied);
  // A log that was never compacted: entries start at index 1.
  RaftLog(std::vector<Entry> entries, Index committed, Index applied)
      : RaftLog(SnapshotMeta{}, std::move(entries), committed, applied) {}

  [[nodiscard]] Index snapshot_index() const { return snapshot_index_; }
  [[nodiscard]] Term snapshot_term() const { return snapshot_term_; }
  [[nodiscard]] Index first_index() const { return snapshot_index_ + 1; }
  [[nodiscard]] Index last_index() const { return snapshot_index_ + entries_.size(); }
  [[nodiscard]] Term last_term() const { return term_at(last_index()).value_or(0); }
  // Term of the entry at `index` (the snapshot's term at its index); nullopt if compacted or
  // past the end.
  [[nodiscard]] std::optional<Term> term_at(Index index) const;
  [[nodiscard]] bool matches(Index index, Term term) const { return term_at(index) == term; }
  [[nodiscard]] const Entry& at(Index index) const;

  // Raft §5.4.1: a log is more up-to-date if its last term is higher, or, with equal last
  // terms, if it is longer.
  [[nodiscard]] bool candidate_is_up_to_date(Index candidate_last_index,
                                             Term candidate_last_term) const;

  // The largest index <= `index` whose term is <= `term`: every entry after it either has a
  // higher term or does not exist, so the logs cannot match past it.
  [[nodiscard]] Index last_index_with_term_at_most(Index index, Term term) const;

  // Leader path. `entry.index` must be last_index() + 1; a leader never truncates.
  void append(Entry entry);

  // Follower path (Raft §5.3 step 3 and 4): entries follow a matching (prev_index, prev_term).
  // Existing entries that agree are kept; the first conflicting one and all after it are
  // replaced. Returns the index of the last entry of `entries` (or prev_index when empty).
  Index merge(Index prev_index, std::vector<Entry> entries);

  // Entries in [from, last_index()], at most max_bytes of data but at least one entry.
  [[nodiscard]] std::vector<Entry> slice(Index from, uint64_t max_bytes) const;

  [[nodiscard]] Index committed() const { return committed_; }
  void commit_to(Index index);

  [[nodiscard]] Index written() const { return written_; }
  [[nodiscard]] bool has_unwritten() const { return written_ < last_index(); }
  // Entries not yet handed to the append worker; marks them written.
  std::vector<Entry> take_unwritten();

  [[nodiscard]] Index stable() const { return stable_; }
  // A write that ended at (index, term) is durable. Ignored when the entry there has since
  // been replaced (the later write that replaced it will report its own durability).
  void stable_to(Index index, Term term);

  [[nodiscard]] Index applying() const { return applying_; }
  [[nodiscard]] Index applied() const { return applied_; }
  [[nodiscard]] bool has_entries_to_apply() const;
  // Committed, locally durable entries not yet handed to the apply worker (at most max_bytes,
  // at least one); marks them applying.
  std::vector<Entry> take_entries_to_apply(uint64_t max_bytes);
  void applied_to(Index index);

  // Drops entries up to `index`, which a durable state machine image covers.
  void compact(Index index);
  // Replaces the whole log by a leader's snapshot (Raft §7: "discard the entire log").
  void restore(const SnapshotMeta& snapshot);

 private:
  static uint64_t entry_bytes(const Entry& entry) { return entry.data.size() + 24; }

  const Entry& entry(Index index) const { return entries_[index - snapshot_index_ - 1]; }

  Index snapshot_index_ = 0;
  Term snapshot_term_ = 0;
  std::deque<Entry> entries_;  // entries_[i] has index snapshot_index_ + i + 1
  Index committed_ = 0;
  Index written_ = 0;
  Index stable_ = 0;
  Index applying_ = 0;
  Index applied_ = 0;
};

}  // namespace dengine::raft
