#pragma once

// A private directory under the system's temporary directory ($TMPDIR or /tmp), removed with
// everything in it when the object goes.

#include <string>

#include "dengine/status.h"

namespace dengine::ctl {

class ScratchDir {
 public:
  static Result<ScratchDir> create(const std::string& prefix);
  ~ScratchDir();
  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchDir& operator=(ScratchDir&&) = delete;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace dengine::ctl
