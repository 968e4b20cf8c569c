#pragma once

// Reads a saved snapshot file (tools/snapshot_file.h) from its first byte to its last and
// checks every layer on the way: the header, each chunk's CRC32C, the order and counts of the
// chunk stream and the CRC32C of the image's bytes, the padding, and the SHA-256 of the whole
// file. The image's files go through a SnapshotReceiver to `<root>/image`; on a
// DiscardingFileSystem nothing is written at all (verify_snapshot_file).
//
// Damage is kCorruption with a message naming the file, the offset and the problem, and the
// word "corrupt" or "checksum"; a format this build cannot read is kFailedPrecondition.

#include <cstdint>
#include <memory>
#include <string>

#include "dengine/status.h"
#include "log/file_system.h"
#include "tools/snapshot_file.h"

namespace dengine::tools {

struct SnapshotFileContents {
  uint32_t format_version = 0;
  SnapshotDescription description;
  uint64_t file_bytes = 0;
  uint32_t image_files = 0;
  uint64_t image_bytes = 0;
  std::string sha256;     // hex, verified
  std::string image_dir;  // where the image's files went: `<root>/image`
};

// `root` is created if missing (its parent must exist) and must not hold an `image` already.
// On an error, whatever was written under `root` is the caller's to remove.
Result<SnapshotFileContents> read_snapshot_file(const std::string& path,
                                                std::shared_ptr<log::FileSystem> fs,
                                                const std::string& root);

// Checks the whole file and writes nothing.
Result<SnapshotFileContents> verify_snapshot_file(const std::string& path);

}  // namespace dengine::tools
