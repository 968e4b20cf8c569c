#include "tests/raft/interaction_printer.h"

#include "raft/conf_change_codec.h"

namespace dengine::raft::test {

namespace {

std::string ids(const std::vector<NodeId>& nodes) {
  std::string text = "(";
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i > 0) text += ' ';
    text += std::to_string(nodes[i]);
  }
  return text + ")";
}

std::string describe_conf_change_data(const std::string& data) {
  Result<ConfChangeEntry> decoded = decode_conf_change(data);
  if (!decoded) return "undecodable: " + decoded.status().to_string();
  if (decoded->kind == ConfChangeEntry::Kind::kLeaveJoint) return "leave-joint";
  // A simple change reads as etcd's ConfChangeV1 does ("v4"); entering joint says so.
  std::string text = decoded->kind == ConfChangeEntry::Kind::kEnterJoint ? "enter-joint" : "";
  for (const ConfChange& change : decoded->changes) {
    if (!text.empty()) text += ' ';
    switch (change.op) {
      case ConfChangeOp::kAddVoter: text += 'v'; break;
      case ConfChangeOp::kAddLearner: text += 'l'; break;
      case ConfChangeOp::kRemoveNode: text += 'r'; break;
    }
    text += std::to_string(change.node);
  }
  return text;
}

std::string term_slash_index(Term term, Index index) {
  return std::to_string(term) + "/" + std::to_string(index);
}

}  // namespace

std::string describe_message_type(MessageType type) {
  switch (type) {
    case MessageType::kPreVote: return "MsgPreVote";
    case MessageType::kPreVoteResponse: return "MsgPreVoteResp";
    case MessageType::kVote: return "MsgVote";
    case MessageType::kVoteResponse: return "MsgVoteResp";
    case MessageType::kAppend: return "MsgApp";
    case MessageType::kAppendResponse: return "MsgAppResp";
    case MessageType::kHeartbeat: return "MsgHeartbeat";
    case MessageType::kHeartbeatResponse: return "MsgHeartbeatResp";
    case MessageType::kReadIndex: return "MsgReadIndex";
    case MessageType::kReadIndexResponse: return "MsgReadIndexResp";
    case MessageType::kSnapshot: return "MsgSnap";
    case MessageType::kTimeoutNow: return "MsgTimeoutNow";
  }
  return "MsgType" + std::to_string(static_cast<int>(type));
}

std::string describe_role(RaftRole role) {
  switch (role) {
    case RaftRole::kFollower: return "follower";
    case RaftRole::kPreCandidate: return "pre-candidate";
    case RaftRole::kCandidate: return "candidate";
    case RaftRole::kLeader: return "leader";
  }
  return "role" + std::to_string(static_cast<int>(role));
}

std::string describe_entry(const Entry& entry) {
  std::string text = term_slash_index(entry.term, entry.index) + " ";
  switch (entry.type) {
    case EntryType::kNormal: return text + "EntryNormal \"" + entry.data + "\"";
    case EntryType::kNoOp: return text + "EntryNoOp";
    case EntryType::kConfChange:
      return text + "EntryConfChange " + describe_conf_change_data(entry.data);
  }
  return text + "EntryType" + std::to_string(static_cast<int>(entry.type));
}

std::string describe_conf(const ConfState& conf) {
  std::string text = "voters=" + ids(conf.voters);
  if (!conf.voters_outgoing.empty()) text += "&&" + ids(conf.voters_outgoing);
  if (!conf.learners.empty()) text += " learners=" + ids(conf.learners);
  return text;
}

std::string describe_snapshot(const SnapshotMeta& snapshot) {
  return "Index:" + std::to_string(snapshot.index) + " Term:" + std::to_string(snapshot.term) +
         " " + describe_conf(snapshot.conf);
}

