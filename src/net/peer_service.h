#pragma once

// The receiving end of the peer transport: the RaftPeer service. Each Deliver stream carries
// one peer's batches; a batch from another cluster or from a node that is not a member ends
// the stream (PERMISSION_DENIED, naming both), as does a message this build cannot decode.
// Accepted messages go to `deliver` in the order they were sent.

#include <atomic>
#include <cstdint>
#include <functional>

#include "dengine/raft_message.h"
#include "raftpb/raft.grpc.pb.h"

namespace dengine::net {

class PeerService final : public raftpb::RaftPeer::CallbackService {
 public:
  using IsMember = std::function<bool(NodeId)>;
  using Step = std::function<void(Message)>;

  PeerService(uint64_t cluster_id, NodeId self, IsMember is_member, Step deliver)
      : cluster_id_(cluster_id),
        self_(self),
        is_member_(std::move(is_member)),
        deliver_(std::move(deliver)) {}

  grpc::ServerReadReactor<raftpb::MessageBatch>* Deliver(
      grpc::CallbackServerContext* context, raftpb::DeliverResponse* response) override;

  // Streams ended because of what they carried (another cluster, a non-member, a bad message).
  [[nodiscard]] uint64_t refused() const { return refused_.load(); }

 private:
  friend class DeliverStream;
  const uint64_t cluster_id_;
  const NodeId self_;
  const IsMember is_member_;
  const Step deliver_;
  mutable std::atomic<uint64_t> refused_{0};
};

}  // namespace dengine::net
