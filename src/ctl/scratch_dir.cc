#include "ctl/scratch_dir.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <stdlib.h>

namespace dengine::ctl {

Result<ScratchDir> ScratchDir::create(const std::string& prefix) {
  std::error_code error;
  const std::filesystem::path base = std::filesystem::temp_directory_path(error);
  if (error) return Status::io_error("no temporary directory: " + error.message());
  std::string pattern = (base / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::io_error("mkdtemp(" + pattern + "): " + std::strerror(errno));
  }
  return ScratchDir(std::move(pattern));
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace dengine::ctl
