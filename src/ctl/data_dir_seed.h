#pragma once

// What a restored member's data dir holds besides its state machine, so that dengine-server
// starts on it as a member of a new cluster whose log begins after the image:
//
//   <dir>/member        the member id (runtime/data_dir.h)
//   <dir>/server-ids    the cluster's and every member's ids and peer URLs (the server's)
//   <dir>/compaction    the image as the log's snapshot: its index and term, and the NEW
//                       cluster's members as the configuration (runtime/compaction_record.h)
//   <dir>/wal/          a log reset to start after the image, with a hard state that commits
//                       it and has voted for no one
//
// The engine then boots as after a compaction: the image is its snapshot, the state machine
// holds exactly that index, and the configuration is the new one; the image's term stays, so
// members restored from the same file hold the same last entry and may elect any of them.

#include <string>

#include "cluster/cluster_ids.h"
#include "dengine/entry.h"
#include "dengine/status.h"

namespace dengine::ctl {

// `dir` exists and holds the state machine (kv/) at `image.index`; `image.conf` is ignored in
// favour of `ids.member_ids`. Everything written is synced.
Status seed_data_dir(const std::string& dir, const cluster::ClusterIds& ids,
                     const SnapshotMeta& image);

}  // namespace dengine::ctl
