#pragma once

// How a node's Raft messages reach its peers. The core hands every outgoing message to
// send() and never waits: delivery is best effort (Raft tolerates loss) and in order per peer.
// The in-process transport comes first; the gRPC transport (net/) implements the same
// interface.

#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "dengine/status.h"
#include "dengine/types.h"
#include "raft/raft_message.h"

namespace dengine::runtime {

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void send(std::vector<Message> messages) = 0;
  // Sends a kSnapshot `message` with the image in `image_dir`: the image's files first, as a
  // snapshot stream (log/snapshot_chunk.h) carrying message.snapshot as its metadata, then the
  // message, once the peer holds the whole image. Blocks the calling thread (the snapshot
  // shipper's) until then; the peer only acts on the message, so a failure leaves it as it
  // was. kUnavailable when the peer cannot be reached.
  virtual Status send_snapshot(const Message& message, const std::string& image_dir);
  // The node is stopping: a send_snapshot in progress returns soon (kUnavailable) instead of
  // waiting on a peer that stopped reading. Called before the snapshot shipper is joined.
  virtual void cancel_sends() {}
};

// Engines in one process (tests, examples/three-node-embedded): sending is a push onto the
// receiver's inbound queue, with no serialisation. A message to a node that is not attached
// (stopped, or never started) is dropped, as a network would.
class LocalNetwork {
 public:
  using Deliver = std::function<void(Message)>;
  // Takes one chunk of a snapshot stream sent to the node (RaftRuntime::accept_snapshot_chunk).
  using AcceptChunk = std::function<Status(std::string_view chunk)>;

  void attach(NodeId id, Deliver deliver, AcceptChunk accept_chunk = {});
  // After this returns, `id`'s Deliver is never called again.
  void detach(NodeId id);
  void deliver(Message message);
  Status deliver_snapshot_chunk(NodeId from, NodeId to, std::string_view chunk);
  // Drops every message from or to `id` until healed (a partition).
  void isolate(NodeId id, bool isolated);

  // A Transport sending from one attached node.
  std::unique_ptr<Transport> transport_for(NodeId id);

 private:
  struct Attached {
    Deliver deliver;
    AcceptChunk accept_chunk;
  };
  [[nodiscard]] bool cut_locked(NodeId from, NodeId to) const;

  std::shared_mutex mutex_;
  std::map<NodeId, Attached> nodes_;
  std::map<NodeId, bool> isolated_;
};

}  // namespace dengine::runtime
