// Out-of-line parts of dengine/kv_types.h: the comparisons of the
// recursive txn types (defaulted ones cannot see through the incomplete RequestOp).

#include "dengine/kv_types.h"

namespace dengine {
namespace {

bool ops_read_only(const std::vector<RequestOp>& ops) {
  for (const RequestOp& op : ops) {
    if (std::holds_alternative<RangeRequest>(op.request)) continue;
    const auto* txn = std::get_if<TxnRequest>(&op.request);
    if (txn == nullptr || !is_read_only(*txn)) return false;
  }
  return true;
}

}  // namespace

bool is_read_only(const TxnRequest& txn) {
  return ops_read_only(txn.success) && ops_read_only(txn.failure);
}

bool operator==(const TxnRequest& a, const TxnRequest& b) {
  return a.compare == b.compare && a.success == b.success && a.failure == b.failure;
}

bool operator==(const RequestOp& a, const RequestOp& b) {
  return a.request == b.request;
}

bool operator==(const TxnResponse& a, const TxnResponse& b) {
  return a.revision == b.revision && a.succeeded == b.succeeded && a.responses == b.responses;
}

bool operator==(const ResponseOp& a, const ResponseOp& b) {
  return a.response == b.response;
}

}  // namespace dengine
