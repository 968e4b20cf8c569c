#include "cluster/membership_follower.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "api/log_command.h"
#include "cluster/member_identity.h"
#include "runtime/engine_internals.h"

namespace dengine::cluster {
namespace {

// How often the thread looks at the applied members, so that the transport learns a new
// member's address soon after its record is applied.
constexpr auto kMembershipPoll = std::chrono::milliseconds(100);
// How long a removed member waits for the joint configuration that drops it to be left.
constexpr int kLeavingGraceElections = 3;
// How long a member record may go unnamed by any configuration before the leader forgets it:
// longer than any add takes between recording the URLs and changing the configuration.
constexpr auto kOrphanRecordGrace = std::chrono::seconds(30);

bool holds(const std::vector<NodeId>& nodes, NodeId node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

}  // namespace

MembershipFollower::MembershipFollower(EmbeddedEngine& engine, const MemberRoster& roster,
                                       PeerAddressBook& book, Publication publication,
                                       std::chrono::milliseconds election_timeout,
                                       std::function<void()> on_removed)
    : engine_(engine),
      roster_(roster),
      book_(book),
      publication_(std::move(publication)),
      on_removed_(std::move(on_removed)),
      election_timeout_(election_timeout) {}

MembershipFollower::~MembershipFollower() {
  join();
}

void MembershipFollower::start() {
  thread_ = std::thread([this] { follow(); });
}

void MembershipFollower::join() {
  if (!thread_.joinable()) return;
  // on_removed may stop the member from this very thread, which cannot join itself.
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

void MembershipFollower::follow() {
  MembershipWatch changes = engine_.watch_membership();
  std::optional<MembershipEvent> last;
  bool published = false;
  while (true) {
    Result<MembershipEvent> event = changes.next(kMembershipPoll);
    if (!event && event.status().code() != StatusCode::kTimedOut) return;
    const std::vector<api::RosterMember> members = roster_.members();
    const std::vector<MemberRecord> records = roster_.records();
    book_.refresh(members, records);
    log_images_sent();
    if (event) {
      log_changes(last, *event);
      last = *event;
    }
    if (!last) continue;
    if (removed(last->members)) {
      spdlog::warn("this member ({}) has been permanently removed from the cluster; stopping",
                   format_id(engine_.id()));
      if (on_removed_) on_removed_();
      return;
    }
    if (!published && last->leader != kNoNode) published = publish();
    if (last->leader == engine_.id()) collect_orphan_records(members, records);
  }
}

// Whether this member has left the configuration for good. While the change that removes it
// is joint it stays (the old configuration may still need its vote to leave the joint state),
// but a removed member may never see that last entry: a few election timeouts at most.
bool MembershipFollower::removed(const ConfState& conf) {
  const NodeId self = engine_.id();
  if (holds(conf.voters, self) || holds(conf.learners, self)) {
    was_member_ = true;
    leaving_since_.reset();
    return false;
  }
  if (!was_member_) return false;  // joining: not in any configuration yet
  if (conf.voters_outgoing.empty()) return true;
  const auto now = std::chrono::steady_clock::now();
  if (!leaving_since_) leaving_since_ = now;
  return now - *leaving_since_ > kLeavingGraceElections * election_timeout_;
}

// A record no configuration has named for a while: a member added whose change never
// committed, or one that removed itself and could not forget its own record.
void MembershipFollower::collect_orphan_records(const std::vector<api::RosterMember>& members,
                                                const std::vector<MemberRecord>& records) {
  const auto now = std::chrono::steady_clock::now();
  std::map<NodeId, std::chrono::steady_clock::time_point> still_orphaned;
  for (const MemberRecord& record : records) {
    const bool configured =
        std::any_of(members.begin(), members.end(),
                    [&](const api::RosterMember& member) { return member.record.id == record.id; });
    if (configured) continue;
    auto seen = orphaned_since_.find(record.id);
    const auto since = seen == orphaned_since_.end() ? now : seen->second;
    if (now - since < kOrphanRecordGrace) {
      still_orphaned.emplace(record.id, since);
      continue;
    }
    spdlog::info("forgetting the record of {}, which no configuration names", format_id(record.id));
    api::propose_and_forget(engine_, kv::MemberRemoveRequest{record.id});
  }
  orphaned_since_ = std::move(still_orphaned);
}

// Operators want to know a follower is catching up from an image rather than the log.
void MembershipFollower::log_images_sent() {
  const uint64_t sent = runtime::runtime_of(engine_).images_sent();
  if (sent == images_sent_) return;
  images_sent_ = sent;
  spdlog::info("sent an image of the state to a follower behind the compacted log ({} so far)",
               sent);
}

// Whether the record says what this start would publish (it may already, after a restart).
bool MembershipFollower::publish() {
  const NodeId self = engine_.id();
  for (const MemberRecord& record : roster_.records()) {
    if (record.id == self && record.name == publication_.name &&
        record.client_urls == publication_.client_urls && !record.peer_urls.empty()) {
      return true;
    }
  }
  const kv::MemberPublishRequest request{.id = self,
                                         .name = publication_.name,
                                         .client_urls = publication_.client_urls,
                                         .peer_urls = publication_.peer_urls};
  const Status proposed = roster_.propose(request, 2 * election_timeout_);
  if (!proposed) spdlog::debug("publishing this member's name and URLs: {}", proposed.message());
  return proposed.is_ok();
}

void MembershipFollower::log_changes(const std::optional<MembershipEvent>& last,
                                     const MembershipEvent& event) {
  if (!last || last->leader != event.leader || last->term != event.term) {
    if (event.leader == kNoNode) {
      spdlog::info("term {}: no leader", event.term);
    } else {
      spdlog::info("term {}: {} leads{}", event.term, format_id(event.leader),
                   event.leader == engine_.id() ? " (this member)" : "");
    }
  }
  // A change may pass through a joint configuration; its end is what an operator asked for.
  const bool settled = event.members.voters_outgoing.empty();
  if (settled && (!last || last->members != event.members)) {
    std::string voters;
    for (const NodeId voter : event.members.voters) {
      voters += (voters.empty() ? "" : ",") + format_id(voter);
    }
    std::string learners;
    for (const NodeId learner : event.members.learners) {
      learners += (learners.empty() ? "" : ",") + format_id(learner);
    }
    spdlog::info("voters: {}{}", voters, learners.empty() ? "" : "; learners: " + learners);
  }
}

}  // namespace dengine::cluster
