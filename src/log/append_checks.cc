#include "log/append_checks.h"

#include <string>

namespace dengine::log {

Status check_append(std::string_view who, Index first_index, Index last_index, Index stored_commit,
                    std::span<const Entry> entries, const std::optional<HardState>& hard_state) {
  auto refuse = [&](const std::string& why) {
    return Status::invalid_argument(std::string(who) + ": " + why);
  };
  Index new_last = last_index;
  if (!entries.empty()) {
    const Index first = entries.front().index;
    for (size_t i = 1; i < entries.size(); ++i) {
      if (entries[i].index != first + i) {
        return refuse("entries are not contiguous: index " + std::to_string(entries[i].index) +
                      " follows " + std::to_string(entries[i - 1].index));
      }
    }
    if (first < first_index) {
      return refuse("cannot write entry " + std::to_string(first) + ": entries before " +
                    std::to_string(first_index) + " were compacted");
    }
    if (first > last_index + 1) {
      return refuse("entry " + std::to_string(first) + " would leave a gap after the last index " +
                    std::to_string(last_index));
    }
    // Discarding a committed entry would leave a hard state that commits a missing entry, in
    // the store and, after a crash part way through the append, on disk.
    if (first <= last_index && stored_commit >= first) {
      return refuse("cannot discard entries from index " + std::to_string(first) +
                    ": the hard state commits index " + std::to_string(stored_commit));
    }
    new_last = entries.back().index;
  }
  if (hard_state && hard_state->commit > new_last) {
    return refuse("the hard state commits index " + std::to_string(hard_state->commit) +
                  " past the last index " + std::to_string(new_last));
  }
  return Status::ok();
}

Status check_reset(std::string_view who, Index stored_commit, Index snapshot_index,
                   Term snapshot_term) {
  if (snapshot_index == 0 && snapshot_term != 0) {
    return Status::invalid_argument(std::string(who) + ": a snapshot at index 0 has term 0, not " +
                                    std::to_string(snapshot_term));
  }
  if (stored_commit <= snapshot_index) return Status::ok();
  return Status::invalid_argument(std::string(who) + ": cannot reset the log to a snapshot at " +
                                  std::to_string(snapshot_index) +
                                  ": the hard state commits index " +
                                  std::to_string(stored_commit));
}

}  // namespace dengine::log
