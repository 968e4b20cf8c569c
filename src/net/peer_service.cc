#include "net/peer_service.h"

#include <cstdio>
#include <string>

#include "net/message_codec.h"

namespace dengine::net {

namespace {

std::string hex(uint64_t id) {
  char text[17];
  std::snprintf(text, sizeof(text), "%llx", static_cast<unsigned long long>(id));
  return text;
}

}  // namespace

class DeliverStream final : public grpc::ServerReadReactor<raftpb::MessageBatch> {
 public:
  explicit DeliverStream(const PeerService& service) : service_(service) { StartRead(&batch_); }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);  // the peer closed its stream
    if (grpc::Status refused = accept(); !refused.ok()) {
      service_.refused_.fetch_add(1);
      return Finish(refused);
    }
    StartRead(&batch_);
  }
  void OnDone() override { delete this; }

 private:
  // Peer identity first (a member of this cluster), then every message, before any is stepped.
  grpc::Status accept() {
    if (batch_.cluster_id() != service_.cluster_id_) {
      return {grpc::StatusCode::PERMISSION_DENIED,
              "net: a batch from cluster " + hex(batch_.cluster_id()) + " reached member " +
                  hex(service_.self_) + " of cluster " + hex(service_.cluster_id_)};
    }
    if (!service_.is_member_(batch_.from())) {
      return {grpc::StatusCode::PERMISSION_DENIED, "net: node " + hex(batch_.from()) +
                                                       " is not a member of cluster " +
                                                       hex(service_.cluster_id_)};
    }
    std::vector<Message> messages;
    messages.reserve(static_cast<size_t>(batch_.messages_size()));
    for (const raftpb::Message& wire : batch_.messages()) {
      Result<Message> message = from_wire(wire);
      if (!message) return {grpc::StatusCode::INVALID_ARGUMENT, message.status().message()};
      if (message->from != batch_.from() || message->to != service_.self_) {
        return {grpc::StatusCode::INVALID_ARGUMENT,
                "net: a message from " + hex(message->from) + " to " + hex(message->to) +
                    " came in a batch from " + hex(batch_.from()) + " to member " +
                    hex(service_.self_)};
      }
      messages.push_back(std::move(*message));
    }
    for (Message& message : messages) service_.deliver_(std::move(message));
    return grpc::Status::OK;
  }

  const PeerService& service_;
  raftpb::MessageBatch batch_;
};

grpc::ServerReadReactor<raftpb::MessageBatch>* PeerService::Deliver(
    grpc::CallbackServerContext* /*context*/, raftpb::DeliverResponse* /*response*/) {
  return new DeliverStream(*this);  // deletes itself when done
}

}  // namespace dengine::net
