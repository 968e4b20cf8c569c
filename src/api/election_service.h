#pragma once

// etcd's v3election service (etcdserver/api/v3election) over the Election recipe
// (dengine/election.h): Campaign(name, lease, value) waits until the client's lease leads the
// election `name` and answers with its LeaderKey; Proclaim and Resign act on a LeaderKey only
// while it still leads (its key exists with the revision it was created at); Leader reads the
// leader, and Observe streams each leader and proclamation in order. As with v3lock, the server
// never keeps the lease alive: the client does.

#include "api/concurrency_calls.h"
#include "api/member_header.h"
#include "etcd/v3electionpb/v3election.grpc.pb.h"

namespace dengine::api {

class ElectionService final : public v3electionpb::Election::CallbackService {
 public:
  ElectionService(const MemberHeader& header, WaitingCalls& waiting)
      : header_(header), waiting_(waiting) {}

  // Waits on a worker of `waiting` until the lease leads.
  grpc::ServerUnaryReactor* Campaign(grpc::CallbackServerContext* context,
                                     const v3electionpb::CampaignRequest* request,
                                     v3electionpb::CampaignResponse* response) override;
  grpc::ServerUnaryReactor* Proclaim(grpc::CallbackServerContext* context,
                                     const v3electionpb::ProclaimRequest* request,
                                     v3electionpb::ProclaimResponse* response) override;
  grpc::ServerUnaryReactor* Leader(grpc::CallbackServerContext* context,
                                   const v3electionpb::LeaderRequest* request,
                                   v3electionpb::LeaderResponse* response) override;
  // Follows the election on a worker of `waiting` until the client cancels.
  grpc::ServerWriteReactor<v3electionpb::LeaderResponse>* Observe(
      grpc::CallbackServerContext* context, const v3electionpb::LeaderRequest* request) override;
  grpc::ServerUnaryReactor* Resign(grpc::CallbackServerContext* context,
                                   const v3electionpb::ResignRequest* request,
                                   v3electionpb::ResignResponse* response) override;

 private:
  const MemberHeader& header_;
  WaitingCalls& waiting_;
};

}  // namespace dengine::api
