#pragma once

// etcd's Cluster service (etcdctl member list/add/remove/update/promote) with etcd 3.4.23's
// semantics and errors. Membership lives in two places, both replicated through the log: the
// Raft configuration (who votes, who learns) and the member records (names and URLs). An add
// records the peer URLs first, so that every member can reach the newcomer by the time the
// configuration names it; a removal changes the configuration first, then forgets the record.
//
// Each call waits on its gRPC thread for the change to be in force on this member (rare
// operator calls, bounded by the change timeout).

#include <chrono>
#include <cstddef>

#include "api/member_header.h"
#include "api/member_roster.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace dengine::api {

// etcd 3.4 allows one learner at a time (membership.maxLearners); the leader enforces it
// (EngineOptions::max_learners), the asked member checks it first to answer at once.
inline constexpr size_t kMaxLearners = 1;

struct ClusterServiceOptions {
  // etcd's request timeout: 5 s plus two election timeouts.
  std::chrono::milliseconds change_timeout{7'000};
  // Seeds new member ids (etcd hashes its --initial-cluster-token into them).
  uint64_t cluster_id = 0;
};

class ClusterService final : public etcdserverpb::Cluster::CallbackService {
 public:
  ClusterService(const MemberHeader& header, const MemberRoster& roster,
                 ClusterServiceOptions options)
      : header_(header), roster_(roster), options_(options) {}

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
  grpc::Status remove(NodeId id);
  // Proposes the removal of `id`'s member record, again while there is no leader to take it.
  void forget_record(NodeId id) const;
  grpc::Status update(const etcdserverpb::MemberUpdateRequest& request);
  grpc::Status promote(NodeId id);
  // Fills `members` with the membership as this member applied it, and the header.
  void list(google::protobuf::RepeatedPtrField<etcdserverpb::Member>* members,
            etcdserverpb::ResponseHeader* header) const;

  const MemberHeader& header_;
  const MemberRoster& roster_;
  const ClusterServiceOptions options_;
};

}  // namespace dengine::api
