// EmbeddedEngine end to end on one node (docs/architecture.md §7; issue 5's figures): sequential
// put latency next to the write+fdatasync floor of the same disk in the same run, put throughput
// with many concurrent callers, linearizable and eventual get latency, and the RSS of an idle
// engine. The BM_Cluster* variants run three engines in one process (an InProcessNetwork): puts on
// the leader, gets served by a follower. Data goes to a fresh directory under $DENGINE_BENCH_DIR
// (default /tmp).

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
#include "dengine/in_process_network.h"
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

// The floor: a small pwrite + fdatasync, as a lone put must pay at least once. Two shapes:
// appending grows the file, so every sync also commits the inode's new size to the journal (the
// raw write+fdatasync loop of issue 4); preallocated overwrites a fallocate'd file as the WAL's
// segments do, and is the lower of the two on ext4 (only the first write into each block
// converts an extent).
class SyncFloorFile {
 public:
  SyncFloorFile(const std::string& path, bool preallocated) : preallocated_(preallocated) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ >= 0 && preallocated &&
        (::fallocate(fd_, 0, 0, kPreallocatedBytes) != 0 || ::fsync(fd_) != 0)) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~SyncFloorFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  SyncFloorFile(const SyncFloorFile&) = delete;
  SyncFloorFile& operator=(const SyncFloorFile&) = delete;
  [[nodiscard]] bool ok() const { return fd_ >= 0; }

  // One record written and synced: its time in microseconds, or a negative value on failure.
  double sync_one() {
    if (preallocated_ && offset_ + static_cast<off_t>(record_.size()) > kPreallocatedBytes) {
      offset_ = 0;
    }
    const auto start = Clock::now();
    if (::pwrite(fd_, record_.data(), record_.size(), offset_) !=
            static_cast<ssize_t>(record_.size()) ||
        ::fdatasync(fd_) != 0) {
      return -1;
    }
    offset_ += static_cast<off_t>(record_.size());
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  }

 private:
  static constexpr off_t kPreallocatedBytes = 64 << 20;
  const bool preallocated_;
  int fd_ = -1;
  off_t offset_ = 0;
  const std::string record_ = std::string(kValueBytes + 64, 'r');
};

void BM_FdatasyncFloor(benchmark::State& state) {
  BenchDir dir("engine-bench");
  SyncFloorFile floor(dir.path() + "/floor", state.range(0) != 0);
  if (!floor.ok()) return state.SkipWithError("cannot open or fallocate the floor file");
  std::vector<double> micros;
  for (auto _ : state) {
    const double took = floor.sync_one();
    if (took < 0) return state.SkipWithError("write or fdatasync failed");
    micros.push_back(took);
  }
  report_latency(state, micros);
}
BENCHMARK(BM_FdatasyncFloor)->ArgName("preallocated")->Arg(0)->Arg(1)->UseRealTime();

// Sequential puts, each followed by one sync of each floor file in the same directory: this
// VM's sync latency drifts by 2x within minutes, so the floor a put is compared with is
// sampled alongside it rather than in a separate run. Iteration time counts all three; the
// counters separate them (put_*: the put alone) and give the p50 ratios.
void BM_SequentialPut(benchmark::State& state) {
  BenchDir dir("engine-bench");
  auto engine = start_engine(state, dir.path());
  if (!engine) return;
  SyncFloorFile appending(dir.path() + "/floor-appending", false);
  SyncFloorFile preallocated(dir.path() + "/floor-preallocated", true);
  if (!appending.ok() || !preallocated.ok()) {
    return state.SkipWithError("cannot open or fallocate the floor files");
  }
  const std::string value(kValueBytes, 'v');
  std::vector<double> put_micros;
  std::vector<double> appending_micros;
  std::vector<double> preallocated_micros;
  int i = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    auto put = engine->client().put(key_of(i++), value);
    if (!put) return state.SkipWithError(put.status().message().c_str());
    put_micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    appending_micros.push_back(appending.sync_one());
    preallocated_micros.push_back(preallocated.sync_one());
  }
  state.SetItemsProcessed(static_cast<int64_t>(put_micros.size()));
  const double floor_appending = percentile(appending_micros, 0.50);
  const double floor_preallocated = percentile(preallocated_micros, 0.50);
  report_latency(state, put_micros);
  state.counters["floor_appending_p50_us"] = floor_appending;
  state.counters["floor_prealloc_p50_us"] = floor_preallocated;
  if (floor_appending > 0 && floor_preallocated > 0) {
    state.counters["x_appending"] = state.counters["p50_us"] / floor_appending;
    state.counters["x_prealloc"] = state.counters["p50_us"] / floor_preallocated;
  }
}
BENCHMARK(BM_SequentialPut)->UseRealTime();

