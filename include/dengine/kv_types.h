#pragma once

// The key-value data model and its requests, with etcd 3.4's semantics (api/mvccpb/kv.proto and
// etcdserver/etcdserverpb/rpc.proto). Enum values equal etcd's proto numbers, so the etcd API
// layer translates field by field. Revisions are int64 as in etcd: an empty store is at
// revision 1, and every write (a put, a delete that deleted something, a txn with any such
// write, a lease revoke that deleted keys) advances it by exactly one.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dengine/status.h"

namespace dengine {

using LeaseId = int64_t;
inline constexpr LeaseId kNoLease = 0;

// ---- bounds (etcd's defaults where etcd has one) ----
namespace kv_limits {
inline constexpr size_t kMaxRequestBytes = 1536 * 1024;  // etcd --max-request-bytes
inline constexpr size_t kMaxKeyBytes = kMaxRequestBytes;
inline constexpr size_t kMaxValueBytes = kMaxRequestBytes;
// An encoded command may exceed the request a little: field framing, a nested txn's headers.
inline constexpr size_t kMaxCommandBytes = kMaxRequestBytes + 512 * 1024;
inline constexpr size_t kMaxTxnOps = 128;  // etcd --max-txn-ops
// Each nesting level spends at least one op of its parent's budget, so this bounds recursion.
inline constexpr size_t kMaxTxnDepth = kMaxTxnOps;
inline constexpr int64_t kMaxLeaseTtlSeconds = 9'000'000'000;   // etcd lease.MaxLeaseTTL
inline constexpr size_t kMaxLeaseCheckpointsPerCommand = 1000;  // etcd maxLeaseCheckpointBatchSize
}  // namespace kv_limits

// Errors: a Status whose detail() names etcd's error kind (dengine/error_detail.h), with
// etcd's text as its message, alone or followed by what was asked in parentheses.

// ---- the data ----
struct KeyValue {
  std::string key;
  int64_t create_revision = 0;  // revision of the put that created this generation of the key
  int64_t mod_revision = 0;     // revision of the last put
  int64_t version = 0;          // puts since creation (1 after the creating put)
  std::string value;
  LeaseId lease = kNoLease;

  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

enum class EventType : uint8_t { kPut = 0, kDelete = 1 };

// A change at one revision. A delete's kv holds only the key and mod_revision (the deleting
// revision), as in etcd; prev_kv is the key's value before the change, when it existed.
struct Event {
  EventType type = EventType::kPut;
  KeyValue kv;
  std::optional<KeyValue> prev_kv;

  friend bool operator==(const Event&, const Event&) = default;
};

// ---- range ----
enum class SortOrder : uint8_t { kNone = 0, kAscend = 1, kDescend = 2 };
enum class SortTarget : uint8_t { kKey = 0, kVersion = 1, kCreate = 2, kMod = 3, kValue = 4 };

// Key ranges follow etcd: an empty range_end means the single key `key`; range_end "\0" means
// every key >= key; otherwise [key, range_end). A prefix's range_end is computed by the caller.
struct RangeRequest {
  std::string key;
  std::string range_end;
  int64_t limit = 0;     // <= 0: no limit
  int64_t revision = 0;  // <= 0: the current revision
  // etcd: order kNone with a target other than kKey sorts ascending; kNone with kKey keeps
  // the stored (ascending key) order. Ties keep key order.
  SortOrder sort_order = SortOrder::kNone;
  SortTarget sort_target = SortTarget::kKey;
  bool keys_only = false;
  bool count_only = false;
  // Filters (0 = off). As in etcd they apply after counting: `count` ignores them.
  int64_t min_mod_revision = 0;
  int64_t max_mod_revision = 0;
  int64_t min_create_revision = 0;
  int64_t max_create_revision = 0;

  friend bool operator==(const RangeRequest&, const RangeRequest&) = default;
};

struct RangeResponse {
  int64_t revision = 0;  // the response header's revision: the store's, not the read's
  std::vector<KeyValue> kvs;
  bool more = false;  // limit cut off further keys
  int64_t count = 0;  // keys in the range at the read revision, before limit and filters

  friend bool operator==(const RangeResponse&, const RangeResponse&) = default;
};

// ---- writes ----
struct PutRequest {
  std::string key;
  std::string value;
  LeaseId lease = kNoLease;
  bool prev_kv = false;
  bool ignore_value = false;  // keep the current value (the key must exist)
  bool ignore_lease = false;  // keep the current lease (the key must exist)

  friend bool operator==(const PutRequest&, const PutRequest&) = default;
};

struct PutResponse {
  int64_t revision = 0;
  std::optional<KeyValue> prev_kv;

  friend bool operator==(const PutResponse&, const PutResponse&) = default;
};

struct DeleteRangeRequest {
  std::string key;
  std::string range_end;
  bool prev_kv = false;

  friend bool operator==(const DeleteRangeRequest&, const DeleteRangeRequest&) = default;
};

struct DeleteRangeResponse {
  int64_t revision = 0;
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;

  friend bool operator==(const DeleteRangeResponse&, const DeleteRangeResponse&) = default;
};

// ---- txn ----
enum class CompareResult : uint8_t { kEqual = 0, kGreater = 1, kLess = 2, kNotEqual = 3 };
enum class CompareTarget : uint8_t { kVersion = 0, kCreate = 1, kMod = 2, kValue = 3, kLease = 4 };

// etcd's Compare: only the operand matching `target` is read (the others are etcd's oneof
// alternatives; a mismatched one compares against zero, as in etcd). Over a range, every key
// must satisfy the comparison; a missing key compares as a zero KeyValue, except that a value
// comparison on a missing key is always false.
struct Compare {
  CompareResult result = CompareResult::kEqual;
  CompareTarget target = CompareTarget::kVersion;
  std::string key;
  std::string range_end;
  int64_t version = 0;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  std::string value;
  LeaseId lease = kNoLease;

