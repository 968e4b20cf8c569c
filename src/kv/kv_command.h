#pragma once

#include <variant>

#include "dengine/kv_types.h"

namespace dengine::kv {

// Everything that changes the state machine goes through the Raft log as one of these.
using KvCommand = std::variant<PutRequest, DeleteRangeRequest, TxnRequest, CompactionRequest,
                               LeaseGrantRequest, LeaseRevokeRequest, LeaseCheckpointRequest>;

}  // namespace dengine::kv
