#include <mutex>
#include <random>

#include "log/posix_file_system.h"
#include "log/snapshot_sender.h"
#include "runtime/compaction_record.h"
#include "runtime/transport.h"

namespace dengine::runtime {

Status Transport::send_snapshot(const Message& message, const std::string& /*image_dir*/) {
  return Status::failed_precondition("transport: cannot carry a snapshot to node " +
                                     std::to_string(message.to));
}

namespace {

class LocalTransport final : public Transport {
 public:
  explicit LocalTransport(LocalNetwork& network) : network_(network) {}
  void send(std::vector<Message> messages) override {
    for (Message& message : messages) network_.deliver(std::move(message));
  }

  Status send_snapshot(const Message& message, const std::string& image_dir) override {
    Result<log::SnapshotSender> sender =
        log::SnapshotSender::open(std::make_shared<log::PosixFileSystem>(), image_dir,
                                  next_snapshot_id(), encode_compaction_record(message.snapshot));
    if (!sender) return sender.status();
    while (true) {
      Result<std::optional<std::string>> chunk = sender->next_chunk();
      if (!chunk) return chunk.status();
      if (!chunk->has_value()) break;
      Status taken = network_.deliver_snapshot_chunk(message.from, message.to, **chunk);
      if (!taken) return taken;
    }
    network_.deliver(message);
    return Status::ok();
  }

 private:
  // Unique enough across senders: a receiver refuses only an id it installed before.
  static uint64_t next_snapshot_id() {
    static std::mutex mutex;
    static std::mt19937_64 random{std::random_device{}()};
    std::lock_guard lock(mutex);
    return random();
  }

  LocalNetwork& network_;
};

}  // namespace

void LocalNetwork::attach(NodeId id, Deliver deliver, AcceptChunk accept_chunk) {
  std::unique_lock lock(mutex_);
  nodes_[id] = Attached{std::move(deliver), std::move(accept_chunk)};
}

void LocalNetwork::detach(NodeId id) {
  std::unique_lock lock(mutex_);
  nodes_.erase(id);
}

void LocalNetwork::isolate(NodeId id, bool isolated) {
  std::unique_lock lock(mutex_);
  isolated_[id] = isolated;
}

bool LocalNetwork::cut_locked(NodeId from, NodeId to) const {
  auto cut = [this](NodeId id) {
    auto it = isolated_.find(id);
    return it != isolated_.end() && it->second;
  };
  return cut(from) || cut(to);
}

void LocalNetwork::deliver(Message message) {
  std::shared_lock lock(mutex_);
  if (cut_locked(message.from, message.to)) return;
  auto it = nodes_.find(message.to);
  if (it == nodes_.end()) return;
  it->second.deliver(std::move(message));
}

Status LocalNetwork::deliver_snapshot_chunk(NodeId from, NodeId to, std::string_view chunk) {
  std::shared_lock lock(mutex_);
  auto it = nodes_.find(to);
  if (cut_locked(from, to) || it == nodes_.end()) {
    return Status::unavailable("local network: node " + std::to_string(to) + " cannot be reached");
  }
  if (!it->second.accept_chunk) {
    return Status::failed_precondition("local network: node " + std::to_string(to) +
                                       " takes no snapshots");
  }
  return it->second.accept_chunk(chunk);
}

std::unique_ptr<Transport> LocalNetwork::transport_for(NodeId /*id*/) {
  return std::make_unique<LocalTransport>(*this);
}

}  // namespace dengine::runtime
