#pragma once

// Helpers for the WAL tests that crash, damage and reopen a SegmentedWal.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "log/fault_injecting_file_system.h"
#include "log/segmented_wal.h"
#include "tests/log/log_test_util.h"

namespace dengine::log::testing {

inline constexpr char kDataDir[] = "/data";
inline constexpr char kWalDir[] = "/data/wal";

// Drives a WAL and keeps the model: what was synced, and what was appended since.
class WalDriver {
 public:
  WalDriver(std::shared_ptr<FileSystem> fs, WalOptions options, std::string data_dir = kDataDir)
      : fs_(std::move(fs)), options_(options), data_dir_(std::move(data_dir)) {}

  // Opens (or reopens) the WAL; returns recovery's result.
  Result<RecoveredLog> open();
  void close() { wal_.reset(); }

  // An I/O failure keeps the append among the unsynced ones: part of it may be on disk.
  Status append(std::vector<Entry> entries, std::optional<HardState> hard_state);
  Status sync();
  Status compact(Index up_to_index) { return wal_->compact(up_to_index); }
  Status reset(Index snapshot_index, Term snapshot_term);

  // After a crash and a successful reopen: is what recovery found allowed? Then the models
  // continue from it.
  [[nodiscard]] std::string check_and_adopt(const RecoveredLog& recovered);

  // The bytes after the WAL's tail must all be zero (no garbage left behind).
  [[nodiscard]] std::string check_zeros_after_tail() const;

  SegmentedWal& wal() { return *wal_; }
  [[nodiscard]] const LogModel& current() const { return current_; }
  [[nodiscard]] const LogModel& durable() const { return durable_; }
  [[nodiscard]] const std::vector<Op>& unsynced() const { return unsynced_; }

  // A random valid append for `rng`: mostly at the end, sometimes overwriting a suffix.
  Status random_append(Rng& rng, Term& term, uint64_t max_entry_bytes);

 private:
  std::shared_ptr<FileSystem> fs_;
  WalOptions options_;
  std::string data_dir_;
  std::unique_ptr<SegmentedWal> wal_;
  LogModel current_;
  LogModel durable_;
  std::vector<Op> unsynced_;
};

// Every file of `dir`, name -> bytes.
std::map<std::string, std::string> snapshot_dir(FileSystem& fs, const std::string& dir);
// Replaces the files of `dir` (created if missing) with `files`; durably when `sync`.
void restore_dir(FileSystem& fs, const std::string& dir,
                 const std::map<std::string, std::string>& files, bool sync = true);

}  // namespace dengine::log::testing
