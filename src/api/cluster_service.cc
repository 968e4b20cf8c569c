#include "api/cluster_service.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/etcd_status.h"
#include "common/splitmix64.h"
#include "kv/member_codec.h"

namespace dengine::api {
namespace {

// etcd 3.4.23's rpctypes errors for the Cluster service.
grpc::Status etcd_error(ErrorDetail detail) {
  return to_grpc_status(Status::of(detail));
}

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

// Whether a membership change failed before its entry could reach the log: the leader's
// checks refused it, or there was no leader to take it.
bool refused_before_the_log(const Status& status) {
  return status.is(ErrorDetail::kLearnerNotInSync) || status.is(ErrorDetail::kUnhealthyCluster) ||
         status.is(ErrorDetail::kTooManyLearners) ||
         status.code() == StatusCode::kFailedPrecondition ||
         status.code() == StatusCode::kInvalidArgument || status.code() == StatusCode::kNotLeader;
}

// What etcd would take, within the bounds the member records keep (kv/member_codec.h).
grpc::Status check_peer_urls(const std::vector<std::string>& peer_urls) {
  if (peer_urls.empty() || !std::all_of(peer_urls.begin(), peer_urls.end(), valid_peer_url)) {
    return etcd_error(ErrorDetail::kMemberBadUrls);
  }
  if (Status bounded = kv::check_member_fields({}, peer_urls, {}); !bounded) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: " + bounded.message()};
  }
  return grpc::Status::OK;
}

bool shares_a_url(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& url) {
    return std::find(b.begin(), b.end(), url) != b.end();
  });
}

const ClusterMember* find_member(const std::vector<ClusterMember>& members, NodeId id) {
  auto found = std::find_if(members.begin(), members.end(),
                            [id](const ClusterMember& member) { return member.record.id == id; });
  return found == members.end() ? nullptr : &*found;
}

void fill_member(const ClusterMember& member, etcdserverpb::Member* out) {
  out->set_id(member.record.id);
  out->set_name(member.record.name);
  for (const std::string& url : member.record.peer_urls) out->add_peerurls(url);
  for (const std::string& url : member.record.client_urls) out->add_clienturls(url);
  out->set_islearner(member.is_learner);
}

