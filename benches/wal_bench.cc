// The segmented WAL on a real disk: append+sync throughput and latency with 1, 8 and 64
// concurrent appenders, next to the raw write+fdatasync floor of the same disk in the same run.
//
// Each appender loops: take the next index, append one 256-byte entry, sync() (returns once
// durable). With one appender every record pays a whole fdatasync; with many, appenders that
// arrive while a sync runs share the next one (group commit). Counters: records/s
// (items_per_second), bytes_per_second, p50/p99 latency of append+sync in microseconds, and
// records per fdatasync. Files go to a fresh directory under $DENGINE_BENCH_DIR (default /tmp).
//
// Two kinds of appender: BM_WalAppendSync gives each its own thread blocked in sync();
// BM_WalAppendAsync keeps them all in flight as callbacks of sync_async(), the way an event
// loop (or the runtime's WAL worker) would, so no appender costs a sleeping thread.
//
//   ./build/benches/wal_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include "benches/bench_support.h"
#include "log/posix_file_system.h"
#include "log/record.h"
#include "log/segmented_wal.h"

namespace {

using dengine::bench::BenchDir;
using dengine::bench::percentile;
using Clock = std::chrono::steady_clock;

constexpr size_t kEntryBytes = 256;
constexpr uint64_t kSegmentBytes = 64ULL << 20;

void report(benchmark::State& state, uint64_t records, std::vector<double>& micros) {
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.SetBytesProcessed(static_cast<int64_t>(records * kEntryBytes));
  state.counters["p50_us"] = percentile(micros, 0.50);
  state.counters["p99_us"] = percentile(micros, 0.99);
}

// A fresh WAL in `dir` with the benchmark's segment size; nullptr (and the run skipped) when it
// cannot be opened.
std::unique_ptr<dengine::log::SegmentedWal> open_wal(benchmark::State& state, const BenchDir& dir) {
  auto opened = dengine::log::SegmentedWal::open(
      std::make_shared<dengine::log::PosixFileSystem>(), dir.path(),
      dengine::WalOptions{.segment_bytes = kSegmentBytes});
  if (!opened) {
    state.SkipWithError(opened.status().message().c_str());
    return nullptr;
  }
  return std::move(opened->wal);
}

// Every appender's latencies together, and how many records each fdatasync covered.
void report_appenders(benchmark::State& state, const std::vector<std::vector<double>>& micros,
                      uint64_t fdatasyncs) {
  std::vector<double> all;
  for (const auto& mine : micros) all.insert(all.end(), mine.begin(), mine.end());
  report(state, all.size(), all);
  state.counters["records_per_fdatasync"] =
      static_cast<double>(all.size()) / static_cast<double>(fdatasyncs);
}

// The floor: one record-sized pwrite, then fdatasync, per record — what the WAL does for a
// single appender, minus the WAL. The file: 0 = appended to (each fdatasync also commits the
// new size), 1 = preallocated with fallocate like WAL segments (on ext4 the first write to an
// unwritten extent still commits its conversion), 2 = zero-filled and synced beforehand (pure
// overwrites: fdatasync has only data to flush).
void BM_RawWriteFdatasync(benchmark::State& state) {
  const int64_t file = state.range(0);
  BenchDir dir("wal-bench");
  const std::string path = dir.path() + "/raw";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    state.SkipWithError("open failed");
    return;
  }
  constexpr uint64_t kFileBytes = 16ULL << 20;
  if (file == 1 && ::fallocate(fd, 0, 0, static_cast<off_t>(kFileBytes)) != 0) {
    state.SkipWithError("fallocate failed");
  }
  if (file == 2) {
    const std::string zeros(1 << 20, '\0');
    for (uint64_t done = 0; done < kFileBytes; done += zeros.size()) {
      if (::pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(done)) !=
          static_cast<ssize_t>(zeros.size())) {
        state.SkipWithError("zero fill failed");
      }
    }
    if (::fsync(fd) != 0) state.SkipWithError("fsync failed");
  }
  const std::string record(dengine::log::framed_entry_bytes(kEntryBytes), 'r');
  uint64_t offset = 0;
  std::vector<double> micros;
  for (auto _ : state) {
    const auto start = Clock::now();
    if (::pwrite(fd, record.data(), record.size(), static_cast<off_t>(offset)) !=
            static_cast<ssize_t>(record.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    offset = (offset + record.size()) % (kFileBytes - record.size());
  }
  ::close(fd);
  report(state, micros.size(), micros);
}
BENCHMARK(BM_RawWriteFdatasync)->ArgName("file")->Arg(0)->Arg(1)->Arg(2)->UseRealTime();

// `appenders` threads, each doing `records_per_appender` append+sync of one entry.
void BM_WalAppendSync(benchmark::State& state) {
  const auto appenders = static_cast<int>(state.range(0));
  const int records_per_appender = std::max(100, 2000 / appenders);
  for (auto _ : state) {
    state.PauseTiming();
    BenchDir dir("wal-bench");
    std::unique_ptr<dengine::log::SegmentedWal> opened = open_wal(state, dir);
    if (opened == nullptr) return;
    dengine::log::SegmentedWal& wal = *opened;
    const dengine::log::WalStats before = wal.stats();
    std::mutex index_mu;  // indexes are taken in append order, as a Raft leader would
    dengine::Index next = 1;
    std::vector<std::vector<double>> micros(static_cast<size_t>(appenders));
    std::vector<std::thread> threads;
    bool failed = false;
    state.ResumeTiming();

    for (int t = 0; t < appenders; ++t) {
      threads.emplace_back([&, t] {
        std::vector<double>& mine = micros[static_cast<size_t>(t)];
        mine.reserve(static_cast<size_t>(records_per_appender));
        dengine::Entry entry;
        entry.term = 1;
        entry.data.assign(kEntryBytes, 'e');
        for (int r = 0; r < records_per_appender; ++r) {
          const auto start = Clock::now();
          bool ok = false;
          {
            std::lock_guard lock(index_mu);
            entry.index = next++;
            ok = wal.append(std::span<const dengine::Entry>(&entry, 1), std::nullopt).is_ok();
          }
          ok = ok && wal.sync().is_ok();
          if (!ok) {
            std::lock_guard lock(index_mu);
            failed = true;
            return;
          }
          mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        }
      });
    }
    for (std::thread& thread : threads) thread.join();

    state.PauseTiming();
    if (failed) {
      state.SkipWithError("append or sync failed");
      return;
    }
    report_appenders(state, micros, wal.stats().fdatasyncs - before.fdatasyncs);
    opened.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_WalAppendSync)
    ->ArgName("appenders")
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// One appender of BM_WalAppendAsync: append one entry, sync_async(), and from the callback
// append the next, `records` times.
class AsyncAppender {
 public:
  struct Shared {
    dengine::log::SegmentedWal* wal = nullptr;
    std::mutex index_mu;  // indexes are taken in append order, as a Raft leader would
    dengine::Index next = 1;
    bool failed = false;  // guarded by index_mu
    std::latch* finished = nullptr;
  };

  AsyncAppender(Shared& shared, int records) : shared_(shared), remaining_(records) {
    entry_.term = 1;
    entry_.data.assign(kEntryBytes, 'e');
    micros_.reserve(static_cast<size_t>(records));
  }

  void append_next() {
    start_ = Clock::now();
    bool ok = false;
    {
      std::lock_guard lock(shared_.index_mu);
      entry_.index = shared_.next++;
      ok = shared_.wal->append(std::span<const dengine::Entry>(&entry_, 1), std::nullopt).is_ok();
    }
    if (!ok) {
      finish_failed();
      return;
    }
    shared_.wal->sync_async([this](const dengine::Status& status) { on_durable(status); });
  }

  [[nodiscard]] const std::vector<double>& micros() const { return micros_; }

 private:
  void on_durable(const dengine::Status& status) {
    if (!status) {
      finish_failed();
      return;
    }
    micros_.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start_).count());
    if (--remaining_ == 0) {
      shared_.finished->count_down();
    } else {
      append_next();
    }
  }

  void finish_failed() {
    {
      std::lock_guard lock(shared_.index_mu);
      shared_.failed = true;
    }
    shared_.finished->count_down();
  }

  Shared& shared_;
  int remaining_;
  dengine::Entry entry_;
  Clock::time_point start_;
  std::vector<double> micros_;
};

