#pragma once

// Messages between Raft peers. The peer transport serialises these; the core never does.

#include <cstdint>
#include <string_view>
#include <vector>

#include "dengine/entry.h"
#include "dengine/types.h"

namespace dengine {

enum class MessageType : uint8_t {
  kPreVote = 0,  // Raft thesis §9.6: ask whether an election could be won, changing nothing
  kPreVoteResponse,
  kVote,  // RequestVote (Raft §5.2)
  kVoteResponse,
  kAppend,  // AppendEntries carrying entries, or empty as a probe (Raft §5.3)
  kAppendResponse,
  kHeartbeat,  // leader liveness and commit propagation, never carries entries
  kHeartbeatResponse,
  kReadIndex,  // a follower asks the leader for a linearizable read index (thesis §6.4)
  kReadIndexResponse,
  kSnapshot,    // InstallSnapshot (Raft §7): `snapshot` names the image, the transport carries it
  kTimeoutNow,  // leadership transfer (thesis §3.10): start an election now
};

// kVote / kPreVote context of a campaign started by kTimeoutNow: voters answer it even while
// they hear from the (outgoing) leader.
inline constexpr uint64_t kTransferCampaign = 1;

std::string_view message_type_name(MessageType type);

struct Message {
  MessageType type = MessageType::kHeartbeat;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;

  // kAppend: index and term of the entry preceding `entries`.
  // kVote / kPreVote: index and term of the candidate's last entry.
  // kAppendResponse: accepted — highest index now known to match the leader's log;
  //                  rejected — the `index` of the kAppend that did not match.
  // kHeartbeat: the last index the leader has sent this follower; kHeartbeatResponse echoes it
  // and is a rejection when the follower's log ends before it (appends were lost), with the
  // follower's last index in hint_index.
  Index index = 0;
  Term log_term = 0;

  std::vector<Entry> entries{};  // kAppend only
  // kAppend, kHeartbeat: the leader's commit index (clipped for heartbeats).
  // kAppendResponse, kHeartbeatResponse: the follower's, so a leader knows who has learned what.
  Index commit = 0;
  bool reject = false;  // responses

  // kAppendResponse rejection: the follower's guess of the last index that may match, and the
  // term there, so the leader skips a whole conflicting term per round trip (Raft §5.3, "the
  // protocol can be optimized to reduce the number of rejected AppendEntries RPCs").
  Index hint_index = 0;
  Term hint_term = 0;

  // kHeartbeat / kHeartbeatResponse: the leader's read round being confirmed (echoed back).
  // kReadIndex / kReadIndexResponse: the follower's request id (echoed back).
  uint64_t context = 0;

  // kSnapshot only.
  SnapshotMeta snapshot{};
};

}  // namespace dengine