  friend bool operator==(const Compare&, const Compare&) = default;
};

struct RequestOp;

// All compares true: the success ops run, else the failure ops; all at one revision.
struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;

  friend bool operator==(const TxnRequest&, const TxnRequest&);
};

// One operation of a txn; a TxnRequest nests (etcd 3.3+).
struct RequestOp {
  std::variant<RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest> request;

  friend bool operator==(const RequestOp&, const RequestOp&);
};

struct ResponseOp;

struct TxnResponse {
  // The header's revision. As in etcd, a nested txn's response carries no header: 0.
  int64_t revision = 0;
  bool succeeded = false;
  std::vector<ResponseOp> responses;

  friend bool operator==(const TxnResponse&, const TxnResponse&);
};

struct ResponseOp {
  std::variant<RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse> response;

  friend bool operator==(const ResponseOp&, const ResponseOp&);
};

// Whether no op, in any branch at any depth, writes (etcd serves these without the log).
bool is_read_only(const TxnRequest& txn);

// ---- compaction ----
// Forget every version older than the latest one at or before `revision`, per key.
struct CompactionRequest {
  int64_t revision = 0;

  friend bool operator==(const CompactionRequest&, const CompactionRequest&) = default;
};

struct CompactionResponse {
  int64_t revision = 0;

  friend bool operator==(const CompactionResponse&, const CompactionResponse&) = default;
};

// ---- leases ----
// The state machine holds the leases' replicated facts; the clock (expiry, keep-alive) is the
// runtime's: it proposes a LeaseRevokeRequest when a lease expires.
struct LeaseGrantRequest {
  LeaseId id = kNoLease;  // kNoLease: the state machine chooses one (deterministically)
  int64_t ttl_seconds = 0;

  friend bool operator==(const LeaseGrantRequest&, const LeaseGrantRequest&) = default;
};

struct LeaseGrantResponse {
  int64_t revision = 0;
  LeaseId id = kNoLease;
  int64_t ttl_seconds = 0;  // raised to the minimum TTL if lower, as etcd does

  friend bool operator==(const LeaseGrantResponse&, const LeaseGrantResponse&) = default;
};

struct LeaseRevokeRequest {
  LeaseId id = kNoLease;

  friend bool operator==(const LeaseRevokeRequest&, const LeaseRevokeRequest&) = default;
};

struct LeaseRevokeResponse {
  int64_t revision = 0;

  friend bool operator==(const LeaseRevokeResponse&, const LeaseRevokeResponse&) = default;
};

// The leader records the remaining TTL of long leases so that a new leader does not restart
// them at their full TTL (etcd 3.4's lease checkpointing).
struct LeaseCheckpoint {
  LeaseId id = kNoLease;
  int64_t remaining_ttl_seconds = 0;

  friend bool operator==(const LeaseCheckpoint&, const LeaseCheckpoint&) = default;
};

struct LeaseCheckpointRequest {
  std::vector<LeaseCheckpoint> checkpoints;

  friend bool operator==(const LeaseCheckpointRequest&, const LeaseCheckpointRequest&) = default;
};

struct LeaseCheckpointResponse {
  int64_t revision = 0;

  friend bool operator==(const LeaseCheckpointResponse&, const LeaseCheckpointResponse&) = default;
};

// A keep-alive's answer: the lease's TTL starts again from now (etcd's LeaseKeepAliveResponse).
struct LeaseKeepAliveResponse {
  LeaseId id = kNoLease;
  int64_t ttl_seconds = 0;  // the granted TTL

  friend bool operator==(const LeaseKeepAliveResponse&, const LeaseKeepAliveResponse&) = default;
};

// etcd's LeaseTimeToLiveResponse, as the leader keeping lease time sees it.
struct LeaseTimeToLiveResponse {
  LeaseId id = kNoLease;
  int64_t ttl_seconds = 0;          // remaining, in whole seconds (truncated, as etcd)
  int64_t granted_ttl_seconds = 0;  // as granted
  std::vector<std::string> keys;    // sorted; filled only when asked for

  friend bool operator==(const LeaseTimeToLiveResponse&, const LeaseTimeToLiveResponse&) = default;
};

struct LeaseInfo {
  LeaseId id = kNoLease;
  int64_t granted_ttl_seconds = 0;
  // The last checkpointed remaining TTL; 0 when none (then the full TTL applies).
  int64_t remaining_ttl_seconds = 0;
  std::vector<std::string> keys;  // sorted; filled only when asked for

  friend bool operator==(const LeaseInfo&, const LeaseInfo&) = default;
};

// What a replicated write answers: one of the responses above (monostate: none, e.g. a write
// that failed or was already applied).
using KvResponse =
    std::variant<std::monostate, PutResponse, DeleteRangeResponse, TxnResponse, CompactionResponse,
                 LeaseGrantResponse, LeaseRevokeResponse, LeaseCheckpointResponse>;

// ---- event history (for watches) ----
struct EventQuery {
  std::string key;  // same range conventions as RangeRequest
  std::string range_end;
  int64_t start_revision = 0;  // first revision wanted; <= 0: only future events (none yet)
  bool prev_kv = false;
  // A batch ends after this many revisions; a revision's events are never split.
  int64_t max_revisions = 1000;
};

struct EventBatch {
  std::vector<Event> events;  // revision order, then the order of the writes within it
  // The first revision not covered: current revision + 1 once caught up.
  int64_t next_revision = 0;
};

}  // namespace dengine
