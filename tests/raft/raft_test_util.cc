#include "tests/raft/raft_test_util.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace dengine {

void PrintTo(RaftRole role, std::ostream* os) {
  switch (role) {
    case RaftRole::kFollower: *os << "follower"; return;
    case RaftRole::kPreCandidate: *os << "pre-candidate"; return;
    case RaftRole::kCandidate: *os << "candidate"; return;
    case RaftRole::kLeader: *os << "leader"; return;
  }
  *os << "role " << static_cast<int>(role);
}

void PrintTo(MessageType type, std::ostream* os) {
  *os << message_type_name(type);
}

void PrintTo(StatusCode code, std::ostream* os) {
  *os << status_code_name(code);
}

void PrintTo(const ReadState& read, std::ostream* os) {
  *os << "{read " << read.request_id << " at " << read.index << "}";
}

void raft::PrintTo(Progress::State state, std::ostream* os) {
  switch (state) {
    case Progress::State::kProbe: *os << "probe"; return;
    case Progress::State::kReplicate: *os << "replicate"; return;
    case Progress::State::kSnapshot: *os << "snapshot"; return;
  }
  *os << "state " << static_cast<int>(state);
}

}  // namespace dengine

namespace dengine::raft::test {

// ---- ConfigBuilder ----

ConfigBuilder::ConfigBuilder(NodeId id, std::vector<NodeId> voters) {
  config_.id = id;
  config_.voters = std::move(voters);
  config_.election_timeout_ticks = kElectionTimeoutTicks;
  config_.heartbeat_interval_ticks = kHeartbeatTicks;
  config_.pre_vote = true;
  config_.check_quorum = true;
  config_.random_seed = 42;
}

ConfigBuilder& ConfigBuilder::pre_vote(bool on) {
  config_.pre_vote = on;
  return *this;
}
ConfigBuilder& ConfigBuilder::check_quorum(bool on) {
  config_.check_quorum = on;
  return *this;
}
ConfigBuilder& ConfigBuilder::seed(uint64_t seed) {
  config_.random_seed = seed;
  return *this;
}
ConfigBuilder& ConfigBuilder::election_timeout_ticks(int ticks) {
  config_.election_timeout_ticks = ticks;
  return *this;
}
ConfigBuilder& ConfigBuilder::heartbeat_interval_ticks(int ticks) {
  config_.heartbeat_interval_ticks = ticks;
  return *this;
}
ConfigBuilder& ConfigBuilder::max_inflight(size_t messages, uint64_t bytes) {
  config_.max_inflight_messages = messages;
  config_.max_inflight_bytes = bytes;
  return *this;
}
ConfigBuilder& ConfigBuilder::max_append_bytes(uint64_t bytes) {
  config_.max_append_bytes = bytes;
  return *this;
}
ConfigBuilder& ConfigBuilder::max_uncommitted_bytes(uint64_t bytes) {
  config_.max_uncommitted_bytes = bytes;
  return *this;
}
ConfigBuilder& ConfigBuilder::max_entry_bytes(uint64_t bytes) {
  config_.max_entry_bytes = bytes;
  return *this;
}
ConfigBuilder& ConfigBuilder::lease_duration_nanos(uint64_t nanos) {
  config_.lease_duration_nanos = nanos;
  return *this;
}
ConfigBuilder& ConfigBuilder::max_pending_reads(size_t reads) {
  config_.max_pending_reads = reads;
  return *this;
}
ConfigBuilder& ConfigBuilder::max_heartbeat_rounds(size_t rounds) {
  config_.max_heartbeat_rounds = rounds;
  return *this;
}
ConfigBuilder& ConfigBuilder::compaction_trailing_entries(uint64_t entries) {
  config_.compaction_trailing_entries = entries;
  return *this;
}

// ---- logs ----

std::string numbered(const char* prefix, uint64_t n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}

std::vector<Entry> log_with_terms(const std::vector<Term>& terms) {
  std::vector<Entry> entries;
  for (size_t i = 0; i < terms.size(); ++i) {
    entries.push_back(Entry{.term = terms[i],
                            .index = i + 1,
                            .type = EntryType::kNormal,
                            .data = numbered("e", i + 1)});
  }
  return entries;
}

std::vector<Term> terms_of(const RaftLog& log) {
  std::vector<Term> terms;
  for (Index index = 1; index <= log.last_index(); ++index) terms.push_back(log.at(index).term);
  return terms;
}

// ---- NodeBuilder ----

NodeBuilder& NodeBuilder::log_terms(const std::vector<Term>& terms) {
  entries_ = log_with_terms(terms);
  return *this;
}

NodeBuilder& NodeBuilder::hard_state(Term term, NodeId vote, Index commit) {
  hard_state_ = HardState{.term = term, .vote = vote, .commit = commit};
  return *this;
}

NodeBuilder& NodeBuilder::snapshot(SnapshotMeta snapshot) {
  snapshot_ = std::move(snapshot);
  return *this;
}

NodeBuilder& NodeBuilder::applied(Index index) {
  applied_ = index;
  return *this;
}

std::unique_ptr<RaftNode> NodeBuilder::build() const {
  RaftBootState boot;
  boot.snapshot = snapshot_;
  boot.entries = entries_;
  for (Entry& entry : boot.entries) entry.index += snapshot_.index;
  boot.applied = applied_;
  if (hard_state_) {
    boot.hard_state = *hard_state_;
  } else {
    boot.hard_state.term = entries_.empty() ? snapshot_.term : entries_.back().term;
  }
  Result<std::unique_ptr<RaftNode>> node = RaftNode::create(config_, std::move(boot));
  if (!node) throw std::runtime_error("RaftNode::create: " + node.status().to_string());
  return std::move(node).value();
}

// ---- messages ----

Message vote_request(NodeId from, NodeId to, Term term, Index last_index, Term last_term) {
  return Message{.type = MessageType::kVote,
                 .from = from,
                 .to = to,
                 .term = term,
                 .index = last_index,
                 .log_term = last_term};
}

Message pre_vote_request(NodeId from, NodeId to, Term term, Index last_index, Term last_term) {
  return Message{.type = MessageType::kPreVote,
                 .from = from,
                 .to = to,
                 .term = term,
                 .index = last_index,
                 .log_term = last_term};
}

Message vote_response(NodeId from, NodeId to, Term term, bool granted) {
  return Message{
      .type = MessageType::kVoteResponse, .from = from, .to = to, .term = term, .reject = !granted};
}

Message pre_vote_response(NodeId from, NodeId to, Term term, bool granted) {
  return Message{.type = MessageType::kPreVoteResponse,
                 .from = from,
                 .to = to,
                 .term = term,
                 .reject = !granted};
}

Message append(NodeId from, NodeId to, Term term, Index prev_index, Term prev_term,
               std::vector<Entry> entries, Index commit) {
  return Message{.type = MessageType::kAppend,
                 .from = from,
                 .to = to,
                 .term = term,
                 .index = prev_index,
                 .log_term = prev_term,
                 .entries = std::move(entries),
                 .commit = commit};
}

Message heartbeat(NodeId from, NodeId to, Term term, Index commit) {
  return Message{
      .type = MessageType::kHeartbeat, .from = from, .to = to, .term = term, .commit = commit};
}

Message heartbeat_response(NodeId from, NodeId to, Term term, uint64_t round) {
  return Message{.type = MessageType::kHeartbeatResponse,
                 .from = from,
                 .to = to,
                 .term = term,
                 .context = round};
}

Message append_response(NodeId from, NodeId to, Term term, Index index) {
  return Message{
      .type = MessageType::kAppendResponse, .from = from, .to = to, .term = term, .index = index};
}

std::vector<Message> drain_messages(RaftNode& node) {
  return drain_node(node).messages;
}

Drained drain_node(RaftNode& node) {
  Drained out;
  while (node.has_ready()) {
    Ready ready = node.take_ready();
    if (ready.has_storage_work()) node.on_persisted(ready.write_id);
    if (!ready.committed_entries.empty()) node.on_applied(ready.committed_entries.back().index);
    for (Message& message : ready.messages) out.messages.push_back(std::move(message));
    for (const ReadState& read : ready.read_states) out.read_states.push_back(read);
    for (uint64_t id : ready.aborted_reads) out.aborted_reads.push_back(id);
  }
  return out;
}

std::vector<Message> of_type(const std::vector<Message>& messages, MessageType type) {
  std::vector<Message> out;
  for (const Message& message : messages) {
    if (message.type == type) out.push_back(message);
  }
  return out;
}

void win_election_by_hand(RaftNode& node) {
  for (int i = 0; i < 2 * kElectionTimeoutTicks && node.role() == RaftRole::kFollower; ++i) {
    node.tick();
  }
  // Every voter asked grants: answer each request the node sent.
  for (const Message& request : of_type(drain_messages(node), MessageType::kPreVote)) {
    node.step(pre_vote_response(request.to, node.id(), request.term, true));
  }
  for (const Message& request : of_type(drain_messages(node), MessageType::kVote)) {
    node.step(vote_response(request.to, node.id(), request.term, true));
  }
  drain_messages(node);
  if (node.role() != RaftRole::kLeader) {
    throw std::runtime_error("node " + std::to_string(node.id()) + " did not win its election");
  }
}

void acknowledge_log_by_hand(RaftNode& leader, const std::vector<NodeId>& followers) {
  for (NodeId follower : followers) {
    leader.step(append_response(follower, leader.id(), leader.term(), leader.log().last_index()));
  }
  drain_messages(leader);
}

// ---- ScopedThrowingCheckHandler ----

namespace {
[[noreturn]] void throw_check_failure(std::string_view condition, std::string_view /*file*/,
                                      int /*line*/, std::string_view /*detail*/) {
  throw CheckFailure{std::string(condition)};
}
}  // namespace

ScopedThrowingCheckHandler::ScopedThrowingCheckHandler()
    : previous_(set_check_failure_handler(&throw_check_failure)) {}

ScopedThrowingCheckHandler::~ScopedThrowingCheckHandler() {
  set_check_failure_handler(previous_);
}

// ---- TestNetwork ----

TestNetwork::TestNetwork(size_t n, const std::function<void(ConfigBuilder&)>& tweak) {
  std::vector<NodeId> voters;
  for (NodeId id = 1; id <= n; ++id) voters.push_back(id);
  for (NodeId id : voters) {
    ConfigBuilder config(id, voters);
    if (tweak) tweak(config);
    peers_[id].node = NodeBuilder(config.build()).build();
  }
}

TestNetwork::TestNetwork(std::vector<std::unique_ptr<RaftNode>> nodes) {
  for (auto& node : nodes) {
    const NodeId id = node->id();
    peers_[id].node = std::move(node);
  }
}

TestNetwork::Peer& TestNetwork::peer(NodeId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) throw std::out_of_range("no node " + std::to_string(id));
  return it->second;
}

