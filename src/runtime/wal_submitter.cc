#include "runtime/wal_submitter.h"

#include <utility>

namespace dengine::runtime {

std::optional<StorageWrite> WalSubmitter::take(Ready& ready) {
  const bool commit_only = ready.entries.empty() && !ready.snapshot && ready.hard_state &&
                           last_written_hard_state_ &&
                           ready.hard_state->term == last_written_hard_state_->term &&
                           ready.hard_state->vote == last_written_hard_state_->vote;
  if (commit_only && last_persisted_write_id_ == last_submitted_write_id_) {
    deferred_hard_state_ = ready.hard_state;
    last_submitted_write_id_ = ready.write_id;
    last_persisted_write_id_ = ready.write_id;
    return std::nullopt;
  }
  std::optional<HardState> hard_state = ready.hard_state ? ready.hard_state : deferred_hard_state_;
  deferred_hard_state_.reset();
  if (hard_state) last_written_hard_state_ = hard_state;
  last_submitted_write_id_ = ready.write_id;
  return StorageWrite{.write_id = ready.write_id,
                      .snapshot = std::move(ready.snapshot),
                      .entries = std::move(ready.entries),
                      .hard_state = hard_state};
}

std::optional<StorageWrite> WalSubmitter::take_final_write() {
  if (!deferred_hard_state_) return std::nullopt;
  // A write id of its own, after every id handed out so far (the core numbers its writes the
  // same way): the last one was the commit-only write, which counted as persisted already.
  StorageWrite write{.write_id = ++last_submitted_write_id_,
                     .snapshot = std::nullopt,
                     .entries = {},
                     .hard_state = deferred_hard_state_};
  deferred_hard_state_.reset();
  return write;
}

}  // namespace dengine::runtime
