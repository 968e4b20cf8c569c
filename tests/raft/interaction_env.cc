#include "tests/raft/interaction_env.h"

#include <algorithm>

#include "tests/raft/interaction_printer.h"
#include "tests/raft/raft_test_util.h"

namespace dengine::raft::test {

namespace {

// Bounds that turn a livelock into a script error instead of a hung test.
constexpr int kMaxStabilizeRounds = 1000;
constexpr int kMaxCampaignTicks = 1000;

// Indents the transcript for the lifetime of the guard.
class Indent {
 public:
  explicit Indent(std::string& indent) : indent_(indent), saved_(indent) { indent_ += "  "; }
  ~Indent() { indent_ = saved_; }
  Indent(const Indent&) = delete;
  Indent& operator=(const Indent&) = delete;

 private:
  std::string& indent_;
  std::string saved_;
};

std::string node_name(NodeId id) {
  return std::to_string(id);
}

}  // namespace

std::vector<std::string> InteractionEnv::take_transcript() {
  std::vector<std::string> lines = std::move(transcript_);
  transcript_.clear();
  return lines;
}

Result<InteractionEnv::Node*> InteractionEnv::find(NodeId id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return Status::not_found("no node " + node_name(id));
  return &it->second;
}

Status InteractionEnv::add_nodes(size_t count, const NodeOptions& options) {
  const NodeId first = nodes_.empty() ? 1 : nodes_.rbegin()->first + 1;
  std::vector<NodeId> voters = options.voters;
  if (voters.empty()) {
    for (NodeId id = first; id < first + count; ++id) voters.push_back(id);
  }
  if (!options.learners.empty() && options.image_index == 0) {
    return Status::invalid_argument("learners= needs index=: only an image can hold learners");
  }
  for (NodeId id = first; id < first + count; ++id) {
    ConfigBuilder builder(id, voters);
    builder.pre_vote(options.pre_vote)
        .check_quorum(options.check_quorum)
        .election_timeout_ticks(options.election_timeout_ticks)
        .heartbeat_interval_ticks(options.heartbeat_interval_ticks)
        .compaction_trailing_entries(options.compaction_trailing_entries)
        .max_append_bytes(options.max_append_bytes);
    Node& node = nodes_[id];
    node.config = builder.build();
    if (options.image_index > 0) {
      node.durable.image = SnapshotMeta{
          .index = options.image_index,
          .term = 1,
          .conf = ConfState{.voters = voters, .voters_outgoing = {}, .learners = options.learners}};
      node.durable.hard_state =
          HardState{.term = 1, .vote = kNoNode, .commit = options.image_index};
      node.durable.applied = options.image_index;
    }
    if (Status booted = boot(node); !booted) return booted;
  }
  return Status::ok();
}

Status InteractionEnv::boot(Node& node) {
  RaftBootState boot;
  boot.hard_state = node.durable.hard_state;
  boot.snapshot = node.durable.image;
  for (const Entry& entry : node.durable.entries) {
    if (entry.index > boot.snapshot.index) boot.entries.push_back(entry);
  }
  boot.applied = node.durable.applied;
  Result<std::unique_ptr<RaftNode>> raft = RaftNode::create(node.config, std::move(boot));
  if (!raft) return raft.status();
  node.raft = std::move(raft).value();
  const RaftNode& r = *node.raft;
  node.observed = Observed{.term = r.term(), .role = r.role(), .conf = r.conf_state()};
  print(node_name(r.id()) + " boots at term " + std::to_string(r.term()) + " with " +
        describe_conf(r.conf_state()) + ", last index " + std::to_string(r.log().last_index()) +
        ", commit " + std::to_string(r.log().committed()) + ", applied " +
        std::to_string(r.log().applied()));
  return Status::ok();
}

void InteractionEnv::narrate(Node& node) {
  const RaftNode& r = *node.raft;
  if (r.role() != node.observed.role || r.term() != node.observed.term) {
    print(node_name(r.id()) + " became " + describe_role(r.role()) + " at term " +
          std::to_string(r.term()));
    node.observed.role = r.role();
    node.observed.term = r.term();
  }
  if (r.conf_state() != node.observed.conf) {
    node.observed.conf = r.conf_state();
    print(node_name(r.id()) + " switched to configuration " + describe_conf(node.observed.conf));
  }
}

Status InteractionEnv::tick(NodeId id, int ticks) {
  Result<Node*> node = find(id);
  if (!node) return node.status();
  for (int i = 0; i < ticks; ++i) {
    (*node)->raft->tick();
    narrate(**node);
  }
  return Status::ok();
}

Status InteractionEnv::tick_election(NodeId id) {
  Result<Node*> node = find(id);
  if (!node) return node.status();
  return tick(id, (*node)->config.election_timeout_ticks);
}

Status InteractionEnv::tick_heartbeat(NodeId id) {
  Result<Node*> node = find(id);
  if (!node) return node.status();
  return tick(id, (*node)->config.heartbeat_interval_ticks);
}

Status InteractionEnv::campaign(NodeId id) {
  Result<Node*> found = find(id);
  if (!found) return found.status();
  Node& node = **found;
  const std::vector<NodeId> voters = node.raft->membership().voters.all_voters();
  if (voters.size() == 1 && voters.front() == id) {
    // The sole voter may start at once; every other node waits out its election timeout.
    Status started = node.raft->campaign();
    narrate(node);
    return started;
  }
  for (int i = 0; i < kMaxCampaignTicks; ++i) {
    if (node.raft->role() != RaftRole::kFollower) return Status::ok();
    node.raft->tick();
    narrate(node);
  }
  return Status::failed_precondition("node " + node_name(id) + " never started an election");
}

namespace {
void print_outcome(InteractionEnv& env, const Status& status) {
  if (!status) env.print_always("error: " + std::string(status_code_name(status.code())));
}
}  // namespace

Status InteractionEnv::propose(NodeId id, const std::string& data) {
  Result<Node*> node = find(id);
  if (!node) return node.status();
  Result<Index> index = (*node)->raft->propose(data);
  if (index) {
    print("index " + std::to_string(*index));
  } else {
    print_outcome(*this, index.status());
  }
  return Status::ok();
}

Status InteractionEnv::propose_conf_change(NodeId id, const std::vector<ConfChange>& changes) {
  Result<Node*> node = find(id);
  if (!node) return node.status();
  Result<Index> index = (*node)->raft->propose_conf_change(changes);
  if (index) {
    print("index " + std::to_string(*index));
  } else {
    print_outcome(*this, index.status());
  }
  return Status::ok();
}

Status InteractionEnv::transfer_leadership(NodeId from, NodeId to) {
  Result<Node*> node = find(from);
  if (!node) return node.status();
  print_outcome(*this, (*node)->raft->transfer_leadership(to));
  narrate(**node);
  return Status::ok();
}

Status InteractionEnv::read_index(NodeId id, uint64_t request_id) {
  Result<Node*> node = find(id);
  if (!node) return node.status();
  print_outcome(*this, (*node)->raft->read_index(request_id));
  return Status::ok();
}

Status InteractionEnv::snapshot(NodeId id) {
  Result<Node*> found = find(id);
  if (!found) return found.status();
  Node& node = **found;
  const RaftLog& log = node.raft->log();
  const Index applied = log.applied();
  if (applied == 0)
    return Status::failed_precondition("node " + node_name(id) + " applied nothing");
  const SnapshotMeta image{
      .index = applied, .term = log.term_at(applied).value_or(0), .conf = node.raft->conf_state()};
  node.durable.image = image;
  node.raft->on_snapshot_ready(image);
  print(node_name(id) + " holds a durable image " + describe_snapshot(image));
  return Status::ok();
}

void InteractionEnv::make_durable(Node& node, HeldWrite write) {
  DurableState& durable = node.durable;
  if (write.snapshot) {
    // Raft §7: the leader's image replaces the whole log.
    durable.entries.clear();
    durable.image = *write.snapshot;
  }
  if (!write.entries.empty()) {
    const Index first = write.entries.front().index;
    std::erase_if(durable.entries, [first](const Entry& entry) { return entry.index >= first; });
    for (Entry& entry : write.entries) durable.entries.push_back(std::move(entry));
  }
  if (write.hard_state) durable.hard_state = *write.hard_state;
  // Ready contract: the image is installed once the write carrying it is durable.
  if (write.snapshot) {
    durable.applied = write.snapshot->index;
    node.raft->on_applied(durable.applied);
  }
  node.raft->on_persisted(write.write_id);
  narrate(node);
}

Status InteractionEnv::persist(NodeId id) {
  Result<Node*> found = find(id);
  if (!found) return found.status();
  Node& node = **found;
  if (node.held_writes.empty()) {
    print(node_name(id) + " has no write to persist");
    return Status::ok();
  }
  while (!node.held_writes.empty()) {
    HeldWrite write = std::move(node.held_writes.front());
    node.held_writes.pop_front();
    print(node_name(id) + " persisted write " + std::to_string(write.write_id));
    make_durable(node, std::move(write));
  }
  return Status::ok();
}

Status InteractionEnv::process_ready(NodeId id, bool persist_now) {
  Result<Node*> found = find(id);
  if (!found) return found.status();
  Node& node = **found;
  if (!node.raft->has_ready()) {
    print("> " + node_name(id) + " has no Ready");
    return Status::ok();
  }
  print("> " + node_name(id) + " handling Ready");
  Indent indent(indent_);
  Ready ready = node.raft->take_ready();
  for (const std::string& line : describe_ready(ready)) print(line);
  narrate(node);  // the configuration changes as committed entries go to the apply worker
  if (ready.compact_to != 0) {
    std::erase_if(node.durable.entries,
                  [&ready](const Entry& entry) { return entry.index <= ready.compact_to; });
  }
  if (ready.has_storage_work()) {
    node.held_writes.push_back(HeldWrite{.write_id = ready.write_id,
                                         .hard_state = ready.hard_state,
                                         .entries = ready.entries,
                                         .snapshot = ready.snapshot});
    if (persist_now) {
      while (!node.held_writes.empty()) {
        HeldWrite write = std::move(node.held_writes.front());
        node.held_writes.pop_front();
        make_durable(node, std::move(write));
      }
    } else {
      print("write " + std::to_string(ready.write_id) + " held until persisted");
    }
  }
  for (Message& message : ready.messages) {
    auto recipient = nodes_.find(message.to);
    if (recipient != nodes_.end()) recipient->second.inbox.push_back(std::move(message));
  }
  if (!ready.committed_entries.empty()) {
    node.durable.applied = ready.committed_entries.back().index;
    node.raft->on_applied(node.durable.applied);
    narrate(node);
  }
  return Status::ok();
}

bool InteractionEnv::link_cut(NodeId from, NodeId to) const {
  return cut_links_.contains({from, to});
}

Status InteractionEnv::deliver_messages(NodeId id, bool drop) {
  Result<Node*> found = find(id);
  if (!found) return found.status();
  Node& node = **found;
  if (node.inbox.empty()) {
    print("> " + node_name(id) + " has no messages");
    return Status::ok();
  }
  print("> " + node_name(id) + " receiving messages");
  Indent indent(indent_);
  std::deque<Message> inbox = std::move(node.inbox);
  node.inbox.clear();
  // Messages lost over cut links are only counted: the sender's Ready listed them already.
  size_t lost = 0;
  for (const Message& message : inbox) {
    if (drop) {
      print("dropped: " + describe_message(message));
      continue;
    }
    if (link_cut(message.from, message.to)) {
      ++lost;
      continue;
    }
    print(describe_message(message));
    Indent narration(indent_);
    node.raft->step(message);
    narrate(node);
  }
  if (lost > 0) print(std::to_string(lost) + " message(s) lost over cut links");
  return Status::ok();
}

Status InteractionEnv::stabilize(std::vector<NodeId> ids) {
  if (ids.empty()) {
    for (const auto& [id, node] : nodes_) ids.push_back(id);
  }
  for (NodeId id : ids) {
    if (Result<Node*> node = find(id); !node) return node.status();
  }
  for (int round = 0; round < kMaxStabilizeRounds; ++round) {
    bool busy = false;
    for (NodeId id : ids) {
      if (!nodes_.at(id).raft->has_ready()) continue;
      busy = true;
      if (Status processed = process_ready(id, /*persist_now=*/true); !processed) return processed;
    }
    for (NodeId id : ids) {
      if (nodes_.at(id).inbox.empty()) continue;
      busy = true;
      if (Status delivered = deliver_messages(id, /*drop=*/false); !delivered) return delivered;
    }
    if (!busy) return Status::ok();
  }
  return Status::failed_precondition("stabilize: still busy after " +
                                     std::to_string(kMaxStabilizeRounds) + " rounds");
}

Status InteractionEnv::restart(NodeId id) {
  Result<Node*> found = find(id);
  if (!found) return found.status();
  Node& node = **found;
  if (!node.held_writes.empty()) {
    print(node_name(id) + " crashed, losing " + std::to_string(node.held_writes.size()) +
          " write(s) not yet durable");
  } else {
    print(node_name(id) + " crashed");
  }
  node.held_writes.clear();
  node.inbox.clear();
  return boot(node);
}

Status InteractionEnv::cut(NodeId a, NodeId b) {
  if (Result<Node*> node = find(a); !node) return node.status();
  if (Result<Node*> node = find(b); !node) return node.status();
  cut_links_.insert({a, b});
  cut_links_.insert({b, a});
  return Status::ok();
}

Status InteractionEnv::isolate(NodeId id) {
  if (Result<Node*> node = find(id); !node) return node.status();
  for (const auto& [other, node] : nodes_) {
    if (other == id) continue;
    cut_links_.insert({id, other});
    cut_links_.insert({other, id});
  }
  return Status::ok();
}

void InteractionEnv::heal() {
  cut_links_.clear();
}

Status InteractionEnv::status(NodeId id) {
  Result<Node*> found = find(id);
  if (!found) return found.status();
  const RaftNode& r = *(*found)->raft;
  const RaftLog& log = r.log();
  std::string line =
      node_name(id) + " is " + describe_role(r.role()) + " at term " + std::to_string(r.term()) +
      " vote=" + std::to_string(r.vote()) + " lead=" + std::to_string(r.leader()) +
      " last=" + std::to_string(log.last_term()) + "/" + std::to_string(log.last_index()) +
      " commit=" + std::to_string(log.committed()) + " applied=" + std::to_string(log.applied());
  if (r.transfer_target() != kNoNode)
    line += " transferring-to=" + std::to_string(r.transfer_target());
  print_always(line);
  print_always("configuration " + describe_conf(r.conf_state()));
  if (r.role() != RaftRole::kLeader) return Status::ok();
  for (NodeId peer : r.membership().peers_of(id)) {
    const Progress* progress = r.progress_of(peer);
    if (progress == nullptr) continue;
    std::string text = node_name(peer) + ": " + describe_progress_state(progress->state()) +
                       " match=" + std::to_string(progress->match()) +
                       " next=" + std::to_string(progress->next());
    if (progress->state() == Progress::State::kSnapshot) {
      text += " pending-snapshot=" + std::to_string(progress->pending_snapshot());
    }
    if (progress->inflights().count() > 0) {
      text += " inflight=" + std::to_string(progress->inflights().count());
    }
    if (progress->is_paused()) text += " paused";
    print_always(text);
  }
  return Status::ok();
}

Status InteractionEnv::raft_log(NodeId id) {
  Result<Node*> found = find(id);
  if (!found) return found.status();
  const RaftLog& log = (*found)->raft->log();
  if (log.snapshot_index() > 0) {
    print_always("compacted through " + std::to_string(log.snapshot_term()) + "/" +
                 std::to_string(log.snapshot_index()));
  }
  if (log.last_index() < log.first_index()) {
    print_always("no entries");
    return Status::ok();
  }
  for (Index index = log.first_index(); index <= log.last_index(); ++index) {
    print_always(describe_entry(log.at(index)));
  }
  return Status::ok();
}

}  // namespace dengine::raft::test
