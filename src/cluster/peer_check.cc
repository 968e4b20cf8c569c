#include "cluster/peer_check.h"

#include <chrono>
#include <future>
#include <optional>
#include <set>

#include "cluster/cluster_join.h"
#include "cluster/member_identity.h"

namespace dengine::cluster {
namespace {

// A running peer answers within a round trip; one that is down refuses the connection at once.
constexpr std::chrono::milliseconds kCheckTimeout{1'000};

struct Answer {
  std::string url;
  Result<raftpb::MembersResponse> response;
};

}  // namespace

Status check_peers_are_of_this_cluster(const ClusterIds& ids, const MemberConfig& config,
                                       const std::string& origin) {
  std::set<std::string> peers;
  for (const auto& [member, urls] : ids.peer_urls) {
    if (member == ids.member_id) continue;
    for (const Url& url : urls) peers.insert(url.text);
  }
  for (const InitialClusterMember& member : config.initial_cluster) {
    for (const Url& url : member.peer_urls) peers.insert(url.text);
  }
  for (const Url& own : config.initial_advertise_peer_urls) peers.erase(own.text);
  std::vector<std::future<Answer>> asked;
  for (const std::string& url : peers) {
    asked.push_back(std::async(std::launch::async, [url] {
      return Answer{.url = url, .response = ask_members(url, kCheckTimeout)};
    }));
  }
  std::optional<Status> refusal;
  for (std::future<Answer>& future : asked) {
    Answer answer = future.get();
    if (!answer.response || refusal) continue;
    const uint64_t theirs = answer.response->cluster_id();
    if (theirs == ids.cluster_id) continue;
    refusal = Status::failed_precondition(
        "dengine: member " + format_id(ids.member_id) + " of cluster " + format_id(ids.cluster_id) +
        " (from " + origin + ") was started among the members of cluster " + format_id(theirs) +
        ": the peer at " + answer.url + " is a member of cluster " + format_id(theirs) +
        ", not of " + format_id(ids.cluster_id) +
        "; give this member its own cluster's data dir and flags, or an empty data dir with "
        "--initial-cluster-state existing after `etcdctl member add`");
  }
  return refusal ? *refusal : Status::ok();
}

}  // namespace dengine::cluster
