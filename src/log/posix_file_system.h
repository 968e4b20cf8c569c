#pragma once

#include <memory>

#include "log/file_system.h"

namespace dengine::log {

// Real files: pwrite at the tracked position, fdatasync, fallocate, fsync of the directory.
class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> create(const std::string& path) override;
  Result<std::unique_ptr<File>> open(const std::string& path,
                                     std::optional<uint64_t> position) override;
  Result<std::string> read_file(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Result<bool> create_dir(const std::string& dir) override;
  Status sync_dir(const std::string& dir) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status rename_dir(const std::string& from, const std::string& to) override;
  Status remove_dir(const std::string& dir) override;
};

// A Status for a failed system call: "fdatasync(/data/wal/0000000000000001.wal): Input/output
// error (errno 5)". ENOSPC and EDQUOT become kResourceExhausted, everything else kIoError.
Status errno_status(std::string_view call, std::string_view path, int error);

}  // namespace dengine::log
