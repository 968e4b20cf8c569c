#include "kv/memory_kv_store.h"

#include <utility>

#include "common/check.h"
#include "kv/command_codec.h"
#include "kv/durable_files.h"
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
    return Status(
        decoded.status().code(),
        "kv: entry " + std::to_string(index) + " cannot be applied: " + decoded.status().message(),
        decoded.status().detail());
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
  return read_events(live_, query);
}

std::optional<LeaseInfo> MemoryKvStore::lease(LeaseId id, bool with_keys) const {
  return read_lease(live_, id, with_keys);
}

std::vector<LeaseInfo> MemoryKvStore::leases() const {
  return read_leases(live_);
}

std::vector<MemberRecord> MemoryKvStore::member_records() const {
  return read_members(live_);
}

std::vector<Alarm> MemoryKvStore::alarms() const {
  return read_alarms(live_);
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
  return check_kv_state(live_);
}

Result<Index> MemoryKvStore::write_snapshot(const std::string& dir) {
  if (Status created = create_new_dir(dir); !created) return created;
  if (Status written = write_file_atomically(dir, kSnapshotFileName, encode_snapshot(live_));
      !written) {
    return written;
  }
  return live_.applied_index;
}

Status MemoryKvStore::install_snapshot(const std::string& dir) {
  Result<std::string> image = read_whole_file(dir + "/" + kSnapshotFileName);
  if (!image) {
    return Status::corruption(
        "kv: " + dir + " is not an in-memory store's snapshot image: " + image.status().message());
  }
  if (Status restored = restore(*image); !restored) return restored;
  return remove_tree(dir);
}

}  // namespace dengine::kv
