#pragma once

// Before a member starts its engine: the peers it would talk to, those that answer, must be
// members of its cluster. A data dir of another cluster, or flags that would bootstrap a new
// cluster where another one already runs (another --initial-cluster-token, a reused address),
// is refused at start, naming both clusters and the peer that answered, rather than left to
// have every message refused (etcd logs "cluster ID mismatch" on each, forever). Peers that do
// not answer (a whole cluster starting at once) are no evidence either way.

#include <string>
#include <vector>

#include "cluster/cluster_ids.h"
#include "dengine/member_config.h"
#include "dengine/status.h"

namespace dengine::cluster {

// `ids` as this start would use them; `origin` says where they came from, for the message
// ("the data dir <path>", "--initial-cluster and --initial-cluster-token"). The peers asked:
// those `ids` started knowing and those config.initial_cluster names, but not this member's
// own --initial-advertise-peer-urls. kFailedPrecondition when one answered for another cluster.
Status check_peers_are_of_this_cluster(const ClusterIds& ids, const MemberConfig& config,
                                       const std::string& origin);

}  // namespace dengine::cluster