RaftNode& TestNetwork::node(NodeId id) {
  return *peer(id).node;
}

std::vector<NodeId> TestNetwork::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, p] : peers_) out.push_back(id);
  return out;
}

void TestNetwork::set_deferred_persistence(NodeId id, bool deferred) {
  peer(id).deferred = deferred;
}

void TestNetwork::persist(NodeId id) {
  Peer& p = peer(id);
  if (p.last_write_id != 0) p.node->on_persisted(p.last_write_id);
}

const std::vector<Entry>& TestNetwork::applied(NodeId id) const {
  return peers_.at(id).applied;
}

const std::vector<ReadState>& TestNetwork::read_states(NodeId id) const {
  return peers_.at(id).read_states;
}

const std::vector<uint64_t>& TestNetwork::aborted_reads(NodeId id) const {
  return peers_.at(id).aborted_reads;
}

std::vector<Ready> TestNetwork::drain(NodeId id) {
  Peer& p = peer(id);
  std::vector<Ready> readies;
  while (p.node->has_ready()) {
    Ready ready = p.node->take_ready();
    if (ready.has_storage_work()) {
      p.last_write_id = ready.write_id;
      if (!p.deferred) p.node->on_persisted(ready.write_id);
    }
    if (!ready.committed_entries.empty()) {
      p.applied.insert(p.applied.end(), ready.committed_entries.begin(),
                       ready.committed_entries.end());
      p.node->on_applied(ready.committed_entries.back().index);
    }
    p.read_states.insert(p.read_states.end(), ready.read_states.begin(), ready.read_states.end());
    p.aborted_reads.insert(p.aborted_reads.end(), ready.aborted_reads.begin(),
                           ready.aborted_reads.end());
    for (const Message& message : ready.messages) {
      sent_.push_back(message);
      queue_.push_back(message);
    }
    readies.push_back(std::move(ready));
  }
  return readies;
}

