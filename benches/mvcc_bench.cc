// The MVCC state machines (kv/): the replicated write path, the serializable read path, watch
// catch-up and snapshots, for the in-memory store and the RocksDB store, each with default
// options.
//
// Keys are 16 bytes ("key/000000001234"), values 256 random (incompressible) bytes. The point
// and range benchmarks share one preloaded 100k-key keyspace per store, the snapshot
// benchmarks one of 256k keys (64 MiB of values); each is loaded once per process, untimed,
// and then flushed, so RocksDB reads go to table files through its caches rather than to the
// memtable. Keys are drawn uniformly from the whole keyspace. The RocksDB stores live in a fresh
// directory under $DENGINE_BENCH_DIR (default /tmp: a real disk, not tmpfs). Readers are registered
// before writers, so the reads see the preloaded keyspace unchanged. All times are wall-clock.
//
//   ./build/benches/mvcc_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include "benches/bench_support.h"
#include "common/check.h"
#include "common/splitmix64.h"
#include "dengine/kv_types.h"
#include "dengine/state_machine.h"
#include "kv/command_codec.h"
#include "kv/memory_kv_store.h"
#if DENGINE_WITH_ROCKSDB
#include "kv/rocksdb_kv_store.h"
#endif
#if __has_include("log/snapshot_sender.h")
#include "log/posix_file_system.h"
#include "log/snapshot_sender.h"
#define DENGINE_BENCH_SNAPSHOT_SENDER 1
#endif

namespace {

using Clock = std::chrono::steady_clock;
using dengine::ApplyResult;
using dengine::Index;
using dengine::Result;
using dengine::StateMachine;
using dengine::bench::BenchDir;
using dengine::bench::percentile;

constexpr size_t kKeyBytes = 16;
constexpr size_t kValueBytes = 256;
constexpr uint64_t kKeys = 100'000;
constexpr uint64_t kSnapshotKeys = 256 * 1024;  // 64 MiB of values
constexpr uint64_t kRangeKeys = 100;
constexpr int64_t kCatchUpRevisions = 1000;
constexpr size_t kTxnBatch = 4096;  // txns encoded at a time, outside the timed loop
constexpr double kMiB = 1024.0 * 1024.0;
const std::string kAllKeys{"\0", 1};

enum class StoreKind : uint8_t { kMemory, kRocksDb };

// "key/000000001234": 16 bytes, so byte order is number order and ranges are contiguous.
// Rewrites the digits of such a key in place (no allocation).
void set_key(std::string& key, uint64_t n) {
  for (size_t pos = key.size(); pos > 4; n /= 10) key[--pos] = static_cast<char>('0' + n % 10);
}

std::string key_of(uint64_t n) {
  std::string key = "key/000000000000";
  set_key(key, n);
  return key;
}

std::string random_value(uint64_t& rng) {
  static_assert(kValueBytes % 8 == 0);
  std::string value(kValueBytes, '\0');
  for (size_t i = 0; i < kValueBytes; i += 8) {
    const uint64_t word = dengine::splitmix64_next(rng);
    std::memcpy(value.data() + i, &word, sizeof word);
  }
  return value;
}

dengine::RangeRequest range_request(std::string key, std::string range_end = {}) {
  dengine::RangeRequest request;
  request.key = std::move(key);
  request.range_end = std::move(range_end);
  return request;
}

// "if mod_revision(key) == mod_revision"
dengine::Compare mod_revision_is(std::string key, int64_t mod_revision) {
  dengine::Compare compare;
  compare.result = dengine::CompareResult::kEqual;
  compare.target = dengine::CompareTarget::kMod;
  compare.key = std::move(key);
  compare.mod_revision = mod_revision;
  return compare;
}

std::string encoded(const dengine::kv::KvCommand& command) {
  Result<std::string> bytes = dengine::kv::encode_command(command);
  DENGINE_CHECK_MSG(bytes.has_value(), bytes.status().to_string());
  return std::move(bytes).value();
}

std::string encoded_put(std::string key, std::string value) {
  return encoded(dengine::PutRequest{.key = std::move(key), .value = std::move(value)});
}

uint64_t directory_bytes(const std::string& dir) {
  uint64_t bytes = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  return bytes;
}

// A store with `keys` keys, each put once, in its own directory.
struct LoadedStore {
  std::unique_ptr<BenchDir> dir;  // declared first: removed after the store closes
  std::unique_ptr<StateMachine> store;
  StoreKind kind = StoreKind::kMemory;
  uint64_t keys = 0;
  Index next_index = 1;
  uint64_t images = 0;  // snapshot directories named so far

