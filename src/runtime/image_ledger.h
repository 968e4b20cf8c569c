#pragma once

// The image and configuration ledger (core thread): the newest durable image of the state
// machine reported to the core, and the configuration in force after each applied batch that
// changed it. An image's metadata names the configuration it holds (SnapshotMeta::conf), and
// the apply worker only reports how far its image reaches, so the ledger remembers which
// configuration was in force where.

#include <memory>
#include <optional>
#include <vector>

#include "dengine/entry.h"
#include "raft/raft_log.h"
#include "raft/raft_node.h"

namespace dengine::runtime {

class ImageLedger {
 public:
  // Starts from what `core` booted with: the image its log starts after, its configuration.
  explicit ImageLedger(const raft::RaftNode& core);

  // The newest durable image reported to the core (what the log is compacted behind).
  [[nodiscard]] const SnapshotMeta& latest_image() const { return latest_image_; }
  // In force after the entries handed to the apply worker.
  [[nodiscard]] const ConfState& conf() const { return conf_; }
  // conf(), shared with the apply batches.
  [[nodiscard]] const std::shared_ptr<const ConfState>& shared_conf() const { return shared_conf_; }

  // `batch` goes to the apply worker; `core` acted on its configuration entries as it handed
  // them out.
  void record_batch(const std::vector<Entry>& batch, const raft::RaftNode& core);
  // The state machine holds a durable image of every entry up to `durable`: the image to
  // report to the core, when it is newer than the latest one and `log` still knows its term.
  std::optional<SnapshotMeta> take_newer_image(Index durable, const raft::RaftLog& log);
  // The log restarts after a leader's image: its configuration is in force from now on.
  void restart_at(const SnapshotMeta& image);

 private:
  // The configuration after an applied batch that changed it.
  struct ConfRecord {
    Index first_change;  // the batch's first configuration entry
    Index batch_last;    // the batch's last entry
    ConfState conf;      // in force after the batch
  };

  std::optional<SnapshotMeta> image_meta_at(Index durable, const raft::RaftLog& log);

  SnapshotMeta latest_image_;
  std::vector<ConfRecord> conf_history_;  // the batches after conf_base_, oldest first
  ConfState conf_base_;                   // in force at the last image, or at boot
  ConfState conf_;
  std::shared_ptr<const ConfState> shared_conf_;
};

}  // namespace dengine::runtime
