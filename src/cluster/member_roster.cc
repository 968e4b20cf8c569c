#include "cluster/member_roster.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <thread>

#include "api/log_command.h"
#include "common/splitmix64.h"
#include "dengine/state_machine.h"
#include "kv/member_codec.h"
#include "runtime/engine_internals.h"
#include "runtime/raft_runtime.h"

namespace dengine::cluster {
namespace {

using api::RosterMember;

// scheme://host:port with an http or https scheme, a host and a numeric port: what etcd's
// types.NewURLs accepts for a member.
bool valid_peer_url(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  std::string_view rest = url.substr(scheme_end + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view port = rest.substr(colon + 1);
  unsigned value = 0;
  const auto parsed = std::from_chars(port.data(), port.data() + port.size(), value);
  return parsed.ec == std::errc() && parsed.ptr == port.data() + port.size() && value > 0 &&
         value < 65536 && rest.find('/') == std::string_view::npos;
}

// What etcd would take, within the bounds the member records keep (kv/member_codec.h).
Status check_peer_urls(const std::vector<std::string>& peer_urls) {
  if (peer_urls.empty() || !std::all_of(peer_urls.begin(), peer_urls.end(), valid_peer_url)) {
    return Status::of(ErrorDetail::kMemberBadUrls);
  }
  return kv::check_member_fields({}, peer_urls, {});
}

// Whether a membership change failed before its entry could reach the log: the leader's
// checks refused it, or there was no leader to take it.
bool refused_before_the_log(const Status& status) {
  return status.is(ErrorDetail::kLearnerNotInSync) || status.is(ErrorDetail::kUnhealthyCluster) ||
         status.is(ErrorDetail::kTooManyLearners) ||
         status.code() == StatusCode::kFailedPrecondition ||
         status.code() == StatusCode::kInvalidArgument || status.code() == StatusCode::kNotLeader;
}

bool shares_a_url(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& url) {
    return std::find(b.begin(), b.end(), url) != b.end();
  });
}

const RosterMember* find_member(const std::vector<RosterMember>& members, NodeId id) {
  auto found = std::find_if(members.begin(), members.end(),
                            [id](const RosterMember& member) { return member.record.id == id; });
  return found == members.end() ? nullptr : &*found;
}

// etcd hashes the peer URLs, the cluster and the time into a new member's id; any id that is
// new and not 0 serves, and mixing in the time keeps a re-added member from reusing its old id.
NodeId new_member_id(const std::vector<std::string>& peer_urls, uint64_t cluster_id,
                     const std::vector<RosterMember>& members,
                     const std::vector<MemberRecord>& records) {
  uint64_t state = cluster_id ^ static_cast<uint64_t>(
                                    std::chrono::system_clock::now().time_since_epoch().count());
  for (const std::string& url : peer_urls) {
    for (const char c : url) state = splitmix64_next(state) ^ static_cast<uint8_t>(c);
  }
  while (true) {
    const NodeId id = splitmix64_next(state);
    const bool taken = find_member(members, id) != nullptr ||
                       std::any_of(records.begin(), records.end(),
                                   [id](const MemberRecord& record) { return record.id == id; });
    if (id != kNoNode && !taken) return id;
  }
}

}  // namespace

std::vector<MemberRecord> MemberRoster::records() const {
  return runtime::runtime_of(engine_).read_local(
      [](const StateMachine& machine) { return machine.member_records(); });
}

std::vector<RosterMember> MemberRoster::members() const {
  const ConfState conf = engine_.members();
  const std::vector<MemberRecord> recorded = records();
  std::vector<RosterMember> members;
  auto add = [&](NodeId id, bool is_learner) {
    RosterMember member{
        .record = MemberRecord{.id = id, .name = {}, .peer_urls = {}, .client_urls = {}},
        .is_learner = is_learner};
    auto found = std::find_if(recorded.begin(), recorded.end(),
                              [id](const MemberRecord& record) { return record.id == id; });
    if (found != recorded.end()) member.record = *found;
    if (member.record.peer_urls.empty()) {
      if (auto bootstrap = options_.bootstrap_peer_urls.find(id);
          bootstrap != options_.bootstrap_peer_urls.end()) {
        member.record.peer_urls = bootstrap->second;
      }
    }
    members.push_back(std::move(member));
  };
  for (const NodeId voter : conf.voters) add(voter, false);
  for (const NodeId learner : conf.learners) add(learner, true);
  std::sort(members.begin(), members.end(),
            [](const RosterMember& a, const RosterMember& b) { return a.record.id < b.record.id; });
  return members;
}

