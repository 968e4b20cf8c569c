#include <mutex>

#include "runtime/transport.h"

namespace dengine::runtime {
namespace {

class LocalTransport final : public Transport {
 public:
  explicit LocalTransport(LocalNetwork& network) : network_(network) {}
  void send(std::vector<Message> messages) override {
    for (Message& message : messages) network_.deliver(std::move(message));
  }

 private:
  LocalNetwork& network_;
};

}  // namespace

void LocalNetwork::attach(NodeId id, Deliver deliver) {
  std::unique_lock lock(mutex_);
  nodes_[id] = std::move(deliver);
}

void LocalNetwork::detach(NodeId id) {
  std::unique_lock lock(mutex_);
  nodes_.erase(id);
}

void LocalNetwork::isolate(NodeId id, bool isolated) {
  std::unique_lock lock(mutex_);
  isolated_[id] = isolated;
}

void LocalNetwork::deliver(Message message) {
  std::shared_lock lock(mutex_);
  auto cut = [this](NodeId id) {
    auto it = isolated_.find(id);
    return it != isolated_.end() && it->second;
  };
  if (cut(message.from) || cut(message.to)) return;
  auto it = nodes_.find(message.to);
  if (it == nodes_.end()) return;
  it->second(std::move(message));
}

std::unique_ptr<Transport> LocalNetwork::transport_for(NodeId /*id*/) {
  return std::make_unique<LocalTransport>(*this);
}

}  // namespace dengine::runtime