constexpr int kConcurrentPuts = 20'000;

// kConcurrentPuts puts through `kv`, `callers` of them always in flight (async, callbacks), as
// from that many client threads. Returns how many failed.
int put_concurrently(dengine::KvClient& kv, int callers) {
  const std::string value(kValueBytes, 'v');
  std::atomic<int> issued{0};
  std::atomic<int> failed{0};
  std::mutex mutex;
  std::condition_variable all_done;
  int done = 0;
  std::function<void()> issue_next = [&] {
    const int i = issued.fetch_add(1);
    if (i >= kConcurrentPuts) return;
    kv.async_put(key_of(i), value, {}, [&](dengine::Result<dengine::PutResponse> put) {
      if (!put) failed.fetch_add(1);
      issue_next();
      std::lock_guard lock(mutex);
      if (++done == kConcurrentPuts) all_done.notify_one();
    });
  };
  for (int c = 0; c < callers; ++c) issue_next();
  std::unique_lock lock(mutex);
  all_done.wait(lock, [&] { return done == kConcurrentPuts; });
  return failed.load();
}

// `callers` puts always in flight (async, callbacks), as from that many client threads.
void BM_ConcurrentPut(benchmark::State& state) {
  const auto callers = static_cast<int>(state.range(0));
  BenchDir dir("engine-bench");
  auto engine = start_engine(state, dir.path());
  if (!engine) return;
  for (auto _ : state) {
    if (put_concurrently(engine->client(), callers) > 0) state.SkipWithError("some puts failed");
  }
  state.SetItemsProcessed(state.iterations() * kConcurrentPuts);
}
BENCHMARK(BM_ConcurrentPut)
    ->ArgName("callers")
    ->Arg(1)
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Gets of the 1,000 loaded keys through `kv`, one at a time; p50/p99 per get.
void time_gets(benchmark::State& state, dengine::KvClient& kv, dengine::Read consistency) {
  std::vector<double> micros;
  int i = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    auto got = kv.get(key_of(i++ % 1000), {.consistency = consistency});
    if (!got || !got->has_value()) {
      state.SkipWithError(got ? "get found no value" : got.status().message().c_str());
      break;
    }
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(micros.size()));
  report_latency(state, micros);
}