  Result<ApplyResult> apply(const std::string& command) {
    return store->apply(next_index++, command);
  }
  std::string next_image_path() { return dir->path() + "/image-" + std::to_string(++images); }
};

std::unique_ptr<StateMachine> open_store(StoreKind kind, const std::string& dir) {
  if (kind == StoreKind::kMemory) return std::make_unique<dengine::kv::MemoryKvStore>();
#if DENGINE_WITH_ROCKSDB
  auto opened = dengine::kv::RocksKvStore::open(dir);
  DENGINE_CHECK_MSG(opened.has_value(), opened.status().to_string());
  return std::move(opened).value();
#else
  (void)dir;
  std::abort();
#endif
}

std::unique_ptr<LoadedStore> load(StoreKind kind, uint64_t keys) {
  auto loaded = std::make_unique<LoadedStore>();
  loaded->dir = std::make_unique<BenchDir>("mvcc-bench");
  loaded->store = open_store(kind, loaded->dir->path() + "/store");
  loaded->kind = kind;
  loaded->keys = keys;
  uint64_t rng = 42;
  for (uint64_t n = 0; n < keys; ++n) {
    Result<ApplyResult> applied = loaded->apply(encoded_put(key_of(n), random_value(rng)));
    DENGINE_CHECK_MSG(applied.has_value() && applied->status.is_ok(), "preload failed");
  }
  const dengine::Status flushed = loaded->store->flush();
  DENGINE_CHECK_MSG(flushed.is_ok(), flushed.to_string());
  return loaded;
}

// The stores live until exit. They are closed by an atexit handler registered again after each
// store opens: its last registration follows RocksDB's own statics, so it runs before they go.
std::vector<std::unique_ptr<LoadedStore>>& open_stores() {
  static auto* stores = new std::vector<std::unique_ptr<LoadedStore>>();
  return *stores;
}

LoadedStore& shared_store(StoreKind kind, uint64_t keys) {
  std::vector<std::unique_ptr<LoadedStore>>& stores = open_stores();
  for (const auto& loaded : stores) {
    if (loaded->kind == kind && loaded->keys == keys) return *loaded;
  }
  stores.push_back(load(kind, keys));
  std::atexit([] { open_stores().clear(); });
  return *stores.back();
}

// ---- the replicated path ----

// One put of an existing key (chosen at random) with a new value, applied at the next index.
// The commands are encoded beforehand (the leader encodes, followers only apply), one per key
// of the keyspace: a small set of keys reused in turn would stay in the CPU caches. Bytes are
// key + value bytes.
void BM_Put(benchmark::State& state, StoreKind kind) {
  LoadedStore& s = shared_store(kind, kKeys);
  uint64_t rng = 7;
  std::vector<std::string> commands;
  commands.reserve(s.keys);
  for (size_t n = 0; n < s.keys; ++n) {
    commands.push_back(
        encoded_put(key_of(dengine::splitmix64_next(rng) % s.keys), random_value(rng)));
  }
  size_t next = 0;
  for (auto _ : state) {
    Result<ApplyResult> applied = s.apply(commands[next++ % commands.size()]);
    if (!applied || !applied->status.is_ok()) {
      state.SkipWithError("put failed");
      break;
    }
    benchmark::DoNotOptimize(applied);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kKeyBytes + kValueBytes));
}

// `count` txns, each "if mod_revision(a) == its current value then put a, put b" for random
// distinct keys a and b: every compare holds when the txns are applied in order from now.
std::vector<std::string> txn_batch(LoadedStore& s, uint64_t& rng, size_t count) {
  int64_t revision = s.store->current_revision();
  std::unordered_map<uint64_t, int64_t> mod_revision;  // keys this batch writes
  std::vector<std::string> commands;
  commands.reserve(count);
  for (size_t n = 0; n < count; ++n) {
    const uint64_t a = dengine::splitmix64_next(rng) % s.keys;
    uint64_t b = dengine::splitmix64_next(rng) % s.keys;
    if (b == a) b = (a + 1) % s.keys;
    int64_t expected = 0;
    if (auto known = mod_revision.find(a); known != mod_revision.end()) {
      expected = known->second;
    } else {
      Result<dengine::RangeResponse> current = s.store->range(range_request(key_of(a)));
      DENGINE_CHECK(current.has_value() && current->kvs.size() == 1);
      expected = current->kvs[0].mod_revision;
    }
    dengine::TxnRequest txn;
    txn.compare.push_back(mod_revision_is(key_of(a), expected));
    txn.success.push_back(
        dengine::RequestOp{dengine::PutRequest{.key = key_of(a), .value = random_value(rng)}});
    txn.success.push_back(
        dengine::RequestOp{dengine::PutRequest{.key = key_of(b), .value = random_value(rng)}});
    commands.push_back(encoded(txn));
    ++revision;
    mod_revision[a] = revision;
    mod_revision[b] = revision;
  }
  return commands;
}

