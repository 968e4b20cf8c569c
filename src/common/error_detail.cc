// The one table of known error conditions: each detail's name, its StatusCode and etcd's text
// (v3rpc/rpctypes/error.go in etcd 3.4.23). The etcd API maps a detail to its gRPC code in
// api/etcd_status.cc; the text comes from here, so there is one of each.

#include "dengine/error_detail.h"

#include <array>

#include "dengine/status.h"

namespace dengine {
namespace {

struct KnownError {
  ErrorDetail detail;
  std::string_view name;
  StatusCode code;  // the nearest StatusCode to etcd's gRPC code (noted where it differs)
  std::string_view text;
};

using enum ErrorDetail;
using Code = StatusCode;

constexpr std::array kKnownErrors{
    KnownError{kEmptyKey, "EmptyKey", Code::kInvalidArgument, "etcdserver: key is not provided"},
    KnownError{kKeyNotFound, "KeyNotFound", Code::kInvalidArgument, "etcdserver: key not found"},
    KnownError{kValueProvided, "ValueProvided", Code::kInvalidArgument,
               "etcdserver: value is provided"},
    KnownError{kLeaseProvided, "LeaseProvided", Code::kInvalidArgument,
               "etcdserver: lease is provided"},
    KnownError{kTooManyOps, "TooManyOps", Code::kInvalidArgument,
               "etcdserver: too many operations in txn request"},
    KnownError{kDuplicateKey, "DuplicateKey", Code::kInvalidArgument,
               "etcdserver: duplicate key given in txn request"},
    // gRPC OutOfRange, which StatusCode lacks.
    KnownError{kCompacted, "Compacted", Code::kFailedPrecondition,
               "etcdserver: mvcc: required revision has been compacted"},
    KnownError{kFutureRevision, "FutureRevision", Code::kFailedPrecondition,
               "etcdserver: mvcc: required revision is a future revision"},
    KnownError{kLeaseNotFound, "LeaseNotFound", Code::kNotFound,
               "etcdserver: requested lease not found"},
    KnownError{kLeaseExists, "LeaseExists", Code::kFailedPrecondition,
               "etcdserver: lease already exists"},
    KnownError{kLeaseTtlTooLarge, "LeaseTtlTooLarge", Code::kFailedPrecondition,
               "etcdserver: too large lease TTL"},
    KnownError{kRequestTooLarge, "RequestTooLarge", Code::kInvalidArgument,
               "etcdserver: request is too large"},
    KnownError{kNoSpace, "NoSpace", Code::kResourceExhausted,
               "etcdserver: mvcc: database space exceeded"},
    KnownError{kPeerUrlsExist, "PeerUrlsExist", Code::kFailedPrecondition,
               "etcdserver: Peer URLs already exists"},
    KnownError{kCorrupt, "Corrupt", Code::kCorruption, "etcdserver: corrupt cluster"},

    KnownError{kMemberNotFound, "MemberNotFound", Code::kNotFound, "etcdserver: member not found"},
    KnownError{kMemberExists, "MemberExists", Code::kFailedPrecondition,
               "etcdserver: member ID already exist"},
    KnownError{kMemberBadUrls, "MemberBadUrls", Code::kInvalidArgument,
               "etcdserver: given member URLs are invalid"},
    KnownError{kMemberNotLearner, "MemberNotLearner", Code::kFailedPrecondition,
               "etcdserver: can only promote a learner member"},

    KnownError{kLearnerNotInSync, "LearnerNotInSync", Code::kFailedPrecondition,
               "etcdserver: can only promote a learner member which is in sync with leader"},
    KnownError{kUnhealthyCluster, "UnhealthyCluster", Code::kUnavailable,
               "etcdserver: unhealthy cluster"},
    KnownError{kTooManyLearners, "TooManyLearners", Code::kFailedPrecondition,
               "etcdserver: too many learner members in cluster"},

    KnownError{kAuthNotEnabled, "AuthNotEnabled", Code::kFailedPrecondition,
               "etcdserver: authentication is not enabled"},
    KnownError{kAuthFailed, "AuthFailed", Code::kInvalidArgument,
               "etcdserver: authentication failed, invalid user ID or password"},
    KnownError{kInvalidAuthToken, "InvalidAuthToken", Code::kUnauthenticated,
               "etcdserver: invalid auth token"},
    KnownError{kPermissionDenied, "PermissionDenied", Code::kPermissionDenied,
               "etcdserver: permission denied"},
    KnownError{kUserEmpty, "UserEmpty", Code::kInvalidArgument, "etcdserver: user name is empty"},
    KnownError{kUserNotFound, "UserNotFound", Code::kFailedPrecondition,
               "etcdserver: user name not found"},
    KnownError{kUserAlreadyExists, "UserAlreadyExists", Code::kFailedPrecondition,
               "etcdserver: user name already exists"},
    KnownError{kRoleEmpty, "RoleEmpty", Code::kInvalidArgument, "etcdserver: role name is empty"},
    KnownError{kRoleNotFound, "RoleNotFound", Code::kFailedPrecondition,
               "etcdserver: role name not found"},
    KnownError{kRoleAlreadyExists, "RoleAlreadyExists", Code::kFailedPrecondition,
               "etcdserver: role name already exists"},
    KnownError{kRoleNotGranted, "RoleNotGranted", Code::kFailedPrecondition,
               "etcdserver: role is not granted to the user"},
    KnownError{kPermissionNotGranted, "PermissionNotGranted", Code::kFailedPrecondition,
               "etcdserver: permission is not granted to the role"},
    KnownError{kRootUserNotExist, "RootUserNotExist", Code::kFailedPrecondition,
               "etcdserver: root user does not exist"},
    KnownError{kRootRoleNotExist, "RootRoleNotExist", Code::kFailedPrecondition,
               "etcdserver: root user does not have root role"},
    KnownError{kInvalidAuthManagement, "InvalidAuthManagement", Code::kInvalidArgument,
               "etcdserver: invalid auth management"},
};

const KnownError* find_known(ErrorDetail detail) {
  for (const KnownError& known : kKnownErrors) {
    if (known.detail == detail) return &known;
  }
  return nullptr;
}

}  // namespace

std::string_view error_detail_name(ErrorDetail detail) {
  if (detail == ErrorDetail::kNone) return "None";
  const KnownError* known = find_known(detail);
  return known == nullptr ? "Unknown" : known->name;
}

std::string_view error_detail_text(ErrorDetail detail) {
  const KnownError* known = find_known(detail);
  return known == nullptr ? std::string_view{} : known->text;
}

StatusCode error_detail_code(ErrorDetail detail) {
  const KnownError* known = find_known(detail);
  // kNone, or a detail without an entry (a bug the detail tests catch): nothing to say.
  return known == nullptr ? StatusCode::kOk : known->code;
}

ErrorDetail error_detail_from_wire(uint32_t number) {
  if (number > UINT16_MAX) return ErrorDetail::kNone;
  const auto detail = static_cast<ErrorDetail>(number);
  return find_known(detail) == nullptr ? ErrorDetail::kNone : detail;
}

}  // namespace dengine
