#include "recipes/key_queue.h"

#include <charconv>
#include <utility>
#include <variant>

#include "recipes/timed_watch.h"

namespace dengine::recipes {

std::string lease_hex(LeaseId lease) {
  char digits[24];
  const std::to_chars_result written =
      std::to_chars(std::begin(digits), std::end(digits), lease, 16);
  return {std::begin(digits), written.ptr};
}

Compare created_at(const std::string& key, int64_t create_revision) {
  Compare compare;
  compare.result = CompareResult::kEqual;
  compare.target = CompareTarget::kCreate;
  compare.key = key;
  compare.create_revision = create_revision;
  return compare;
}

RangeRequest first_created(const std::string& prefix) {
  RangeRequest request;
  request.key = prefix;
  request.range_end = prefix_range_end(prefix);
  request.sort_order = SortOrder::kAscend;
  request.sort_target = SortTarget::kCreate;
  request.limit = 1;
  return request;
}

namespace {

const RangeResponse* range_of(const ResponseOp& op) {
  return std::get_if<RangeResponse>(&op.response);
}

Status unexpected_response(const std::string& key) {
  return Status::internal("recipes: the txn enqueueing " + key + " answered an unexpected shape");
}

// etcd's waitDelete: the first delete of `key` after `revision`.
Status wait_for_delete(KvClient& kv, const std::string& key, int64_t revision,
                       const Deadline& deadline) {
  TimedWatch deletes(kv.watch(key, {.start_revision = revision, .no_put = true}));
  while (true) {
    Result<WatchBatch> batch = deletes.next(deadline);
    if (!batch) return batch.status();
    for (const Event& event : batch->events) {
      if (event.type == EventType::kDelete) return Status::ok();
    }
  }
}

}  // namespace

Result<QueuePlace> enqueue(KvClient& kv, const std::string& prefix, const std::string& key,
                           const std::string& value, LeaseId lease) {
  PutRequest put;
  put.key = key;
  put.value = value;
  put.lease = lease;
  RangeRequest own;
  own.key = key;

  TxnRequest txn;
  txn.compare.push_back(created_at(key, 0));
  txn.success = {RequestOp{std::move(put)}, RequestOp{first_created(prefix)}};
  // A session that queued before (another Lock or Election on it) keeps its place.
  txn.failure = {RequestOp{std::move(own)}, RequestOp{first_created(prefix)}};
  Result<TxnResponse> response = kv.txn(std::move(txn));
  if (!response) return response.status();
  if (response->responses.size() != 2) return unexpected_response(key);

  QueuePlace place;
  place.created = response->succeeded;
  if (place.created) {
    place.own = KeyValue{.key = key,
                         .create_revision = response->revision,
                         .mod_revision = response->revision,
                         .version = 1,
                         .value = value,
                         .lease = lease};
  } else {
    const RangeResponse* existing = range_of(response->responses[0]);
    if (existing == nullptr || existing->kvs.empty()) return unexpected_response(key);
    place.own = existing->kvs.front();
  }
  const RangeResponse* oldest = range_of(response->responses[1]);
  if (oldest == nullptr) return unexpected_response(key);
  place.first =
      oldest->kvs.empty() || oldest->kvs.front().create_revision == place.own.create_revision;
  return place;
}

Status wait_for_deletes(KvClient& kv, const std::string& prefix, int64_t max_create_revision,
                        const Deadline& deadline) {
  while (true) {
    // The youngest key still ahead of us: once it goes, look again, since an older one may
    // remain (its holder can release out of order, e.g. when its lease expires first).
    RangeRequest ahead = first_created(prefix);
    ahead.sort_order = SortOrder::kDescend;
    ahead.max_create_revision = max_create_revision;
    Result<RangeResponse> response = kv.range(std::move(ahead));
    if (!response) return response.status();
    if (response->kvs.empty()) return Status::ok();
    Status deleted = wait_for_delete(kv, response->kvs.front().key, response->revision, deadline);
    if (!deleted) return deleted;
  }
}

Result<bool> still_queued(KvClient& kv, const std::string& key, int64_t create_revision) {
  Result<std::optional<KeyValue>> current = kv.get(key);
  if (!current) return current.status();
  return current->has_value() && (*current)->create_revision == create_revision;
}

}  // namespace dengine::recipes
