#include "api/cluster_service.h"

#include <string>
#include <vector>

#include "api/etcd_status.h"

namespace dengine::api {
namespace {

// etcd 3.4.23's answers. A member field beyond the records' bounds (kv/member_codec.h) has no
// etcd error of its own: etcd would have taken it, so the bound's own text says why not.
grpc::Status to_cluster_status(const Status& status) {
  if (status.code() == StatusCode::kInvalidArgument && status.detail() == ErrorDetail::kNone) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: " + status.message()};
  }
  return to_grpc_status(status);
}

void fill_member(const RosterMember& member, etcdserverpb::Member* out) {
  out->set_id(member.record.id);
  out->set_name(member.record.name);
  for (const std::string& url : member.record.peer_urls) out->add_peerurls(url);
  for (const std::string& url : member.record.client_urls) out->add_clienturls(url);
  out->set_islearner(member.is_learner);
}

}  // namespace

void ClusterService::list(google::protobuf::RepeatedPtrField<etcdserverpb::Member>* members,
                          etcdserverpb::ResponseHeader* header) const {
  for (const RosterMember& member : admin_.members()) fill_member(member, members->Add());
  header_.fill_without_revision(header);
}

grpc::Status ClusterService::add(const etcdserverpb::MemberAddRequest& request,
                                 etcdserverpb::MemberAddResponse& response) {
  Result<MemberRecord> added = admin_.add_member(
      std::vector<std::string>(request.peerurls().begin(), request.peerurls().end()),
      request.islearner());
  if (!added) return to_cluster_status(added.status());
  etcdserverpb::Member* member = response.mutable_member();
  member->set_id(added->id);
  for (const std::string& url : added->peer_urls) member->add_peerurls(url);
  member->set_islearner(request.islearner());
  list(response.mutable_members(), response.mutable_header());
  return grpc::Status::OK;
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
  grpc::Status status = to_cluster_status(admin_.remove_member(request->id()));
  if (status.ok()) list(response->mutable_members(), response->mutable_header());
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* ClusterService::MemberUpdate(
    grpc::CallbackServerContext* context, const etcdserverpb::MemberUpdateRequest* request,
    etcdserverpb::MemberUpdateResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status status = to_cluster_status(admin_.update_member(
      request->id(),
      std::vector<std::string>(request->peerurls().begin(), request->peerurls().end())));
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
  grpc::Status status = to_cluster_status(admin_.promote_member(request->id()));
  if (status.ok()) list(response->mutable_members(), response->mutable_header());
  reactor->Finish(status);
  return reactor;
}

}  // namespace dengine::api