std::string describe_progress_state(Progress::State state) {
  switch (state) {
    case Progress::State::kProbe: return "probe";
    case Progress::State::kReplicate: return "replicate";
    case Progress::State::kSnapshot: return "snapshot";
  }
  return "state" + std::to_string(static_cast<int>(state));
}

std::string describe_message(const Message& m) {
  std::string text = std::to_string(m.from) + "->" + std::to_string(m.to) + " " +
                     describe_message_type(m.type) + " Term:" + std::to_string(m.term);
  const std::string index = std::to_string(m.index);
  const std::string commit = std::to_string(m.commit);
  switch (m.type) {
    case MessageType::kPreVote:
    case MessageType::kVote:
      text += " Log:" + term_slash_index(m.log_term, m.index);
      if (m.context == kTransferCampaign) text += " Transfer";
      break;
    case MessageType::kPreVoteResponse:
    case MessageType::kVoteResponse:
      if (m.reject) text += " Rejected";
      break;
    case MessageType::kAppend:
      text += " Log:" + term_slash_index(m.log_term, m.index) + " Commit:" + commit;
      if (!m.entries.empty()) {
        text += " Entries:[";
        for (size_t i = 0; i < m.entries.size(); ++i) {
          if (i > 0) text += ", ";
          text += describe_entry(m.entries[i]);
        }
        text += "]";
      }
      break;
    case MessageType::kAppendResponse:
      text += " Index:" + index + " Commit:" + commit;
      if (m.reject) text += " Rejected (Hint: " + term_slash_index(m.hint_term, m.hint_index) + ")";
      break;
    case MessageType::kHeartbeat:
      text += " Index:" + index + " Commit:" + commit + " Round:" + std::to_string(m.context);
      break;
    case MessageType::kHeartbeatResponse:
      text += " Index:" + index + " Commit:" + commit + " Round:" + std::to_string(m.context);
      if (m.reject) text += " Rejected (Hint: " + std::to_string(m.hint_index) + ")";
      break;
    case MessageType::kReadIndex: text += " Context:" + std::to_string(m.context); break;
    case MessageType::kReadIndexResponse:
      text += " Index:" + index + " Context:" + std::to_string(m.context);
      if (m.reject) text += " Rejected";
      break;
    case MessageType::kSnapshot:
      text += " Commit:" + commit + " Snapshot:[" + describe_snapshot(m.snapshot) + "]";
      break;
    case MessageType::kTimeoutNow: break;
  }
  return text;
}

std::vector<std::string> describe_ready(const Ready& ready) {
  std::vector<std::string> lines;
  if (ready.soft_state) {
    const NodeId leader = ready.soft_state->leader;
    lines.push_back("Lead:" + std::to_string(leader) +
                    " State:" + describe_role(ready.soft_state->role));
  }
  if (ready.hard_state) {
    lines.push_back("HardState Term:" + std::to_string(ready.hard_state->term) +
                    " Vote:" + std::to_string(ready.hard_state->vote) +
                    " Commit:" + std::to_string(ready.hard_state->commit));
  }
  if (ready.snapshot) lines.push_back("Snapshot " + describe_snapshot(*ready.snapshot));
  auto add_list = [&lines](const std::string& title, const auto& items, auto describe) {
    if (items.empty()) return;
    lines.push_back(title + ":");
    for (const auto& item : items) lines.push_back("  " + describe(item));
  };
  add_list("Entries", ready.entries, describe_entry);
  add_list("CommittedEntries", ready.committed_entries, describe_entry);
  add_list("Messages", ready.messages, describe_message);
  add_list("ReadStates", ready.read_states, [](const ReadState& read) {
    return "Context:" + std::to_string(read.request_id) + " Index:" + std::to_string(read.index);
  });
  add_list("AbortedReads", ready.aborted_reads,
           [](uint64_t request_id) { return "Context:" + std::to_string(request_id); });
  if (ready.compact_to != 0) lines.push_back("CompactTo:" + std::to_string(ready.compact_to));
  return lines;
}

}  // namespace dengine::raft::test
