// Crash tests of the state machine against a model. A seeded sequence of log entries (puts of
// varied sizes, deletes, txns with compares, leases with keys attached, lease checkpoints,
// compactions, entries without a command) is applied to the store, which then crashes; what
// comes back must hold at least every index it reported durable, read through the public API
// exactly like an in-memory model that applied the first applied_index() entries, pass its own
// consistency check, ignore re-sent entries it already holds, and go on applying like the model.
//
// RocksDB: a real process applies on real files, flushing now and then (and RocksDB flushes on
// its own: the memtables are small), and writes each rise of durable_applied_index() down a
// pipe; the parent SIGKILLs it after a seeded number of reports. A SIGKILL keeps the page
// cache, so this checks the process-crash path (lost memtables, flushes and compactions cut
// short); lost unsynced bytes are the power-cut tests' job. The in-memory store's
// simulate_crash() goes through the same checks in-process.
//
// RocksDB is not fork-safe: a process that has opened a database keeps Env::Default()'s thread
// pool, whose threads a forked child does not inherit, and the child's flushes would never run.
// So the parent never opens the store: a second child reopens and checks it, and the test is
// skipped when the process already runs other threads (run it alone, as ctest does).
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "common/check.h"
#include "common/splitmix64.h"
#include "kv/memory_kv_store.h"
#include "tests/kv/kv_store_factory.h"
#include "tests/kv/kv_test_util.h"

#if DENGINE_WITH_ROCKSDB
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kv/rocksdb_kv_store.h"
#endif

namespace dengine::kv::test {
namespace {

constexpr uint64_t kDefaultSeed = 20260611;
// Crashes per test unless DENGINE_KV_KILL_ITERATIONS says otherwise: about 10 s in a release
// build on two cores. Under ASan each fork and RocksDB open costs several times more.
#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kDefaultIterations = 10;
#else
constexpr uint64_t kDefaultIterations = 40;
#endif

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 0) : fallback;
}

std::string trace(uint64_t seed, uint64_t iteration) {
  return "seed " + std::to_string(seed) + " iteration " + std::to_string(iteration) +
         " (DENGINE_KV_KILL_SEED=" + std::to_string(seed) + ")";
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return splitmix64_next(state_); }
  uint64_t below(uint64_t bound) { return next() % bound; }                     // [0, bound)
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }  // [lo, hi]
  bool one_in(uint64_t n) { return below(n) == 0; }

 private:
  uint64_t state_;
};

constexpr std::array<std::string_view, 11> kKeys{"a/0", "a/1", "a/2", "a/3", "a/4", "b/0",
                                                 "b/1", "b/2", "b/3", "b/4", "c"};
constexpr LeaseId kNeverGranted = 42;  // granted ids are chosen (hashed) or count up from 1000
constexpr size_t kMaxLiveLeases = 8;

const MemoryKvStoreOptions kModelOptions{.apply = {}, .model_durability = false};

// The entries of the run's Raft log from index 1 on: an encoded command, or nullopt for an entry
// without one (recorded as applied). Generated on demand from the seed; a shadow store applying
// them keeps compactions at revisions that exist and lease operations mostly on live leases.
// Every copy (the parent's, a forked child's) extends identically.
class EntrySequence {
 public:
  explicit EntrySequence(uint64_t seed) : rng_(seed), shadow_(kModelOptions) {}

  // Valid until the next call.
  const std::optional<std::string>& at(Index index) {
    while (entries_.size() < index) generate();
    return entries_[index - 1];
  }

 private:
  void generate();
  KvCommand next_command();
  PutRequest next_put(std::string key);
  DeleteRangeRequest next_delete();
  TxnRequest next_txn();
  LeaseGrantRequest next_grant();
  LeaseCheckpointRequest next_checkpoint();
  std::optional<CompactionRequest> next_compaction();

  std::string next_key() { return std::string(kKeys[rng_.below(kKeys.size())]); }
  std::string next_value();
  // Mostly a live lease; now and then one that does not exist (the command fails, as in etcd).
  LeaseId some_lease();
  std::optional<KeyValue> current(const std::string& key) const;

  Rng rng_;
  MemoryKvStore shadow_;
  std::vector<std::optional<std::string>> entries_;
  LeaseId next_lease_id_ = 1000;
};

