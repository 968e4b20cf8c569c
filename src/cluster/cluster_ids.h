#pragma once

// Who a member is and whom it started knowing: its ids and every bootstrap member's peer URLs.
// The first start derives them from the flags (server/member_identity.h) or learns them from
// the running members (server/cluster_join.h); the data dir keeps them (server_ids_file.h).

#include <cstdint>
#include <map>
#include <vector>

#include "dengine/member_config.h"

namespace dengine::cluster {

struct ClusterIds {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  // The configuration the log starts from: the initial cluster's members (this one included),
  // or for a member that joined later, the running cluster's (without it).
  std::vector<uint64_t> member_ids;
  // Where each member of the initial cluster listens for its peers (--initial-cluster).
  std::map<uint64_t, std::vector<Url>> peer_urls;
};

}  // namespace dengine::cluster
