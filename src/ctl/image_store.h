#pragma once

// A saved image made into a state machine store again: the store a restored member runs on, or
// a scratch one that `snapshot status` reads the image through. Opening it is the image's last
// check: RocksDB verifies its own files' checksums, and the store rebuilds its index from every
// record.

#include <cstdint>
#include <string>

#include "dengine/status.h"
#include "dengine/types.h"
#include "tools/snapshot_file_reader.h"

namespace dengine::ctl {

struct ImageSummary {
  Index applied_index = 0;
  int64_t revision = 0;
  int64_t compact_revision = 0;  // -1 before the first compaction, as etcd reports it
  int64_t keys = 0;              // live keys at the revision
  size_t leases = 0;
};

// Creates the state machine's store in `kv_dir` (which must not exist) from the image that the
// saved snapshot `file` held, extracted to `contents.image_dir` (taken over: moved in, so on the
// same file system), and describes what it holds. An image that does not open, or that holds
// another index than its description says, is kCorruption naming `file`.
Result<ImageSummary> install_image(const std::string& file,
                                   const tools::SnapshotFileContents& contents,
                                   const std::string& kv_dir);

}  // namespace dengine::ctl