void BM_Get(benchmark::State& state) {
  const auto consistency = static_cast<dengine::Read>(state.range(0));
  BenchDir dir("engine-bench");
  auto engine = start_engine(state, dir.path());
  if (!engine) return;
  const std::string value(kValueBytes, 'v');
  for (int i = 0; i < 1000; ++i) {
    if (!engine->client().put(key_of(i), value)) state.SkipWithError("load failed");
  }
  time_gets(state, engine->client(), consistency);
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

// ---- three engines in one process (an InProcessNetwork) ---------------------------------------

// Nodes 1, 2 and 3 on data dirs under one BenchDir, on the real clock and every default
// otherwise (durable storage, fsync on, heartbeat 100 ms, election timeout 1 s). The
// constructor returns once every node is ready and the leader is known, or has skipped the
// benchmark with the reason (ok() false); the destructor stops every engine, then removes the
// directory.
class Cluster {
 public:
  explicit Cluster(benchmark::State& state) {
    for (dengine::NodeId id = 1; id <= 3; ++id) {
      dengine::EngineOptions options;
      options.data_dir = dir_.path() + "/node-" + std::to_string(id);
      options.node_id = id;
      options.initial_members = {1, 2, 3};
      options.network = network_;
      auto started = dengine::EmbeddedEngine::start(options);
      if (!started) {
        state.SkipWithError(started.status().message().c_str());
        return;
      }
      engines_.push_back(std::move(*started));
    }
    for (auto& engine : engines_) {
      if (auto ready = engine->wait_ready(std::chrono::seconds(10)); !ready) {
        state.SkipWithError(ready.message().c_str());
        return;
      }
    }
    const auto give_up = Clock::now() + std::chrono::seconds(10);
    while (leader_ == nullptr && Clock::now() < give_up) {
      for (auto& engine : engines_) {
        if (engine->is_leader()) leader_ = engine.get();
      }
      if (leader_ == nullptr) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (leader_ == nullptr) state.SkipWithError("no leader");
  }
  ~Cluster() {
    for (auto& engine : engines_) (void)engine->stop();
    engines_.clear();
  }
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  [[nodiscard]] bool ok() const { return leader_ != nullptr; }
  dengine::EmbeddedEngine& leader() { return *leader_; }
  // The first engine that does not lead.
  dengine::EmbeddedEngine& follower() {
    for (auto& engine : engines_) {
      if (engine.get() != leader_) return *engine;
    }
    std::abort();
  }

 private:
  BenchDir dir_{"engine-bench"};
  std::shared_ptr<dengine::InProcessNetwork> network_ = dengine::InProcessNetwork::create();
  std::vector<std::unique_ptr<dengine::EmbeddedEngine>> engines_;
  dengine::EmbeddedEngine* leader_ = nullptr;
};

// One caller, blocking, on the leader: a put is acknowledged once a majority (the leader and
// one follower) has it durable and the leader has applied it.
void BM_ClusterSequentialPut(benchmark::State& state) {
  Cluster cluster(state);
  if (!cluster.ok()) return;
  dengine::KvClient& kv = cluster.leader().client();
  const std::string value(kValueBytes, 'v');
  std::vector<double> micros;
  int i = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    auto put = kv.put(key_of(i++), value);
    if (!put) {
      state.SkipWithError(put.status().message().c_str());
      break;
    }
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(micros.size()));
  report_latency(state, micros);
}
BENCHMARK(BM_ClusterSequentialPut)->UseRealTime();

// As BM_ConcurrentPut, written to the leader of three.
void BM_ClusterConcurrentPut(benchmark::State& state) {
  const auto callers = static_cast<int>(state.range(0));
  Cluster cluster(state);
  if (!cluster.ok()) return;
  for (auto _ : state) {
    if (put_concurrently(cluster.leader().client(), callers) > 0) {
      state.SkipWithError("some puts failed");
    }
  }
  state.SetItemsProcessed(state.iterations() * kConcurrentPuts);
}
BENCHMARK(BM_ClusterConcurrentPut)
    ->ArgName("callers")
    ->Arg(16)
    ->Arg(256)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Gets served by a follower, with the keys written through the leader. Linearizable: a
// ReadIndex round to the leader (which confirms its leadership with a heartbeat round), then
// the follower waits until it has applied up to that index. Lease: a follower holds no lease,
// so the runtime falls back to the same ReadIndex round (the lease saves the round only on the
// leader). Eventual: the follower's own state, no round.
void BM_ClusterGet(benchmark::State& state) {
  const auto consistency = static_cast<dengine::Read>(state.range(0));
  Cluster cluster(state);
  if (!cluster.ok()) return;
  const std::string value(kValueBytes, 'v');
  for (int i = 0; i < 1000; ++i) {
    if (!cluster.leader().client().put(key_of(i), value)) state.SkipWithError("load failed");
  }
  dengine::KvClient& kv = cluster.follower().client();
  // A linearizable read: the follower has applied the whole load before the eventual reads.
  if (auto got = kv.get(key_of(999)); !got || !got->has_value()) {
    state.SkipWithError("the follower did not catch up");
  }
  time_gets(state, kv, consistency);
}
BENCHMARK(BM_ClusterGet)
    ->ArgName("read")
    ->Arg(static_cast<int>(dengine::Read::Linearizable))
    ->Arg(static_cast<int>(dengine::Read::Lease))
    ->Arg(static_cast<int>(dengine::Read::Eventual))
    ->UseRealTime();

// As BM_IdleEngineRss, with three idle engines in the process.
void BM_ClusterIdleRss(benchmark::State& state) {
  const long before = rss_kib();
  Cluster cluster(state);
  if (!cluster.ok()) return;
  if (!cluster.leader().client().put("k", "v")) state.SkipWithError("put failed");
  for (auto _ : state) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  state.counters["rss_before_mb"] = static_cast<double>(before) / 1024.0;
  state.counters["rss_mb"] = static_cast<double>(rss_kib()) / 1024.0;
}
BENCHMARK(BM_ClusterIdleRss)->Iterations(3)->UseRealTime();

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
