#pragma once

// etcd's Cluster service (etcdctl member list/add/remove/update/promote) with etcd 3.4.23's
// answers, over the member's MembershipAdmin (api/membership_admin.h), which does the changes.
//
// Each call waits on its gRPC thread for the change to be in force on this member (rare
// operator calls, bounded by the admin's change timeout).

#include "api/member_header.h"
#include "api/membership_admin.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace dengine::api {

class ClusterService final : public etcdserverpb::Cluster::CallbackService {
 public:
  ClusterService(const MemberHeader& header, MembershipAdmin& admin)
      : header_(header), admin_(admin) {}

  grpc::ServerUnaryReactor* MemberAdd(grpc::CallbackServerContext* context,
                                      const etcdserverpb::MemberAddRequest* request,
                                      etcdserverpb::MemberAddResponse* response) override;
  grpc::ServerUnaryReactor* MemberRemove(grpc::CallbackServerContext* context,
                                         const etcdserverpb::MemberRemoveRequest* request,
                                         etcdserverpb::MemberRemoveResponse* response) override;
  grpc::ServerUnaryReactor* MemberUpdate(grpc::CallbackServerContext* context,
                                         const etcdserverpb::MemberUpdateRequest* request,
                                         etcdserverpb::MemberUpdateResponse* response) override;
  grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* context,
                                       const etcdserverpb::MemberListRequest* request,
                                       etcdserverpb::MemberListResponse* response) override;
  grpc::ServerUnaryReactor* MemberPromote(grpc::CallbackServerContext* context,
                                          const etcdserverpb::MemberPromoteRequest* request,
                                          etcdserverpb::MemberPromoteResponse* response) override;

 private:
  grpc::Status add(const etcdserverpb::MemberAddRequest& request,
                   etcdserverpb::MemberAddResponse& response);
  // Fills `members` with the membership as this member applied it, and the header.
  void list(google::protobuf::RepeatedPtrField<etcdserverpb::Member>* members,
            etcdserverpb::ResponseHeader* header) const;

  const MemberHeader& header_;
  MembershipAdmin& admin_;
};

}  // namespace dengine::api
