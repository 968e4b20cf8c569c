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

// etcd's answers for conditions that have no detail, only a code (v3rpc/rpctypes/error.go):
// one row per direction's use, so a status's code maps to the text and the text back to it.
struct EtcdCodeText {
  StatusCode status;
  grpc::StatusCode code;
  std::string_view text;
};

constexpr std::array kEtcdCodeTexts{
    EtcdCodeText{StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED,
                 "etcdserver: too many requests"},
    EtcdCodeText{StatusCode::kNotLeader, grpc::StatusCode::UNAVAILABLE, "etcdserver: no leader"},
    // A write whose entry a new leader replaced: etcd's ErrLeaderChanged, which clients retry.
    EtcdCodeText{StatusCode::kAborted, grpc::StatusCode::UNAVAILABLE, "etcdserver: leader changed"},
    EtcdCodeText{StatusCode::kTimedOut, grpc::StatusCode::UNAVAILABLE,
                 "etcdserver: request timed out"},
    EtcdCodeText{StatusCode::kCancelled, grpc::StatusCode::CANCELLED,
                 "etcdserver: request cancelled"},
};

// A status without a known detail: etcd's answer for the situation its code describes.
grpc::Status by_code(const Status& status) {
  for (const EtcdCodeText& known : kEtcdCodeTexts) {
    if (known.status == status.code()) return {known.code, std::string(known.text)};
  }
  switch (status.code()) {
    case StatusCode::kUnavailable:
      // etcd's clients retry Unavailable; the engine's own text says why.
      return {grpc::StatusCode::UNAVAILABLE, "etcdserver: " + status.message()};
    case StatusCode::kCorruption:
      return {grpc::StatusCode::DATA_LOSS, "etcdserver: corrupt cluster: " + status.message()};
    case StatusCode::kUnimplemented:
      return {grpc::StatusCode::UNIMPLEMENTED, "etcdserver: " + status.message()};
    default:
      // etcd turns what it does not map into Unknown with the error's own text.
      return {grpc::StatusCode::UNKNOWN, "etcdserver: " + status.message()};
  }
}

// The nearest StatusCode to a gRPC code that carries no etcd text this build knows.
StatusCode nearest_code(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT: return StatusCode::kInvalidArgument;
    case grpc::StatusCode::NOT_FOUND: return StatusCode::kNotFound;
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ALREADY_EXISTS: return StatusCode::kFailedPrecondition;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return StatusCode::kResourceExhausted;
    case grpc::StatusCode::ABORTED: return StatusCode::kAborted;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return StatusCode::kTimedOut;
    case grpc::StatusCode::UNAVAILABLE: return StatusCode::kUnavailable;
    case grpc::StatusCode::CANCELLED: return StatusCode::kCancelled;
    case grpc::StatusCode::DATA_LOSS: return StatusCode::kCorruption;
    case grpc::StatusCode::PERMISSION_DENIED: return StatusCode::kPermissionDenied;
    case grpc::StatusCode::UNAUTHENTICATED: return StatusCode::kUnauthenticated;
    case grpc::StatusCode::UNIMPLEMENTED: return StatusCode::kUnimplemented;
    default: return StatusCode::kInternal;
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

Status from_grpc_status(const grpc::Status& status) {
  if (status.ok()) return Status::ok();
  // etcd's wire carries a condition only as its code and text (its own clients map them back
  // the same way, rpctypes.Error): the one place where a text decides what an error is.
  const std::string& wire_text = status.error_message();
  for (const EtcdCode& known : kEtcdCodes) {
    if (known.code == status.error_code() && wire_text == error_detail_text(known.detail)) {
      return Status::of(known.detail);
    }
  }
  for (const EtcdCodeText& known : kEtcdCodeTexts) {
    if (known.code == status.error_code() && wire_text == known.text) {
      return {known.status, std::string(known.text)};
    }
  }
  return {nearest_code(status.error_code()), wire_text};
}

}  // namespace dengine::api
