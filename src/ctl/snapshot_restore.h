#pragma once

// `dengine-ctl snapshot restore FILE --data-dir DIR [--name ... --initial-cluster ...
// --initial-cluster-token ... --initial-advertise-peer-urls ...]`, as `etcdctl snapshot restore`:
// makes a data dir from which `dengine-server --data-dir DIR --name NAME --initial-cluster ...`
// starts as a member of a NEW cluster holding every key of the snapshot at its revision. Ids
// come from the flags exactly as the server derives them (server/member_identity.h); restore
// each member of the new cluster from the same file with its own --name.
//
// The file is verified whole before anything is written. DIR must not exist or be empty. The
// data dir is built in a sibling directory (".DIR.restoring-PID") and renamed to DIR once
// complete, so DIR never holds half a restore; a failure removes what was written.

#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "cluster/cluster_ids.h"
#include "ctl/image_store.h"
#include "dengine/status.h"

namespace dengine::ctl {

// etcdctl's defaults.
struct RestoreOptions {
  std::string data_dir;  // empty: "<name>.dengine", as dengine-server's default
  std::string name = "default";
  std::string initial_cluster = "default=http://localhost:2380";
  std::string initial_cluster_token = "etcd-cluster";
  std::string initial_advertise_peer_urls = "http://localhost:2380";
};

struct RestoredMember {
  std::string data_dir;
  cluster::ClusterIds ids;
  ImageSummary image;
};

// The ids the new cluster's members will have, checked as dengine-server checks its flags.
Result<cluster::ClusterIds> restore_ids(const RestoreOptions& options);
Result<RestoredMember> restore_snapshot(const std::string& file, const RestoreOptions& options);

std::string_view snapshot_restore_usage();
// The exit code: 0 once restored, 1 when the restore failed (nothing left behind), 2 for a
// wrong command line.
int run_snapshot_restore(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace dengine::ctl