void EntrySequence::generate() {
  const Index index = entries_.size() + 1;
  if (rng_.one_in(30)) {  // a Raft no-op or membership entry
    shadow_.record_applied(index);
    entries_.emplace_back(std::nullopt);
    return;
  }
  std::string command = encoded(next_command());
  const Result<ApplyResult> applied = shadow_.apply(index, command);
  DENGINE_CHECK_MSG(applied.has_value(), applied.status().to_string());
  entries_.emplace_back(std::move(command));
}

KvCommand EntrySequence::next_command() {
  const uint64_t pick = rng_.below(100);
  if (pick < 40) return next_put(next_key());
  if (pick < 54) return next_delete();
  if (pick < 68) return next_txn();
  if (pick < 75) return next_grant();
  if (pick < 80) return LeaseRevokeRequest{some_lease()};
  if (pick < 85) return next_checkpoint();
  if (pick < 90) {
    if (std::optional<CompactionRequest> compaction = next_compaction()) return *compaction;
  }
  return next_put(next_key());
}

std::string EntrySequence::next_value() {
  const uint64_t size_class = rng_.below(20);
  size_t size = 0;
  if (size_class < 8) {
    size = rng_.below(9);
  } else if (size_class < 15) {
    size = rng_.range(16, 256);
  } else if (size_class < 19) {
    size = rng_.range(512, 4096);
  } else {
    size = rng_.range(8192, 24576);  // a few of these fill a 64 KiB memtable
  }
  const uint64_t pattern = rng_.next();
  std::string value(size, ' ');
  for (size_t i = 0; i < size; ++i) {
    value[i] = static_cast<char>('a' + ((pattern >> (8 * (i % 8))) + i) % 26);
  }
  return value;
}

LeaseId EntrySequence::some_lease() {
  const std::vector<LeaseInfo> live = shadow_.leases();
  if (live.empty() || rng_.one_in(15)) return kNeverGranted;
  return live[rng_.below(live.size())].id;
}

std::optional<KeyValue> EntrySequence::current(const std::string& key) const {
  const Result<RangeResponse> read = shadow_.range(range_request(key));
  DENGINE_CHECK(read.has_value());
  if (read->kvs.empty()) return std::nullopt;
  return read->kvs.front();
}

PutRequest EntrySequence::next_put(std::string key) {
  PutRequest put = put_request(std::move(key), next_value());
  if (rng_.one_in(4)) put.lease = some_lease();
  put.prev_kv = rng_.one_in(3);
  if (rng_.one_in(25)) {  // fails unless the key exists
    put.ignore_value = true;
    put.value.clear();
  }
  if (rng_.one_in(25)) {
    put.ignore_lease = true;
    put.lease = kNoLease;
  }
  return put;
}

DeleteRangeRequest EntrySequence::next_delete() {
  DeleteRangeRequest request;
  request.prev_kv = rng_.one_in(2);
  const uint64_t shape = rng_.below(4);
  if (shape < 2) {
    request.key = next_key();
  } else if (shape == 2) {
    request.key = rng_.one_in(2) ? "a/" : "b/";
    request.range_end = prefix_end(request.key);
  } else {
    const size_t first = rng_.below(kKeys.size());
    request.key = std::string(kKeys[first]);
    const size_t end = rng_.range(first, kKeys.size());
    request.range_end = end == kKeys.size() ? kAllKeys : std::string(kKeys[end]);
  }
  return request;
}

TxnRequest EntrySequence::next_txn() {
  TxnRequest txn;
  const std::string compared = next_key();
  const std::optional<KeyValue> kv = current(compared);
  const auto target = static_cast<CompareTarget>(rng_.below(5));
  const auto result = static_cast<CompareResult>(rng_.below(4));
  if (target == CompareTarget::kValue) {
    txn.compare.push_back(
        compare_value(compared, result, kv && rng_.one_in(2) ? kv->value : next_value()));
  } else {
    int64_t operand = 0;
    if (kv) {
      switch (target) {
        case CompareTarget::kVersion: operand = kv->version; break;
        case CompareTarget::kCreate: operand = kv->create_revision; break;
        case CompareTarget::kMod: operand = kv->mod_revision; break;
        case CompareTarget::kLease: operand = kv->lease; break;
        case CompareTarget::kValue: break;
      }
    }
    // Around the key's own figure, so that every result holds some of the time.
    operand += static_cast<int64_t>(rng_.below(3)) - 1;
    txn.compare.push_back(compare(compared, target, result, operand));
  }
  // Each branch writes distinct keys (etcd refuses duplicates), walking the key set from a
  // random start.
  const auto branch = [&](uint64_t ops, bool nested_allowed) {
    std::vector<RequestOp> branch_ops;
    const size_t start = rng_.below(kKeys.size());
    for (uint64_t i = 0; i < ops; ++i) {
      std::string key(kKeys[(start + i) % kKeys.size()]);
      const uint64_t kind = rng_.below(10);
      if (kind < 5) {
        branch_ops.push_back(RequestOp{next_put(std::move(key))});
      } else if (kind < 7) {
        branch_ops.push_back(op_delete(std::move(key)));
      } else if (kind < 9 || !nested_allowed) {
        branch_ops.push_back(op_range(std::move(key)));
      } else {
        TxnRequest nested;
        nested.success.push_back(RequestOp{next_put(std::move(key))});
        branch_ops.push_back(op_txn(std::move(nested)));
      }
    }
    return branch_ops;
  };
  const uint64_t success_ops = rng_.range(1, 3);
  txn.success = branch(success_ops, true);
  txn.failure = branch(rng_.range(0, 2), false);
  return txn;
}

