#pragma once

// How a node's Raft messages reach its peers. The core hands every outgoing message to
// send() and never waits: delivery is best effort (Raft tolerates loss) and in order per peer.
// The in-process transport comes first; the gRPC transport (net/) implements the same
// interface.

#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <vector>

#include "dengine/raft_message.h"
#include "dengine/types.h"

namespace dengine::runtime {

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void send(std::vector<Message> messages) = 0;
};

// Engines in one process (tests, examples/three-node-embedded): sending is a push onto the
// receiver's inbound queue, with no serialisation. A message to a node that is not attached
// (stopped, or never started) is dropped, as a network would.
class LocalNetwork {
 public:
  using Deliver = std::function<void(Message)>;

  void attach(NodeId id, Deliver deliver);
  // After this returns, `id`'s Deliver is never called again.
  void detach(NodeId id);
  void deliver(Message message);
  // Drops every message from or to `id` until healed (a partition).
  void isolate(NodeId id, bool isolated);

  // A Transport sending from one attached node.
  std::unique_ptr<Transport> transport_for(NodeId id);

 private:
  std::shared_mutex mutex_;
  std::map<NodeId, Deliver> nodes_;
  std::map<NodeId, bool> isolated_;
};

}  // namespace dengine::runtime
