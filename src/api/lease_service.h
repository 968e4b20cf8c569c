#pragma once

// etcd's Lease service: LeaseGrant, LeaseRevoke, LeaseKeepAlive (a stream of renewals),
// LeaseTimeToLive and LeaseLeases, over the engine's leases (whose clock the leader keeps).
// etcd's quirks kept: an unknown lease's TimeToLive is TTL -1 with OK, and its keep-alive
// answers TTL 0 without ending the stream.

#include "api/backend_quota.h"
#include "api/member_header.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace dengine::api {

class LeaseService final : public etcdserverpb::Lease::CallbackService {
 public:
  LeaseService(const MemberHeader& header, const BackendQuota& quota)
      : header_(header), quota_(quota) {}

  grpc::ServerUnaryReactor* LeaseGrant(grpc::CallbackServerContext* context,
                                       const etcdserverpb::LeaseGrantRequest* request,
                                       etcdserverpb::LeaseGrantResponse* response) override;
  grpc::ServerUnaryReactor* LeaseRevoke(grpc::CallbackServerContext* context,
                                        const etcdserverpb::LeaseRevokeRequest* request,
                                        etcdserverpb::LeaseRevokeResponse* response) override;
  grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                          etcdserverpb::LeaseKeepAliveResponse>*
  LeaseKeepAlive(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* LeaseTimeToLive(
      grpc::CallbackServerContext* context, const etcdserverpb::LeaseTimeToLiveRequest* request,
      etcdserverpb::LeaseTimeToLiveResponse* response) override;
  grpc::ServerUnaryReactor* LeaseLeases(grpc::CallbackServerContext* context,
                                        const etcdserverpb::LeaseLeasesRequest* request,
                                        etcdserverpb::LeaseLeasesResponse* response) override;

 private:
  const MemberHeader& header_;
  const BackendQuota& quota_;
};

}  // namespace dengine::api
