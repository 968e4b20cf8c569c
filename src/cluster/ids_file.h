#pragma once

// The server's identity in its data dir: the member id and cluster id it was bootstrapped
// with. As in etcd, an existing data dir overrides --initial-cluster and its token: a member
// restarted with other peer URLs (or none given) keeps the ids its cluster knows it by.

#include <optional>
#include <string>

#include "cluster/cluster_ids.h"
#include "dengine/status.h"

namespace dengine::cluster {

// Nothing when the data dir has no identity yet; kCorruption naming the file when it is damaged.
Result<std::optional<ClusterIds>> read_cluster_ids(const std::string& data_dir);
// Creates the data dir if needed; replaces the file atomically.
Status write_cluster_ids(const std::string& data_dir, const ClusterIds& ids);

}  // namespace dengine::cluster
