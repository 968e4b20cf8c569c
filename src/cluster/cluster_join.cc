#include "cluster/cluster_join.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cluster/member_identity.h"
#include "cluster/peer_address_book.h"
#include "net/peer_channel.h"
#include "raftpb/raft.grpc.pb.h"

namespace dengine::cluster {
namespace {

std::vector<std::string> sorted_texts(const std::vector<Url>& urls) {
  std::vector<std::string> texts;
  for (const Url& url : urls) texts.push_back(url.text);
  std::sort(texts.begin(), texts.end());
  return texts;
}

}  // namespace

Result<raftpb::MembersResponse> ask_members(const std::string& url,
                                            std::chrono::milliseconds timeout) {
  std::optional<std::string> address = grpc_address_of_url(url);
  if (!address) return Status::invalid_argument(url + " is not a peer URL");
  auto stub = raftpb::RaftPeer::NewStub(net::make_peer_channel(*address));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  raftpb::MembersResponse response;
  const grpc::Status status = stub->Members(&context, raftpb::MembersRequest{}, &response);
  if (!status.ok()) return Status::unavailable(url + ": " + status.error_message());
  return response;
}

Result<ClusterIds> join_running_cluster(const MemberConfig& config) {
  const std::vector<std::string> own = sorted_texts(config.initial_advertise_peer_urls);
  std::string failures;
  std::optional<Status> not_added;
  // Every running member is asked until one knows this member: one may be starting, or may
  // not have applied the `member add` yet.
  for (const InitialClusterMember& member : config.initial_cluster) {
    for (const Url& url : member.peer_urls) {
      if (std::find(own.begin(), own.end(), url.text) != own.end()) continue;
      Result<raftpb::MembersResponse> answer = ask_members(url.text, kAskTimeout);
      if (!answer) {
        failures += (failures.empty() ? "" : "; ") + answer.status().message();
        continue;
      }
      if (answer->initial_voters().empty()) {
        failures += (failures.empty() ? "" : "; ") + url.text +
                    " did not say which configuration its log starts from (an older version?)";
        continue;
      }
      ClusterIds ids;
      ids.cluster_id = answer->cluster_id();
      for (const raftpb::PeerMember& running : answer->members()) {
        std::vector<Url> urls;
        for (const std::string& text : running.peer_urls()) {
          if (Result<Url> parsed = parse_url(text, ""); parsed) urls.push_back(*parsed);
        }
        std::vector<std::string> texts(running.peer_urls().begin(), running.peer_urls().end());
        std::sort(texts.begin(), texts.end());
        if (texts == own) ids.member_id = running.id();
        ids.peer_urls[running.id()] = std::move(urls);
      }
      // Not today's voters: the leader may replay its log from the first entry, whose
      // configuration changes only apply to the configuration it started from.
      ids.member_ids.assign(answer->initial_voters().begin(), answer->initial_voters().end());
      if (ids.member_id != 0) return ids;
      std::string listed;
      for (const std::string& text : own) listed += (listed.empty() ? "" : ",") + text;
      not_added = Status::not_found(
          "dengine-server: no member of the running cluster " + format_id(ids.cluster_id) +
          " has the peer URLs " + listed +
          " (--initial-advertise-peer-urls); add this member first: etcdctl member add " +
          config.name + " --peer-urls=" + listed);
    }
  }
  if (not_added) return *not_added;
  return Status::unavailable(
      "dengine-server: --initial-cluster-state existing: no running member answered (" +
      (failures.empty() ? std::string("--initial-cluster names no other member") : failures) + ")");
}

}  // namespace dengine::cluster
