#pragma once

// etcd's strict reconfiguration checks (etcdserver/server.go, --strict-reconfig-check, on by
// default), made by the leader before a change enters the log, since only the leader knows
// how far each member's log is and whom it heard from lately:
//  - a learner is promoted only once its log is within 10% of the leader's: a voter that lags
//    counts toward quorums at once and could stall every commit while it catches up;
//  - a voter is added only while every voter answers: the larger quorum must be reachable;
//  - a live voter is removed only if the voters left that answer still form a quorum;
//  - a learner is added only while fewer than the limit are learners (etcd: one), counted on
//    the leader, whose configuration is the newest (one change is pending at most).
// A removed voter that was not heard from lately is always removable: it holds no quorum up.

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "raft/raft_node.h"

namespace dengine::runtime {

// Why a change was refused, for callers that must answer with a fixed error (etcd's API).
enum class ReconfigRefusal : uint8_t {
  kLearnerNotInSync,  // kFailedPrecondition
  kUnhealthyCluster,  // kUnavailable
  kTooManyLearners,   // kFailedPrecondition
};

// OK, or the refusal; `leader` must be the leader. `max_learners`: 0 for no limit.
Status check_reconfiguration(const raft::RaftNode& leader, const std::vector<ConfChange>& changes,
                             size_t max_learners = 0);

// Which refusal `status` is, if it came from check_reconfiguration (also after forwarding: it
// is recognised by code and message).
std::optional<ReconfigRefusal> reconfig_refusal_of(const Status& status);

}  // namespace dengine::runtime
