#include "ctl/data_dir_seed.h"

#include <algorithm>

#include "cluster/ids_file.h"
#include "dengine/log_store.h"
#include "runtime/compaction_record.h"
#include "runtime/data_dir.h"

namespace dengine::ctl {
namespace {

Status seed_log(const std::string& dir, const SnapshotMeta& image) {
  Result<OpenedLogStore> opened = open_wal_log_store(dir);
  if (!opened) return opened.status();
  LogStore& log = *opened->store;
  if (Status reset = log.reset(image.index, image.term); !reset) return reset;
  // Committed, since the image holds it; no vote, so the new members elect among themselves.
  const HardState hard_state{.term = image.term, .vote = kNoNode, .commit = image.index};
  if (Status appended = log.append({}, hard_state); !appended) return appended;
  return log.sync();
}

}  // namespace

Status seed_data_dir(const std::string& dir, const cluster::ClusterIds& ids,
                     const SnapshotMeta& image) {
  // The member file first: a data dir holding a WAL without one is refused as foreign.
  Result<runtime::DataDir> data_dir = runtime::open_data_dir(dir, ids.member_id);
  if (!data_dir) return data_dir.status();
  if (Status written = cluster::write_cluster_ids(dir, ids); !written) return written;
  SnapshotMeta snapshot{.index = image.index, .term = image.term, .conf = {}};
  snapshot.conf.voters = ids.member_ids;
  std::sort(snapshot.conf.voters.begin(), snapshot.conf.voters.end());
  if (Status saved = runtime::CompactionRecord(dir, "compaction").save(snapshot); !saved) {
    return saved;
  }
  return seed_log(dir, snapshot);
}

}  // namespace dengine::ctl
