#pragma once

// A file layer that remembers names and sizes but keeps no bytes: a SnapshotReceiver on it
// checks a whole chunk stream (order, counts, every checksum) without writing anything, which
// is how a saved snapshot is verified before a restore touches the disk.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "log/file_system.h"

namespace dengine::tools {

class DiscardingFileSystem final : public log::FileSystem {
 public:
  Result<std::unique_ptr<log::File>> create(const std::string& path) override;
  Result<std::unique_ptr<log::File>> open(const std::string& path,
                                          std::optional<uint64_t> position) override;
  Result<std::string> read_file(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Result<bool> create_dir(const std::string& dir) override;
  Status sync_dir(const std::string& dir) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status rename_dir(const std::string& from, const std::string& to) override;
  Status remove_dir(const std::string& dir) override;

 private:
  friend class DiscardedFile;
  void set_size(const std::string& path, uint64_t bytes);

  std::mutex mutex_;
  std::set<std::string> dirs_;
  std::map<std::string, uint64_t> files_;  // path -> bytes written
};

}  // namespace dengine::tools
