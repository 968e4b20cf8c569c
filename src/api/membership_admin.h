#pragma once

// What etcd's Cluster service needs of the member it runs on: the members as this member
// applied them, and the changes an operator asks for. The cluster room implements it
// (cluster/member_roster.h) and mints new members' ids; the service only speaks the wire.
// Refusals carry etcd's ErrorDetail (kMemberBadUrls, kPeerUrlsExist, kTooManyLearners,
// kMemberNotFound, kMemberNotLearner, ...), which api/etcd_status.h maps to etcd's answers.

#include <string>
#include <vector>

#include "dengine/member_record.h"
#include "dengine/status.h"
#include "dengine/types.h"

namespace dengine::api {

struct RosterMember {
  MemberRecord record;
  bool is_learner = false;
};

class MembershipAdmin {
 public:
  virtual ~MembershipAdmin() = default;

  // Every member in the configuration, voters and learners, in id order.
  [[nodiscard]] virtual std::vector<RosterMember> members() const = 0;
  // Records the peer URLs under a new id, then adds the member; its record (peer URLs sorted).
  virtual Result<MemberRecord> add_member(std::vector<std::string> peer_urls, bool is_learner) = 0;
  virtual Status remove_member(NodeId id) = 0;
  virtual Status update_member(NodeId id, std::vector<std::string> peer_urls) = 0;
  virtual Status promote_member(NodeId id) = 0;
};

}  // namespace dengine::api
