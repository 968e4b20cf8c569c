#include "kv/kv_applier.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "common/check.h"
#include "common/splitmix64.h"
#include "kv/range_query.h"
#include "kv/request_validation.h"

namespace dengine::kv {
namespace {

// ---- compares (etcd's applyCompare / compareKV) ----

int three_way(int64_t a, int64_t b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

bool compare_holds(const Compare& compare, const KeyValue& kv) {
  int order = 0;
  switch (compare.target) {
    case CompareTarget::kValue: {
      const int bytes = kv.value.compare(compare.value);  // bytewise, like bytes.Compare
      order = bytes < 0 ? -1 : (bytes > 0 ? 1 : 0);
      break;
    }
    case CompareTarget::kCreate:
      order = three_way(kv.create_revision, compare.create_revision);
      break;
    case CompareTarget::kMod: order = three_way(kv.mod_revision, compare.mod_revision); break;
    case CompareTarget::kVersion: order = three_way(kv.version, compare.version); break;
    case CompareTarget::kLease: order = three_way(kv.lease, compare.lease); break;
  }
  switch (compare.result) {
    case CompareResult::kEqual: return order == 0;
    case CompareResult::kNotEqual: return order != 0;
    case CompareResult::kGreater: return order > 0;
    case CompareResult::kLess: return order < 0;
  }
  return true;
}

bool compare_holds(const MvccReader& view, const Compare& compare) {
  Result<RawRange> range = view.range(KeySpan::of(compare.key, compare.range_end), {});
  if (!range) return false;
  if (range->kvs.empty()) {
    // A missing key has no value to compare (not even an empty one); for the other targets
    // it compares as a zero KeyValue: version 0, create 0, mod 0, lease 0.
    if (compare.target == CompareTarget::kValue) return false;
    return compare_holds(compare, KeyValue{});
  }
  for (const KeyValue& kv : range->kvs) {
    if (!compare_holds(compare, kv)) return false;
  }
  return true;
}

// ---- the txn path (etcd's compareToPath) ----

// Every compare of the txn and of the nested txns it reaches is evaluated against the state
// before the txn, first; the ops then follow the recorded branches, in the same pre-order.
void record_path(const MvccReader& view, const TxnRequest& txn, std::vector<bool>& path) {
  bool succeeded = true;
  for (const Compare& compare : txn.compare) {
    if (!compare_holds(view, compare)) {
      succeeded = false;
      break;
    }
  }
  path.push_back(succeeded);
  for (const RequestOp& op : succeeded ? txn.success : txn.failure) {
    if (const auto* nested = std::get_if<TxnRequest>(&op.request)) record_path(view, *nested, path);
  }
}

class PathCursor {
 public:
  explicit PathCursor(const std::vector<bool>& path) : path_(path) {}
  bool next_branch() {
    DENGINE_CHECK(position_ < path_.size());
    return path_[position_++];
  }

 private:
  const std::vector<bool>& path_;
  size_t position_ = 0;
};

const std::vector<RequestOp>& taken_ops(const TxnRequest& txn, bool succeeded) {
  return succeeded ? txn.success : txn.failure;
}

// ---- preconditions, all checked before the first write ----

// etcd's checkRequestPut (in a txn): the key must exist for ignore_value/ignore_lease, and a
// lease must exist.
Status check_put_preconditions(const MvccReader& view, const LeaseTable& leases,
                               const PutRequest& put) {
  if (put.ignore_value || put.ignore_lease) {
    Result<RawRange> current = view.range(KeySpan::of(put.key, {}), {});
    if (!current) return current.status();
    if (current->kvs.empty()) return Status::of(ErrorDetail::kKeyNotFound);
  }
  if (put.lease != kNoLease && !leases.contains(put.lease)) {
    return Status::of(ErrorDetail::kLeaseNotFound);
  }
  return Status::ok();
}

// etcd's checkRequestRange. Only revision 0 means "current" here: a negative revision is
// compared like any other, so it fails as compacted once anything was compacted (etcd 3.4.23).
Status check_range_revision(const MvccReader& view, const RangeRequest& range) {
  if (range.revision == 0) return Status::ok();
  if (range.revision > view.revision()) return Status::of(ErrorDetail::kFutureRevision);
  if (range.revision < view.compact_revision()) return Status::of(ErrorDetail::kCompacted);
  return Status::ok();
}

template <typename CheckOp>
Status check_taken_ops(const TxnRequest& txn, PathCursor& cursor, const CheckOp& check_op) {
  for (const RequestOp& op : taken_ops(txn, cursor.next_branch())) {
    const auto* nested = std::get_if<TxnRequest>(&op.request);
    Status status = nested != nullptr ? check_taken_ops(*nested, cursor, check_op) : check_op(op);
    if (!status) return status;
  }
  return Status::ok();
}

// ---- writes ----

// etcd's Put inside a write transaction, its preconditions already checked. `before` is the
// state before the transaction.
PutResponse put_in(WriteTxn& txn, const MvccReader& before, const PutRequest& put) {
  std::optional<KeyValue> previous;
  if (put.ignore_value || put.ignore_lease || put.prev_kv) {
    Result<RawRange> current = txn.range(KeySpan::of(put.key, {}), {});
    DENGINE_CHECK(current.has_value());
    if (!current->kvs.empty()) previous = std::move(current->kvs.front());
  }
  std::string_view value = put.value;
  LeaseId lease = put.lease;
  if (put.ignore_value || put.ignore_lease) {
    // The key existed before the txn (checked). Only a delete with range_end "\0" earlier in
    // the same txn, which etcd's duplicate check lets through, can have removed it since; etcd
    // then panics. Keep the value and lease the key had when the txn began instead.
    if (!previous) {
      Result<RawRange> at_start = before.range(KeySpan::of(put.key, {}), {});
      DENGINE_CHECK(at_start.has_value() && !at_start->kvs.empty());
      previous = std::move(at_start->kvs.front());
    }
    if (put.ignore_value) value = previous->value;
    if (put.ignore_lease) lease = previous->lease;
  }
  PutResponse response;
  response.revision = txn.put(put.key, value, lease);
  if (put.prev_kv) response.prev_kv = std::move(previous);
  return response;
}

DeleteRangeResponse delete_in(WriteTxn& txn, const DeleteRangeRequest& del) {
  const KeySpan span = KeySpan::of(del.key, del.range_end);
  DeleteRangeResponse response;
  if (del.prev_kv) {
    Result<RawRange> current = txn.range(span, {});
    DENGINE_CHECK(current.has_value());
    response.prev_kvs = std::move(current->kvs);
  }
  std::tie(response.deleted, response.revision) = txn.delete_range(span);
  return response;
}

// Runs the ops of a checked txn along its recorded path. `write` is null for a read-only txn.
class TxnRunner {
 public:
  TxnRunner(const MvccReader& before, WriteTxn* write) : before_(before), write_(write) {}

  TxnResponse run(const TxnRequest& txn, PathCursor& cursor) {
    TxnResponse response;
    response.succeeded = cursor.next_branch();
    for (const RequestOp& op : taken_ops(txn, response.succeeded)) {
      response.responses.push_back(ResponseOp{std::visit(
          [&](const auto& request) -> decltype(ResponseOp::response) {
            using T = std::decay_t<decltype(request)>;
            if constexpr (std::is_same_v<T, RangeRequest>) {
              Result<RangeResponse> range = execute_range(view(), request);
              DENGINE_CHECK_MSG(range.has_value(), "a checked range failed inside a txn");
              return std::move(range).value();
            } else if constexpr (std::is_same_v<T, PutRequest>) {
              DENGINE_CHECK(write_ != nullptr);
              return put_in(*write_, before_, request);
            } else if constexpr (std::is_same_v<T, DeleteRangeRequest>) {
              DENGINE_CHECK(write_ != nullptr);
              return delete_in(*write_, request);
            } else {
              return run(request, cursor);  // nested: its response has no header (revision 0)
            }
          },
          op.request)});
    }
    return response;
  }

 private:
  [[nodiscard]] const MvccReader& view() const {
    return write_ != nullptr ? static_cast<const MvccReader&>(*write_) : before_;
  }

  const MvccReader& before_;
  WriteTxn* write_;
};

// ---- commands ----

ApplyResult failed(const KvState& state, Status status) {
  ApplyResult result;
  result.status = std::move(status);
  result.revision = state.mvcc.revision();
  return result;
}

ApplyResult succeeded(const KvState& state, KvResponse response, std::vector<Event> events) {
  ApplyResult result;
  result.response = std::move(response);
  result.events = std::move(events);
  result.revision = state.mvcc.revision();
  return result;
}

ApplyResult apply_put(KvState& state, const PutRequest& put) {
  if (Status s = check_put_request(put); !s) return failed(state, std::move(s));
  // Outside a txn etcd looks the lease up before the key (the opposite order to a txn's).
  if (put.lease != kNoLease && !state.leases.contains(put.lease)) {
    return failed(state, Status::of(ErrorDetail::kLeaseNotFound));
  }
  if (Status s = check_put_preconditions(state.mvcc, state.leases, put); !s) {
    return failed(state, std::move(s));
  }
  WriteTxn txn(state.mvcc, state.leases);
  PutResponse response = put_in(txn, state.mvcc, put);
  std::vector<Event> events = txn.end();
  return succeeded(state, std::move(response), std::move(events));
}

ApplyResult apply_delete(KvState& state, const DeleteRangeRequest& del) {
  if (Status s = check_delete_request(del); !s) return failed(state, std::move(s));
  WriteTxn txn(state.mvcc, state.leases);
  DeleteRangeResponse response = delete_in(txn, del);
  std::vector<Event> events = txn.end();
  return succeeded(state, std::move(response), std::move(events));
}

// etcd's Txn: checks (shape, duplicates, then along the decided path: puts, then ranges),
// then one write transaction.
Result<TxnResponse> run_txn(KvState* mutable_state, const KvState& state, const TxnRequest& txn,
                            std::vector<Event>* events) {
  if (Status s = check_txn_request(txn); !s) return s;
  const bool writes = !is_read_only(txn);
  std::vector<bool> path;
  record_path(state.mvcc, txn, path);
  if (writes) {
    PathCursor cursor(path);
    Status s = check_taken_ops(txn, cursor, [&](const RequestOp& op) {
      const auto* put = std::get_if<PutRequest>(&op.request);
      return put == nullptr ? Status::ok()
                            : check_put_preconditions(state.mvcc, state.leases, *put);
    });
    if (!s) return s;
  }
  {
    PathCursor cursor(path);
    Status s = check_taken_ops(txn, cursor, [&](const RequestOp& op) {
      const auto* range = std::get_if<RangeRequest>(&op.request);
      return range == nullptr ? Status::ok() : check_range_revision(state.mvcc, *range);
    });
    if (!s) return s;
  }
  PathCursor cursor(path);
  if (!writes) {
    TxnResponse response = TxnRunner(state.mvcc, nullptr).run(txn, cursor);
    response.revision = state.mvcc.revision();
    return response;
  }
  DENGINE_CHECK(mutable_state != nullptr && mutable_state == &state);
  WriteTxn write(mutable_state->mvcc, mutable_state->leases);
  TxnResponse response = TxnRunner(mutable_state->mvcc, &write).run(txn, cursor);
  *events = write.end();
  response.revision = write.begin_revision() + (events->empty() ? 0 : 1);
  return response;
}

ApplyResult apply_txn(KvState& state, const TxnRequest& txn) {
  std::vector<Event> events;
  Result<TxnResponse> response = run_txn(&state, state, txn, &events);
  if (!response) return failed(state, response.status());
  return succeeded(state, std::move(response).value(), std::move(events));
}

ApplyResult apply_compaction(KvState& state, const CompactionRequest& compaction) {
  if (Status s = state.mvcc.compact(compaction.revision); !s) return failed(state, std::move(s));
  return succeeded(state, CompactionResponse{state.mvcc.revision()}, {});
}

LeaseId choose_lease_id(const LeaseTable& leases, Index index) {
  constexpr auto kMaxId = std::numeric_limits<LeaseId>::max();
  // A well-mixed, deterministic function of the entry index: every replica picks the same id
  // while ids stay spread out like etcd's. Stored: the function must never change.
  auto id = static_cast<LeaseId>(splitmix64_of(index) & static_cast<uint64_t>(kMaxId));
  if (id == kNoLease) id = 1;
  while (leases.contains(id)) id = id == kMaxId ? 1 : id + 1;
  return id;
}

ApplyResult apply_lease_grant(KvState& state, Index index, const LeaseGrantRequest& grant,
                              const KvApplyOptions& options) {
  if (grant.ttl_seconds > kv_limits::kMaxLeaseTtlSeconds) {
    return failed(state, Status::of(ErrorDetail::kLeaseTtlTooLarge));
  }
  const LeaseId id = grant.id == kNoLease ? choose_lease_id(state.leases, index) : grant.id;
  if (state.leases.contains(id)) return failed(state, Status::of(ErrorDetail::kLeaseExists));
  const int64_t ttl = std::max(grant.ttl_seconds, options.min_lease_ttl_seconds);
  state.leases.grant(id, ttl);
  return succeeded(state, LeaseGrantResponse{state.mvcc.revision(), id, ttl}, {});
}

// etcd's Revoke: the lease's keys are deleted in key order in one write (one revision, if it
// had any keys), then the lease goes.
ApplyResult apply_lease_revoke(KvState& state, const LeaseRevokeRequest& revoke) {
  const LeaseTable::Lease* lease = state.leases.find(revoke.id);
  if (lease == nullptr) return failed(state, Status::of(ErrorDetail::kLeaseNotFound));
  const std::vector<std::string> keys(lease->keys.begin(), lease->keys.end());
  WriteTxn txn(state.mvcc, state.leases);
  for (const std::string& key : keys) txn.delete_range(KeySpan::of(key, {}));
  state.leases.remove(revoke.id);
  std::vector<Event> events = txn.end();
  return succeeded(state, LeaseRevokeResponse{state.mvcc.revision()}, std::move(events));
}

ApplyResult apply_lease_checkpoint(KvState& state, const LeaseCheckpointRequest& request) {
  for (const LeaseCheckpoint& checkpoint : request.checkpoints) {
    state.leases.checkpoint(checkpoint.id, checkpoint.remaining_ttl_seconds);
  }
  return succeeded(state, LeaseCheckpointResponse{state.mvcc.revision()}, {});
}

// The member commands answer with no response and leave the revision where it is.
ApplyResult apply_member_peer_urls(KvState& state, const MemberPeerUrlsRequest& request) {
  // Checked again here, where every replica agrees: two adds with one URL, asked of different
  // members at once, both passed the check on what each had applied.
  for (const auto& [id, other] : state.members) {
    if (id == request.id) continue;
    for (const std::string& url : request.peer_urls) {
      if (std::find(other.peer_urls.begin(), other.peer_urls.end(), url) != other.peer_urls.end()) {
        return failed(state, Status::of(ErrorDetail::kPeerUrlsExist));
      }
    }
  }
  MemberRecord& record = state.members[request.id];
  record.id = request.id;
  record.peer_urls = request.peer_urls;
  return succeeded(state, std::monostate{}, {});
}

ApplyResult apply_member_publish(KvState& state, const MemberPublishRequest& request) {
  MemberRecord& record = state.members[request.id];
  record.id = request.id;
  record.name = request.name;
  record.client_urls = request.client_urls;
  if (record.peer_urls.empty()) record.peer_urls = request.peer_urls;
  return succeeded(state, std::monostate{}, {});
}

ApplyResult apply_member_remove(KvState& state, const MemberRemoveRequest& request) {
  state.members.erase(request.id);
  return succeeded(state, std::monostate{}, {});
}

ApplyResult apply_alarm(KvState& state, const AlarmChangeRequest& request) {
  if (request.activate) {
    state.alarms.insert(request.alarm);
  } else {
    state.alarms.erase(request.alarm);
  }
  return succeeded(state, std::monostate{}, {});
}

bool ops_put(const std::vector<RequestOp>& ops);

bool txn_puts(const TxnRequest& txn) {
  return ops_put(txn.success) || ops_put(txn.failure);
}

bool ops_put(const std::vector<RequestOp>& ops) {
  for (const RequestOp& op : ops) {
    if (std::holds_alternative<PutRequest>(op.request)) return true;
    const auto* nested = std::get_if<TxnRequest>(&op.request);
    if (nested != nullptr && txn_puts(*nested)) return true;
  }
  return false;
}

bool has_alarm(const KvState& state, AlarmType type) {
  return std::any_of(state.alarms.begin(), state.alarms.end(),
                     [type](const Alarm& a) { return a.type == type; });
}

// etcd's applierV3Capped: under a NOSPACE alarm, what would grow the store is refused before
// it is applied (a txn that puts in either branch, as etcd's quota cost counts both).
bool capped(const KvState& state, const KvCommand& command) {
  if (!has_alarm(state, AlarmType::kNoSpace)) return false;
  if (std::holds_alternative<PutRequest>(command)) return true;
  if (std::holds_alternative<LeaseGrantRequest>(command)) return true;
  const auto* txn = std::get_if<TxnRequest>(&command);
  return txn != nullptr && txn_puts(*txn);
}

// etcd's applierV3Corrupt: while a member's data is known to diverge, nothing may change the
// keyspace or the leases. Reads go on (etcd serves ranges and read-only txns outside the
// applier), and so do lease checkpoints, member records and alarms, so that the alarm can be
// disarmed.
bool refused_as_corrupt(const KvState& state, const KvCommand& command) {
  if (!has_alarm(state, AlarmType::kCorrupt)) return false;
  const auto* txn = std::get_if<TxnRequest>(&command);
  return std::holds_alternative<PutRequest>(command) ||
         std::holds_alternative<DeleteRangeRequest>(command) ||
         (txn != nullptr && !is_read_only(*txn)) ||
         std::holds_alternative<CompactionRequest>(command) ||
         std::holds_alternative<LeaseGrantRequest>(command) ||
         std::holds_alternative<LeaseRevokeRequest>(command);
}

}  // namespace

ApplyResult apply_command(KvState& state, Index index, const KvCommand& command,
                          const KvApplyOptions& options) {
  if (refused_as_corrupt(state, command)) return failed(state, Status::of(ErrorDetail::kCorrupt));
  if (capped(state, command)) return failed(state, Status::of(ErrorDetail::kNoSpace));
  ApplyResult result = std::visit(
      [&](const auto& request) -> ApplyResult {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, PutRequest>) return apply_put(state, request);
        if constexpr (std::is_same_v<T, DeleteRangeRequest>) return apply_delete(state, request);
        if constexpr (std::is_same_v<T, TxnRequest>) return apply_txn(state, request);
        if constexpr (std::is_same_v<T, CompactionRequest>) return apply_compaction(state, request);
        if constexpr (std::is_same_v<T, LeaseGrantRequest>) {
          return apply_lease_grant(state, index, request, options);
        }
        if constexpr (std::is_same_v<T, LeaseRevokeRequest>)
          return apply_lease_revoke(state, request);
        if constexpr (std::is_same_v<T, LeaseCheckpointRequest>) {
          return apply_lease_checkpoint(state, request);
        }
        if constexpr (std::is_same_v<T, MemberPeerUrlsRequest>) {
          return apply_member_peer_urls(state, request);
        }
        if constexpr (std::is_same_v<T, MemberPublishRequest>) {
          return apply_member_publish(state, request);
        }
        if constexpr (std::is_same_v<T, MemberRemoveRequest>) {
          return apply_member_remove(state, request);
        }
        if constexpr (std::is_same_v<T, AlarmChangeRequest>) return apply_alarm(state, request);
      },
      command);
  result.changed_leases = leases_changed_by(command, result);
  return result;
}

std::optional<Alarm> changed_alarm(const KvCommand& command) {
  if (const auto* change = std::get_if<AlarmChangeRequest>(&command)) return change->alarm;
  return std::nullopt;
}

std::vector<Alarm> read_alarms(const KvState& state) {
  return {state.alarms.begin(), state.alarms.end()};
}

NodeId changed_member(const KvCommand& command) {
  if (const auto* urls = std::get_if<MemberPeerUrlsRequest>(&command)) return urls->id;
  if (const auto* publish = std::get_if<MemberPublishRequest>(&command)) return publish->id;
  if (const auto* removal = std::get_if<MemberRemoveRequest>(&command)) return removal->id;
  return kNoNode;
}

Result<RangeResponse> read_range(const KvState& state, const RangeRequest& request) {
  if (Status s = check_range_request(request); !s) return s;
  return execute_range(state.mvcc, request);
}

Result<TxnResponse> read_txn(const KvState& state, const TxnRequest& request) {
  if (!is_read_only(request)) {
    return Status::invalid_argument("kv: a txn that writes must go through the log");
  }
  return run_txn(nullptr, state, request, nullptr);
}

std::vector<LeaseId> leases_changed_by(const KvCommand& command, const ApplyResult& result) {
  if (!result.status.is_ok()) return {};
  if (const auto* grant = std::get_if<LeaseGrantResponse>(&result.response)) return {grant->id};
  if (const auto* revoke = std::get_if<LeaseRevokeRequest>(&command)) return {revoke->id};
  if (const auto* request = std::get_if<LeaseCheckpointRequest>(&command)) {
    std::vector<LeaseId> ids;
    ids.reserve(request->checkpoints.size());
    for (const LeaseCheckpoint& checkpoint : request->checkpoints) ids.push_back(checkpoint.id);
    return ids;
  }
  return {};
}

Result<EventBatch> read_events(const KvState& state, const EventQuery& query) {
  return state.mvcc.events(KeySpan::of(query.key, query.range_end), query.start_revision,
                           query.prev_kv, query.max_revisions);
}

std::vector<MemberRecord> read_members(const KvState& state) {
  std::vector<MemberRecord> members;
  members.reserve(state.members.size());
  for (const auto& [id, record] : state.members) members.push_back(record);
  return members;
}

std::optional<LeaseInfo> read_lease(const KvState& state, LeaseId id, bool with_keys) {
  const LeaseTable::Lease* found = state.leases.find(id);
  if (found == nullptr) return std::nullopt;
  return LeaseTable::info(id, *found, with_keys);
}

std::vector<LeaseInfo> read_leases(const KvState& state) {
  std::vector<LeaseInfo> all;
  all.reserve(state.leases.all().size());
  for (const auto& [id, lease] : state.leases.all()) {
    all.push_back(LeaseTable::info(id, lease, /*with_keys=*/false));
  }
  return all;
}

Status attach_live_keys_to_leases(KvState& state) {
  for (const auto& [key, key_index] : state.mvcc.index()) {
    const std::optional<KeyValue> live = state.mvcc.find_at(key, state.mvcc.revision());
    if (!live || live->lease == kNoLease) continue;
    if (!state.leases.contains(live->lease)) {
      return Status::corruption("key '" + key + "' is attached to lease " +
                                std::to_string(live->lease) + ", which does not exist");
    }
    state.leases.attach(live->lease, key);
  }
  return Status::ok();
}

Status check_kv_state(const KvState& state) {
  if (Status s = state.mvcc.check_consistency(); !s) return s;
  for (const auto& [id, lease] : state.leases.all()) {
    for (const std::string& key : lease.keys) {
      const std::optional<KeyValue> current = state.mvcc.find_at(key, state.mvcc.revision());
      if (!current || current->lease != id) {
        return Status::corruption("kv: lease " + std::to_string(id) + " holds key '" + key +
                                  "', which is not live on that lease");
      }
    }
  }
  return Status::ok();
}

}  // namespace dengine::kv
