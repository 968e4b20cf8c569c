#pragma once

// The watch hub (etcd's watchableStore): hands each applied revision's events to the watches
// whose keys they touch. Runs on the apply worker's thread, between applies, so a watch sees
// exactly the state machine's sequence of revisions.
//
// A watch is either synced (it has every revision up to the store's, and takes live events) or
// catching up (it reads the store's history from its next revision, a chunk at a time, until it
// reaches the store's revision). A watch whose buffer is full when a revision arrives drops
// back to catching up from that revision: a slow consumer costs the apply worker nothing.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dengine/state_machine.h"
#include "dengine/watch.h"
#include "kv/key_span.h"
#include "kv_client/watch_channel.h"

namespace dengine::runtime {

// A watch's buffer and its link back to the hub are dengine_kv_client's (the remote client
// fills the same channels from a stream).
using kv_client::WatchChannelImpl;
using kv_client::WatchHubLink;
using kv_client::WatchNotice;

struct WatchSpec {
  std::string key;
  std::string range_end;  // etcd's conventions (kv/key_span.h)
  WatchOptions options;
};

class WatchHub {
 public:
  // Revisions read from history per catch-up step (bounds one step's time on the apply thread).
  static constexpr int64_t kCatchUpRevisions = 256;

  // `post` runs work on the apply worker's thread, which is the only one to change `state`.
  WatchHub(const StateMachine& state, UniqueFunction<void(UniqueFunction<void()>)> post);
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Any thread: a new watch. It is registered on the hub's thread; once the hub stopped it
  // ends at once with `why` of stop().
  std::shared_ptr<detail::WatchChannel> open(WatchSpec spec);
  // Any thread: a channel's consumer made room, cancelled, or asks for progress.
  void notify(uint64_t id, WatchNotice notice);

  // ---- the apply worker's thread ----
  // The events of one applied revision (moved from; none: nothing to deliver).
  void publish(int64_t revision, std::vector<Event>& events);
  // Registers new watches, handles notices, and moves watches that are behind forward from
  // history, a chunk each.
  void run_pending();
  // The state machine was replaced by a leader's image whose revision is past
  // `previous_revision`: the revisions in between come from the image's history (or end the
  // watch as compacted), never as live events.
  void on_state_replaced(int64_t previous_revision);

  // Any thread, once the apply worker's thread has stopped: ends every watch with `why` and
  // every later one at once.
  void stop(const Status& why);
  [[nodiscard]] size_t watch_count() const;

 private:
  struct Watcher {
    std::shared_ptr<WatchChannelImpl> channel;
    WatchSpec spec;
    kv::KeySpan span;
    int64_t next_revision = 0;  // catching up: the first revision not yet delivered
    int64_t min_revision = 0;   // events below this are not wanted (a start in the future)
    bool synced = false;
  };
  struct Pending {
    std::vector<std::pair<WatchSpec, std::shared_ptr<WatchChannelImpl>>> opened;
    std::vector<std::pair<uint64_t, WatchNotice>> notices;
  };

  void schedule_locked();
  void add(WatchSpec spec, std::shared_ptr<WatchChannelImpl> channel);
  void remove(uint64_t id);
  void make_synced(uint64_t id, Watcher& watcher);
  void make_catching_up(uint64_t id, Watcher& watcher, int64_t next_revision);
  void unlink_synced(uint64_t id, const Watcher& watcher);
  // One chunk of history for one watcher; false when it is done for now (synced, or its
  // buffer is full) or gone (ended and removed).
  bool catch_up_step(uint64_t id, Watcher& watcher);
  void end_and_remove(uint64_t id, Watcher& watcher, Status why, int64_t compact_revision = 0);
  // The watcher's view of `events` (filters, prev_kv, start), appended to `out`.
  static void select(const Watcher& watcher, const std::vector<Event>& events,
                     std::vector<Event>& out);

  const StateMachine& state_;
  UniqueFunction<void(UniqueFunction<void()>)> post_;
  std::shared_ptr<WatchHubLink> link_;

  mutable std::mutex mutex_;
  Pending pending_;
  bool scheduled_ = false;
  std::optional<Status> stopped_;
  uint64_t next_id_ = 1;

  // The apply worker's thread only (and stop(), once it has stopped).
  std::map<uint64_t, Watcher> watches_;
  // Synced watches by what they watch: single keys by key, every other span in one list.
  std::unordered_map<std::string, std::vector<uint64_t>> synced_keys_;
  std::vector<uint64_t> synced_spans_;
  std::vector<uint64_t> catching_up_;
};

}  // namespace dengine::runtime
