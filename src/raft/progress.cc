#include "raft/progress.h"

#include <algorithm>

#include "common/check.h"

namespace dengine::raft {

void Inflights::add(Index last_index, uint64_t bytes) {
  DENGINE_CHECK(window_.empty() || window_.back().last_index < last_index);
  window_.push_back({last_index, bytes});
  bytes_ += bytes;
}

void Inflights::free_up_to(Index index) {
  while (!window_.empty() && window_.front().last_index <= index) {
    bytes_ -= window_.front().bytes;
    window_.pop_front();
  }
}

void Inflights::reset() {
  window_.clear();
  bytes_ = 0;
}

void Progress::become_probe(Index next_hint) {
  state_ = State::kProbe;
  next_ = std::max(match_ + 1, std::min(next_, next_hint));
  probe_sent_ = false;
  inflights_.reset();
}

void Progress::become_replicate() {
  state_ = State::kReplicate;
  next_ = match_ + 1;
  probe_sent_ = false;
  inflights_.reset();
}

void Progress::become_snapshot(Index snapshot_index) {
  state_ = State::kSnapshot;
  pending_snapshot_ = snapshot_index;
  next_ = snapshot_index + 1;
  probe_sent_ = false;
  heartbeats_during_snapshot_ = 0;
  inflights_.reset();
}

bool Progress::maybe_update(Index index) {
  const bool advanced = index > match_;
  if (advanced) {
    match_ = index;
    probe_sent_ = false;
    acknowledged_ = true;
  }
  next_ = std::max(next_, index + 1);
  inflights_.free_up_to(index);
  return advanced;
}

void Progress::sent_entries(Index last_index, uint64_t bytes) {
  if (state_ == State::kReplicate) {
    // Optimistic: assume delivery and keep streaming; a rejection falls back to probing.
    next_ = last_index + 1;
    inflights_.add(last_index, bytes);
  } else {
    probe_sent_ = true;
  }
}

bool Progress::maybe_decrease_next(Index rejected_index, Index hint_index) {
  if (state_ == State::kSnapshot) return false;  // only the snapshot's answer counts now
  if (state_ == State::kReplicate) {
    // Everything up to match is known to be in place, so this answers an older message.
    if (rejected_index <= match_) return false;
    next_ = match_ + 1;
    return true;
  }
  // In probe, only the answer to the outstanding probe (sent at next - 1) counts.
  if (next_ - 1 != rejected_index) return false;
  next_ = std::max(std::min(rejected_index, hint_index + 1), match_ + 1);
  probe_sent_ = false;
  return true;
}

bool Progress::is_paused() const {
  switch (state_) {
    case State::kProbe: return probe_sent_;
    case State::kReplicate: return inflights_.full();
    case State::kSnapshot: return true;
  }
  return true;
}

}  // namespace dengine::raft
