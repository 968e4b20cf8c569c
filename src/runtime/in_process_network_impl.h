#pragma once

// What an InProcessNetwork is made of: the in-process transport for Raft messages, and the
// registry through which a follower reaches the leader's runtime (PeerRouter).

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

#include "dengine/in_process_network.h"
#include "runtime/peer_router.h"
#include "runtime/raft_runtime.h"
#include "runtime/transport.h"

namespace dengine {

struct InProcessNetwork::Impl final : runtime::PeerRouter {
  runtime::LocalNetwork network;

  // Attaches a started runtime: it receives messages and can be reached.
  void join(NodeId id, runtime::RaftRuntime& runtime);
  // Detaches it; returns once nobody still uses it, so it may then stop.
  void leave(NodeId id);
  bool reaches(NodeId id) override;
  void propose(NodeId leader, std::string command, int hops, runtime::ProposalDone done) override;
  void renew_lease(NodeId leader, LeaseId id, LeaseDone done) override;
  void lease_time_left(NodeId leader, LeaseId id, LeaseDone done) override;
  void change_membership(NodeId leader, std::vector<ConfChange> changes, IndexDone done) override;
  void transfer_leadership(NodeId leader, NodeId target, StatusDone done) override;

 private:
  // Runs `call` with `id`'s runtime, kept from leaving meanwhile; false when it is not here.
  template <typename Call>
  bool with_member(NodeId id, Call&& call);

  std::mutex mutex_;
  std::condition_variable released_;
  std::map<NodeId, runtime::RaftRuntime*> members_;
  // Leases held across every member: leave() waits for none at all, which is simpler than
  // counting per member and costs nothing, since leases last one non-blocking call.
  int users_ = 0;
};

}  // namespace dengine