// A txn with one mod_revision compare and two puts on success (an etcd compare-and-swap),
// applied at the next index. Commands are encoded in batches outside the timed region.
void BM_Txn(benchmark::State& state, StoreKind kind) {
  LoadedStore& s = shared_store(kind, kKeys);
  uint64_t rng = 11;
  std::vector<std::string> commands = txn_batch(s, rng, kTxnBatch);
  size_t next = 0;
  for (auto _ : state) {
    if (next == commands.size()) {
      state.PauseTiming();
      commands = txn_batch(s, rng, kTxnBatch);
      next = 0;
      state.ResumeTiming();
    }
    Result<ApplyResult> applied = s.apply(commands[next++]);
    const auto* response = applied && applied->status.is_ok()
                               ? std::get_if<dengine::TxnResponse>(&applied->response)
                               : nullptr;
    if (response == nullptr || !response->succeeded) {
      state.SkipWithError("txn failed or its compare did not hold");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- reads (serializable: straight from the state machine) ----

// range() of one existing key, drawn uniformly from the whole keyspace. Each range() is also
// timed on its own with steady_clock (one clock read's cost inside each sample): p50_ns and
// p99_ns.
void BM_Get(benchmark::State& state, StoreKind kind) {
  const LoadedStore& s = shared_store(kind, kKeys);
  uint64_t rng = 3;
  dengine::RangeRequest request = range_request(key_of(0));
  std::vector<double> nanos;
  nanos.reserve(1 << 20);
  bool failed = false;
  for (auto _ : state) {
    set_key(request.key, dengine::splitmix64_next(rng) % s.keys);
    const auto start = Clock::now();
    {
      Result<dengine::RangeResponse> response = s.store->range(request);
      failed = !response || response->kvs.size() != 1;
      benchmark::DoNotOptimize(response);
    }
    nanos.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count());
    if (failed) {
      state.SkipWithError("get failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["p50_ns"] = percentile(nanos, 0.50);
  state.counters["p99_ns"] = percentile(nanos, 0.99);
}

// range() of 100 consecutive keys from a start drawn uniformly from the keyspace. Items are
// keys.
void BM_Range100(benchmark::State& state, StoreKind kind) {
  const LoadedStore& s = shared_store(kind, kKeys);
  uint64_t rng = 5;
  dengine::RangeRequest request = range_request(key_of(0), key_of(0));
  for (auto _ : state) {
    const uint64_t first = dengine::splitmix64_next(rng) % (s.keys - kRangeKeys);
    set_key(request.key, first);
    set_key(request.range_end, first + kRangeKeys);
    Result<dengine::RangeResponse> response = s.store->range(request);
    if (!response || response->kvs.size() != kRangeKeys) {
      state.SkipWithError("range failed");
      break;
    }
    benchmark::DoNotOptimize(response);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kRangeKeys));
}

// A watch catching up: events() over every key from a random preloaded revision, 1000
// revisions (one put each) per batch, without prev_kv. Items are events.
void BM_Events(benchmark::State& state, StoreKind kind) {
  const LoadedStore& s = shared_store(kind, kKeys);
  uint64_t rng = 9;
  int64_t events = 0;
  for (auto _ : state) {
    dengine::EventQuery query;
    query.key = kAllKeys;
    query.range_end = kAllKeys;
    // The preload's puts are revisions 2 .. kKeys + 1.
    query.start_revision =
        2 + static_cast<int64_t>(dengine::splitmix64_next(rng) % (s.keys - kCatchUpRevisions));
    query.max_revisions = kCatchUpRevisions;
    Result<dengine::EventBatch> batch = s.store->events(query);
    if (!batch || batch->events.empty()) {
      state.SkipWithError("events failed");
      break;
    }
    events += static_cast<int64_t>(batch->events.size());
    benchmark::DoNotOptimize(batch);
  }
  state.SetItemsProcessed(events);
}

// ---- snapshots of ~64 MiB ----

// write_snapshot() into a new directory. For RocksDB this is a checkpoint: a flush of the
// memtables (empty here: the store was flushed after loading) and hard links to the table
// files, so its MB/s is not a copy speed. Bytes are the image directory's file bytes.
void BM_SnapshotCreate(benchmark::State& state, StoreKind kind) {
  LoadedStore& s = shared_store(kind, kSnapshotKeys);
  uint64_t image_bytes = 0;
  for (auto _ : state) {
    const std::string image = s.next_image_path();
    Result<Index> written = s.store->write_snapshot(image);
    state.PauseTiming();
    if (!written) {
      state.SkipWithError(written.status().to_string().c_str());
      state.ResumeTiming();
      break;
    }
    image_bytes += directory_bytes(image);
    std::filesystem::remove_all(image);
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(image_bytes));
  state.counters["image_MiB"] =
      static_cast<double>(image_bytes) / kMiB / static_cast<double>(state.iterations());
}

// install_snapshot() of an image of the same store, written just before (untimed, so its files
// are in the page cache). RocksDB: move the directory in, open it, verify every table's
// checksums, rebuild the key index from the records and check it against them.
void BM_SnapshotInstall(benchmark::State& state, StoreKind kind) {
  LoadedStore& s = shared_store(kind, kSnapshotKeys);
  uint64_t image_bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string image = s.next_image_path();
    Result<Index> written = s.store->write_snapshot(image);
    if (written) image_bytes += directory_bytes(image);
    state.ResumeTiming();
    const dengine::Status installed = written ? s.store->install_snapshot(image) : written.status();
    if (!installed.is_ok()) {
      state.SkipWithError(installed.to_string().c_str());
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(image_bytes));
  state.counters["image_MiB"] =
      static_cast<double>(image_bytes) / kMiB / static_cast<double>(state.iterations());
}

#if DENGINE_BENCH_SNAPSHOT_SENDER
// The leader's side of a transfer: SnapshotSender turning one image (written once, untimed,
// so in the page cache) into 1 MiB chunks, each read, framed and CRC'd. Bytes are file bytes.
void BM_SnapshotStream(benchmark::State& state, StoreKind kind) {
  LoadedStore& s = shared_store(kind, kSnapshotKeys);
  static std::string images[2];
  std::string& image = images[static_cast<size_t>(kind)];
  if (image.empty()) {
    image = s.next_image_path();
    Result<Index> written = s.store->write_snapshot(image);
    DENGINE_CHECK_MSG(written.has_value(), written.status().to_string());
  }
  auto fs = std::make_shared<dengine::log::PosixFileSystem>();
  uint64_t file_bytes = 0;
  uint64_t chunks = 0;
  for (auto _ : state) {
    Result<dengine::log::SnapshotSender> sender =
        dengine::log::SnapshotSender::open(fs, image, /*snapshot_id=*/1, /*metadata=*/"");
    if (!sender) {
      state.SkipWithError(sender.status().to_string().c_str());
      break;
    }
    while (true) {
      Result<std::optional<std::string>> chunk = sender->next_chunk();
      if (!chunk) {
        state.SkipWithError(chunk.status().to_string().c_str());
        return;
      }
      if (!chunk->has_value()) break;
      benchmark::DoNotOptimize(chunk);
    }
    file_bytes += sender->total_bytes();
    chunks += sender->chunks_sent();
  }
  state.SetBytesProcessed(static_cast<int64_t>(file_bytes));
  state.counters["image_MiB"] =
      static_cast<double>(file_bytes) / kMiB / static_cast<double>(state.iterations());
  state.counters["chunks"] = static_cast<double>(chunks) / static_cast<double>(state.iterations());
}
#endif

// Readers first: they see the preloaded keyspace before the writers change it.
BENCHMARK_CAPTURE(BM_Get, memory, StoreKind::kMemory)->UseRealTime();
BENCHMARK_CAPTURE(BM_Range100, memory, StoreKind::kMemory)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Events, memory, StoreKind::kMemory)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Put, memory, StoreKind::kMemory)->UseRealTime();
BENCHMARK_CAPTURE(BM_Txn, memory, StoreKind::kMemory)->UseRealTime();
BENCHMARK_CAPTURE(BM_SnapshotCreate, memory, StoreKind::kMemory)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
#if DENGINE_BENCH_SNAPSHOT_SENDER
BENCHMARK_CAPTURE(BM_SnapshotStream, memory, StoreKind::kMemory)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
#endif
BENCHMARK_CAPTURE(BM_SnapshotInstall, memory, StoreKind::kMemory)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

#if DENGINE_WITH_ROCKSDB
BENCHMARK_CAPTURE(BM_Get, rocksdb, StoreKind::kRocksDb)->UseRealTime();
BENCHMARK_CAPTURE(BM_Range100, rocksdb, StoreKind::kRocksDb)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Events, rocksdb, StoreKind::kRocksDb)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Put, rocksdb, StoreKind::kRocksDb)->UseRealTime();
BENCHMARK_CAPTURE(BM_Txn, rocksdb, StoreKind::kRocksDb)->UseRealTime();
BENCHMARK_CAPTURE(BM_SnapshotCreate, rocksdb, StoreKind::kRocksDb)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
#if DENGINE_BENCH_SNAPSHOT_SENDER
BENCHMARK_CAPTURE(BM_SnapshotStream, rocksdb, StoreKind::kRocksDb)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
#endif
BENCHMARK_CAPTURE(BM_SnapshotInstall, rocksdb, StoreKind::kRocksDb)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
#endif

}  // namespace
