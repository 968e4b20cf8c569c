#pragma once

// etcd's deterministic member and cluster ids (etcd v3.4.23 etcdserver/api/membership:
// newMember and RaftCluster.genID). Members bootstrapping a new cluster each compute every id
// from --initial-cluster and --initial-cluster-token alone, so they agree without talking, and
// an etcd client sees the same ids etcd would have reported for the same flags.
//
// Only authoritative for --initial-cluster-state=new: etcd gives a member that joins an
// existing cluster the id chosen by `member add` (which also hashes the current time), and
// takes the cluster id from the running cluster.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cluster/cluster_ids.h"
#include "dengine/member_config.h"
#include "dengine/status.h"

namespace dengine::cluster {

struct MemberIdentity {
  std::string name;
  uint64_t id = 0;
  std::vector<Url> peer_urls;
};

struct ClusterIdentity {
  uint64_t member_id = 0;  // this member's (MemberConfig::name) id
  uint64_t cluster_id = 0;
  std::vector<MemberIdentity> members;  // every member of --initial-cluster, ascending by id
};

// First 8 bytes, big-endian, of SHA-1(sorted peer URL texts concatenated, then the token).
uint64_t compute_member_id(std::span<const Url> peer_urls, std::string_view cluster_token);
// First 8 bytes, big-endian, of SHA-1(each id as 8 big-endian bytes, ascending).
uint64_t compute_cluster_id(std::span<const uint64_t> member_ids);

// Fails when two members hash to the same id, when an id is 0 (Raft's "no node"), or when
// config.name is not in config.initial_cluster.
Result<ClusterIdentity> derive_identity(const MemberConfig& config);

// The ids a member of a new cluster starts with: its own, the cluster's, and every initial
// member's with its peer URLs.
ClusterIds bootstrap_ids(const ClusterIdentity& identity);

// etcd's spelling of an id (types.ID.String): lower-case hex without leading zeros.
std::string format_id(uint64_t id);

}  // namespace dengine::cluster
