#include "tests/log/wal_test_util.h"

#include <algorithm>

namespace dengine::log::testing {

Result<RecoveredLog> WalDriver::open() {
  wal_.reset();
  Result<SegmentedWal::Opened> opened = SegmentedWal::open(fs_, data_dir_, options_);
  if (!opened) return opened.status();
  wal_ = std::move(opened->wal);
  return std::move(opened->recovered);
}

Status WalDriver::append(std::vector<Entry> entries, std::optional<HardState> hard_state) {
  Status st = wal_->append(entries, hard_state);
  if (st.code() == StatusCode::kInvalidArgument) return st;  // refused, nothing happened
  current_.append(entries, hard_state);
  unsynced_.push_back(Op{std::move(entries), hard_state});
  return st;
}

Status WalDriver::reset(Index snapshot_index, Term snapshot_term) {
  Status st = wal_->reset(snapshot_index, snapshot_term);
  if (st.code() == StatusCode::kInvalidArgument) return st;
  current_.reset(snapshot_index, snapshot_term);
  unsynced_.push_back(Op{{}, {}, std::make_pair(snapshot_index, snapshot_term)});
  return st;
}

Status WalDriver::sync() {
  Status st = wal_->sync();
  if (st) {
    durable_ = current_;
    unsynced_.clear();
  }
  return st;
}

std::string WalDriver::check_and_adopt(const RecoveredLog& recovered) {
  LogModel matched;
  std::string problem = check_prefix_of(durable_, unsynced_, recovered, &matched);
  if (!problem.empty()) return problem;
  current_ = matched;
  durable_ = matched;
  unsynced_.clear();
  return {};
}

std::string WalDriver::check_zeros_after_tail() const {
  const SegmentedWal::Position tail = wal_->tail();
  Result<std::string> bytes = fs_->read_file(join_path(wal_->wal_dir(), tail.file_name));
  if (!bytes) return bytes.status().to_string();
  for (size_t i = tail.offset; i < bytes->size(); ++i) {
    if ((*bytes)[i] != 0) {
      return "nonzero byte at offset " + std::to_string(i) + " of " + tail.file_name +
             " after the tail at " + std::to_string(tail.offset);
    }
  }
  return {};
}

Status WalDriver::random_append(Rng& rng, Term& term, uint64_t max_entry_bytes) {
  const Index last = current_.last_index();
  const Index lowest = std::max(wal_->first_index(), current_.hard_state.commit + 1);
  Index first = last + 1;
  if (last >= lowest && rng.chance(5)) first = rng.range(lowest, last);
  if (rng.chance(6)) ++term;
  const uint64_t count = rng.range(first <= last ? 1 : 0, 4);
  std::vector<Entry> entries;
  for (uint64_t i = 0; i < count; ++i) {
    const size_t size = rng.chance(8) ? rng.range(0, max_entry_bytes) : rng.range(0, 64);
    entries.push_back(make_entry(first + i, term, size));
  }
  std::optional<HardState> hard_state;
  if (rng.chance(2)) {
    const Index new_last = first + count - 1;
    const Index commit = rng.range(std::min(current_.hard_state.commit, new_last), new_last);
    hard_state = HardState{.term = term, .vote = rng.range(0, 3), .commit = commit};
  }
  return append(std::move(entries), hard_state);
}

std::map<std::string, std::string> snapshot_dir(FileSystem& fs, const std::string& dir) {
  std::map<std::string, std::string> files;
  Result<std::vector<std::string>> names = fs.list_dir(dir);
  EXPECT_TRUE(names.has_value());
  if (!names) return files;
  for (const std::string& name : *names) files[name] = *fs.read_file(join_path(dir, name));
  return files;
}

void restore_dir(FileSystem& fs, const std::string& dir,
                 const std::map<std::string, std::string>& files, bool sync) {
  ASSERT_TRUE(fs.create_dir(parent_dir(dir)).has_value());
  ASSERT_TRUE(fs.create_dir(dir).has_value());
  Result<std::vector<std::string>> names = fs.list_dir(dir);
  ASSERT_TRUE(names.has_value());
  for (const std::string& name : *names) ASSERT_TRUE(fs.remove(join_path(dir, name)));
  for (const auto& [name, bytes] : files) {
    Result<std::unique_ptr<File>> file = fs.create(join_path(dir, name));
    ASSERT_TRUE(file.has_value());
    ASSERT_TRUE((*file)->append(bytes));
    if (sync) {
      ASSERT_TRUE((*file)->sync());
    }
  }
  if (sync) {
    ASSERT_TRUE(fs.sync_dir(dir));
  }
}

}  // namespace dengine::log::testing
