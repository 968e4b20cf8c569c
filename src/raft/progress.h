#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>

#include "dengine/types.h"

namespace dengine::raft {

// The leader's window of unacknowledged kAppend messages to one follower, bounded both in
// messages and in bytes, so a slow follower cannot make the leader buffer without limit.
class Inflights {
 public:
  Inflights(size_t max_messages, uint64_t max_bytes)
      : max_messages_(max_messages), max_bytes_(max_bytes) {}

  void add(Index last_index, uint64_t bytes);
  // The follower acknowledged everything up to `index`.
  void free_up_to(Index index);
  void reset();
  [[nodiscard]] bool full() const {
    return window_.size() >= max_messages_ || (bytes_ >= max_bytes_ && !window_.empty());
  }
  [[nodiscard]] size_t count() const { return window_.size(); }
  [[nodiscard]] uint64_t bytes() const { return bytes_; }

 private:
  struct Sent {
    Index last_index;
    uint64_t bytes;
  };
  size_t max_messages_;
  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
  std::deque<Sent> window_;
};

// The leader's knowledge of one follower's log (Raft Figure 2's nextIndex and matchIndex),
// with the flow-control state of etcd-raft:
//  - probe: we do not know where the logs diverge; one kAppend at a time, waiting for its
//    answer (or the next heartbeat response) before sending another;
//  - replicate: the follower is in sync; stream kAppends optimistically within the window.
class Progress {
 public:
  enum class State : uint8_t { kProbe, kReplicate, kSnapshot };

  Progress(Index next, size_t max_inflight_messages, uint64_t max_inflight_bytes)
      : next_(next), inflights_(max_inflight_messages, max_inflight_bytes) {}

  [[nodiscard]] Index match() const { return match_; }
  [[nodiscard]] Index next() const { return next_; }
  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] bool recent_active() const { return recent_active_; }
  void set_recent_active(bool active) { recent_active_ = active; }
  // A response from the follower arrived.
  void on_answer() {
    recent_active_ = true;
    answered_ = true;
  }
  // The follower answered since this progress began (this leader's term, or since the follower
  // joined). Unlike recent_active(), which starts true to give a new leader's followers a full
  // check-quorum round, this is never presumed: a reconfiguration check must not count a voter
  // that is down as answering just because the election was recent.
  [[nodiscard]] bool answered() const { return answered_; }
  // Check-quorum's round ends: what it saw of this follower is kept for one more round, so
  // that "heard from lately" does not read false just after every reset.
  void end_activity_round() {
    active_last_round_ = recent_active_;
    recent_active_ = false;
  }
  // Heard from in this check-quorum round or the one before: within two election timeouts.
  [[nodiscard]] bool heard_lately() const { return recent_active_ || active_last_round_; }
  [[nodiscard]] const Inflights& inflights() const { return inflights_; }

  // Probe from `next_hint` (clamped to just past match): where the follower's log may end.
  void become_probe(Index next_hint = 0);
  void become_replicate();
  // The follower needs entries we compacted: it gets the image at `snapshot_index` instead, and
  // nothing else until it answers (or the send is reported failed).
  void become_snapshot(Index snapshot_index);
  [[nodiscard]] Index pending_snapshot() const { return pending_snapshot_; }
  // The highest commit index the follower has reported knowing.
  [[nodiscard]] Index commit_known() const { return commit_known_; }
  void note_commit_known(Index commit) { commit_known_ = std::max(commit_known_, commit); }
  // Heartbeat answers that found the snapshot still not installed; the leader resends after
  // an election timeout's worth (the image or its answer may have been lost).
  int note_heartbeat_during_snapshot() { return ++heartbeats_during_snapshot_; }

  // The follower acknowledged up to `index`. Returns whether match advanced.
  bool maybe_update(Index index);
  // A kAppend covering up to `last_index` was just sent.
  void sent_entries(Index last_index, uint64_t bytes);
  // A probe was sent; wait for its answer before the next one.
  void sent_probe() { probe_sent_ = true; }
  // A heartbeat answer proves the follower is reachable: allow another probe.
  void resume_probe() { probe_sent_ = false; }
  // Whether match advanced since the last heartbeat was sent (acknowledgements are flowing).
  [[nodiscard]] bool acknowledged_since_heartbeat() const { return acknowledged_; }
  void sent_heartbeat() { acknowledged_ = false; }
  // The follower rejected the kAppend at `rejected_index`; `hint_index` is the highest index
  // that may still match. Returns false for a stale rejection (an answer to an older probe).
  bool maybe_decrease_next(Index rejected_index, Index hint_index);

  [[nodiscard]] bool is_paused() const;

 private:
  Index match_ = 0;
  Index next_;
  State state_ = State::kProbe;
  bool probe_sent_ = false;
  bool recent_active_ = false;
  bool answered_ = false;
  bool active_last_round_ = false;
  bool acknowledged_ = false;
  Index pending_snapshot_ = 0;
  Index commit_known_ = 0;
  int heartbeats_during_snapshot_ = 0;
  Inflights inflights_;
};

}  // namespace dengine::raft
