#pragma once

#include <string>
#include <variant>
#include <vector>

#include "dengine/alarm.h"
#include "dengine/kv_types.h"
#include "dengine/member_record.h"

namespace dengine::kv {

// A member's peer URLs (etcd's RaftAttributes), as MemberAdd and MemberUpdate set them; creates
// the record when there is none.
struct MemberPeerUrlsRequest {
  NodeId id = kNoNode;
  std::vector<std::string> peer_urls;

  friend bool operator==(const MemberPeerUrlsRequest&, const MemberPeerUrlsRequest&) = default;
};

// What a member publishes once it serves (etcd's Attributes): its name and client URLs. The
// peer URLs are taken only when none are recorded: members of the initial cluster have no
// MemberAdd that recorded them, and afterwards only MemberUpdate may move them.
struct MemberPublishRequest {
  NodeId id = kNoNode;
  std::string name;
  std::vector<std::string> client_urls;
  std::vector<std::string> peer_urls;

  friend bool operator==(const MemberPublishRequest&, const MemberPublishRequest&) = default;
};

// Forgets a removed member's record.
struct MemberRemoveRequest {
  NodeId id = kNoNode;

  friend bool operator==(const MemberRemoveRequest&, const MemberRemoveRequest&) = default;
};

// Raises or disarms an alarm (etcd's AlarmRequest ACTIVATE / DEACTIVATE).
struct AlarmChangeRequest {
  bool activate = true;
  Alarm alarm;

  friend bool operator==(const AlarmChangeRequest&, const AlarmChangeRequest&) = default;
};

// Everything that changes the state machine goes through the Raft log as one of these. The
// member and alarm commands change no key and no revision.
using KvCommand =
    std::variant<PutRequest, DeleteRangeRequest, TxnRequest, CompactionRequest, LeaseGrantRequest,
                 LeaseRevokeRequest, LeaseCheckpointRequest, MemberPeerUrlsRequest,
                 MemberPublishRequest, MemberRemoveRequest, AlarmChangeRequest>;

}  // namespace dengine::kv
