// Out-of-line parts of dengine/kv_types.h: etcd's error texts and the comparisons of the
// recursive txn types (defaulted ones cannot see through the incomplete RequestOp).

#include "dengine/kv_types.h"

#include <array>

namespace dengine {
namespace {

struct ErrorText {
  KvError error;
  StatusCode code;  // the nearest StatusCode to etcd's gRPC code (noted where it differs)
  std::string_view message;
};

constexpr std::array<ErrorText, 15> kErrorTexts{{
    {KvError::kEmptyKey, StatusCode::kInvalidArgument, "etcdserver: key is not provided"},
    {KvError::kKeyNotFound, StatusCode::kInvalidArgument, "etcdserver: key not found"},
    {KvError::kValueProvided, StatusCode::kInvalidArgument, "etcdserver: value is provided"},
    {KvError::kLeaseProvided, StatusCode::kInvalidArgument, "etcdserver: lease is provided"},
    {KvError::kTooManyOps, StatusCode::kInvalidArgument,
     "etcdserver: too many operations in txn request"},
    {KvError::kDuplicateKey, StatusCode::kInvalidArgument,
     "etcdserver: duplicate key given in txn request"},
    // gRPC OutOfRange, which StatusCode lacks.
    {KvError::kCompacted, StatusCode::kFailedPrecondition,
     "etcdserver: mvcc: required revision has been compacted"},
    {KvError::kFutureRevision, StatusCode::kFailedPrecondition,
     "etcdserver: mvcc: required revision is a future revision"},
    {KvError::kLeaseNotFound, StatusCode::kNotFound, "etcdserver: requested lease not found"},
    {KvError::kLeaseExists, StatusCode::kFailedPrecondition, "etcdserver: lease already exists"},
    {KvError::kLeaseTtlTooLarge, StatusCode::kFailedPrecondition,
     "etcdserver: too large lease TTL"},
    {KvError::kRequestTooLarge, StatusCode::kInvalidArgument, "etcdserver: request is too large"},
    {KvError::kNoSpace, StatusCode::kResourceExhausted,
     "etcdserver: mvcc: database space exceeded"},
    {KvError::kPeerUrlsExist, StatusCode::kFailedPrecondition,
     "etcdserver: Peer URLs already exists"},
    {KvError::kCorrupt, StatusCode::kCorruption, "etcdserver: corrupt cluster"},
}};

const ErrorText& text_of(KvError error) {
  for (const ErrorText& text : kErrorTexts) {
    if (text.error == error) return text;
  }
  return kErrorTexts.back();  // unreachable: every KvError has a text
}

bool ops_read_only(const std::vector<RequestOp>& ops) {
  for (const RequestOp& op : ops) {
    if (std::holds_alternative<RangeRequest>(op.request)) continue;
    const auto* txn = std::get_if<TxnRequest>(&op.request);
    if (txn == nullptr || !is_read_only(*txn)) return false;
  }
  return true;
}

}  // namespace

std::string_view kv_error_message(KvError error) {
  return text_of(error).message;
}

Status kv_error_status(KvError error) {
  const ErrorText& text = text_of(error);
  return Status(text.code, std::string(text.message));
}

std::optional<KvError> kv_error_of(const Status& status) {
  for (const ErrorText& text : kErrorTexts) {
    if (status.code() != text.code) continue;
    const std::string& message = status.message();
    // etcd's text alone, or followed by a detail: "... (compacted at 42)".
    if (message == text.message ||
        (message.starts_with(text.message) && message.size() > text.message.size() + 1 &&
         message.compare(text.message.size(), 2, " (") == 0)) {
      return text.error;
    }
  }
  return std::nullopt;
}

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
