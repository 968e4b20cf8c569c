#include "api/member_roster.h"

#include <algorithm>

#include "api/log_command.h"
#include "dengine/state_machine.h"
#include "runtime/engine_internals.h"
#include "runtime/raft_runtime.h"

namespace dengine::api {

std::vector<MemberRecord> MemberRoster::records() const {
  return runtime::runtime_of(engine_).read_local(
      [](const StateMachine& machine) { return machine.member_records(); });
}

std::vector<ClusterMember> MemberRoster::members() const {
  const ConfState conf = engine_.members();
  const std::vector<MemberRecord> recorded = records();
  std::vector<ClusterMember> members;
  auto add = [&](NodeId id, bool is_learner) {
    ClusterMember member{
        .record = MemberRecord{.id = id, .name = {}, .peer_urls = {}, .client_urls = {}},
        .is_learner = is_learner};
    auto found = std::find_if(recorded.begin(), recorded.end(),
                              [id](const MemberRecord& record) { return record.id == id; });
    if (found != recorded.end()) member.record = *found;
    if (member.record.peer_urls.empty()) {
      if (auto bootstrap = bootstrap_peer_urls_.find(id); bootstrap != bootstrap_peer_urls_.end()) {
        member.record.peer_urls = bootstrap->second;
      }
    }
    members.push_back(std::move(member));
  };
  for (const NodeId voter : conf.voters) add(voter, false);
  for (const NodeId learner : conf.learners) add(learner, true);
  std::sort(members.begin(), members.end(), [](const ClusterMember& a, const ClusterMember& b) {
    return a.record.id < b.record.id;
  });
  return members;
}

Status MemberRoster::propose(const kv::KvCommand& command,
                             std::chrono::milliseconds timeout) const {
  return propose_and_wait(engine_, command, timeout);
}

}  // namespace dengine::api
