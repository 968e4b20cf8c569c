#pragma once

// The cluster's members as this member has applied them (etcd's RaftCluster): the engine's
// configuration says who votes and who learns, the replicated member records add names and
// URLs. A member of the initial cluster that has not published yet shows the peer URLs it was
// bootstrapped with and no name, as etcd shows a member that has not started.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "dengine/embedded_engine.h"
#include "dengine/member_record.h"
#include "dengine/status.h"
#include "kv/kv_command.h"

namespace dengine::api {

struct ClusterMember {
  MemberRecord record;
  bool is_learner = false;
};

class MemberRoster {
 public:
  MemberRoster(EmbeddedEngine& engine,
               std::map<NodeId, std::vector<std::string>> bootstrap_peer_urls)
      : engine_(engine), bootstrap_peer_urls_(std::move(bootstrap_peer_urls)) {}

  // Every member in the configuration, voters and learners, in id order.
  [[nodiscard]] std::vector<ClusterMember> members() const;
  // Every record, also of members that are not (yet, or any more) in the configuration: a
  // member being added has its peer URLs recorded before it joins.
  [[nodiscard]] std::vector<MemberRecord> records() const;

  // Proposes a member command and waits until this member applied it.
  Status propose(const kv::KvCommand& command, std::chrono::milliseconds timeout) const;

  [[nodiscard]] EmbeddedEngine& engine() const { return engine_; }

 private:
  EmbeddedEngine& engine_;
  const std::map<NodeId, std::vector<std::string>> bootstrap_peer_urls_;
};

}  // namespace dengine::api
