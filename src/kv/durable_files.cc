#include "kv/durable_files.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "log/posix_file_system.h"

namespace dengine::kv {
namespace {

// The WAL's file layer: the same system calls, retries and error messages.
log::PosixFileSystem& posix() {
  static log::PosixFileSystem file_system;
  return file_system;
}

std::string parent_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

Status sync_dir(const std::string& dir) {
  return posix().sync_dir(dir);
}

Status write_file_atomically(const std::string& dir, const std::string& name,
                             const std::string& content) {
  const std::string path = dir + "/" + name;
  const std::string temporary = path + ".tmp";
  {
    Result<std::unique_ptr<log::File>> file = posix().create(temporary);
    if (!file) return file.status();
    if (Status written = (*file)->append(content); !written) return written;
    if (Status synced = (*file)->sync(); !synced) return synced;
  }
  if (Status renamed = posix().rename(temporary, path); !renamed) return renamed;
  return posix().sync_dir(dir);
}

Result<std::string> read_whole_file(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error) && !error) {
    return Status::not_found("kv: " + path + " does not exist");
  }
  return posix().read_file(path);
}

Status create_new_dir(const std::string& dir) {
  Result<bool> created = posix().create_dir(dir);
  if (!created) return created.status();
  if (!*created) return Status::invalid_argument("kv: " + dir + " already exists");
  return posix().sync_dir(parent_of(dir));
}

Status remove_tree(const std::string& path) {
  std::error_code error;
  std::filesystem::remove_all(path, error);
  if (error) return Status::io_error("kv: remove " + path + ": " + error.message());
  return Status::ok();
}

// FileSystem::rename stays inside one directory; a snapshot image moves between two.
Status rename_durably(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    return log::errno_status("rename", from + " -> " + to, errno);
  }
  return posix().sync_dir(parent_of(to));
}

}  // namespace dengine::kv
