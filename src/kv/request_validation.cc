#include "kv/request_validation.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace dengine::kv {
namespace {

// A union of half-open key intervals [begin, end), kept disjoint and merged, so that testing a
// key stays logarithmic however many deletes a large nested txn holds.
class IntervalSet {
 public:
  void add(std::string begin, std::string end) {
    if (!(begin < end)) return;  // empty (etcd's "\0" end makes [key, "\0") empty)
    auto it = intervals_.upper_bound(begin);
    if (it != intervals_.begin() && std::prev(it)->second >= begin) {
      --it;
      begin = it->first;
      if (it->second > end) end = it->second;
      it = intervals_.erase(it);
    }
    while (it != intervals_.end() && it->first <= end) {
      if (it->second > end) end = it->second;
      it = intervals_.erase(it);
    }
    intervals_.emplace(std::move(begin), std::move(end));
  }
  void add_all(const IntervalSet& other) {
    for (const auto& [begin, end] : other.intervals_) add(begin, end);
  }
  [[nodiscard]] bool contains(const std::string& key) const {
    auto it = intervals_.upper_bound(key);
    return it != intervals_.begin() && key < std::prev(it)->second;
  }

 private:
  std::map<std::string, std::string> intervals_;  // begin -> end
};

struct TxnWrites {
  std::unordered_set<std::string> puts;
  IntervalSet deletes;
};

// The smallest key after `key`: a single key as an interval is [key, key + "\0").
std::string successor(const std::string& key) {
  return key + std::string(1, '\0');
}

// etcd's checkIntervals over one op list: which keys it puts and deletes, or kDuplicateKey.
// The order of the checks follows etcd's, since the outcome depends on it.
Status collect_writes(const std::vector<RequestOp>& ops, TxnWrites& writes) {
  for (const RequestOp& op : ops) {
    const auto* del = std::get_if<DeleteRangeRequest>(&op.request);
    if (del == nullptr) continue;
    if (del->range_end.empty()) {
      writes.deletes.add(del->key, successor(del->key));
    } else {
      writes.deletes.add(del->key, del->range_end);
    }
  }
  for (const RequestOp& op : ops) {
    const auto* txn = std::get_if<TxnRequest>(&op.request);
    if (txn == nullptr) continue;
    TxnWrites then_writes;
    TxnWrites else_writes;
    if (Status s = collect_writes(txn->success, then_writes); !s) return s;
    if (Status s = collect_writes(txn->failure, else_writes); !s) return s;
    for (const std::string& key : then_writes.puts) {
      if (writes.puts.contains(key) || writes.deletes.contains(key)) {
        return Status::of(ErrorDetail::kDuplicateKey);
      }
      writes.puts.insert(key);
    }
    for (const std::string& key : else_writes.puts) {
      // then and else never both run: the same key in both is fine.
      if (writes.puts.contains(key) && !then_writes.puts.contains(key)) {
        return Status::of(ErrorDetail::kDuplicateKey);
      }
      if (writes.deletes.contains(key)) return Status::of(ErrorDetail::kDuplicateKey);
      writes.puts.insert(key);
    }
    writes.deletes.add_all(then_writes.deletes);
    writes.deletes.add_all(else_writes.deletes);
  }
  for (const RequestOp& op : ops) {
    const auto* put = std::get_if<PutRequest>(&op.request);
    if (put == nullptr) continue;
    if (writes.puts.contains(put->key) || writes.deletes.contains(put->key)) {
      return Status::of(ErrorDetail::kDuplicateKey);
    }
    writes.puts.insert(put->key);
  }
  return Status::ok();
}

Status check_request_op(const RequestOp& op, int64_t max_ops);

// etcd's checkTxnRequest.
Status check_txn_shape(const TxnRequest& request, int64_t max_ops) {
  const auto longest = static_cast<int64_t>(
      std::max({request.compare.size(), request.success.size(), request.failure.size()}));
  if (longest > max_ops) return Status::of(ErrorDetail::kTooManyOps);
  for (const Compare& compare : request.compare) {
    if (compare.key.empty()) return Status::of(ErrorDetail::kEmptyKey);
  }
  for (const auto* ops : {&request.success, &request.failure}) {
    for (const RequestOp& op : *ops) {
      if (Status s = check_request_op(op, max_ops - longest); !s) return s;
    }
  }
  return Status::ok();
}

Status check_request_op(const RequestOp& op, int64_t max_ops) {
  return std::visit(
      [&](const auto& request) -> Status {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, RangeRequest>) return check_range_request(request);
        if constexpr (std::is_same_v<T, PutRequest>) return check_put_request(request);
        if constexpr (std::is_same_v<T, DeleteRangeRequest>) return check_delete_request(request);
        if constexpr (std::is_same_v<T, TxnRequest>) return check_txn_shape(request, max_ops);
      },
      op.request);
}

}  // namespace

Status check_range_request(const RangeRequest& request) {
  if (request.key.empty()) return Status::of(ErrorDetail::kEmptyKey);
  return Status::ok();
}

Status check_put_request(const PutRequest& request) {
  if (request.key.empty()) return Status::of(ErrorDetail::kEmptyKey);
  if (request.ignore_value && !request.value.empty()) {
    return Status::of(ErrorDetail::kValueProvided);
  }
  if (request.ignore_lease && request.lease != kNoLease) {
    return Status::of(ErrorDetail::kLeaseProvided);
  }
  return Status::ok();
}

Status check_delete_request(const DeleteRangeRequest& request) {
  if (request.key.empty()) return Status::of(ErrorDetail::kEmptyKey);
  return Status::ok();
}

Status check_txn_request(const TxnRequest& request, size_t max_ops) {
  if (Status s = check_txn_shape(request, static_cast<int64_t>(max_ops)); !s) return s;
  // Checked after the shape, as etcd does, so the op budget bounds this work.
  TxnWrites success_writes;
  if (Status s = collect_writes(request.success, success_writes); !s) return s;
  TxnWrites failure_writes;
  return collect_writes(request.failure, failure_writes);
}

}  // namespace dengine::kv
