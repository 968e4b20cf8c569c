#pragma once

// The sending end of the peer transport (DESIGN §2): runtime::Transport over gRPC. Each peer
// gets a sender that keeps one Deliver stream open and writes whatever queued up since its last
// write as one batch, so messages to a peer stay in order and a busy core never waits on the
// network. Delivery is best effort, as Raft expects: a peer that cannot be reached is retried
// with backoff (100 ms doubling to 2 s), and past max_queued_messages new messages to it are
// dropped rather than held.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/transport.h"

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
  // Snapshot images travel on a stream of their own, which is not built yet: kUnavailable,
  // which makes the core probe the follower again later.
  Status send_snapshot(const Message& message, const std::string& image_dir) override;

  // Messages dropped because a peer's queue was full or its address unknown (for tests and
  // metrics).
  [[nodiscard]] uint64_t dropped() const;

 private:
  PeerSender* sender_for(NodeId peer);

  const GrpcTransportOptions options_;
  mutable std::mutex mutex_;
  std::map<NodeId, std::unique_ptr<PeerSender>> senders_;
  uint64_t dropped_unknown_ = 0;
};

}  // namespace dengine::net
