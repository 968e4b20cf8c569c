#pragma once

// The cluster's members as this member has applied them (etcd's RaftCluster), and the changes
// to them. Membership lives in two places, both replicated through the log: the Raft
// configuration (who votes, who learns) and the member records (names and URLs). An add
// records the peer URLs first, so that every member can reach the newcomer by the time the
// configuration names it; a removal changes the configuration first, then forgets the record.
// A member of the initial cluster that has not published yet shows the peer URLs it was
// bootstrapped with and no name, as etcd shows a member that has not started.
//
// Each change waits on the caller's thread until it is in force on this member (rare operator
// calls, bounded by the change timeout), with etcd 3.4.23's refusals as ErrorDetail.

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "api/membership_admin.h"
#include "dengine/embedded_engine.h"
#include "dengine/member_record.h"
#include "dengine/status.h"
#include "kv/kv_command.h"

namespace dengine::cluster {

// etcd 3.4 allows one learner at a time (membership.maxLearners); the leader enforces it
// (EngineOptions::max_learners), the asked member checks it first to answer at once.
inline constexpr size_t kMaxLearners = 1;

struct MemberRosterOptions {
  std::map<NodeId, std::vector<std::string>> bootstrap_peer_urls;
  // Seeds new member ids (etcd hashes its --initial-cluster-token into them).
  uint64_t cluster_id = 0;
  // etcd's request timeout: 5 s plus two election timeouts.
  std::chrono::milliseconds change_timeout{7'000};
};

class MemberRoster final : public api::MembershipAdmin {
 public:
  MemberRoster(EmbeddedEngine& engine, MemberRosterOptions options)
      : engine_(engine), options_(std::move(options)) {}

  [[nodiscard]] std::vector<api::RosterMember> members() const override;
  // Every record, also of members that are not (yet, or any more) in the configuration: a
  // member being added has its peer URLs recorded before it joins.
  [[nodiscard]] std::vector<MemberRecord> records() const;

  Result<MemberRecord> add_member(std::vector<std::string> peer_urls, bool is_learner) override;
  Status remove_member(NodeId id) override;
  Status update_member(NodeId id, std::vector<std::string> peer_urls) override;
  Status promote_member(NodeId id) override;

  // Proposes a member command and waits until this member applied it.
  Status propose(const kv::KvCommand& command, std::chrono::milliseconds timeout) const;

  [[nodiscard]] EmbeddedEngine& engine() const { return engine_; }

 private:
  // Proposes the removal of `id`'s member record, again while there is no leader to take it.
  void forget_record(NodeId id) const;

  EmbeddedEngine& engine_;
  const MemberRosterOptions options_;
};

}  // namespace dengine::cluster
