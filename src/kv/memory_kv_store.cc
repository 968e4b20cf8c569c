#include "kv/memory_kv_store.h"

#include <utility>

#include "common/check.h"
#include "kv/command_codec.h"
#include "kv/snapshot_codec.h"

namespace dengine::kv {

Result<ApplyResult> MemoryKvStore::apply(Index index, const std::string& command) {
  if (index <= live_.applied_index) {
    ApplyResult replay;
    replay.already_applied = true;
    replay.revision = live_.mvcc.revision();
    return replay;
  }
  Result<KvCommand> decoded = decode_command(command);
  if (!decoded) {
    return Status(decoded.status().code(), "kv: entry " + std::to_string(index) +
                                               " cannot be applied: " + decoded.status().message());
  }
  ApplyResult result = apply_command(live_, index, *decoded, options_.apply);
  live_.applied_index = index;
  remember_unflushed(index, command);
  return result;
}

void MemoryKvStore::record_applied(Index index) {
  if (index <= live_.applied_index) return;
  live_.applied_index = index;
  remember_unflushed(index, std::nullopt);
}

void MemoryKvStore::remember_unflushed(Index index, std::optional<std::string> command) {
  if (!options_.model_durability) return;
  unflushed_.push_back(UnflushedEntry{index, std::move(command)});
  if (unflushed_.size() >= options_.max_unflushed_entries) {
    Status flushed = flush();
    DENGINE_CHECK_MSG(flushed.is_ok(), flushed.message());
  }
}

Status MemoryKvStore::flush() {
  if (options_.model_durability) {
    for (const UnflushedEntry& entry : unflushed_) {
      if (entry.command) {
        // These bytes decoded when they were applied; the image replays them identically.
        Result<KvCommand> decoded = decode_command(*entry.command);
        DENGINE_CHECK(decoded.has_value());
        (void)apply_command(durable_, entry.index, *decoded, options_.apply);
      }
      durable_.applied_index = entry.index;
    }
    unflushed_.clear();
  }
  durable_applied_index_ = live_.applied_index;
  return Status::ok();
}

Status MemoryKvStore::simulate_crash() {
  if (!options_.model_durability) {
    return Status::failed_precondition(
        "kv: simulate_crash needs MemoryKvStoreOptions::model_durability");
  }
  live_ = durable_;
  unflushed_.clear();
  return Status::ok();
}

Result<RangeResponse> MemoryKvStore::range(const RangeRequest& request) const {
  return read_range(live_, request);
}

Result<TxnResponse> MemoryKvStore::read_only_txn(const TxnRequest& request) const {
  return read_txn(live_, request);
}

Result<EventBatch> MemoryKvStore::events(const EventQuery& query) const {
  return live_.mvcc.events(KeySpan::of(query.key, query.range_end), query.start_revision,
                           query.prev_kv, query.max_revisions);
}

std::optional<LeaseInfo> MemoryKvStore::lease(LeaseId id, bool with_keys) const {
  const LeaseTable::Lease* found = live_.leases.find(id);
  if (found == nullptr) return std::nullopt;
  return LeaseTable::info(id, *found, with_keys);
}

std::vector<LeaseInfo> MemoryKvStore::leases() const {
  std::vector<LeaseInfo> all;
  all.reserve(live_.leases.all().size());
  for (const auto& [id, lease] : live_.leases.all()) {
    all.push_back(LeaseTable::info(id, lease, /*with_keys=*/false));
  }
  return all;
}

Result<std::string> MemoryKvStore::snapshot() const {
  return encode_snapshot(live_);
}

Status MemoryKvStore::restore(std::string_view snapshot) {
  Result<KvState> decoded = decode_snapshot(snapshot);
  if (!decoded) return decoded.status();
  live_ = std::move(decoded).value();
  if (options_.model_durability) durable_ = live_;
  durable_applied_index_ = live_.applied_index;
  unflushed_.clear();
  return Status::ok();
}

Status MemoryKvStore::check_consistency() const {
  if (Status s = live_.mvcc.check_consistency(); !s) return s;
  // Every lease attachment matches the lease field of the key's live version.
  for (const auto& [id, lease] : live_.leases.all()) {
    for (const std::string& key : lease.keys) {
      Result<RawRange> current = live_.mvcc.range(KeySpan::of(key, {}), {});
      if (!current || current->kvs.empty() || current->kvs.front().lease != id) {
        return Status::corruption("kv: lease " + std::to_string(id) + " holds key '" + key +
                                  "', which is not live on that lease");
      }
    }
  }
  return Status::ok();
}

}  // namespace dengine::kv
