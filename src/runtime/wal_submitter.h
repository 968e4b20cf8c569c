#pragma once

// Ready contract step 1 on the core thread: what of each Ready's write goes to the WAL worker.
// A write that only moves the commit index needs no disk of its own (ready.h: a commit index
// lost in a crash is learned again from the log and the applied index). When no earlier write
// is still in flight, so that writes still complete in order, it counts as persisted at once,
// and its hard state rides with the next write. Every commit would otherwise send the WAL
// thread a round trip of its own, just when the apply thread needs the CPU.

#include <cstdint>
#include <optional>

#include "dengine/entry.h"
#include "raft/ready.h"
#include "runtime/wal_worker.h"

namespace dengine::runtime {

class WalSubmitter {
 public:
  // The write to hand to the WAL worker for `ready`'s storage work (its entries and image are
  // moved out), or none when it counts as persisted at once: the caller then reports
  // ready.write_id persisted to the core, after the rest of the Ready.
  std::optional<StorageWrite> take(Ready& ready);
  // The WAL worker made `write_id` (and every earlier write) durable.
  void on_persisted(uint64_t write_id) { last_persisted_write_id_ = write_id; }
  // At a clean stop: the commit index still riding with a next write that will never come,
  // as a write of its own. Not needed for safety, but a clean stop leaves the newest commit.
  std::optional<StorageWrite> take_final_write();

 private:
  uint64_t last_submitted_write_id_ = 0;
  uint64_t last_persisted_write_id_ = 0;
  std::optional<HardState> last_written_hard_state_;  // the newest given to the WAL worker
  std::optional<HardState> deferred_hard_state_;      // commit-only, written with the next write
};

}  // namespace dengine::runtime
