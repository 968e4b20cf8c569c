#include "net/grpc_transport.h"

#include <condition_variable>
#include <deque>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "net/message_codec.h"
#include "raftpb/raft.grpc.pb.h"
#include "runtime/worker_thread.h"

namespace dengine::net {

// One peer's queue and the thread that drains it into a Deliver stream.
class PeerSender {
 public:
  PeerSender(const GrpcTransportOptions& options, NodeId peer, std::string address)
      : options_(options), peer_(peer), address_(std::move(address)) {
    thread_ = std::thread([this] {
      runtime::name_this_thread("dengine-peer");
      run();
    });
  }
  ~PeerSender() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      if (context_ != nullptr) context_->TryCancel();  // unblocks a write in progress
    }
    wake_.notify_all();
    thread_.join();
  }
  PeerSender(const PeerSender&) = delete;
  PeerSender& operator=(const PeerSender&) = delete;

  void enqueue(Message message) {
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= options_.max_queued_messages) {
        ++dropped_;
        return;
      }
      queue_.push_back(std::move(message));
    }
    wake_.notify_one();
  }
  [[nodiscard]] uint64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }

 private:
  void run() {
    auto stub = raftpb::RaftPeer::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    std::chrono::milliseconds backoff = options_.first_backoff;
    while (true) {
      raftpb::DeliverResponse response;
      grpc::ClientContext context;
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        context_ = &context;
      }
      std::unique_ptr<grpc::ClientWriter<raftpb::MessageBatch>> stream =
          stub->Deliver(&context, &response);
      while (write_next_batch(*stream)) backoff = options_.first_backoff;
      (void)stream->Finish();
      std::unique_lock lock(mutex_);
      context_ = nullptr;
      // Raft tolerates loss and resends what matters: the failed batch is not replayed.
      wake_.wait_for(lock, backoff, [this] { return stopping_; });
      if (stopping_) return;
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
  }

  // Waits for messages and writes them as one batch; false when the stream broke or the
  // sender is stopping.
  bool write_next_batch(grpc::ClientWriter<raftpb::MessageBatch>& stream) {
    raftpb::MessageBatch batch;
    batch.set_cluster_id(options_.cluster_id);
    batch.set_from(options_.self);
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return false;
      for (const Message& message : queue_) to_wire(message, batch.add_messages());
      queue_.clear();
    }
    return stream.Write(batch);
  }

  const GrpcTransportOptions& options_;
  const NodeId peer_;
  const std::string address_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Message> queue_;
  uint64_t dropped_ = 0;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;  // the stream being written, to cancel on stop
  std::thread thread_;
};

GrpcTransport::GrpcTransport(GrpcTransportOptions options) : options_(std::move(options)) {}

GrpcTransport::~GrpcTransport() = default;

PeerSender* GrpcTransport::sender_for(NodeId peer) {
  std::lock_guard lock(mutex_);
  if (auto it = senders_.find(peer); it != senders_.end()) return it->second.get();
  std::optional<std::string> address = options_.address_of(peer);
  if (!address) {
    ++dropped_unknown_;
    return nullptr;
  }
  auto sender = std::make_unique<PeerSender>(options_, peer, std::move(*address));
  PeerSender* view = sender.get();
  senders_.emplace(peer, std::move(sender));
  return view;
}

void GrpcTransport::send(std::vector<Message> messages) {
  for (Message& message : messages) {
    if (PeerSender* sender = sender_for(message.to)) sender->enqueue(std::move(message));
  }
}

Status GrpcTransport::send_snapshot(const Message& message, const std::string& /*image_dir*/) {
  return Status::unavailable("net: sending a snapshot image to node " + std::to_string(message.to) +
                             " over gRPC is not supported yet");
}

uint64_t GrpcTransport::dropped() const {
  std::lock_guard lock(mutex_);
  uint64_t dropped = dropped_unknown_;
  for (const auto& [peer, sender] : senders_) dropped += sender->dropped();
  return dropped;
}

}  // namespace dengine::net