Status MemberRoster::propose(const kv::KvCommand& command,
                             std::chrono::milliseconds timeout) const {
  return api::propose_and_wait(engine_, command, timeout);
}

Result<MemberRecord> MemberRoster::add_member(std::vector<std::string> peer_urls, bool is_learner) {
  if (Status valid = check_peer_urls(peer_urls); !valid) return valid;
  std::sort(peer_urls.begin(), peer_urls.end());
  const std::vector<RosterMember> members = this->members();
  const std::vector<MemberRecord> recorded = records();
  for (const RosterMember& member : members) {
    if (shares_a_url(member.record.peer_urls, peer_urls)) {
      return Status::of(ErrorDetail::kPeerUrlsExist);
    }
  }
  const auto learners = static_cast<size_t>(
      std::count_if(members.begin(), members.end(),
                    [](const RosterMember& member) { return member.is_learner; }));
  if (is_learner && learners >= kMaxLearners) return Status::of(ErrorDetail::kTooManyLearners);

  const NodeId id = new_member_id(peer_urls, options_.cluster_id, members, recorded);
  // The record first: whoever applies the configuration change can already reach the member.
  if (Status written = propose(kv::MemberPeerUrlsRequest{id, peer_urls}, options_.change_timeout);
      !written) {
    return written;
  }
  const Status added = is_learner ? engine_.add_learner(id, options_.change_timeout)
                                  : engine_.add_voter(id, options_.change_timeout);
  if (!added) {
    // Only a change refused before it entered the log may take its record back: one whose
    // answer was lost (a timeout, a dropped connection to the leader) may still commit, and
    // the member would then be unreachable. A record left behind is collected later.
    if (refused_before_the_log(added)) {
      (void)propose(kv::MemberRemoveRequest{id}, options_.change_timeout);
    }
    return added;
  }
  return MemberRecord{.id = id, .name = {}, .peer_urls = std::move(peer_urls), .client_urls = {}};
}

Status MemberRoster::remove_member(NodeId id) {
  if (find_member(members(), id) == nullptr) {
    // A record whose member never joined the configuration (an add whose answer was lost):
    // forgetting it is all there is to do.
    const std::vector<MemberRecord> recorded = records();
    const bool known = std::any_of(recorded.begin(), recorded.end(),
                                   [id](const MemberRecord& record) { return record.id == id; });
    if (!known) return Status::of(ErrorDetail::kMemberNotFound);
    return propose(kv::MemberRemoveRequest{id}, options_.change_timeout);
  }
  if (Status removed = engine_.remove_member(id, options_.change_timeout); !removed) return removed;
  // A member that removed itself may no longer commit anything: the record is then collected
  // by the leader (orphan records, cluster/membership_follower.h), and the configuration alone
  // already hides it.
  if (id != engine_.id()) forget_record(id);
  return Status::ok();
}

// Until its record is gone a removed member is still admitted on the peer port. Right after
// the leader itself was removed there is no leader for a moment: ask again until one takes the
// change, within the change timeout (later, the leader's collection of orphan records would).
void MemberRoster::forget_record(NodeId id) const {
  const auto deadline = std::chrono::steady_clock::now() + options_.change_timeout;
  while (true) {
    const Status forgotten = propose(kv::MemberRemoveRequest{id}, options_.change_timeout);
    const bool retry = forgotten.code() == StatusCode::kNotLeader ||
                       forgotten.code() == StatusCode::kUnavailable ||
                       forgotten.code() == StatusCode::kAborted;
    if (!retry || std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Status MemberRoster::update_member(NodeId id, std::vector<std::string> peer_urls) {
  if (Status valid = check_peer_urls(peer_urls); !valid) return valid;
  std::sort(peer_urls.begin(), peer_urls.end());
  const std::vector<RosterMember> members = this->members();
  if (find_member(members, id) == nullptr) return Status::of(ErrorDetail::kMemberNotFound);
  for (const RosterMember& member : members) {
    if (member.record.id != id && shares_a_url(member.record.peer_urls, peer_urls)) {
      return Status::of(ErrorDetail::kPeerUrlsExist);
    }
  }
  return propose(kv::MemberPeerUrlsRequest{id, std::move(peer_urls)}, options_.change_timeout);
}

Status MemberRoster::promote_member(NodeId id) {
  const RosterMember* member = find_member(members(), id);
  if (member == nullptr) return Status::of(ErrorDetail::kMemberNotFound);
  if (!member->is_learner) return Status::of(ErrorDetail::kMemberNotLearner);
  return engine_.promote(id, options_.change_timeout);
}

}  // namespace dengine::cluster
