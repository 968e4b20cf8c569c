#pragma once

// A member started with --initial-cluster-state existing on an empty data dir joins a running
// cluster (etcd's GetClusterFromRemotePeers): it asks the members named in --initial-cluster
// who the members are, and finds itself among them by its --initial-advertise-peer-urls,
// which `etcdctl member add` recorded. Its engine then starts as a new member's does, knowing
// the voters but not in any configuration yet; the leader brings it up to date (by image when
// the log was compacted).

#include <chrono>
#include <string>

#include "cluster/cluster_ids.h"
#include "dengine/member_config.h"
#include "dengine/status.h"
#include "raftpb/raft.pb.h"

namespace dengine::cluster {

// etcd gives up on fetching the cluster after its peer dial timeout; one try per member.
inline constexpr std::chrono::milliseconds kAskTimeout{3'000};

// The Members call of the peer service at `url`: kUnavailable naming the URL when it did not
// answer (or is still starting), kInvalidArgument when `url` is not a peer URL.
Result<raftpb::MembersResponse> ask_members(const std::string& url,
                                            std::chrono::milliseconds timeout);

// The ids to start with: the running cluster's id, this member's id as added, the
// configuration the cluster's log starts from (the voters it was bootstrapped with, whatever
// they are today) and every member's peer URLs. kUnavailable when no running member
// answered; kNotFound when this member was not added first.
Result<ClusterIds> join_running_cluster(const MemberConfig& config);

}  // namespace dengine::cluster