// etcd hashes the peer URLs, the cluster and the time into a new member's id; any id that is
// new and not 0 serves, and mixing in the time keeps a re-added member from reusing its old id.
NodeId new_member_id(const std::vector<std::string>& peer_urls, uint64_t cluster_id,
                     const std::vector<ClusterMember>& members,
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

void ClusterService::list(google::protobuf::RepeatedPtrField<etcdserverpb::Member>* members,
                          etcdserverpb::ResponseHeader* header) const {
  for (const ClusterMember& member : roster_.members()) fill_member(member, members->Add());
  header_.fill_without_revision(header);
}

grpc::Status ClusterService::add(const etcdserverpb::MemberAddRequest& request,
                                 etcdserverpb::MemberAddResponse& response) {
  std::vector<std::string> peer_urls(request.peerurls().begin(), request.peerurls().end());
  if (grpc::Status valid = check_peer_urls(peer_urls); !valid.ok()) return valid;
  std::sort(peer_urls.begin(), peer_urls.end());
  const std::vector<ClusterMember> members = roster_.members();
  const std::vector<MemberRecord> records = roster_.records();
  for (const ClusterMember& member : members) {
    if (shares_a_url(member.record.peer_urls, peer_urls))
      return etcd_error(ErrorDetail::kPeerUrlsExist);
  }
  const auto learners = static_cast<size_t>(
      std::count_if(members.begin(), members.end(),
                    [](const ClusterMember& member) { return member.is_learner; }));
  if (request.islearner() && learners >= kMaxLearners)
    return etcd_error(ErrorDetail::kTooManyLearners);

  const NodeId id = new_member_id(peer_urls, options_.cluster_id, members, records);
  // The record first: whoever applies the configuration change can already reach the member.
  if (Status recorded =
          roster_.propose(kv::MemberPeerUrlsRequest{id, peer_urls}, options_.change_timeout);
      !recorded) {
    return to_grpc_status(recorded);
  }
  EmbeddedEngine& engine = roster_.engine();
  const Status added = request.islearner() ? engine.add_learner(id, options_.change_timeout)
                                           : engine.add_voter(id, options_.change_timeout);
  if (!added) {
    // Only a change refused before it entered the log may take its record back: one whose
    // answer was lost (a timeout, a dropped connection to the leader) may still commit, and
    // the member would then be unreachable. A record left behind is collected later.
    if (refused_before_the_log(added)) {
      (void)roster_.propose(kv::MemberRemoveRequest{id}, options_.change_timeout);
    }
    return to_grpc_status(added);
  }
  etcdserverpb::Member* member = response.mutable_member();
  member->set_id(id);
  for (const std::string& url : peer_urls) member->add_peerurls(url);
  member->set_islearner(request.islearner());
  list(response.mutable_members(), response.mutable_header());
  return grpc::Status::OK;
}

grpc::Status ClusterService::remove(NodeId id) {
  if (find_member(roster_.members(), id) == nullptr) {
    // A record whose member never joined the configuration (an add whose answer was lost):
    // forgetting it is all there is to do.
    const std::vector<MemberRecord> records = roster_.records();
    const bool recorded = std::any_of(records.begin(), records.end(),
                                      [id](const MemberRecord& record) { return record.id == id; });
    if (!recorded) return etcd_error(ErrorDetail::kMemberNotFound);
    return to_grpc_status(roster_.propose(kv::MemberRemoveRequest{id}, options_.change_timeout));
  }
  if (Status removed = roster_.engine().remove_member(id, options_.change_timeout); !removed) {
    return to_grpc_status(removed);
  }
  // A member that removed itself may no longer commit anything: the record is then collected
  // by the leader (server/orphan records), and the configuration alone already hides it.
  if (id != header_.ids().member_id) forget_record(id);
  return grpc::Status::OK;
}

// Until its record is gone a removed member is still admitted on the peer port. Right after
// the leader itself was removed there is no leader for a moment: ask again until one takes the
// change, within the change timeout (later, the leader's collection of orphan records would).
void ClusterService::forget_record(NodeId id) const {
  const auto deadline = std::chrono::steady_clock::now() + options_.change_timeout;
  while (true) {
    const Status forgotten = roster_.propose(kv::MemberRemoveRequest{id}, options_.change_timeout);
    const bool retry = forgotten.code() == StatusCode::kNotLeader ||
                       forgotten.code() == StatusCode::kUnavailable ||
                       forgotten.code() == StatusCode::kAborted;
    if (!retry || std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

grpc::Status ClusterService::update(const etcdserverpb::MemberUpdateRequest& request) {
  std::vector<std::string> peer_urls(request.peerurls().begin(), request.peerurls().end());
  if (grpc::Status valid = check_peer_urls(peer_urls); !valid.ok()) return valid;
  std::sort(peer_urls.begin(), peer_urls.end());
  const std::vector<ClusterMember> members = roster_.members();
  if (find_member(members, request.id()) == nullptr)
    return etcd_error(ErrorDetail::kMemberNotFound);
  for (const ClusterMember& member : members) {
    if (member.record.id != request.id() && shares_a_url(member.record.peer_urls, peer_urls)) {
      return etcd_error(ErrorDetail::kPeerUrlsExist);
    }
  }
  return to_grpc_status(
      roster_.propose(kv::MemberPeerUrlsRequest{request.id(), peer_urls}, options_.change_timeout));
}

grpc::Status ClusterService::promote(NodeId id) {
  const ClusterMember* member = find_member(roster_.members(), id);
  if (member == nullptr) return etcd_error(ErrorDetail::kMemberNotFound);
  if (!member->is_learner) return etcd_error(ErrorDetail::kMemberNotLearner);
  return to_grpc_status(roster_.engine().promote(id, options_.change_timeout));
}

grpc::ServerUnaryReactor* ClusterService::MemberAdd(grpc::CallbackServerContext* context,
                                                    const etcdserverpb::MemberAddRequest* request,
                                                    etcdserverpb::MemberAddResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(add(*request, *response));
  return reactor;
}

grpc::ServerUnaryReactor* ClusterService::MemberRemove(
    grpc::CallbackServerContext* context, const etcdserverpb::MemberRemoveRequest* request,
    etcdserverpb::MemberRemoveResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status status = remove(request->id());
  if (status.ok()) list(response->mutable_members(), response->mutable_header());
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* ClusterService::MemberUpdate(
    grpc::CallbackServerContext* context, const etcdserverpb::MemberUpdateRequest* request,
    etcdserverpb::MemberUpdateResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status status = update(*request);
  if (status.ok()) list(response->mutable_members(), response->mutable_header());
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* ClusterService::MemberList(
    grpc::CallbackServerContext* context, const etcdserverpb::MemberListRequest* /*request*/,
    etcdserverpb::MemberListResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  list(response->mutable_members(), response->mutable_header());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* ClusterService::MemberPromote(
    grpc::CallbackServerContext* context, const etcdserverpb::MemberPromoteRequest* request,
    etcdserverpb::MemberPromoteResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status status = promote(request->id());
  if (status.ok()) list(response->mutable_members(), response->mutable_header());
  reactor->Finish(status);
  return reactor;
}

}  // namespace dengine::api
