#pragma once

// The file layer under the WAL. PosixFileSystem works on real files; FaultInjectingFileSystem
// keeps files in memory and can cut the power or fail calls. The WAL only talks to this
// interface, so every crash test runs the production code paths (docs/architecture.md §9: crash
// tests on real files cannot see a missing fdatasync, because the page cache survives a SIGKILL).
//
// Paths are plain strings joined with '/'. Errors name the call and the path.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dengine/status.h"

namespace dengine::log {

// An open file. Writes go to position() and advance it. Nothing else moves it: in a
// preallocated file the end of the data is well before the end of the file.
//
// Thread-safety: one thread writes (append, preallocate, truncate) at a time; read_at() and
// sync() may run concurrently with it (the WAL's sync leader runs fdatasync while other
// threads append).
class File {
 public:
  virtual ~File() = default;
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  [[nodiscard]] virtual const std::string& path() const = 0;
  [[nodiscard]] virtual uint64_t position() const = 0;

  // Writes all of `data` at position(). On error an unknown prefix of it may be in the file.
  virtual Status append(std::string_view data) = 0;
  // Up to `length` bytes at `offset`; fewer only at the end of the file.
  [[nodiscard]] virtual Result<std::string> read_at(uint64_t offset, size_t length) const = 0;
  // fdatasync: the data written so far, and the file size, survive a power cut.
  virtual Status sync() = 0;
  // Makes the file at least `length` bytes long with the space allocated; new bytes read as
  // zeros. Writes into allocated space need no allocation at fdatasync time.
  virtual Status preallocate(uint64_t length) = 0;
  // Cuts the file to `length` bytes; position() moves back to `length` if it was beyond.
  virtual Status truncate(uint64_t length) = 0;
  [[nodiscard]] virtual Result<uint64_t> size() const = 0;
};

// Directory entries (create, rename, remove) survive a power cut only once sync_dir() of
// their directory returned.
class FileSystem {
 public:
  virtual ~FileSystem() = default;
  FileSystem() = default;
  FileSystem(const FileSystem&) = delete;
  FileSystem& operator=(const FileSystem&) = delete;

  // Creates `path`, or empties it if it exists; position() is 0.
  virtual Result<std::unique_ptr<File>> create(const std::string& path) = 0;
  // Opens an existing file for reading and writing; position() starts at `position`, or at
  // the end of the file when it is not given.
  virtual Result<std::unique_ptr<File>> open(const std::string& path,
                                             std::optional<uint64_t> position) = 0;
  [[nodiscard]] virtual Result<std::string> read_file(const std::string& path) = 0;
  // Names (not paths) of the entries in `dir`, files and directories, sorted.
  [[nodiscard]] virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  // Creates `dir` if missing (its parent must exist); true when it was created.
  virtual Result<bool> create_dir(const std::string& dir) = 0;
  virtual Status sync_dir(const std::string& dir) = 0;
  // Atomically replaces `to` if it exists. Both in the same directory.
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;
  // Atomically renames the directory `from`, with everything in it, to `to`, which must not
  // exist (EEXIST otherwise: an installed directory is never replaced by accident). Both in the
  // same directory; durable once sync_dir() of that directory returned.
  virtual Status rename_dir(const std::string& from, const std::string& to) = 0;
  // Removes the empty directory `dir` (ENOTEMPTY otherwise).
  virtual Status remove_dir(const std::string& dir) = 0;
};

std::string join_path(std::string_view dir, std::string_view name);
// "a/b/c" -> "a/b"; "c" -> "."; "/c" -> "/".
std::string parent_dir(std::string_view path);
// "a/b/c" -> "c".
std::string_view base_name(std::string_view path);

}  // namespace dengine::log