LeaseGrantRequest EntrySequence::next_grant() {
  const std::vector<LeaseInfo> live = shadow_.leases();
  LeaseGrantRequest grant;
  grant.ttl_seconds = static_cast<int64_t>(rng_.range(1, 600));  // below the minimum: raised
  if (live.size() >= kMaxLiveLeases || (!live.empty() && rng_.one_in(20))) {
    grant.id = live[rng_.below(live.size())].id;  // fails: the lease exists
  } else if (rng_.one_in(4)) {
    grant.id = kNoLease;  // the state machine picks the id
  } else {
    grant.id = next_lease_id_++;
  }
  return grant;
}

LeaseCheckpointRequest EntrySequence::next_checkpoint() {
  LeaseCheckpointRequest request;
  const uint64_t count = rng_.range(1, 3);
  for (uint64_t i = 0; i < count; ++i) {
    request.checkpoints.push_back(
        LeaseCheckpoint{some_lease(), static_cast<int64_t>(rng_.range(1, 600))});
  }
  return request;
}

std::optional<CompactionRequest> EntrySequence::next_compaction() {
  const int64_t compacted = shadow_.compact_revision();
  const int64_t revision = shadow_.current_revision();
  if (compacted >= 1 && rng_.one_in(10)) return CompactionRequest{compacted};  // fails
  const int64_t lowest = std::max<int64_t>(compacted + 1, 1);
  if (lowest > revision) return std::nullopt;
  // Mostly close behind the head, as a client keeping a window of history does.
  const auto window = static_cast<uint64_t>(std::min<int64_t>(revision - lowest, 30));
  return CompactionRequest{revision - static_cast<int64_t>(rng_.below(window + 1))};
}

// ---- applying and comparing ----

// Applies entry `index`, or records it as applied when it carries no command.
Result<ApplyResult> apply_entry(StateMachine& store, Index index,
                                const std::optional<std::string>& entry) {
  if (entry) return store.apply(index, *entry);
  store.record_applied(index);
  ApplyResult recorded;
  recorded.revision = store.current_revision();
  return recorded;
}

// Brings the model up to `index` (it never goes back).
void advance(MemoryKvStore& model, EntrySequence& entries, Index index) {
  for (Index i = model.applied_index() + 1; i <= index; ++i) {
    const Result<ApplyResult> applied = apply_entry(model, i, entries.at(i));
    DENGINE_CHECK_MSG(applied.has_value(), applied.status().to_string());
  }
}

std::string describe(const KeyValue& kv) {
  std::ostringstream out;
  out << kv.key << " create " << kv.create_revision << " mod " << kv.mod_revision << " version "
      << kv.version << " lease " << kv.lease << " value ";
  if (kv.value.size() <= 16) {
    out << '"' << kv.value << '"';
  } else {
    out << kv.value.size() << " bytes #" << std::hash<std::string>{}(kv.value);
  }
  return out.str();
}

std::string describe(const Event& event) {
  std::string text = (event.type == EventType::kPut ? "put " : "delete ") + describe(event.kv);
  if (event.prev_kv) text += " prev " + describe(*event.prev_kv);
  return text;
}