void TestNetwork::drain_all() {
  for (auto& [id, p] : peers_) drain(id);
}

bool TestNetwork::dropped(const Message& message) const {
  if (cut_links_.contains({message.from, message.to})) return true;
  if (!peers_.contains(message.to)) return true;
  return drop_if_ && drop_if_(message);
}

void TestNetwork::deliver_all() {
  // Bounded so that a livelock fails the test instead of hanging it.
  for (int round = 0; round < 10000; ++round) {
    drain_all();
    if (queue_.empty()) return;
    std::deque<Message> batch;
    batch.swap(queue_);
    for (const Message& message : batch) {
      if (!dropped(message)) node(message.to).step(message);
    }
  }
  throw std::runtime_error("TestNetwork::deliver_all: messages still flowing after 10000 rounds");
}

size_t TestNetwork::count_sent(const std::function<bool(const Message&)>& predicate) const {
  return static_cast<size_t>(std::count_if(sent_.begin(), sent_.end(), predicate));
}

void TestNetwork::cut(NodeId a, NodeId b) {
  cut_links_.insert({a, b});
  cut_links_.insert({b, a});
}

void TestNetwork::isolate(NodeId id) {
  for (const auto& [other, p] : peers_) {
    if (other != id) cut(id, other);
  }
}

void TestNetwork::heal() {
  cut_links_.clear();
  drop_if_ = nullptr;
}

void TestNetwork::tick(NodeId id, int times) {
  for (int i = 0; i < times; ++i) {
    node(id).tick();
    drain(id);
  }
}

void TestNetwork::advance(int ticks) {
  for (int i = 0; i < ticks; ++i) {
    for (auto& [id, p] : peers_) p.node->tick();
    deliver_all();
  }
}

int TestNetwork::tick_until_campaign(NodeId id) {
  RaftNode& n = node(id);
  for (int ticks = 1; ticks <= 100 * kElectionTimeoutTicks; ++ticks) {
    n.tick();
    drain(id);
    if (n.role() != RaftRole::kFollower) return ticks;
  }
  throw std::runtime_error("node " + std::to_string(id) + " never campaigned");
}

void TestNetwork::elect(NodeId id) {
  if (node(id).role() == RaftRole::kLeader) return;
  tick_until_campaign(id);
  deliver_all();
  if (node(id).role() != RaftRole::kLeader) {
    throw std::runtime_error("node " + std::to_string(id) + " did not win its election");
  }
}

}  // namespace dengine::raft::test
