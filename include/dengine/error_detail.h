#pragma once

// Which known condition an error is, next to its StatusCode: set where the error is made,
// carried across the peer protocol, and read (never the message) by whoever must answer with
// a fixed error, such as the etcd API's gRPC codes and texts. Messages are for people and may
// be reworded; details are for code and keep their meaning.
//
// The numbers travel between members: append new details, never renumber or reuse one.

#include <cstdint>
#include <string_view>

namespace dengine {

enum class StatusCode : uint8_t;

enum class ErrorDetail : uint16_t {
  kNone = 0,  // no known condition: the code and message say all there is

  // etcd's key-value, lease and alarm errors (v3rpc/rpctypes).
  kEmptyKey = 1,           // key is not provided
  kKeyNotFound = 2,        // ignore_value/ignore_lease on a missing key, or an empty txn op
  kValueProvided = 3,      // ignore_value with a value
  kLeaseProvided = 4,      // ignore_lease with a lease
  kTooManyOps = 5,         // a txn over --max-txn-ops
  kDuplicateKey = 6,       // a txn writing one key twice
  kCompacted = 7,          // the revision asked for has been compacted
  kFutureRevision = 8,     // the revision asked for is ahead of the store
  kLeaseNotFound = 9,      // no lease with that id
  kLeaseExists = 10,       // a grant with the id of a live lease
  kLeaseTtlTooLarge = 11,  // a grant over lease.MaxLeaseTTL
  kRequestTooLarge = 12,   // a request over --max-request-bytes
  kNoSpace = 13,           // a NOSPACE alarm stands
  kPeerUrlsExist = 14,     // another member's record holds one of these peer URLs
  kCorrupt = 15,           // a CORRUPT alarm stands

  // etcd's Cluster service errors.
  kMemberNotFound = 16,
  kMemberExists = 17,
  kMemberBadUrls = 18,
  kMemberNotLearner = 19,  // promoting a member that is not a learner

  // The leader's strict reconfiguration checks (runtime/reconfig_checks.h).
  kLearnerNotInSync = 32,  // a promotion before the learner caught up
  kUnhealthyCluster = 33,  // the change would leave, or needs, a quorum that does not answer
  kTooManyLearners = 34,   // a new learner over EngineOptions::max_learners

  // Authentication and authorisation (etcd's auth store).
  kAuthNotEnabled = 48,
  kAuthFailed = 49,        // wrong user name or password
  kInvalidAuthToken = 50,  // a token that is unknown, expired or not well formed
  kPermissionDenied = 51,  // the user's roles do not grant the request
  kUserEmpty = 52,
  kUserNotFound = 53,
  kUserAlreadyExists = 54,
  kRoleEmpty = 55,
  kRoleNotFound = 56,
  kRoleAlreadyExists = 57,
  kRoleNotGranted = 58,
  kPermissionNotGranted = 59,
  kRootUserNotExist = 60,
  kRootRoleNotExist = 61,
  kInvalidAuthManagement = 62,
};

// "Compacted", "LearnerNotInSync"; "Unknown" for a number no detail has.
std::string_view error_detail_name(ErrorDetail detail);
// etcd's text for the condition ("etcdserver: mvcc: required revision has been compacted");
// empty for kNone.
std::string_view error_detail_text(ErrorDetail detail);
// The StatusCode a Status with this detail carries (kOk for kNone).
StatusCode error_detail_code(ErrorDetail detail);
// The detail a peer sent as a number; kNone for one this build does not know (a newer member).
ErrorDetail error_detail_from_wire(uint32_t number);

}  // namespace dengine
