// Damage to a synced WAL: bit flips, zeroed or garbage ranges and truncated files at random
// offsets. Every case must either recover exactly a prefix of what was written, losing synced
// data only when the damage reaches the last synced batch (where it cannot be told from a
// torn write), or refuse to open with kCorruption, "corrupt" or "checksum" and the damaged
// file's name in the message. Never a crash, a hang or wrong data.
#include <cstdio>

#include <gtest/gtest.h>

#include "log/posix_file_system.h"
#include "log/segment.h"
#include "tests/log/wal_test_util.h"

namespace dengine::log {
namespace {

using testing::Rng;
using testing::WalDriver;

constexpr WalOptions kOptions{.segment_bytes = 4096};
constexpr int kBatches = 40;

// A WAL written in synced batches, as files.
struct Pristine {
  std::map<std::string, std::string> files;
  std::vector<testing::Op> ops;
  testing::LogModel final_state;
  std::string last_segment;
  uint64_t last_batch_start = 0;  // in last_segment
};

Pristine build(const std::shared_ptr<FileSystem>& fs, const std::string& data_dir, uint64_t seed) {
  Pristine pristine;
  WalDriver driver(fs, kOptions, data_dir);
  EXPECT_TRUE(driver.open().has_value());
  Rng rng(seed);
  Term term = 1;
  for (int batch = 0; batch < kBatches; ++batch) {
    const SegmentedWal::Position before = driver.wal().tail();
    Status st;
    do {
      st = driver.random_append(rng, term, 1000);
    } while (driver.unsynced().back().entries.empty());  // every batch carries entries
    EXPECT_TRUE(st) << st.to_string();
    pristine.ops.insert(pristine.ops.end(), driver.unsynced().begin(), driver.unsynced().end());
    EXPECT_TRUE(driver.sync());
    const SegmentedWal::Position after = driver.wal().tail();
    pristine.last_segment = after.file_name;
    pristine.last_batch_start =
        after.file_name == before.file_name ? before.offset : kSegmentInitialBytes;
  }
  pristine.final_state = driver.current();
  const std::string wal_dir = driver.wal().wal_dir();
  driver.close();
  pristine.files = testing::snapshot_dir(*fs, wal_dir);
  return pristine;
}

struct Damage {
  std::string file;
  uint64_t offset = 0;
  uint64_t end = 0;  // UINT64_MAX for a truncation
  std::string what;
};

Damage damage(Rng& rng, std::map<std::string, std::string>& files) {
  auto it = files.begin();
  std::advance(it, static_cast<ptrdiff_t>(rng.uniform(files.size())));
  std::string& bytes = it->second;
  size_t data_end = bytes.size();
  while (data_end > 0 && bytes[data_end - 1] == 0) --data_end;
  Damage d;
  d.file = it->first;
  d.offset = rng.chance(6) ? rng.uniform(bytes.size()) : rng.uniform(std::max<size_t>(data_end, 1));
  const uint64_t length = rng.range(1, rng.chance(4) ? 4096 : 64);
  d.end = std::min<uint64_t>(d.offset + length, bytes.size());
  switch (rng.uniform(4)) {
    case 0:
      bytes[d.offset] = static_cast<char>(bytes[d.offset] ^ rng.range(1, 255));
      d.end = d.offset + 1;
      d.what = "bit flip";
      break;
    case 1:
      std::fill(bytes.begin() + static_cast<ptrdiff_t>(d.offset),
                bytes.begin() + static_cast<ptrdiff_t>(d.end), '\0');
      d.what = "zeroed range";
      break;
    case 2:
      for (uint64_t i = d.offset; i < d.end; ++i) bytes[i] = static_cast<char>(rng.uniform(256));
      d.what = "garbage range";
      break;
    default:
      bytes.resize(d.offset);
      d.end = UINT64_MAX;
      d.what = "truncated file";
      break;
  }
  return d;
}

struct Outcomes {
  int cases = 0;
  int refused = 0;
  int recovered_all = 0;
  int recovered_prefix = 0;  // damage in the last synced batch, treated as a torn write
  int failures = 0;
};

// Damages a copy of `pristine`, reopens, and classifies the outcome.
void run_case(const Pristine& pristine, const std::shared_ptr<FileSystem>& fs,
              const std::string& data_dir, bool sync_restore, Rng& rng, Outcomes& outcomes) {
  std::map<std::string, std::string> files = pristine.files;
  const Damage d = damage(rng, files);
  const std::string wal_dir = join_path(data_dir, "wal");
  testing::restore_dir(*fs, wal_dir, files, sync_restore);
  const std::string where = d.what + " in " + d.file + " at offset " + std::to_string(d.offset);
  ++outcomes.cases;

  WalDriver driver(fs, kOptions, data_dir);
  Result<RecoveredLog> recovered = driver.open();
  if (!recovered) {
    const Status status = recovered.status();
    const std::string& message = status.message();
    const bool named = message.find(d.file) != std::string::npos;
    const bool says = message.find("corrupt") != std::string::npos ||
                      message.find("checksum") != std::string::npos;
    if (status.code() == StatusCode::kCorruption && named && says) {
      ++outcomes.refused;
    } else {
      ++outcomes.failures;
      ADD_FAILURE() << where << ": unexpected error " << status.to_string();
    }
    return;
  }
  const std::string problem =
      testing::check_prefix_of(testing::LogModel{}, pristine.ops, *recovered);
  if (!problem.empty()) {
    ++outcomes.failures;
    ADD_FAILURE() << where << ": wrong data: " << problem;
    return;
  }
  if (testing::mismatch(pristine.final_state, *recovered).empty()) {
    ++outcomes.recovered_all;
  } else if (d.file == pristine.last_segment && d.end > pristine.last_batch_start) {
    ++outcomes.recovered_prefix;
  } else {
    ++outcomes.failures;
    ADD_FAILURE() << where << ": lost synced entries (recovered up to " << recovered->last_index()
                  << " of " << pristine.final_state.last_index()
                  << ") though the damage is before the last batch at " << pristine.last_batch_start
                  << " of " << pristine.last_segment;
    return;
  }
  // The recovered WAL works: a new entry survives a reopen.
  const Index next = recovered->last_index() + 1;
  Status st = driver.wal().append(std::vector<Entry>{testing::make_entry(next, 99, 50)}, {});
  if (st) st = driver.wal().sync();
  driver.close();
  Result<RecoveredLog> again = driver.open();
  if (!st || !again || again->last_index() != next) {
    ++outcomes.failures;
    ADD_FAILURE() << where << ": the recovered WAL did not keep a new entry: " << st.to_string()
                  << " " << again.status().to_string();
  }
}

void report(const char* name, const Outcomes& o) {
  std::printf(
      "wal corruption (%s): %d cases: %d refused as corrupt, %d recovered everything, %d "
      "recovered a durable prefix (damage in the last synced batch), %d wrong\n",
      name, o.cases, o.refused, o.recovered_all, o.recovered_prefix, o.failures);
  ::testing::Test::RecordProperty("cases", o.cases);
  ::testing::Test::RecordProperty("refused", o.refused);
  ::testing::Test::RecordProperty("recovered_all", o.recovered_all);
  ::testing::Test::RecordProperty("recovered_prefix", o.recovered_prefix);
}

TEST(WalCorruption, RandomDamageOnTheFaultLayerIsRefusedOrRecoveredExactly) {
  Outcomes outcomes;
  for (uint64_t wal_seed = 1; wal_seed <= 8 && outcomes.failures < 5; ++wal_seed) {
    const Pristine pristine =
        build(std::make_shared<FaultInjectingFileSystem>(wal_seed), testing::kDataDir, wal_seed);
    ASSERT_GE(pristine.files.size(), 2u);
    Rng rng(wal_seed * 1000);
    for (int i = 0; i < 250 && outcomes.failures < 5; ++i) {
      run_case(pristine, std::make_shared<FaultInjectingFileSystem>(i), testing::kDataDir, true,
               rng, outcomes);
    }
  }
  report("fault fs", outcomes);
  EXPECT_EQ(outcomes.failures, 0);
  EXPECT_GT(outcomes.refused, outcomes.cases / 4);
  EXPECT_GT(outcomes.recovered_prefix, 0);
}

TEST(WalCorruption, RandomDamageToRealFilesIsRefusedOrRecoveredExactly) {
  testing::TempDir dir;
  auto fs = std::make_shared<PosixFileSystem>();
  const std::string data_dir = dir.path() + "/data";
  const Pristine pristine = build(fs, data_dir, 77);
  ASSERT_GE(pristine.files.size(), 2u);
  Outcomes outcomes;
  Rng rng(4242);
  for (int i = 0; i < 200 && outcomes.failures < 5; ++i) {
    run_case(pristine, fs, data_dir, false, rng, outcomes);
  }
  report("real files", outcomes);
  EXPECT_EQ(outcomes.failures, 0);
  EXPECT_GT(outcomes.refused, outcomes.cases / 4);
}

}  // namespace
}  // namespace dengine::log
