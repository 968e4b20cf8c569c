#pragma once

// How a follower asks the leader for what only a leader serves: writes, lease renewals and
// time-to-live, membership changes, leadership transfer. Engines in one process call the
// leader's runtime directly (InProcessNetwork); dengine-server's members ask over the peer
// connection (net/grpc_peer_router.h).

#include <string>
#include <vector>

#include "dengine/entry.h"
#include "dengine/status.h"
#include "dengine/types.h"
#include "dengine/unique_function.h"
#include "runtime/core_input.h"
#include "runtime/lessor.h"

namespace dengine::runtime {

class PeerRouter {
 public:
  using LeaseDone = UniqueFunction<void(Result<LeaseTimeLeft>)>;
  using IndexDone = UniqueFunction<void(Result<Index>)>;
  using StatusDone = UniqueFunction<void(Status)>;

  virtual ~PeerRouter() = default;

  // Whether node `id` can be asked at all (it is known and, in process, running). When it is
  // not, the caller answers from its own view instead (kNotLeader naming the leader).
  virtual bool reaches(NodeId id) = 0;

  // Each asks `leader` to act as the leader and not to forward again. `done` runs exactly
  // once, on any thread, possibly before the call returns; kUnavailable when the leader
  // could not be asked after all (then the request may or may not have been carried out,
  // as with any request that times out).
  //
  // `hops`: how many nodes forwarded the command already (bounds forwarding loops).
  virtual void propose(NodeId leader, std::string command, int hops, ProposalDone done) = 0;
  virtual void renew_lease(NodeId leader, LeaseId id, LeaseDone done) = 0;
  virtual void lease_time_left(NodeId leader, LeaseId id, LeaseDone done) = 0;
  virtual void change_membership(NodeId leader, std::vector<ConfChange> changes,
                                 IndexDone done) = 0;
  virtual void transfer_leadership(NodeId leader, NodeId target, StatusDone done) = 0;
};

}  // namespace dengine::runtime