// Everything the public read API shows, one fact a line: the keyspace now and at a few past
// revisions the history still holds, every event since the compaction with its prev_kv, every
// lease with its keys. Internal layout (sub-revisions of the rebuilt index) does not show.
std::string describe_state(const StateMachine& store) {
  std::ostringstream out;
  const int64_t revision = store.current_revision();
  const int64_t compacted = store.compact_revision();
  const int64_t oldest = std::max<int64_t>(compacted, 1);
  out << "applied " << store.applied_index() << " revision " << revision << " compacted "
      << compacted << '\n';
  std::vector<int64_t> read_revisions{0};
  for (int64_t step = 0; step <= 4; ++step) {
    read_revisions.push_back(oldest + (revision - oldest) * step / 4);
  }
  for (const int64_t at : read_revisions) {
    RangeRequest everything = range_request(std::string(1, '\0'), kAllKeys);
    everything.revision = at;
    const Result<RangeResponse> read = store.range(everything);
    out << "range at " << at;
    if (!read) {
      out << " failed: " << read.status().to_string() << '\n';
      continue;
    }
    out << ": header " << read->revision << " count " << read->count << " more " << read->more
        << '\n';
    for (const KeyValue& kv : read->kvs) out << "  " << describe(kv) << '\n';
  }
  EventQuery query;
  query.key = std::string(1, '\0');
  query.range_end = kAllKeys;
  query.start_revision = oldest;
  query.prev_kv = true;
  query.max_revisions = int64_t{1} << 40;
  const Result<EventBatch> batch = store.events(query);
  if (!batch) {
    out << "events from " << oldest << " failed: " << batch.status().to_string() << '\n';
  } else {
    out << "events from " << oldest << " to " << batch->next_revision << '\n';
    for (const Event& event : batch->events) out << "  " << describe(event) << '\n';
  }
  for (const LeaseInfo& info : store.leases()) {
    out << "lease " << info.id << " ttl " << info.granted_ttl_seconds << " remaining "
        << info.remaining_ttl_seconds << " keys";
    const std::optional<LeaseInfo> with_keys = store.lease(info.id, /*with_keys=*/true);
    if (!with_keys) out << " (not found by id)";
    if (with_keys) {
      for (const std::string& key : with_keys->keys) out << ' ' << key;
    }
    out << '\n';
  }
  return out.str();
}

// "line N: store `...`, model `...`" for the first line where the descriptions differ.
std::string first_difference(const std::string& store, const std::string& model) {
  std::istringstream store_lines(store);
  std::istringstream model_lines(model);
  std::string a;
  std::string b;
  for (size_t line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(store_lines, a));
    const bool more_b = static_cast<bool>(std::getline(model_lines, b));
    if (!more_a && !more_b) return "nowhere";
    if (!more_a) a = "<end>";
    if (!more_b) b = "<end>";
    if (a != b) {
      return "line " + std::to_string(line) + ": store `" + a + "`, model `" + b + "`";
    }
  }
}

void compare_states(const StateMachine& store, const StateMachine& model, std::string_view when,
                    std::ostream& failures) {
  const std::string got = describe_state(store);
  const std::string want = describe_state(model);
  if (got != want) {
    failures << when << ": the store differs from the model at " << first_difference(got, want)
             << '\n';
  }
}

// Why the store's outcome of an entry differs from the model's; empty when it does not.
std::string apply_difference(const ApplyResult& got, const ApplyResult& want) {
  if (got.already_applied != want.already_applied) return "already_applied differs";
  if (got.status.code() != want.status.code() || got.status.message() != want.status.message()) {
    return "status " + got.status.to_string() + ", model " + want.status.to_string();
  }
  if (!(got.response == want.response)) {
    return "the responses differ (kinds " + std::to_string(got.response.index()) + " and " +
           std::to_string(want.response.index()) + ")";
  }
  for (size_t i = 0; i < std::max(got.events.size(), want.events.size()); ++i) {
    const std::string a = i < got.events.size() ? describe(got.events[i]) : "none";
    const std::string b = i < want.events.size() ? describe(want.events[i]) : "none";
    if (a != b) return "event " + std::to_string(i) + " `" + a + "`, model `" + b + "`";
  }
  if (got.events != want.events) return "the events differ";
  if (got.revision != want.revision) {
    return "revision " + std::to_string(got.revision) + ", model " + std::to_string(want.revision);
  }
  return {};
}

struct RecoveryOutcome {
  Index recovered = 0;     // applied_index() as the store came back
  uint64_t resent = 0;     // entries re-sent at or below it (each must be a no-op)
  uint64_t continued = 0;  // entries applied after it, compared with the model's outcomes
  std::string failures;    // one line each; empty when every check passed
};

