#include "api/etcd_status.h"

#include <array>

namespace dengine::api {
namespace {

// etcd's gRPC code for each known condition (v3rpc/rpctypes/error.go); the text is the
// detail's own (dengine/error_detail.h), which is etcd's.
struct EtcdCode {
  ErrorDetail detail;
  grpc::StatusCode code;
};

using enum ErrorDetail;
using grpc::StatusCode::FAILED_PRECONDITION;
using grpc::StatusCode::INVALID_ARGUMENT;

constexpr std::array kEtcdCodes{
    EtcdCode{kEmptyKey, INVALID_ARGUMENT},
    EtcdCode{kKeyNotFound, INVALID_ARGUMENT},
    EtcdCode{kValueProvided, INVALID_ARGUMENT},
    EtcdCode{kLeaseProvided, INVALID_ARGUMENT},
    EtcdCode{kTooManyOps, INVALID_ARGUMENT},
    EtcdCode{kDuplicateKey, INVALID_ARGUMENT},
    EtcdCode{kCompacted, grpc::StatusCode::OUT_OF_RANGE},
    EtcdCode{kFutureRevision, grpc::StatusCode::OUT_OF_RANGE},
    EtcdCode{kLeaseNotFound, grpc::StatusCode::NOT_FOUND},
    EtcdCode{kLeaseExists, FAILED_PRECONDITION},
    EtcdCode{kLeaseTtlTooLarge, grpc::StatusCode::OUT_OF_RANGE},
    EtcdCode{kRequestTooLarge, INVALID_ARGUMENT},
    EtcdCode{kNoSpace, grpc::StatusCode::RESOURCE_EXHAUSTED},
    EtcdCode{kPeerUrlsExist, FAILED_PRECONDITION},
    EtcdCode{kCorrupt, grpc::StatusCode::DATA_LOSS},
    EtcdCode{kMemberNotFound, grpc::StatusCode::NOT_FOUND},
    EtcdCode{kMemberExists, FAILED_PRECONDITION},
    EtcdCode{kMemberBadUrls, INVALID_ARGUMENT},
    EtcdCode{kMemberNotLearner, FAILED_PRECONDITION},
    EtcdCode{kLearnerNotInSync, FAILED_PRECONDITION},
    EtcdCode{kUnhealthyCluster, grpc::StatusCode::UNAVAILABLE},
    EtcdCode{kTooManyLearners, FAILED_PRECONDITION},
    EtcdCode{kAuthNotEnabled, FAILED_PRECONDITION},
    EtcdCode{kAuthFailed, INVALID_ARGUMENT},
    EtcdCode{kInvalidAuthToken, grpc::StatusCode::UNAUTHENTICATED},
    EtcdCode{kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
    EtcdCode{kUserEmpty, INVALID_ARGUMENT},
    EtcdCode{kUserNotFound, FAILED_PRECONDITION},
    EtcdCode{kUserAlreadyExists, FAILED_PRECONDITION},
    EtcdCode{kRoleEmpty, INVALID_ARGUMENT},
    EtcdCode{kRoleNotFound, FAILED_PRECONDITION},
    EtcdCode{kRoleAlreadyExists, FAILED_PRECONDITION},
    EtcdCode{kRoleNotGranted, FAILED_PRECONDITION},
    EtcdCode{kPermissionNotGranted, FAILED_PRECONDITION},
    EtcdCode{kRootUserNotExist, FAILED_PRECONDITION},
    EtcdCode{kRootRoleNotExist, FAILED_PRECONDITION},
    EtcdCode{kInvalidAuthManagement, INVALID_ARGUMENT},
};

// A status without a known detail: etcd's answer for the situation its code describes.
grpc::Status by_code(const Status& status) {
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

}  // namespace

std::optional<grpc::StatusCode> etcd_code_of(ErrorDetail detail) {
  for (const EtcdCode& known : kEtcdCodes) {
    if (known.detail == detail) return known.code;
  }
  return std::nullopt;
}

grpc::Status to_grpc_status(const Status& status) {
  if (status.is_ok()) return grpc::Status::OK;
  if (const std::optional<grpc::StatusCode> code = etcd_code_of(status.detail())) {
    return {*code, std::string(error_detail_text(status.detail()))};
  }
  return by_code(status);
}

}  // namespace dengine::api
