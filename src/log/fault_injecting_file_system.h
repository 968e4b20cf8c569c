#pragma once

// An in-memory FileSystem that can lose power. Each file has two views: what was written
// (what reads see) and what is durable (what survives a power cut). sync() makes a file's
// written bytes durable; sync_dir() makes its directory's creates, renames and removes
// durable. power_cut() throws away everything else, the way a machine that loses power does:
//
//  * every byte not yet synced is dropped, except that, as options allow, a random prefix of
//    the unsynced bytes reaches the disk (writeback in order), or a random subset of the
//    unsynced pages (writeback out of order), and the page after the kept bytes is torn: a
//    random prefix of it is kept, possibly followed by garbage;
//  * directory operations not made durable by sync_dir() are forgotten (or, as options allow,
//    a random prefix of them survives, the way a metadata journal commits in order).
//
// Injected errors: the Nth file sync or directory sync fails; writes fail once a byte budget
// is spent (an EIO or ENOSPC part way through a write, with its prefix written); a capacity
// makes writes and preallocation beyond it fail with ENOSPC; every mutating call fails after
// N of them (a process that died at that point). All randomness comes from the seed.
//
// Thread-safe. Directories are durable as soon as they are created (a simplification: the WAL
// syncs the parent after mkdir, and nothing tests a lost directory); renaming or removing one
// is a directory operation of its parent like any other. A directory keeps its identity when
// renamed: sync_dir() under its new name makes durable the operations done in it under either
// name, and a power cut leaves them wherever the directory durably is. Renames stay inside one
// directory. Handles opened before a power cut fail afterwards, as the process that
// held them is gone.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "log/file_system.h"

namespace dengine::log {

struct PowerCutOptions {
  // Keep a random prefix of each file's unsynced bytes (else drop them all).
  bool keep_unsynced_prefix = true;
  // Instead: keep each unsynced page independently with probability 1/2.
  bool random_pages = false;
  // Tear the page after the kept bytes: keep a random prefix of it.
  bool tear_page = true;
  // After the torn prefix, write random garbage up to a random point of that page.
  bool garbage = true;
  // Keep a random prefix of the unsynced directory operations (else forget them all).
  bool keep_dir_ops_prefix = true;
};

class FaultInjectingFileSystem final : public FileSystem {
 public:
  static constexpr uint64_t kPageBytes = 4096;

  explicit FaultInjectingFileSystem(uint64_t seed);
  ~FaultInjectingFileSystem() override;

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

  // ---- crashes ----
  void power_cut(const PowerCutOptions& options = {});

  // ---- injected errors (counted from the call; 0 turns the fault off) ----
  // The nth file sync from now fails with `error` and makes nothing durable.
  void fail_nth_sync(uint64_t n, int error = 5 /* EIO */);
  void fail_nth_dir_sync(uint64_t n, int error = 5 /* EIO */);
  // Writes succeed for `bytes` more bytes; the write that crosses the budget writes what fits
  // and fails with `error`, and so does every later write.
  void fail_writes_after_bytes(uint64_t bytes, int error = 5 /* EIO */);
  // Writes and preallocation that would make the files' total size exceed `bytes` fail with
  // ENOSPC (a write keeps the part that fits).
  void set_capacity_bytes(uint64_t bytes);
  // The nth mutating call from now and every one after it fail, as if the process had died
  // there (append, sync, preallocate, truncate, create, rename, remove, sync_dir, rename_dir,
  // remove_dir).
  void crash_after_ops(uint64_t n);
  void clear_faults();
  // Runs at the start of every file sync, outside the file system's lock (tests use it to hold
  // a sync in flight).
  void set_sync_hook(std::function<void(const std::string& path)> hook);

  // ---- inspection and damage (tests) ----
  [[nodiscard]] uint64_t file_sync_count() const;
  [[nodiscard]] uint64_t dir_sync_count() const;
  [[nodiscard]] uint64_t mutating_op_count() const;
  // Applies `mutate` to both views of the file, as if the disk had changed under it.
  Status damage(const std::string& path, const std::function<void(std::string&)>& mutate);
  [[nodiscard]] bool exists(const std::string& path) const;
  [[nodiscard]] bool dir_exists(const std::string& path) const;

 private:
  class FaultFile;
  struct Inode {
    std::string written;
    std::string durable;
  };
  using DirId = uint64_t;  // a directory's identity, kept across renames; 0: not a known one
  enum class DirOpKind : uint8_t { kLink, kUnlink, kRename, kRenameDir, kRemoveDir };
  struct DirOp {
    DirOpKind kind;
    std::string path;
    std::string to{};                        // kRename and kRenameDir
    std::shared_ptr<Inode> inode = nullptr;  // kLink and kRename
    DirId dir = 0;    // the directory whose entries change (0: top level, known by its path)
    DirId child = 0;  // kRenameDir and kRemoveDir: the directory renamed or removed
  };

  // All with mu_ held.
  Status check_alive(uint64_t generation) const;
  Status count_mutation(std::string_view call, const std::string& path);
  uint64_t total_written_bytes() const;
  Status file_append(Inode& inode, const std::string& path, uint64_t& position,
                     std::string_view data);
  Status file_sync(Inode& inode, const std::string& path);
  Status file_preallocate(Inode& inode, const std::string& path, uint64_t length);
  DirId dir_id(const std::string& dir) const;  // 0 when not a known directory
  // Where a power cut would leave the directory `dir`; nullopt once it is durably gone.
  std::optional<std::string> durable_dir_path(DirId dir) const;
  // The durable path of the entry `path` names, in the directory `dir` (see DirOp).
  std::optional<std::string> durable_entry_path(DirId dir, const std::string& path) const;
  void apply_durably(const DirOp& op);
  std::string cut_contents(const Inode& inode, const PowerCutOptions& options);
  uint64_t random(uint64_t bound);  // uniform in [0, bound)

  mutable std::mutex mu_;
  uint64_t rng_state_;
  uint64_t generation_ = 1;  // bumped by power_cut; older handles are dead
  DirId next_dir_id_ = 1;
  std::map<std::string, DirId> dirs_;                            // what the process sees
  std::map<std::string, DirId> durable_dirs_;                    // what a power cut keeps
  std::map<std::string, std::shared_ptr<Inode>> files_;          // what the process sees
  std::map<std::string, std::shared_ptr<Inode>> durable_files_;  // what a power cut keeps
  std::vector<DirOp> pending_dir_ops_;                           // not yet made durable

  uint64_t syncs_ = 0;
  uint64_t dir_syncs_ = 0;
  uint64_t mutations_ = 0;
  uint64_t fail_sync_at_ = 0;
  int fail_sync_error_ = 0;
  uint64_t fail_dir_sync_at_ = 0;
  int fail_dir_sync_error_ = 0;
  bool write_budget_set_ = false;
  uint64_t write_budget_ = 0;
  int write_error_ = 0;
  bool capacity_set_ = false;
  uint64_t capacity_ = 0;
  uint64_t crash_at_op_ = 0;
  std::function<void(const std::string&)> sync_hook_;
};

}  // namespace dengine::log
