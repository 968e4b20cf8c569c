#pragma once

// The sending end of the peer transport (docs/architecture.md §2): runtime::Transport over gRPC.
// Each peer gets a sender that keeps one Deliver stream open and writes whatever queued up since
// its last write as one batch, so messages to a peer stay in order and a busy core never waits on
// the network. Votes, heartbeats and reads go on a control stream of their own, so that they never
// wait behind entries; images go on a SendSnapshot stream per image. Delivery is best effort, as
// Raft expects: a peer that cannot be reached is retried with backoff (100 ms doubling to 2 s), and
// past max_queued_messages new messages to it are dropped rather than held.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "runtime/transport.h"

namespace grpc {
class ClientContext;
}

namespace dengine::net {

struct GrpcTransportOptions {
  uint64_t cluster_id = 0;
  NodeId self = kNoNode;
  // "host:port" of a peer's listener, or nothing when it is not (yet) known.
  std::function<std::optional<std::string>(NodeId)> address_of;
  size_t max_queued_messages = 4096;
  std::chrono::milliseconds first_backoff{100};
  std::chrono::milliseconds max_backoff{2000};
};

class PeerSender;

class GrpcTransport final : public runtime::Transport {
 public:
  explicit GrpcTransport(GrpcTransportOptions options);
  ~GrpcTransport() override;
  GrpcTransport(const GrpcTransport&) = delete;
  GrpcTransport& operator=(const GrpcTransport&) = delete;

  void send(std::vector<Message> messages) override;
  // The image travels on a SendSnapshot stream of its own, then the message on the peer's
  // replication lane. kUnavailable when the peer cannot be reached or refuses the image.
  Status send_snapshot(const Message& message, const std::string& image_dir) override;
  void cancel_sends() override;

  // Messages dropped because a peer's queue was full or its address unknown (for tests and
  // metrics).
  [[nodiscard]] uint64_t dropped() const;

 private:
  // Each peer has two lanes: control messages (votes, heartbeats...) and replication.
  PeerSender* sender_for(NodeId peer, bool control);
  uint64_t next_snapshot_id();

  const GrpcTransportOptions options_;
  mutable std::mutex mutex_;
  std::map<std::pair<NodeId, bool>, std::unique_ptr<PeerSender>> senders_;
  std::set<grpc::ClientContext*> snapshot_contexts_;  // images being sent, cancelled on stop
  bool stopping_ = false;
  std::mt19937_64 random_{std::random_device{}()};
  uint64_t dropped_unknown_ = 0;
};

}  // namespace dengine::net
