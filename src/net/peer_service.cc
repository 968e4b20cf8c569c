#include "net/peer_service.h"

#include <cstdio>
#include <string>
#include <vector>

#include "kv/command_codec.h"
#include "net/message_codec.h"
#include "net/outcome_codec.h"
#include "runtime/raft_runtime.h"

namespace dengine::net {

namespace {

std::string hex(uint64_t id) {
  char text[17];
  std::snprintf(text, sizeof(text), "%llx", static_cast<unsigned long long>(id));
  return text;
}

}  // namespace

grpc::Status PeerService::check_sender(uint64_t cluster_id, uint64_t from) const {
  grpc::Status refused;
  if (cluster_id != cluster_id_) {
    refused = {grpc::StatusCode::PERMISSION_DENIED,
               "net: a request from cluster " + hex(cluster_id) + " reached member " + hex(self_) +
                   " of cluster " + hex(cluster_id_)};
  } else if (!is_member_(from)) {
    refused = {grpc::StatusCode::PERMISSION_DENIED,
               "net: node " + hex(from) + " is not a member of cluster " + hex(cluster_id_)};
  }
  if (!refused.ok()) refused_.fetch_add(1);
  return refused;
}

grpc::Status PeerService::check_sender(const raftpb::PeerHeader& header) const {
  return check_sender(header.cluster_id(), header.from());
}

runtime::RaftRuntime* PeerService::admit(const raftpb::PeerHeader& header,
                                         grpc::ServerUnaryReactor* reactor) const {
  grpc::Status refused = check_sender(header);
  runtime::RaftRuntime* runtime = refused.ok() ? serving(refused) : nullptr;
  if (runtime == nullptr) reactor->Finish(refused);
  return runtime;
}

runtime::RaftRuntime* PeerService::serving(grpc::Status& why) const {
  runtime::RaftRuntime* runtime = runtime_.load();
  if (runtime == nullptr) {
    why = {grpc::StatusCode::UNAVAILABLE, "net: member " + hex(self_) + " is still starting"};
  }
  return runtime;
}

class DeliverStream final : public grpc::ServerReadReactor<raftpb::MessageBatch> {
 public:
  explicit DeliverStream(const PeerService& service) : service_(service) { StartRead(&batch_); }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);  // the peer closed its stream
    if (grpc::Status refused = accept(); !refused.ok()) return Finish(refused);
    StartRead(&batch_);
  }
  void OnDone() override { delete this; }

 private:
  // Peer identity first (a member of this cluster), then every message, before any is stepped.
  grpc::Status accept() {
    if (grpc::Status refused = service_.check_sender(batch_.cluster_id(), batch_.from());
        !refused.ok()) {
      return refused;
    }
    std::vector<Message> messages;
    messages.reserve(static_cast<size_t>(batch_.messages_size()));
    for (const raftpb::Message& wire : batch_.messages()) {
      Result<Message> message = from_wire(wire);
      grpc::Status refused;
      if (!message) {
        refused = {grpc::StatusCode::INVALID_ARGUMENT, message.status().message()};
      } else if (message->from != batch_.from() || message->to != service_.self_) {
        refused = {grpc::StatusCode::INVALID_ARGUMENT,
                   "net: a message from " + hex(message->from) + " to " + hex(message->to) +
                       " came in a batch from " + hex(batch_.from()) + " to member " +
                       hex(service_.self_)};
      }
      if (!refused.ok()) {
        service_.refused_.fetch_add(1);
        return refused;
      }
      messages.push_back(std::move(*message));
    }
    if (service_.deliver_) {
      for (Message& message : messages) service_.deliver_(std::move(message));
    } else if (runtime::RaftRuntime* runtime = service_.runtime_.load()) {
      for (Message& message : messages) runtime->deliver(std::move(message));
    }  // else still starting: dropped, as a network would
    return grpc::Status::OK;
  }

  const PeerService& service_;
  raftpb::MessageBatch batch_;
};

grpc::ServerReadReactor<raftpb::MessageBatch>* PeerService::Deliver(
    grpc::CallbackServerContext* /*context*/, raftpb::DeliverResponse* /*response*/) {
  return new DeliverStream(*this);  // deletes itself when done
}

grpc::ServerUnaryReactor* PeerService::Propose(grpc::CallbackServerContext* context,
                                               const raftpb::ProposeRequest* request,
                                               raftpb::ProposeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  runtime::RaftRuntime* runtime = admit(request->header(), reactor);
  if (runtime == nullptr) return reactor;
  // Forwards are bounded (RaftRuntime::kMaxForwardHops); a count from outside that range is forged.
  if (request->hops() < 1 || request->hops() > runtime::RaftRuntime::kMaxForwardHops) {
    refused_.fetch_add(1);
    reactor->Finish({grpc::StatusCode::INVALID_ARGUMENT,
                     "net: a forwarded write claims " + std::to_string(request->hops()) +
                         " forwards; 1 to " +
                         std::to_string(runtime::RaftRuntime::kMaxForwardHops) + " are possible"});
    return reactor;
  }
  // Bytes that are not a command must never become an entry: every member would fail to
  // apply it.
  if (Result<kv::KvCommand> command = kv::decode_command(request->command()); !command) {
    refused_.fetch_add(1);
    reactor->Finish(
        {grpc::StatusCode::INVALID_ARGUMENT,
         "net: node " + hex(request->header().from()) +
             " forwarded a write that is not a command: " + command.status().message()});
    return reactor;
  }
  // The hop count keeps a node that believes the sender leads from sending it back.
  runtime->propose(
      request->command(),
      [reactor, response](Result<ApplyResult> outcome) {
        response->set_outcome(encode_outcome(outcome));
        reactor->Finish(grpc::Status::OK);
      },
      request->hops());
  return reactor;
}

