#include "api/etcd_status.h"

#include "dengine/kv_types.h"

namespace dengine::api {
namespace {

grpc::StatusCode code_of(KvError error) {
  switch (error) {
    case KvError::kCompacted:
    case KvError::kFutureRevision:
    case KvError::kLeaseTtlTooLarge: return grpc::StatusCode::OUT_OF_RANGE;
    case KvError::kLeaseNotFound: return grpc::StatusCode::NOT_FOUND;
    case KvError::kLeaseExists: return grpc::StatusCode::FAILED_PRECONDITION;
    case KvError::kNoSpace: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case KvError::kPeerUrlsExist: return grpc::StatusCode::FAILED_PRECONDITION;
    case KvError::kCorrupt: return grpc::StatusCode::DATA_LOSS;
    case KvError::kEmptyKey:
    case KvError::kKeyNotFound:
    case KvError::kValueProvided:
    case KvError::kLeaseProvided:
    case KvError::kTooManyOps:
    case KvError::kDuplicateKey:
    case KvError::kRequestTooLarge: return grpc::StatusCode::INVALID_ARGUMENT;
  }
  return grpc::StatusCode::UNKNOWN;
}

}  // namespace

grpc::Status to_grpc_status(const Status& status) {
  if (status.is_ok()) return grpc::Status::OK;
  if (std::optional<KvError> error = kv_error_of(status)) {
    return {code_of(*error), std::string(kv_error_message(*error))};
  }
  switch (status.code()) {
    case StatusCode::kResourceExhausted:
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, "etcdserver: too many requests"};
    case StatusCode::kNotLeader: return {grpc::StatusCode::UNAVAILABLE, "etcdserver: no leader"};
    case StatusCode::kAborted:
      // A write whose entry a new leader replaced: etcd's ErrLeaderChanged, which clients retry.
      return {grpc::StatusCode::UNAVAILABLE, "etcdserver: leader changed"};
    case StatusCode::kTimedOut:
      return {grpc::StatusCode::UNAVAILABLE, "etcdserver: request timed out"};
    case StatusCode::kUnavailable:
      // etcd's clients retry Unavailable; the engine's own text says why.
      return {grpc::StatusCode::UNAVAILABLE, "etcdserver: " + status.message()};
    case StatusCode::kCancelled:
      return {grpc::StatusCode::CANCELLED, "etcdserver: request cancelled"};
    case StatusCode::kCorruption:
      return {grpc::StatusCode::DATA_LOSS, "etcdserver: corrupt cluster: " + status.message()};
    default:
      // etcd turns what it does not map into Unknown with the error's own text.
      return {grpc::StatusCode::UNKNOWN, "etcdserver: " + status.message()};
  }
}

}  // namespace dengine::api