// The checks after a crash. `model` is at or below the store's applied index and is brought up
// to it; `reported_durable` is the highest index the store reported durable before the crash.
template <typename Store>
RecoveryOutcome check_recovered(Store& store, MemoryKvStore& model, EntrySequence& entries,
                                Index reported_durable, uint64_t new_entries) {
  RecoveryOutcome outcome;
  std::ostringstream failures;
  const Index recovered = store.applied_index();
  outcome.recovered = recovered;
  if (recovered < reported_durable) {
    failures << "applied index " << recovered << " after the crash, but " << reported_durable
             << " was reported durable before it\n";
  }
  if (recovered < model.applied_index()) {
    failures << "applied index " << recovered << " after the crash is below "
             << model.applied_index() << ", which an earlier recovery had\n";
    outcome.failures = failures.str();
    return outcome;
  }
  if (store.durable_applied_index() != recovered) {
    failures << "durable index " << store.durable_applied_index() << " after the crash, applied "
             << recovered << ": what came back is on disk\n";
  }
  advance(model, entries, recovered);
  if (Status consistent = store.check_consistency(); !consistent) {
    failures << "after the crash: " << consistent.to_string() << '\n';
  }
  compare_states(store, model, "after the crash", failures);

  // After a restart the runtime re-sends the entries above the durable index it last heard of:
  // those the store already holds (and any below) must change nothing.
  const Index resend_from = (reported_durable > 8 ? reported_durable - 8 : 0) + 1;
  for (Index i = std::max(resend_from, recovered > 1000 ? recovered - 1000 : 1); i <= recovered;
       ++i) {
    const Result<ApplyResult> again = apply_entry(store, i, entries.at(i));
    ++outcome.resent;
    if (!again) {
      failures << "re-sent entry " << i << " failed: " << again.status().to_string() << '\n';
    } else if (entries.at(i) &&
               (!again->already_applied || again->revision != model.current_revision())) {
      failures << "re-sent entry " << i << " was applied again (revision " << again->revision
               << ")\n";
    }
  }

  MemoryKvStore ahead = model;
  for (Index i = recovered + 1; i <= recovered + new_entries; ++i) {
    const Result<ApplyResult> got = apply_entry(store, i, entries.at(i));
    const Result<ApplyResult> want = apply_entry(ahead, i, entries.at(i));
    DENGINE_CHECK(want.has_value());
    ++outcome.continued;
    if (!got) {
      failures << "entry " << i << " after the crash failed: " << got.status().to_string() << '\n';
      break;
    }
    if (std::string difference = apply_difference(*got, *want); !difference.empty()) {
      failures << "entry " << i << " after the crash: " << difference << '\n';
    }
  }
  if (Status consistent = store.check_consistency(); !consistent) {
    failures << "after " << new_entries << " more entries: " << consistent.to_string() << '\n';
  }
  compare_states(store, ahead, "after " + std::to_string(new_entries) + " more entries", failures);
  outcome.failures = failures.str();
  return outcome;
}

// ---- the in-memory store's simulated crash ----

TEST(KvKill, MemoryStoreCrashKeepsExactlyTheFlushedEntries) {
  const uint64_t seed = env_or("DENGINE_KV_KILL_SEED", kDefaultSeed);
  const uint64_t iterations = 4 * env_or("DENGINE_KV_KILL_ITERATIONS", kDefaultIterations);
  Rng rng(seed);
  EntrySequence entries(rng.next());
  // Small enough that the store also flushes on its own.
  MemoryKvStore store(
      MemoryKvStoreOptions{.apply = {}, .model_durability = true, .max_unflushed_entries = 64});
  MemoryKvStore model(kModelOptions);
  for (uint64_t iteration = 0; iteration < iterations; ++iteration) {
    SCOPED_TRACE(trace(seed, iteration));
    Index durable = store.durable_applied_index();
    const Index last = store.applied_index() + rng.range(1, 150);
    for (Index index = store.applied_index() + 1; index <= last; ++index) {
      const Result<ApplyResult> applied = apply_entry(store, index, entries.at(index));
      ASSERT_TRUE(applied.has_value()) << applied.status().to_string();
      if (rng.one_in(40)) {
        ASSERT_TRUE(store.flush().is_ok());
      }
      durable = std::max(durable, store.durable_applied_index());
    }
    ASSERT_TRUE(store.simulate_crash().is_ok());
    EXPECT_EQ(store.applied_index(), durable);  // the model of durability is exact
    const RecoveryOutcome outcome =
        check_recovered(store, model, entries, durable, rng.range(1, 40));
    ASSERT_TRUE(outcome.failures.empty()) << outcome.failures;
  }
}

// ---- the RocksDB store, killed for real ----

#if DENGINE_WITH_ROCKSDB