grpc::ServerUnaryReactor* PeerService::Lease(grpc::CallbackServerContext* context,
                                             const raftpb::LeaseRequest* request,
                                             raftpb::LeaseResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  runtime::RaftRuntime* runtime = admit(request->header(), reactor);
  if (runtime == nullptr) return reactor;
  Result<runtime::LeaseTimeLeft> left =
      request->renew() ? runtime->renew_lease_as_leader(request->lease_id())
                       : runtime->lease_time_left_as_leader(request->lease_id());
  if (left) {
    response->set_ttl_seconds(left->ttl_seconds);
    response->set_granted_ttl_seconds(left->granted_ttl_seconds);
  } else {
    status_to_wire(left.status(), response);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* PeerService::ChangeMembership(grpc::CallbackServerContext* context,
                                                        const raftpb::MembershipRequest* request,
                                                        raftpb::MembershipResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  runtime::RaftRuntime* runtime = admit(request->header(), reactor);
  if (runtime == nullptr) return reactor;
  std::vector<ConfChange> changes;
  for (const raftpb::ConfChange& wire : request->changes()) {
    Result<ConfChange> change = from_wire(wire);
    if (!change) {
      refused_.fetch_add(1);
      reactor->Finish({grpc::StatusCode::INVALID_ARGUMENT, change.status().message()});
      return reactor;
    }
    changes.push_back(*change);
  }
  runtime->change_membership_as_leader(std::move(changes),
                                       [reactor, response](Result<Index> index) {
                                         if (index) {
                                           response->set_index(*index);
                                         } else {
                                           status_to_wire(index.status(), response);
                                         }
                                         reactor->Finish(grpc::Status::OK);
                                       });
  return reactor;
}

grpc::ServerUnaryReactor* PeerService::TransferLeadership(grpc::CallbackServerContext* context,
                                                          const raftpb::TransferRequest* request,
                                                          raftpb::TransferResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  runtime::RaftRuntime* runtime = admit(request->header(), reactor);
  if (runtime == nullptr) return reactor;
  runtime->transfer_leadership_as_leader(request->target(), [reactor, response](Status status) {
    status_to_wire(status, response);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

// A leader's image, chunk by chunk, into this member's snapshot inbox. The first chunk that is
// refused (another cluster, a broken chunk, a full disk) ends the stream with the reason; the
// leader then probes this member again later.
class SnapshotStream final : public grpc::ServerReadReactor<raftpb::SnapshotChunk> {
 public:
  explicit SnapshotStream(const PeerService& service) : service_(service) { StartRead(&chunk_); }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);  // the whole image arrived
    if (grpc::Status refused = accept(); !refused.ok()) return Finish(refused);
    StartRead(&chunk_);
  }
  void OnDone() override { delete this; }

 private:
  grpc::Status accept() {
    if (grpc::Status refused = service_.check_sender(chunk_.header()); !refused.ok()) {
      return refused;
    }
    grpc::Status why;
    runtime::RaftRuntime* runtime = service_.serving(why);
    if (runtime == nullptr) return why;
    if (Status taken = runtime->accept_snapshot_chunk(chunk_.chunk()); !taken) {
      const bool malformed =
          taken.code() == StatusCode::kCorruption || taken.code() == StatusCode::kInvalidArgument;
      if (malformed) service_.refused_.fetch_add(1);
      return {malformed ? grpc::StatusCode::INVALID_ARGUMENT : grpc::StatusCode::UNAVAILABLE,
              taken.message()};
    }
    return grpc::Status::OK;
  }

  const PeerService& service_;
  raftpb::SnapshotChunk chunk_;
};

grpc::ServerReadReactor<raftpb::SnapshotChunk>* PeerService::SendSnapshot(
    grpc::CallbackServerContext* /*context*/, raftpb::SnapshotResponse* /*response*/) {
  return new SnapshotStream(*this);  // deletes itself when done
}

grpc::ServerUnaryReactor* PeerService::Members(grpc::CallbackServerContext* context,
                                               const raftpb::MembersRequest* /*request*/,
                                               raftpb::MembersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!list_members_) {
    reactor->Finish({grpc::StatusCode::UNAVAILABLE, "dengine: this member is still starting"});
    return reactor;
  }
  response->set_cluster_id(cluster_id_);
  list_members_(*response);
  // A running cluster has a member at least: none means the engine is not serving yet.
  reactor->Finish(
      response->members().empty()
          ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "dengine: this member is still starting")
          : grpc::Status::OK);
  return reactor;
}

}  // namespace dengine::net
