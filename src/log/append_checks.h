#pragma once

// The argument checks of LogStore::append, shared by every store so they refuse the same
// things with the same words.

#include <optional>
#include <span>
#include <string_view>

#include "dengine/entry.h"
#include "dengine/status.h"

namespace dengine::log {

// kInvalidArgument unless `entries` are contiguous and start in [first_index, last_index + 1],
// they discard no entry the stored hard state commits, and `hard_state` commits no index past
// the new last one. `who` starts the message ("wal", "memory log").
Status check_append(std::string_view who, Index first_index, Index last_index, Index stored_commit,
                    std::span<const Entry> entries, const std::optional<HardState>& hard_state);

// kInvalidArgument when discarding every entry for a snapshot at `snapshot_index` would drop
// an entry the stored hard state commits, or for a snapshot at index 0 with a nonzero term.
Status check_reset(std::string_view who, Index stored_commit, Index snapshot_index,
                   Term snapshot_term);

}  // namespace dengine::log
