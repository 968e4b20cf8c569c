#include "log/posix_file_system.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dengine::log {

Status errno_status(std::string_view call, std::string_view path, int error) {
  std::string message(call);
  message += "(";
  message += path;
  message += "): ";
  // std::error_code's message is thread-safe, unlike strerror().
  message += std::error_code(error, std::generic_category()).message();
  message += " (errno " + std::to_string(error) + ")";
  if (error == ENOSPC || error == EDQUOT) return Status::resource_exhausted(std::move(message));
  return Status::io_error(std::move(message));
}

namespace {

class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd, uint64_t position)
      : path_(std::move(path)), fd_(fd), position_(position) {}
  ~PosixFile() override { ::close(fd_); }

  const std::string& path() const override { return path_; }
  uint64_t position() const override { return position_; }
  void set_position(uint64_t position) { position_ = position; }

  Status append(std::string_view data) override {
    while (!data.empty()) {
      const ssize_t written =
          ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(position_));
      if (written < 0) {
        if (errno == EINTR) continue;
        return errno_status("pwrite", path_, errno);
      }
      position_ += static_cast<uint64_t>(written);
      data.remove_prefix(static_cast<size_t>(written));
    }
    return Status::ok();
  }

  Result<std::string> read_at(uint64_t offset, size_t length) const override {
    std::string out(length, '\0');
    size_t done = 0;
    while (done < length) {
      const ssize_t got =
          ::pread(fd_, out.data() + done, length - done, static_cast<off_t>(offset + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        return errno_status("pread", path_, errno);
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    out.resize(done);
    return out;
  }

  Status sync() override {
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return errno_status("fdatasync", path_, errno);
    }
    return Status::ok();
  }

  Status preallocate(uint64_t length) override {
    if (::fallocate(fd_, 0, 0, static_cast<off_t>(length)) == 0) return Status::ok();
    const int error = errno;
    if (error != EOPNOTSUPP && error != ENOSYS) return errno_status("fallocate", path_, error);
    // Filesystems without fallocate: glibc writes the zeros itself.
    const int result = ::posix_fallocate(fd_, 0, static_cast<off_t>(length));
    if (result != 0) return errno_status("posix_fallocate", path_, result);
    return Status::ok();
  }

  Status truncate(uint64_t length) override {
    while (::ftruncate(fd_, static_cast<off_t>(length)) != 0) {
      if (errno != EINTR) return errno_status("ftruncate", path_, errno);
    }
    position_ = std::min(position_, length);
    return Status::ok();
  }

  Result<uint64_t> size() const override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return errno_status("fstat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  std::string path_;
  int fd_;
  uint64_t position_;
};

Result<int> open_fd(const std::string& path, int flags) {
  while (true) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd >= 0) return fd;
    if (errno != EINTR) return errno_status("open", path, errno);
  }
}

}  // namespace

Result<std::unique_ptr<File>> PosixFileSystem::create(const std::string& path) {
  Result<int> fd = open_fd(path, O_RDWR | O_CREAT | O_TRUNC);
  if (!fd) return fd.status();
  return std::unique_ptr<File>(std::make_unique<PosixFile>(path, *fd, 0));
}

Result<std::unique_ptr<File>> PosixFileSystem::open(const std::string& path,
                                                    std::optional<uint64_t> position) {
  Result<int> fd = open_fd(path, O_RDWR);
  if (!fd) return fd.status();
  auto file = std::make_unique<PosixFile>(path, *fd, 0);
  uint64_t start = 0;
  if (position) {
    start = *position;
  } else {
    Result<uint64_t> size = file->size();
    if (!size) return size.status();
    start = *size;
  }
  file->set_position(start);
  return std::unique_ptr<File>(std::move(file));
}

Result<std::string> PosixFileSystem::read_file(const std::string& path) {
  Result<int> fd = open_fd(path, O_RDONLY);
  if (!fd) return fd.status();
  PosixFile file(path, *fd, 0);
  Result<uint64_t> size = file.size();
  if (!size) return size.status();
  return file.read_at(0, static_cast<size_t>(*size));
}

Result<std::vector<std::string>> PosixFileSystem::list_dir(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return errno_status("opendir", dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(handle)) {
    const std::string_view name(entry->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int error = errno;
  ::closedir(handle);
  if (error != 0) return errno_status("readdir", dir, error);
  std::sort(names.begin(), names.end());
  return names;
}

Result<bool> PosixFileSystem::create_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) return true;
  if (errno != EEXIST) return errno_status("mkdir", dir, errno);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return errno_status("stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) return errno_status("mkdir", dir, ENOTDIR);
  return false;
}

Status PosixFileSystem::sync_dir(const std::string& dir) {
  Result<int> fd = open_fd(dir, O_RDONLY | O_DIRECTORY);
  if (!fd) return fd.status();
  FdGuard guard(*fd);
  while (::fsync(guard.get()) != 0) {
    if (errno != EINTR) return errno_status("fsync", dir, errno);
  }
  return Status::ok();
}

Status PosixFileSystem::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return errno_status("rename", from + " -> " + to, errno);
  return Status::ok();
}

Status PosixFileSystem::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return errno_status("unlink", path, errno);
  return Status::ok();
}

Status PosixFileSystem::rename_dir(const std::string& from, const std::string& to) {
  struct stat st {};
  if (::stat(from.c_str(), &st) != 0) return errno_status("stat", from, errno);
  if (!S_ISDIR(st.st_mode)) return errno_status("rename", from + " -> " + to, ENOTDIR);
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return Status::ok();
  }
  const int error = errno;
  if (error != EINVAL && error != ENOSYS) return errno_status("rename", from + " -> " + to, error);
  // A file system without RENAME_NOREPLACE: check, then rename. The check races with another
  // process creating `to`, which nothing in dengine does.
  if (::lstat(to.c_str(), &st) == 0) return errno_status("rename", from + " -> " + to, EEXIST);
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return errno_status("rename", from + " -> " + to, errno);
  }
  return Status::ok();
}

Status PosixFileSystem::remove_dir(const std::string& dir) {
  if (::rmdir(dir.c_str()) != 0) return errno_status("rmdir", dir, errno);
  return Status::ok();
}

std::string join_path(std::string_view dir, std::string_view name) {
  std::string path(dir);
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

std::string parent_dir(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string_view base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace dengine::log
