#include "tools/discarding_file_system.h"

#include <algorithm>

namespace dengine::tools {

class DiscardedFile final : public log::File {
 public:
  DiscardedFile(DiscardingFileSystem& fs, std::string path, uint64_t size, uint64_t position)
      : fs_(fs), path_(std::move(path)), size_(size), position_(position) {}

  [[nodiscard]] const std::string& path() const override { return path_; }
  [[nodiscard]] uint64_t position() const override { return position_; }
  Status append(std::string_view data) override {
    position_ += data.size();
    size_ = std::max(size_, position_);
    fs_.set_size(path_, size_);
    return Status::ok();
  }
  [[nodiscard]] Result<std::string> read_at(uint64_t /*offset*/, size_t /*length*/) const override {
    return Status::failed_precondition("discarding file system: " + path_ + " keeps no bytes");
  }
  Status sync() override { return Status::ok(); }
  Status preallocate(uint64_t length) override {
    size_ = std::max(size_, length);
    fs_.set_size(path_, size_);
    return Status::ok();
  }
  Status truncate(uint64_t length) override {
    size_ = length;
    position_ = std::min(position_, length);
    fs_.set_size(path_, size_);
    return Status::ok();
  }
  [[nodiscard]] Result<uint64_t> size() const override { return size_; }

 private:
  DiscardingFileSystem& fs_;
  std::string path_;
  uint64_t size_;
  uint64_t position_;
};

namespace {

Status missing(std::string_view call, const std::string& path) {
  return Status::not_found(std::string(call) + "(" + path + "): no such file or directory");
}

}  // namespace

void DiscardingFileSystem::set_size(const std::string& path, uint64_t bytes) {
  std::lock_guard lock(mutex_);
  files_[path] = bytes;
}

Result<std::unique_ptr<log::File>> DiscardingFileSystem::create(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (!dirs_.contains(log::parent_dir(path))) return missing("create", path);
  files_[path] = 0;
  return std::unique_ptr<log::File>(std::make_unique<DiscardedFile>(*this, path, 0, 0));
}

Result<std::unique_ptr<log::File>> DiscardingFileSystem::open(const std::string& path,
                                                              std::optional<uint64_t> position) {
  std::lock_guard lock(mutex_);
  auto file = files_.find(path);
  if (file == files_.end()) return missing("open", path);
  return std::unique_ptr<log::File>(
      std::make_unique<DiscardedFile>(*this, path, file->second, position.value_or(file->second)));
}

Result<std::string> DiscardingFileSystem::read_file(const std::string& path) {
  return Status::failed_precondition("discarding file system: " + path + " keeps no bytes");
}

Result<std::vector<std::string>> DiscardingFileSystem::list_dir(const std::string& dir) {
  std::lock_guard lock(mutex_);
  if (!dirs_.contains(dir)) return missing("opendir", dir);
  std::set<std::string> names;
  for (const std::string& path : dirs_) {
    if (path != dir && log::parent_dir(path) == dir) names.emplace(log::base_name(path));
  }
  for (const auto& [path, bytes] : files_) {
    if (log::parent_dir(path) == dir) names.emplace(log::base_name(path));
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Result<bool> DiscardingFileSystem::create_dir(const std::string& dir) {
  std::lock_guard lock(mutex_);
  return dirs_.insert(dir).second;
}

Status DiscardingFileSystem::sync_dir(const std::string& /*dir*/) {
  return Status::ok();
}

Status DiscardingFileSystem::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mutex_);
  auto file = files_.find(from);
  if (file == files_.end()) return missing("rename", from);
  const uint64_t bytes = file->second;
  files_.erase(file);
  files_[to] = bytes;
  return Status::ok();
}

Status DiscardingFileSystem::remove(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (files_.erase(path) == 0) return missing("unlink", path);
  return Status::ok();
}

Status DiscardingFileSystem::rename_dir(const std::string& from, const std::string& to) {
  std::lock_guard lock(mutex_);
  if (!dirs_.contains(from)) return missing("rename", from);
  if (dirs_.contains(to)) return Status::failed_precondition("rename(" + to + "): exists");
  const std::string prefix = from + "/";
  std::map<std::string, uint64_t> moved;
  for (auto it = files_.begin(); it != files_.end();) {
    if (it->first.starts_with(prefix)) {
      moved[to + "/" + it->first.substr(prefix.size())] = it->second;
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  files_.merge(moved);
  dirs_.erase(from);
  dirs_.insert(to);
  return Status::ok();
}

Status DiscardingFileSystem::remove_dir(const std::string& dir) {
  std::lock_guard lock(mutex_);
  const std::string prefix = dir + "/";
  for (const auto& [path, bytes] : files_) {
    if (path.starts_with(prefix))
      return Status::failed_precondition("rmdir(" + dir + "): not empty");
  }
  if (dirs_.erase(dir) == 0) return missing("rmdir", dir);
  return Status::ok();
}

}  // namespace dengine::tools
