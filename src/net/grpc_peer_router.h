#pragma once

// A follower's way to the leader over the peer protocol (runtime::PeerRouter): each request is
// one asynchronous RaftPeer call to the leader's peer listener, with a deadline, so no thread
// waits on the network. A write that reaches a node which no longer leads is forwarded again,
// at most RaftRuntime::kMaxForwardHops times in all; the other requests are answered by the
// node asked (kNotLeader when it does not lead).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/peer_router.h"

namespace grpc {
class ClientContext;
}

namespace dengine::net {

struct GrpcPeerRouterOptions {
  uint64_t cluster_id = 0;
  NodeId self = kNoNode;
  // "host:port" of a member's peer listener, or nothing when it is not known.
  std::function<std::optional<std::string>(NodeId)> address_of;
  // A forwarded write's deadline: past it the caller gets kTimedOut, and the write may or may
  // not have been applied (as after etcd's "request timed out").
  std::chrono::milliseconds propose_timeout{7'000};
  // Lease calls and membership requests, answered without waiting for the log.
  std::chrono::milliseconds quick_timeout{2'000};
};

class GrpcPeerRouter final : public runtime::PeerRouter {
 public:
  explicit GrpcPeerRouter(GrpcPeerRouterOptions options);
  // Cancels the calls still on their way and waits for their completions.
  ~GrpcPeerRouter() override;
  GrpcPeerRouter(const GrpcPeerRouter&) = delete;
  GrpcPeerRouter& operator=(const GrpcPeerRouter&) = delete;

  bool reaches(NodeId id) override;
  void propose(NodeId leader, std::string command, int hops, runtime::ProposalDone done) override;
  void renew_lease(NodeId leader, LeaseId id, LeaseDone done) override;
  void lease_time_left(NodeId leader, LeaseId id, LeaseDone done) override;
  void change_membership(NodeId leader, std::vector<ConfChange> changes, IndexDone done) override;
  void transfer_leadership(NodeId leader, NodeId target, StatusDone done) override;

  struct Peer;

 private:
  Peer* peer(NodeId id);
  template <typename Request, typename Response, typename Done, typename Send, typename Answer>
  void call(NodeId leader, std::chrono::milliseconds timeout, Request request, Done done, Send send,
            Answer answer);
  void lease_call(NodeId leader, LeaseId id, bool renew, LeaseDone done);
  // Every call is registered from its start to its completion, so the destructor can cancel
  // and wait for it.
  bool begin(grpc::ClientContext* context);
  void end(grpc::ClientContext* context);

  const GrpcPeerRouterOptions options_;
  std::mutex mutex_;
  std::condition_variable ended_;
  std::map<NodeId, std::unique_ptr<Peer>> peers_;
  std::vector<std::unique_ptr<Peer>> moved_;  // stubs of members' former addresses
  std::set<grpc::ClientContext*> calls_;
  bool stopping_ = false;
};

}  // namespace dengine::net
