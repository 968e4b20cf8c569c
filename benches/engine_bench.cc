// EmbeddedEngine end to end on one node (DESIGN §7; issue 5's figures): sequential put latency
// next to the write+fdatasync floor of the same disk in the same run, put throughput with many
// concurrent callers, linearizable and eventual get latency, and the RSS of an idle engine.
// Data goes to a fresh directory under $DENGINE_BENCH_DIR (default /tmp).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include "benches/bench_support.h"
#include "dengine/embedded_engine.h"
#include "runtime/wal_worker.h"

namespace {

using dengine::bench::BenchDir;
using dengine::bench::percentile;
using Clock = std::chrono::steady_clock;
constexpr size_t kValueBytes = 128;
constexpr int kKeys = 10'000;

void report_latency(benchmark::State& state, std::vector<double>& micros) {
  state.counters["p50_us"] = percentile(micros, 0.50);
  state.counters["p99_us"] = percentile(micros, 0.99);
}

std::string key_of(int i) {
  return "bench/key/" + std::to_string(i % kKeys);
}

std::unique_ptr<dengine::EmbeddedEngine> start_engine(benchmark::State& state,
                                                      const std::string& dir) {
  auto started = dengine::EmbeddedEngine::start(dir);
  if (!started) {
    state.SkipWithError(started.status().message().c_str());
    return nullptr;
  }
  if (auto ready = (*started)->wait_ready(std::chrono::seconds(10)); !ready) {
    state.SkipWithError(ready.message().c_str());
    return nullptr;
  }
  return std::move(*started);
}

// The floor: a small appending pwrite + fdatasync, as a lone put must pay at least once.
void BM_FdatasyncFloor(benchmark::State& state) {
  BenchDir dir("engine-bench");
  const std::string path = dir.path() + "/floor";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    state.SkipWithError("open failed");
    return;
  }
  const std::string record(kValueBytes + 64, 'r');
  std::vector<double> micros;
  off_t offset = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    if (::pwrite(fd, record.data(), record.size(), offset) != static_cast<ssize_t>(record.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    offset += static_cast<off_t>(record.size());
  }
  ::close(fd);
  report_latency(state, micros);
}
BENCHMARK(BM_FdatasyncFloor)->UseRealTime();

void BM_SequentialPut(benchmark::State& state) {
  BenchDir dir("engine-bench");
  auto engine = start_engine(state, dir.path());
  if (!engine) return;
  const std::string value(kValueBytes, 'v');
  std::vector<double> micros;
  int i = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    auto put = engine->client().put(key_of(i++), value);
    if (!put) {
      state.SkipWithError(put.status().message().c_str());
      break;
    }
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(micros.size()));
  report_latency(state, micros);
}
BENCHMARK(BM_SequentialPut)->UseRealTime();

// `callers` puts always in flight (async, callbacks), as from that many client threads.
void BM_ConcurrentPut(benchmark::State& state) {
  const auto callers = static_cast<int>(state.range(0));
  BenchDir dir("engine-bench");
  auto engine = start_engine(state, dir.path());
  if (!engine) return;
  const std::string value(kValueBytes, 'v');
  constexpr int kPutsPerIteration = 20'000;
  dengine::KvClient& kv = engine->client();
  for (auto _ : state) {
    std::atomic<int> issued{0};
    std::atomic<int> failed{0};
    std::mutex mutex;
    std::condition_variable all_done;
    int done = 0;
    std::function<void()> issue_next = [&] {
      const int i = issued.fetch_add(1);
      if (i >= kPutsPerIteration) return;
      kv.async_put(key_of(i), value, {}, [&](dengine::Result<dengine::PutResponse> put) {
        if (!put) failed.fetch_add(1);
        issue_next();
        std::lock_guard lock(mutex);
        if (++done == kPutsPerIteration) all_done.notify_one();
      });
    };
    for (int c = 0; c < callers; ++c) issue_next();
    std::unique_lock lock(mutex);
    all_done.wait(lock, [&] { return done == kPutsPerIteration; });
    if (failed.load() > 0) state.SkipWithError("some puts failed");
  }
  state.SetItemsProcessed(state.iterations() * kPutsPerIteration);
}
BENCHMARK(BM_ConcurrentPut)
    ->ArgName("callers")
    ->Arg(1)
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_Get(benchmark::State& state) {
  const auto consistency = static_cast<dengine::Read>(state.range(0));
  BenchDir dir("engine-bench");
  auto engine = start_engine(state, dir.path());
  if (!engine) return;
  const std::string value(kValueBytes, 'v');
  for (int i = 0; i < 1000; ++i) {
    if (!engine->client().put(key_of(i), value)) state.SkipWithError("load failed");
  }
  std::vector<double> micros;
  int i = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    auto got = engine->client().get(key_of(i++ % 1000), {.consistency = consistency});
    if (!got || !got->has_value()) {
      state.SkipWithError("get failed");
      break;
    }
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(micros.size()));
  report_latency(state, micros);
}
BENCHMARK(BM_Get)
    ->ArgName("read")
    ->Arg(static_cast<int>(dengine::Read::Linearizable))
    ->Arg(static_cast<int>(dengine::Read::Lease))
    ->Arg(static_cast<int>(dengine::Read::Eventual))
    ->UseRealTime();

