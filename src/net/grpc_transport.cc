#include "net/grpc_transport.h"

#include <condition_variable>
#include <deque>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "log/posix_file_system.h"
#include "log/snapshot_sender.h"
#include "net/message_codec.h"
#include "net/peer_channel.h"
#include "raftpb/raft.grpc.pb.h"
#include "runtime/compaction_record.h"
#include "runtime/worker_thread.h"

namespace dengine::net {

namespace {

// A batch is cut once it holds this much, so that one write never nears the message bound.
constexpr size_t kBatchBytes = 4 * 1024 * 1024;
// The longest one image may take to reach a follower; past it the leader probes again.
constexpr auto kImageDeadline = std::chrono::minutes(10);

// Votes, heartbeats and the like travel apart from entries and images (a lane each), so that
// a long append never delays an election or a lease.
bool is_control(const Message& message) {
  return message.type != MessageType::kAppend && message.type != MessageType::kSnapshot;
}

size_t rough_bytes(const Message& message) {
  size_t bytes = 64;
  for (const Entry& entry : message.entries) bytes += 32 + entry.data.size();
  return bytes;
}

}  // namespace

// One peer lane's queue and the thread that drains it into a Deliver stream.
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
    std::string address = address_;
    auto stub = raftpb::RaftPeer::NewStub(make_peer_channel(address));
    std::chrono::milliseconds backoff = options_.first_backoff;
    while (true) {
      // A member's address may move (etcdctl member update): each new stream looks it up.
      if (std::optional<std::string> now = options_.address_of(peer_); now && *now != address) {
        address = *now;
        stub = raftpb::RaftPeer::NewStub(make_peer_channel(address));
      }
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
      size_t bytes = 0;
      while (!queue_.empty() &&
             (bytes == 0 || bytes + rough_bytes(queue_.front()) <= kBatchBytes)) {
        bytes += rough_bytes(queue_.front());
        to_wire(queue_.front(), batch.add_messages());
        queue_.pop_front();
      }
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

GrpcTransport::~GrpcTransport() {
  cancel_sends();
}

void GrpcTransport::cancel_sends() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  for (grpc::ClientContext* context : snapshot_contexts_) context->TryCancel();
}

PeerSender* GrpcTransport::sender_for(NodeId peer, bool control) {
  std::lock_guard lock(mutex_);
  const std::pair<NodeId, bool> lane{peer, control};
  if (auto it = senders_.find(lane); it != senders_.end()) return it->second.get();
  std::optional<std::string> address = options_.address_of(peer);
  if (!address) {
    ++dropped_unknown_;
    return nullptr;
  }
  auto sender = std::make_unique<PeerSender>(options_, peer, std::move(*address));
  PeerSender* view = sender.get();
  senders_.emplace(lane, std::move(sender));
  return view;
}

void GrpcTransport::send(std::vector<Message> messages) {
  for (Message& message : messages) {
    const bool control = is_control(message);
    if (PeerSender* sender = sender_for(message.to, control)) sender->enqueue(std::move(message));
  }
}

Status GrpcTransport::send_snapshot(const Message& message, const std::string& image_dir) {
  const std::optional<std::string> address = options_.address_of(message.to);
  if (!address) {
    return Status::unavailable("net: no address for node " + std::to_string(message.to) +
                               " to send an image to");
  }
  Result<log::SnapshotSender> image = log::SnapshotSender::open(
      std::make_shared<log::PosixFileSystem>(), image_dir, next_snapshot_id(),
      runtime::encode_compaction_record(message.snapshot));
  if (!image) return image.status();
  auto stub = raftpb::RaftPeer::NewStub(make_peer_channel(*address));
  grpc::ClientContext context;
  // A peer that stops reading (wedged, not dead: keepalive catches the dead) must not hold
  // the shipper, and with it every other follower's image, for ever.
  context.set_deadline(std::chrono::system_clock::now() + kImageDeadline);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Status::unavailable("net: the transport is stopping");
    snapshot_contexts_.insert(&context);
  }
  raftpb::SnapshotResponse response;
  std::unique_ptr<grpc::ClientWriter<raftpb::SnapshotChunk>> stream =
      stub->SendSnapshot(&context, &response);
  Status failed;
  raftpb::SnapshotChunk chunk;
  chunk.mutable_header()->set_cluster_id(options_.cluster_id);
  chunk.mutable_header()->set_from(options_.self);
  while (failed.is_ok()) {
    Result<std::optional<std::string>> next = image->next_chunk();
    if (!next) {
      failed = next.status();
    } else if (!next->has_value()) {
      break;
    } else {
      chunk.set_chunk(std::move(**next));
      // A refused write shows its reason in Finish() below.
      if (!stream->Write(chunk)) break;
    }
  }
  if (failed.is_ok()) {
    stream->WritesDone();
  } else {
    context.TryCancel();
  }
  const grpc::Status finished = stream->Finish();
  {
    std::lock_guard lock(mutex_);
    snapshot_contexts_.erase(&context);
  }
  if (!failed.is_ok()) return failed;
  if (!finished.ok()) {
    return Status::unavailable("net: node " + std::to_string(message.to) + " at " + *address +
                               " did not take the image: " + finished.error_message());
  }
  // The peer holds the whole image: the message that installs it may follow.
  send({message});
  return Status::ok();
}

uint64_t GrpcTransport::next_snapshot_id() {
  // Unique enough across senders: a receiver refuses only an id it installed before.
  std::lock_guard lock(mutex_);
  return random_();
}

uint64_t GrpcTransport::dropped() const {
  std::lock_guard lock(mutex_);
  uint64_t dropped = dropped_unknown_;
  for (const auto& [peer, sender] : senders_) dropped += sender->dropped();
  return dropped;
}

}  // namespace dengine::net
