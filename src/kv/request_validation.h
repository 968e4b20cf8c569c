#pragma once

// etcd's request checks (etcdserver/api/v3rpc/key.go), which etcd runs before proposing. The
// API layer runs them to answer early; the state machine runs them again when applying, so a
// request that slipped past a proposer fails identically on every replica instead of
// diverging them.

#include <cstddef>

#include "dengine/kv_types.h"
#include "dengine/status.h"

namespace dengine::kv {

Status check_range_request(const RangeRequest& request);
Status check_put_request(const PutRequest& request);
Status check_delete_request(const DeleteRangeRequest& request);
// The op budget (no list longer than max_ops; a nested txn gets what its parent's longest list
// left), every key present, and no key both put twice or put and deleted in one txn (etcd's
// checkIntervals, quirks included: a delete whose range_end is "\0" conflicts with nothing).
Status check_txn_request(const TxnRequest& request, size_t max_ops = kv_limits::kMaxTxnOps);

}  // namespace dengine::kv
