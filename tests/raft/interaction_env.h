#pragma once

// The world of a data-driven interaction test (tests/raft/testdata/*.txt, in the manner of
// etcd-io/raft's InteractionEnv): RaftNodes with in-memory durable storage, one inbox per
// node, links that can be cut, and a transcript. Nothing happens unless a command asks for it:
// Readies wait until processed, messages until delivered, writes (if held) until persisted, so
// a script can stop the world at any step of the Ready contract (raft/ready.h).
//
// Unlike TestNetwork (raft_test_util.h), which delivers everything at once, this environment
// delivers per recipient and can crash a node back to its durable state.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "raft/raft_config.h"
#include "raft/raft_message.h"
#include "raft/raft_node.h"
#include "raft/ready.h"

namespace dengine::raft::test {

struct NodeOptions {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  // Boot from a state machine image at this index (term 1) holding voters and learners, as
  // etcd's add-nodes index=N does; 0 boots with an empty log.
  Index image_index = 0;
  bool pre_vote = true;
  bool check_quorum = true;
  int election_timeout_ticks = 10;
  int heartbeat_interval_ticks = 1;
  uint64_t compaction_trailing_entries = 64;
  uint64_t max_append_bytes = 1ULL << 20;
};

class InteractionEnv {
 public:
  InteractionEnv() = default;

  // Every method below prints what it did into the transcript, and returns an error only when
  // the script itself is wrong (an unknown node, a core input the script should not give).
  Status add_nodes(size_t count, const NodeOptions& options);
  Status tick(NodeId id, int ticks);
  Status tick_election(NodeId id);
  Status tick_heartbeat(NodeId id);
  // Ticks a voter until it starts an election (or, for a sole voter, calls campaign()).
  Status campaign(NodeId id);
  Status propose(NodeId id, const std::string& data);
  Status propose_conf_change(NodeId id, const std::vector<ConfChange>& changes);
  Status transfer_leadership(NodeId from, NodeId to);
  Status read_index(NodeId id, uint64_t request_id);
  // The state machine of `id` made a durable image of everything it applied.
  Status snapshot(NodeId id);
  // Takes one Ready of `id`, prints it, queues its messages and applies its committed entries;
  // its write is made durable at once unless `persist` is false.
  Status process_ready(NodeId id, bool persist);
  // Makes every write `id` handed out durable, in order, and reports it.
  Status persist(NodeId id);
  // Delivers (or, with `drop`, discards) every message waiting in `id`'s inbox.
  Status deliver_messages(NodeId id, bool drop);
  // Processes Readies and delivers messages among `ids` (every node when empty) until they are
  // quiet.
  Status stabilize(std::vector<NodeId> ids);
  // A crash: writes not yet durable and the inbox are lost; the node boots from its storage.
  Status restart(NodeId id);
  Status cut(NodeId a, NodeId b);
  Status isolate(NodeId id);
  void heal();
  Status status(NodeId id);
  Status raft_log(NodeId id);
  // Quiet: only answers to questions (status, raft-log, refusals) are printed, so a script can
  // set up a cluster without a page of transcript (etcd's log-level none).
  void set_quiet(bool on) { quiet_ = on; }

  void print(const std::string& line) {
    if (!quiet_) print_always(line);
  }
  void print_always(const std::string& line) { transcript_.push_back(indent_ + line); }
  // The lines printed since the last call.
  std::vector<std::string> take_transcript();

 private:
  struct DurableState {
    HardState hard_state;
    SnapshotMeta image;  // the newest durable state machine image
    std::vector<Entry> entries;
    Index applied = 0;  // the state machine is durable with every apply
  };
  struct HeldWrite {
    uint64_t write_id = 0;
    std::optional<HardState> hard_state;
    std::vector<Entry> entries;
    std::optional<SnapshotMeta> snapshot;
  };
  struct Observed {
    Term term = 0;
    RaftRole role = RaftRole::kFollower;
    ConfState conf;
  };
  struct Node {
    RaftConfig config;
    std::unique_ptr<RaftNode> raft;
    DurableState durable;
    std::deque<HeldWrite> held_writes;
    std::deque<Message> inbox;
    Observed observed;
  };

  Result<Node*> find(NodeId id);
  Status boot(Node& node);
  // Prints the role, term and configuration changes of `node` since the last call.
  void narrate(Node& node);
  void make_durable(Node& node, HeldWrite write);
  [[nodiscard]] bool link_cut(NodeId from, NodeId to) const;

  std::map<NodeId, Node> nodes_;
  std::set<std::pair<NodeId, NodeId>> cut_links_;
  bool quiet_ = false;
  std::string indent_;
  std::vector<std::string> transcript_;
};

}  // namespace dengine::raft::test