constexpr int kReportTimeoutMs = 60'000;  // only to fail instead of hanging on a stuck child
constexpr Index kMaxEntries = 10'000'000;

RocksKvStoreOptions kill_test_options() {
  RocksKvStoreOptions options;
  options.write_buffer_bytes = 64 << 10;  // RocksDB flushes on its own every few dozen puts
  options.block_cache_bytes = 4 << 20;
  return options;
}

// Exit codes of a child that stopped on its own.
enum ChildExit : int { kOpenFailed = 10, kApplyFailed, kFlushFailed, kPipeFailed, kRanOut, kThrew };

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  if (!WIFEXITED(status)) return "status " + std::to_string(status);
  switch (WEXITSTATUS(status)) {
    case kOpenFailed: return "exited: the store did not open (see stderr)";
    case kApplyFailed: return "exited: an apply failed (see stderr)";
    case kFlushFailed: return "exited: a flush failed (see stderr)";
    case kPipeFailed: return "exited: the pipe broke";
    case kRanOut: return "exited: ran out of entries";
    case kThrew: return "exited: an exception";  // or a body that returned
    default: return "exited with " + std::to_string(WEXITSTATUS(status));
  }
}

bool write_all(int fd, const void* data, size_t size) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

enum class ReadOutcome { kOk, kEnd, kTimeout };

