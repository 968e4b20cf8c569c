#include "api/member_roster.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "dengine/state_machine.h"
#include "kv/command_codec.h"
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
  Result<std::string> encoded = kv::encode_command(command);
  if (!encoded) return encoded.status();
  // The completion may come after a timeout: it must not outlive what it writes to.
  auto outcome = std::make_shared<std::optional<Result<ApplyResult>>>();
  auto mutex = std::make_shared<std::mutex>();
  auto done = std::make_shared<std::condition_variable>();
  runtime::runtime_of(engine_).propose(std::move(*encoded),
                                       [outcome, mutex, done](Result<ApplyResult> result) {
                                         std::lock_guard lock(*mutex);
                                         outcome->emplace(std::move(result));
                                         done->notify_all();
                                       });
  std::unique_lock lock(*mutex);
  if (!done->wait_for(lock, timeout, [&] { return outcome->has_value(); })) {
    return Status::timed_out("membership: the member record change did not apply within " +
                             std::to_string(timeout.count()) + " ms");
  }
  if (!**outcome) return (*outcome)->status();
  return (**outcome)->status;
}

}  // namespace dengine::api