// `appenders` callback chains in flight at once, each doing `records_per_appender`
// append + sync_async of one entry; the callbacks run on the WAL's flusher thread.
void BM_WalAppendAsync(benchmark::State& state) {
  const auto appenders = static_cast<int>(state.range(0));
  const int records_per_appender = std::max(100, 20000 / appenders);
  for (auto _ : state) {
    state.PauseTiming();
    BenchDir dir("wal-bench");
    std::unique_ptr<dengine::log::SegmentedWal> opened = open_wal(state, dir);
    if (opened == nullptr) return;
    std::latch finished(appenders);
    AsyncAppender::Shared shared;
    shared.wal = opened.get();
    shared.finished = &finished;
    std::vector<std::unique_ptr<AsyncAppender>> chains;
    for (int a = 0; a < appenders; ++a) {
      chains.push_back(std::make_unique<AsyncAppender>(shared, records_per_appender));
    }
    const dengine::log::WalStats before = opened->stats();
    state.ResumeTiming();

    for (auto& chain : chains) chain->append_next();
    finished.wait();

    state.PauseTiming();
    bool failed = false;
    {
      std::lock_guard lock(shared.index_mu);
      failed = shared.failed;
    }
    if (failed) {
      state.SkipWithError("append or sync failed");
      return;
    }
    std::vector<std::vector<double>> micros;
    for (const auto& chain : chains) micros.push_back(chain->micros());
    report_appenders(state, micros, opened->stats().fdatasyncs - before.fdatasyncs);
    opened.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_WalAppendAsync)
    ->ArgName("appenders")
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
