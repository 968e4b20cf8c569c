// Each etcd 3.4.23 error the engine can produce, with the gRPC code and text etcd puts on the
// wire (v3rpc/rpctypes/error.go): etcd's clients recognise errors by that text, so each one is
// pinned here, written out rather than taken from the table under test.

#include "api/etcd_status.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace dengine::api {
namespace {

struct EtcdError {
  ErrorDetail detail;
  grpc::StatusCode code;
  std::string text;
};

std::ostream& operator<<(std::ostream& out, const EtcdError& error) {
  return out << error_detail_name(error.detail);
}

using grpc::StatusCode;

const std::vector<EtcdError> kEtcdErrors = {
    {ErrorDetail::kEmptyKey, StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided"},
    {ErrorDetail::kKeyNotFound, StatusCode::INVALID_ARGUMENT, "etcdserver: key not found"},
    {ErrorDetail::kValueProvided, StatusCode::INVALID_ARGUMENT, "etcdserver: value is provided"},
    {ErrorDetail::kLeaseProvided, StatusCode::INVALID_ARGUMENT, "etcdserver: lease is provided"},
    {ErrorDetail::kTooManyOps, StatusCode::INVALID_ARGUMENT,
     "etcdserver: too many operations in txn request"},
    {ErrorDetail::kDuplicateKey, StatusCode::INVALID_ARGUMENT,
     "etcdserver: duplicate key given in txn request"},
    {ErrorDetail::kCompacted, StatusCode::OUT_OF_RANGE,
     "etcdserver: mvcc: required revision has been compacted"},
    {ErrorDetail::kFutureRevision, StatusCode::OUT_OF_RANGE,
     "etcdserver: mvcc: required revision is a future revision"},
    {ErrorDetail::kLeaseNotFound, StatusCode::NOT_FOUND, "etcdserver: requested lease not found"},
    {ErrorDetail::kLeaseExists, StatusCode::FAILED_PRECONDITION,
     "etcdserver: lease already exists"},
    {ErrorDetail::kLeaseTtlTooLarge, StatusCode::OUT_OF_RANGE, "etcdserver: too large lease TTL"},
    {ErrorDetail::kRequestTooLarge, StatusCode::INVALID_ARGUMENT,
     "etcdserver: request is too large"},
    {ErrorDetail::kNoSpace, StatusCode::RESOURCE_EXHAUSTED,
     "etcdserver: mvcc: database space exceeded"},
    {ErrorDetail::kPeerUrlsExist, StatusCode::FAILED_PRECONDITION,
     "etcdserver: Peer URLs already exists"},
    {ErrorDetail::kCorrupt, StatusCode::DATA_LOSS, "etcdserver: corrupt cluster"},
    {ErrorDetail::kMemberNotFound, StatusCode::NOT_FOUND, "etcdserver: member not found"},
    {ErrorDetail::kMemberExists, StatusCode::FAILED_PRECONDITION,
     "etcdserver: member ID already exist"},
    {ErrorDetail::kMemberBadUrls, StatusCode::INVALID_ARGUMENT,
     "etcdserver: given member URLs are invalid"},
    {ErrorDetail::kMemberNotLearner, StatusCode::FAILED_PRECONDITION,
     "etcdserver: can only promote a learner member"},
    {ErrorDetail::kLearnerNotInSync, StatusCode::FAILED_PRECONDITION,
     "etcdserver: can only promote a learner member which is in sync with leader"},
    {ErrorDetail::kUnhealthyCluster, StatusCode::UNAVAILABLE, "etcdserver: unhealthy cluster"},
    {ErrorDetail::kTooManyLearners, StatusCode::FAILED_PRECONDITION,
     "etcdserver: too many learner members in cluster"},
    {ErrorDetail::kAuthNotEnabled, StatusCode::FAILED_PRECONDITION,
     "etcdserver: authentication is not enabled"},
    {ErrorDetail::kAuthFailed, StatusCode::INVALID_ARGUMENT,
     "etcdserver: authentication failed, invalid user ID or password"},
    {ErrorDetail::kInvalidAuthToken, StatusCode::UNAUTHENTICATED, "etcdserver: invalid auth token"},
    {ErrorDetail::kPermissionDenied, StatusCode::PERMISSION_DENIED,
     "etcdserver: permission denied"},
    {ErrorDetail::kUserEmpty, StatusCode::INVALID_ARGUMENT, "etcdserver: user name is empty"},
    {ErrorDetail::kUserNotFound, StatusCode::FAILED_PRECONDITION,
     "etcdserver: user name not found"},
    {ErrorDetail::kUserAlreadyExists, StatusCode::FAILED_PRECONDITION,
     "etcdserver: user name already exists"},
    {ErrorDetail::kRoleEmpty, StatusCode::INVALID_ARGUMENT, "etcdserver: role name is empty"},
    {ErrorDetail::kRoleNotFound, StatusCode::FAILED_PRECONDITION,
     "etcdserver: role name not found"},
    {ErrorDetail::kRoleAlreadyExists, StatusCode::FAILED_PRECONDITION,
     "etcdserver: role name already exists"},
    {ErrorDetail::kRoleNotGranted, StatusCode::FAILED_PRECONDITION,
     "etcdserver: role is not granted to the user"},
    {ErrorDetail::kPermissionNotGranted, StatusCode::FAILED_PRECONDITION,
     "etcdserver: permission is not granted to the role"},
    {ErrorDetail::kRootUserNotExist, StatusCode::FAILED_PRECONDITION,
     "etcdserver: root user does not exist"},
    {ErrorDetail::kRootRoleNotExist, StatusCode::FAILED_PRECONDITION,
     "etcdserver: root user does not have root role"},
    {ErrorDetail::kInvalidAuthManagement, StatusCode::INVALID_ARGUMENT,
     "etcdserver: invalid auth management"},
};

class EtcdStatus : public testing::TestWithParam<EtcdError> {};

TEST_P(EtcdStatus, DetailMapsToEtcdsCodeAndText) {
  const EtcdError& expected = GetParam();
  const grpc::Status mapped = to_grpc_status(Status::of(expected.detail));
  EXPECT_EQ(mapped.error_code(), expected.code);
  EXPECT_EQ(mapped.error_message(), expected.text);
}

TEST_P(EtcdStatus, ContextInTheMessageDoesNotReachTheClient) {
  const EtcdError& expected = GetParam();
  const grpc::Status mapped =
      to_grpc_status(Status::of(expected.detail, "at revision 42").with_context("recipe"));
  EXPECT_EQ(mapped.error_code(), expected.code);
  EXPECT_EQ(mapped.error_message(), expected.text);
}

INSTANTIATE_TEST_SUITE_P(EveryEtcdError, EtcdStatus, testing::ValuesIn(kEtcdErrors),
                         [](const testing::TestParamInfo<EtcdError>& param_info) {
                           return std::string(error_detail_name(param_info.param.detail));
                         });

TEST(EtcdStatusTable, EveryKnownDetailHasAnEtcdCode) {
  size_t known = 0;
  for (uint32_t number = 1; number <= UINT16_MAX; ++number) {
    const ErrorDetail detail = error_detail_from_wire(number);
    if (detail == ErrorDetail::kNone) continue;
    ++known;
    EXPECT_TRUE(etcd_code_of(detail).has_value()) << error_detail_name(detail);
  }
  EXPECT_EQ(known, kEtcdErrors.size()) << "a new detail needs its etcd error pinned above";
}

TEST(EtcdStatusByCode, AMessageThatReadsLikeAKnownErrorIsNotTakenForIt) {
  // Only the detail decides: the text alone no longer maps to OutOfRange.
  const grpc::Status mapped =
      to_grpc_status(Status(dengine::StatusCode::kFailedPrecondition,
                            "etcdserver: mvcc: required revision has been compacted"));
  EXPECT_EQ(mapped.error_code(), StatusCode::UNKNOWN);
}

struct CodeFallback {
  dengine::StatusCode code;
  grpc::StatusCode grpc_code;
  std::string text;
};

TEST(EtcdStatusByCode, ConditionsWithoutADetailGetEtcdsTextForTheirCode) {
  const std::vector<CodeFallback> fallbacks = {
      {dengine::StatusCode::kResourceExhausted, StatusCode::RESOURCE_EXHAUSTED,
       "etcdserver: too many requests"},
      {dengine::StatusCode::kNotLeader, StatusCode::UNAVAILABLE, "etcdserver: no leader"},
      {dengine::StatusCode::kAborted, StatusCode::UNAVAILABLE, "etcdserver: leader changed"},
      {dengine::StatusCode::kTimedOut, StatusCode::UNAVAILABLE, "etcdserver: request timed out"},
      {dengine::StatusCode::kCancelled, StatusCode::CANCELLED, "etcdserver: request cancelled"},
      {dengine::StatusCode::kUnavailable, StatusCode::UNAVAILABLE, "etcdserver: why"},
      {dengine::StatusCode::kCorruption, StatusCode::DATA_LOSS, "etcdserver: corrupt cluster: why"},
      {dengine::StatusCode::kIoError, StatusCode::UNKNOWN, "etcdserver: why"},
  };
  for (const CodeFallback& fallback : fallbacks) {
    const grpc::Status mapped = to_grpc_status(Status(fallback.code, "why"));
    EXPECT_EQ(mapped.error_code(), fallback.grpc_code) << status_code_name(fallback.code);
    EXPECT_EQ(mapped.error_message(), fallback.text) << status_code_name(fallback.code);
  }
  EXPECT_TRUE(to_grpc_status(Status::ok()).ok());
}

}  // namespace
}  // namespace dengine::api
