#pragma once

// The receiving end of the peer protocol: the RaftPeer service (proto/raftpb/raft.proto).
// Every request names its cluster and its sender; one from another cluster or from a node that
// is not a member is refused (PERMISSION_DENIED, naming both), as is a message or chunk this
// build cannot decode (INVALID_ARGUMENT), and nothing of it reaches the engine.
//
// Deliver streams hand accepted Raft messages to `deliver` in the order they were sent (when
// no `deliver` is given, to the serving runtime; dropped before there is one). What a
// follower asks of the leader (writes, lease renewals, membership changes, leadership transfer)
// and leaders' image chunks are served by the runtime given to serve_with(); until then they
// are answered UNAVAILABLE.

#include <atomic>
#include <cstdint>
#include <functional>

#include "raft/raft_message.h"
#include "raftpb/raft.grpc.pb.h"

namespace dengine::runtime {
class RaftRuntime;
}

namespace dengine::net {

class PeerService final : public raftpb::RaftPeer::CallbackService {
 public:
  using IsMember = std::function<bool(NodeId)>;
  using Step = std::function<void(Message)>;
  // Fills in the members (cluster_id is set by the service).
  using ListMembers = std::function<void(raftpb::MembersResponse&)>;

  PeerService(uint64_t cluster_id, NodeId self, IsMember is_member, Step deliver = {})
      : cluster_id_(cluster_id),
        self_(self),
        is_member_(std::move(is_member)),
        deliver_(std::move(deliver)) {}

  // The runtime that serves requests from now on; it must outlive the gRPC server this
  // service is registered with (shut that down first), and be stopped before it is destroyed.
  void serve_with(runtime::RaftRuntime* runtime) { runtime_.store(runtime); }
  // Who answers Members; set before the service is registered. UNAVAILABLE without it.
  void list_members_with(ListMembers list) { list_members_ = std::move(list); }

  grpc::ServerReadReactor<raftpb::MessageBatch>* Deliver(
      grpc::CallbackServerContext* context, raftpb::DeliverResponse* response) override;
  grpc::ServerUnaryReactor* Propose(grpc::CallbackServerContext* context,
                                    const raftpb::ProposeRequest* request,
                                    raftpb::ProposeResponse* response) override;
  grpc::ServerUnaryReactor* Lease(grpc::CallbackServerContext* context,
                                  const raftpb::LeaseRequest* request,
                                  raftpb::LeaseResponse* response) override;
  grpc::ServerUnaryReactor* ChangeMembership(grpc::CallbackServerContext* context,
                                             const raftpb::MembershipRequest* request,
                                             raftpb::MembershipResponse* response) override;
  grpc::ServerUnaryReactor* TransferLeadership(grpc::CallbackServerContext* context,
                                               const raftpb::TransferRequest* request,
                                               raftpb::TransferResponse* response) override;
  grpc::ServerReadReactor<raftpb::SnapshotChunk>* SendSnapshot(
      grpc::CallbackServerContext* context, raftpb::SnapshotResponse* response) override;
  grpc::ServerUnaryReactor* Members(grpc::CallbackServerContext* context,
                                    const raftpb::MembersRequest* request,
                                    raftpb::MembersResponse* response) override;

  // Requests and streams refused because of who sent them or what they carried.
  [[nodiscard]] uint64_t refused() const { return refused_.load(); }

 private:
  friend class DeliverStream;
  friend class SnapshotStream;
  // OK, or why a request from `header` is refused (counted in refused()).
  [[nodiscard]] grpc::Status check_sender(const raftpb::PeerHeader& header) const;
  [[nodiscard]] grpc::Status check_sender(uint64_t cluster_id, uint64_t from) const;
  // The runtime serving requests, or null with `why` set (not started yet).
  runtime::RaftRuntime* serving(grpc::Status& why) const;
  // For a unary request: the serving runtime, or null once `reactor` was finished with why
  // not (the sender is refused, or this member is still starting).
  runtime::RaftRuntime* admit(const raftpb::PeerHeader& header,
                              grpc::ServerUnaryReactor* reactor) const;

  const uint64_t cluster_id_;
  const NodeId self_;
  const IsMember is_member_;
  const Step deliver_;
  ListMembers list_members_;
  std::atomic<runtime::RaftRuntime*> runtime_{nullptr};
  mutable std::atomic<uint64_t> refused_{0};
};

}  // namespace dengine::net