// One put, delivered to `watchers` watches of its key: the time from the put's call until the
// last watcher has the event (callbacks on the apply worker; each watcher re-arms itself).
void BM_WatchFanOut(benchmark::State& state) {
  const auto watchers = static_cast<int>(state.range(0));
  BenchDir dir("engine-bench");
  auto engine = start_engine(state, dir.path());
  if (!engine) return;
  dengine::KvClient& kv = engine->client();
  std::vector<dengine::Watch> watches;
  watches.reserve(static_cast<size_t>(watchers));
  for (int w = 0; w < watchers; ++w) watches.push_back(kv.watch("fan/key"));
  std::mutex mutex;
  std::condition_variable delivered;
  int received = 0;
  std::atomic<bool> failed{false};
  std::function<void(dengine::Watch&)> arm = [&](dengine::Watch& watch) {
    watch.async_next([&](dengine::Result<dengine::WatchBatch> batch) {
      if (!batch) {
        if (batch.status().code() != dengine::StatusCode::kCancelled) failed = true;
        return;
      }
      arm(watch);
      std::lock_guard lock(mutex);
      ++received;
      delivered.notify_one();
    });
  };
  for (dengine::Watch& watch : watches) arm(watch);
  const std::string value(kValueBytes, 'v');
  std::vector<double> micros;
  for (auto _ : state) {
    const auto start = Clock::now();
    {
      std::lock_guard lock(mutex);
      received = 0;
    }
    kv.async_put("fan/key", value, {}, [](dengine::Result<dengine::PutResponse>) {});
    std::unique_lock lock(mutex);
    delivered.wait(lock, [&] { return received == watchers || failed.load(); });
    if (failed.load()) {
      state.SkipWithError("a watch failed");
      break;
    }
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  watches.clear();
  state.SetItemsProcessed(static_cast<int64_t>(micros.size()) * watchers);
  report_latency(state, micros);
}
BENCHMARK(BM_WatchFanOut)->ArgName("watchers")->Arg(1)->Arg(1000)->UseRealTime();

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// The whole process's resident memory with one idle engine (the benchmark's own share is in
// rss_before_mb).
void BM_IdleEngineRss(benchmark::State& state) {
  const long before = rss_kib();
  BenchDir dir("engine-bench");
  auto engine = start_engine(state, dir.path());
  if (!engine) return;
  if (!engine->client().put("k", "v")) state.SkipWithError("put failed");
  for (auto _ : state) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  state.counters["rss_before_mb"] = static_cast<double>(before) / 1024.0;
  state.counters["rss_mb"] = static_cast<double>(rss_kib()) / 1024.0;
}
BENCHMARK(BM_IdleEngineRss)->Iterations(3)->UseRealTime();

// ---- the runtime's WAL worker alone: group commit as the engine uses it ----------------------

// `writers` threads each persist one 128-byte entry at a time and wait until it is durable,
// through the single WAL worker (one append per write, one fdatasync per drained batch). The
// submit lock plays the core thread, which hands writes over in order. Compare writers:64
// with writers:1 for the group-commit gain.
void BM_WalWorkerGroupCommit(benchmark::State& state) {
  using namespace dengine;
  const auto writers = static_cast<int>(state.range(0));
  constexpr int kWritesPerIteration = 4000;
  BenchDir dir("engine-bench");
  auto opened = open_wal_log_store(dir.path());
  if (!opened) {
    state.SkipWithError(opened.status().message().c_str());
    return;
  }
  std::mutex persisted_mutex;
  std::condition_variable persisted_changed;
  uint64_t persisted = 0;
  runtime::WalWorker worker(*opened->store, runtime::CompactionRecord(dir.path(), "compaction"),
                            [&](runtime::CoreInput input) {
                              if (auto* done = std::get_if<runtime::PersistedInput>(&input)) {
                                std::lock_guard lock(persisted_mutex);
                                persisted = done->write_id;
                                persisted_changed.notify_all();
                              }
                            });
  std::mutex submit_mutex;
  uint64_t next_write = 0;
  const std::string payload(kValueBytes, 'p');
  std::vector<double> micros;
  std::mutex micros_mutex;
  for (auto _ : state) {
    std::atomic<int> remaining{kWritesPerIteration};
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&] {
        std::vector<double> mine;
        while (remaining.fetch_sub(1) > 0) {
          const auto start = Clock::now();
          uint64_t id = 0;
          {
            std::lock_guard lock(submit_mutex);
            id = ++next_write;
            runtime::StorageWrite write;
            write.write_id = id;
            write.entries.push_back(Entry{.term = 1, .index = id, .data = payload});
            worker.submit(std::move(write));
          }
          std::unique_lock lock(persisted_mutex);
          persisted_changed.wait(lock, [&] { return persisted >= id; });
          lock.unlock();
          mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        }
        std::lock_guard lock(micros_mutex);
        micros.insert(micros.end(), mine.begin(), mine.end());
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  worker.stop();
  state.SetItemsProcessed(static_cast<int64_t>(micros.size()));
  state.counters["writes_per_fdatasync"] =
      static_cast<double>(worker.writes()) /
      static_cast<double>(std::max<uint64_t>(1, worker.syncs()));
  report_latency(state, micros);
}
BENCHMARK(BM_WalWorkerGroupCommit)
    ->ArgName("writers")
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
