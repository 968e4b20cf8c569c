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
#include <string_view>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "raft/raft_node.h"

namespace dengine::runtime {

// OK, or the refusal, whose detail says which: kLearnerNotInSync, kUnhealthyCluster or
// kTooManyLearners. `leader` must be the leader. `max_learners`: 0 for no limit.
Status check_reconfiguration(const raft::RaftNode& leader, const std::vector<ConfChange>& changes,
                             size_t max_learners = 0);

}  // namespace dengine::runtime
