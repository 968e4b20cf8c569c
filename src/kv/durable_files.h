#pragma once

// Small POSIX helpers for the state machines' own files (the RocksDB store's ACTIVE pointer,
// the in-memory store's snapshot image). Each reports errors as Status naming the path.

#include <string>

#include "dengine/status.h"

namespace dengine::kv {

// Writes `content` to `dir`/`name` so that after a crash the file holds either its old
// content or all of `content`: a temporary file, fsync, rename over, fsync of `dir`.
Status write_file_atomically(const std::string& dir, const std::string& name,
                             const std::string& content);
Result<std::string> read_whole_file(const std::string& path);
Status sync_dir(const std::string& dir);
// Creates `dir` (its parent must exist) and fsyncs the parent; kInvalidArgument if it exists.
Status create_new_dir(const std::string& dir);
// Removes `path` and everything under it; missing is fine.
Status remove_tree(const std::string& path);
// Renames `from` to `to` and fsyncs the parent of `to` (both on one file system).
Status rename_durably(const std::string& from, const std::string& to);

}  // namespace dengine::kv