// Reads exactly `size` bytes. kEnd: the child is gone (or the read failed) first.
ReadOutcome read_exact(int fd, void* data, size_t size) {
  auto* bytes = static_cast<char*>(data);
  while (size > 0) {
    pollfd readable{.fd = fd, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&readable, 1, kReportTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return ReadOutcome::kTimeout;
    const ssize_t n = ::read(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ReadOutcome::kEnd;
    bytes += n;
    size -= static_cast<size_t>(n);
  }
  return ReadOutcome::kOk;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// A forked child, and the read end of the pipe it writes to.
struct Child {
  pid_t pid = -1;
  int fd = -1;
};

// Forks a child that runs `body(write_fd)`. The child ends in _exit whatever `body` does: it
// never returns into gtest, nor runs the parent's exit handlers.
template <typename Body>
std::optional<Child> spawn(const Body& body) {
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    ::close(fds[0]);
    try {
      body(fds[1]);
    } catch (...) {
    }
    _exit(kThrew);
  }
  ::close(fds[1]);
  return Child{pid, fds[0]};
}

// What the writer sends after each rise of the durable index (atomic: below PIPE_BUF).
struct DurableReport {
  Index durable = 0;
  Index applied = 0;
  uint64_t after_flush = 0;  // 1: the rise followed flush(); 0: RocksDB flushed on its own
};

// The writer child: applies the entries from the store's applied index on, flushing every so
// often, and reports each rise of the durable index, until it is killed.
[[noreturn]] void run_writer(const std::string& dir, int report_fd, EntrySequence& entries,
                             uint64_t seed) {
  Result<std::unique_ptr<RocksKvStore>> opened = RocksKvStore::open(dir, kill_test_options());
  if (!opened) {
    std::fprintf(stderr, "writer: %s\n", opened.status().to_string().c_str());
    _exit(kOpenFailed);
  }
  RocksKvStore& store = **opened;
  Rng rng(seed);
  Index reported = store.durable_applied_index();
  const auto report_rise = [&](bool after_flush) {
    const Index durable = store.durable_applied_index();
    if (durable <= reported) return;
    reported = durable;
    const DurableReport report{durable, store.applied_index(), after_flush ? 1U : 0U};
    if (!write_all(report_fd, &report, sizeof(report))) _exit(kPipeFailed);
  };
  Index flush_at = store.applied_index() + rng.range(1, 120);
  for (Index index = store.applied_index() + 1; index < kMaxEntries; ++index) {
    const Result<ApplyResult> applied = apply_entry(store, index, entries.at(index));
    if (!applied) {
      std::fprintf(stderr, "writer: entry %llu: %s\n", static_cast<unsigned long long>(index),
                   applied.status().to_string().c_str());
      _exit(kApplyFailed);
    }
    report_rise(false);
    if (index == flush_at) {
      if (Status flushed = store.flush(); !flushed) {
        std::fprintf(stderr, "writer: %s\n", flushed.to_string().c_str());
        _exit(kFlushFailed);
      }
      report_rise(true);
      flush_at = index + rng.range(1, 120);
    }
  }
  _exit(kRanOut);
}

struct WriterRun {
  Index highest_durable = 0;
  uint64_t reports = 0;
  uint64_t background_reports = 0;  // rises that RocksDB's own flushes caused
  Index max_lag = 0;                // applied - durable at a report
  std::string failure;              // empty: the child was killed as planned
};

// Forks the writer, reads `kill_after` reports, waits `delay_us` (0 mostly), SIGKILLs it, and
// takes the reports it sent before it died.
WriterRun run_writer_and_kill(const std::string& dir, EntrySequence& entries, uint64_t child_seed,
                              uint64_t kill_after, uint64_t delay_us) {
  WriterRun run;
  const std::optional<Child> writer =
      spawn([&](int fd) { run_writer(dir, fd, entries, child_seed); });
  if (!writer) {
    run.failure = std::string("cannot fork the writer: ") + std::strerror(errno);
    return run;
  }
  const auto take = [&](const DurableReport& report) {
    if (report.durable <= run.highest_durable || report.durable > report.applied) {
      run.failure += "report of durable " + std::to_string(report.durable) + " (applied " +
                     std::to_string(report.applied) + ") after durable " +
                     std::to_string(run.highest_durable) + "\n";
    }
    run.highest_durable = std::max(run.highest_durable, report.durable);
    run.max_lag = std::max(run.max_lag, report.applied - std::min(report.applied, report.durable));
    ++run.reports;
    if (report.after_flush == 0) ++run.background_reports;
  };
  DurableReport report;
  while (run.reports < kill_after) {
    const ReadOutcome read = read_exact(writer->fd, &report, sizeof(report));
    if (read == ReadOutcome::kTimeout) run.failure += "no report from the writer for 60 s\n";
    if (read != ReadOutcome::kOk) break;
    take(report);
  }
  if (delay_us > 0) ::usleep(static_cast<useconds_t>(delay_us));
  ::kill(writer->pid, SIGKILL);
  const int status = wait_for(writer->pid);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    run.failure += "the writer stopped before it was killed: " + describe_exit(status) + "\n";
  }
  while (read_exact(writer->fd, &report, sizeof(report)) == ReadOutcome::kOk) take(report);
  ::close(writer->fd);
  return run;
}

struct CheckerHeader {
  Index recovered = 0;
  uint64_t resent = 0;
  uint64_t continued = 0;
  uint64_t failure_bytes = 0;
};

// The checker child: reopens the store, runs the checks, sends the outcome, closes the store
// without a flush (its last applies are lost, as in a crash) and exits.
[[noreturn]] void run_checker(const std::string& dir, int fd, MemoryKvStore& model,
                              EntrySequence& entries, Index reported_durable,
                              uint64_t new_entries) {
  RecoveryOutcome outcome;
  Result<std::unique_ptr<RocksKvStore>> opened = RocksKvStore::open(dir, kill_test_options());
  if (!opened) {
    outcome.failures = "the store did not reopen: " + opened.status().to_string() + "\n";
  } else {
    std::unique_ptr<RocksKvStore> store = std::move(opened).value();
    outcome = check_recovered(*store, model, entries, reported_durable, new_entries);
    store.reset();
  }
  const CheckerHeader header{outcome.recovered, outcome.resent, outcome.continued,
                             outcome.failures.size()};
  if (!write_all(fd, &header, sizeof(header)) ||
      !write_all(fd, outcome.failures.data(), outcome.failures.size())) {
    _exit(kPipeFailed);
  }
  _exit(0);
}

struct CheckerRun {
  CheckerHeader header;
  std::string failures;
};

CheckerRun run_checker_child(const std::string& dir, MemoryKvStore& model, EntrySequence& entries,
                             Index reported_durable, uint64_t new_entries) {
  CheckerRun run;
  const std::optional<Child> checker =
      spawn([&](int fd) { run_checker(dir, fd, model, entries, reported_durable, new_entries); });
  if (!checker) {
    run.failures = std::string("cannot fork the checker: ") + std::strerror(errno);
    return run;
  }
  if (read_exact(checker->fd, &run.header, sizeof(run.header)) != ReadOutcome::kOk) {
    run.failures = "the checker sent no outcome\n";
  } else {
    run.failures.resize(run.header.failure_bytes);
    if (read_exact(checker->fd, run.failures.data(), run.failures.size()) != ReadOutcome::kOk) {
      run.failures += "\n(the checker's outcome was cut short)\n";
    }
  }
  ::close(checker->fd);
  const int status = wait_for(checker->pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    run.failures += "the checker " + describe_exit(status) + "\n";
  }
  return run;
}

size_t threads_in_process() {
  std::error_code error;
  size_t threads = 0;
  for (std::filesystem::directory_iterator it("/proc/self/task", error), end; !error && it != end;
       it.increment(error)) {
    ++threads;
  }
  return std::max<size_t>(threads, 1);
}

// The store's directory: under DENGINE_KV_KILL_DIR when set (to run on a particular disk), else
// in the test scratch directory (tmpfs when there is one: a SIGKILL keeps the page cache, so a
// real disk would check nothing more, only fsync slower).
std::string kill_test_dir() {
  const char* base = std::getenv("DENGINE_KV_KILL_DIR");
  if (base == nullptr || *base == '\0') return fresh_test_dir() + "/store";
  std::string pattern = std::string(base) + "/dengine-kv-kill-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

TEST(KvKill, RocksDbStoreKeepsEveryReportedDurableIndexAcrossSigkills) {
  if (threads_in_process() > 1) {
    GTEST_SKIP() << "this process already runs threads (RocksDB's, from earlier tests): forked "
                    "children would inherit a thread pool without its threads. Run this test "
                    "alone (--gtest_filter='KvKill.*'), as ctest does.";
  }
  const uint64_t seed = env_or("DENGINE_KV_KILL_SEED", kDefaultSeed);
  const uint64_t iterations = env_or("DENGINE_KV_KILL_ITERATIONS", kDefaultIterations);
  const std::string dir = kill_test_dir();
  ASSERT_FALSE(dir.empty()) << "cannot create a directory under DENGINE_KV_KILL_DIR";
  const auto started = std::chrono::steady_clock::now();
  Rng rng(seed);
  EntrySequence entries(rng.next());
  MemoryKvStore model(kModelOptions);  // at the applied index of the last recovery
  uint64_t reports = 0;
  uint64_t background_reports = 0;
  Index max_lag = 0;
  Index max_recovered_past_report = 0;
  uint64_t resent = 0;
  uint64_t continued = 0;
  uint64_t kills_before_any_report = 0;
  for (uint64_t iteration = 0; iteration < iterations; ++iteration) {
    SCOPED_TRACE(trace(seed, iteration));
    const uint64_t child_seed = rng.next();
    // Mostly after a few reports, at once or a little later (amid a background flush or
    // compaction); one time in eight without waiting for a report, a few milliseconds after the
    // fork, so that it may land inside open() (recovery, or the store's very creation). Nothing
    // checked depends on where the kill lands.
    const bool early = rng.one_in(8);
    const uint64_t kill_after = early ? 0 : rng.range(1, 6);
    uint64_t delay_us = early ? rng.range(0, 40'000) : 0;
    if (!early && rng.one_in(2)) delay_us = rng.range(1, 3000);
    const uint64_t new_entries = rng.range(1, 40);

    const WriterRun run = run_writer_and_kill(dir, entries, child_seed, kill_after, delay_us);
    ASSERT_TRUE(run.failure.empty()) << run.failure;
    // What the store must still hold: what it reported, and what the last check found.
    const Index known_durable = std::max(run.highest_durable, model.applied_index());
    const CheckerRun check = run_checker_child(dir, model, entries, known_durable, new_entries);
    ASSERT_TRUE(check.failures.empty())
        << "highest durable index reported: " << run.highest_durable << "\n"
        << check.failures;
    advance(model, entries, check.header.recovered);

    reports += run.reports;
    if (run.reports == 0) ++kills_before_any_report;
    background_reports += run.background_reports;
    max_lag = std::max(max_lag, run.max_lag);
    max_recovered_past_report =
        std::max(max_recovered_past_report, check.header.recovered - known_durable);
    resent += check.header.resent;
    continued += check.header.continued;
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  std::cout << "kv sigkill: seed " << seed << ", " << iterations << " kills ("
            << kills_before_any_report << " before any report) in " << elapsed.count() << " ms; "
            << reports << " durable reports (" << background_reports
            << " from RocksDB's own flushes), applied index up to " << max_lag
            << " ahead of durable at a report; up to " << max_recovered_past_report
            << " entries recovered past the last report; " << resent
            << " entries re-sent as no-ops, " << continued
            << " applied after recovery; final applied index " << model.applied_index()
            << ", revision " << model.current_revision() << ", compacted "
            << model.compact_revision() << std::endl;
  if (std::getenv("DENGINE_KV_KILL_DIR") != nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
}

#endif  // DENGINE_WITH_ROCKSDB

}  // namespace
}  // namespace dengine::kv::test
