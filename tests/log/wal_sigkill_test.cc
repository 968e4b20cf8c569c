// A real process appends and syncs on real files, reporting each durable index down a pipe;
// the parent SIGKILLs it at a seeded point and reopens the WAL. Every reported index must be
// there, intact. (A SIGKILL keeps the page cache, so this checks the process-crash path:
// recovery of whatever the dead process left, torn writes included. Lost unsynced bytes are
// the power-cut tests' job, on the fault-injecting layer.)
#include <cstdio>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dengine/log_store.h"
#include "tests/log/log_test_util.h"

namespace dengine::log {
namespace {

using testing::Rng;

constexpr WalOptions kOptions{.segment_bytes = 64 * 1024};
constexpr int kIterations = 20;

Entry expected_entry(Index index) {
  return testing::make_entry(index, 1 + index / 100, static_cast<size_t>((index * 7919) % 1500));
}

[[noreturn]] void run_child(const std::string& data_dir, int report_fd, uint64_t seed) {
  Result<OpenedLogStore> opened = open_wal_log_store(data_dir, kOptions);
  if (!opened) _exit(2);
  LogStore& store = *opened->store;
  Rng rng(seed);
  Index next = 1;
  while (next < 1'000'000) {
    const Index last = next + rng.range(0, 3);
    std::vector<Entry> batch;
    for (Index i = next; i <= last; ++i) batch.push_back(expected_entry(i));
    const HardState hard_state{.term = batch.back().term, .vote = 1, .commit = last - 1};
    if (!store.append(batch, hard_state)) _exit(3);
    if (!store.sync()) _exit(4);
    if (::write(report_fd, &last, sizeof(last)) != static_cast<ssize_t>(sizeof(last))) _exit(5);
    next = last + 1;
  }
  _exit(0);
}

bool read_index(int fd, Index& index) {
  size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(&index);
  while (got < sizeof(index)) {
    const ssize_t n = ::read(fd, bytes + got, sizeof(index) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

TEST(WalSigkill, EveryIndexReportedDurableSurvivesSigkill) {
  Rng rng(20260601);
  uint64_t reported_total = 0;
  uint64_t recovered_beyond_reported = 0;
  uint64_t torn_tails = 0;
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    testing::TempDir dir;
    const std::string data_dir = dir.path() + "/data";
    const uint64_t kill_after = rng.range(1, 120);
    const uint64_t child_seed = rng.next();
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      run_child(data_dir, fds[1], child_seed);
    }
    ::close(fds[1]);
    Index reported = 0;
    uint64_t reports = 0;
    Index index = 0;
    while (reports < kill_after && read_index(fds[0], index)) {
      reported = index;
      ++reports;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child stopped on its own: status " << status;
    while (read_index(fds[0], index)) {  // sent before it died
      reported = index;
      ++reports;
    }
    ::close(fds[0]);
    ASSERT_GT(reported, 0u);
    reported_total += reports;

    Result<OpenedLogStore> opened = open_wal_log_store(data_dir, kOptions);
    ASSERT_TRUE(opened.has_value())
        << "iteration " << iteration << ": " << opened.status().to_string();
    const RecoveredLog& recovered = opened->recovered;
    ASSERT_EQ(recovered.first_index, 1u);
    ASSERT_GE(recovered.last_index(), reported) << "iteration " << iteration;
    for (const Entry& entry : recovered.entries) {
      ASSERT_EQ(entry, expected_entry(entry.index)) << "iteration " << iteration;
    }
    ASSERT_LE(recovered.hard_state.commit, recovered.last_index());
    ASSERT_GE(recovered.hard_state.commit + 1, reported);  // the reported append's hard state
    recovered_beyond_reported += recovered.last_index() - reported;
    torn_tails += recovered.repairs.size();
  }
  std::printf(
      "wal sigkill: %d kills, %llu appends reported durable, all recovered; %llu more entries "
      "recovered past the last report; %llu repairs\n",
      kIterations, static_cast<unsigned long long>(reported_total),
      static_cast<unsigned long long>(recovered_beyond_reported),
      static_cast<unsigned long long>(torn_tails));
}

}  // namespace
}  // namespace dengine::log
