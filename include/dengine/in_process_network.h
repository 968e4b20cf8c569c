#pragma once

// Several EmbeddedEngines in one process form a cluster through an InProcessNetwork: Raft
// messages are handed from one engine's queue to another's with no serialisation, and a
// follower reaches the leader's engine directly for writes, lease keep-alives and membership
// changes. For tests, examples and services that want replicas of their state in-process;
// engines in different processes talk over dengine-server's gRPC transport instead.
//
//   auto network = dengine::InProcessNetwork::create();
//   for (NodeId id : {1, 2, 3}) {
//     EngineOptions options;
//     options.data_dir = "./data-" + std::to_string(id);
//     options.node_id = id;
//     options.initial_members = {1, 2, 3};
//     options.network = network;
//     engines.push_back(std::move(*EmbeddedEngine::start(options)));
//   }

#include <memory>

#include "dengine/types.h"

namespace dengine {

class InProcessNetwork {
 public:
  static std::shared_ptr<InProcessNetwork> create();
  ~InProcessNetwork();
  InProcessNetwork(const InProcessNetwork&) = delete;
  InProcessNetwork& operator=(const InProcessNetwork&) = delete;

  // Drops every Raft message from or to `node` until called again with false: a partition,
  // for tests and demonstrations. Forwarded client calls are not affected.
  void isolate(NodeId node, bool isolated);

  struct Impl;
  [[nodiscard]] Impl& impl() { return *impl_; }

 private:
  InProcessNetwork();
  std::unique_ptr<Impl> impl_;
};

}  // namespace dengine
