#include "net/grpc_peer_router.h"

#include <utility>

#include <grpcpp/grpcpp.h>

#include "net/message_codec.h"
#include "net/outcome_codec.h"
#include "net/peer_channel.h"
#include "raftpb/raft.grpc.pb.h"

namespace dengine::net {

struct GrpcPeerRouter::Peer {
  std::string address;
  std::unique_ptr<raftpb::RaftPeer::Stub> stub;
};

namespace {

// What a failed call means to the caller: the leader could not be asked, or did not answer in
// time (then the request may still be carried out).
Status call_failure(const grpc::Status& status, NodeId leader, const std::string& address) {
  const std::string where = "net: the leader (node " + std::to_string(leader) + " at " + address +
                            ")";
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return Status::timed_out(where + " did not answer in time");
  }
  return Status::unavailable(where + " could not be asked: " + status.error_message());
}

}  // namespace

// One asynchronous call in flight: its context, request and response live here until gRPC
// completes it.
// (gRPC takes its completion as a std::function, which must be copyable: `done` waits here.)
template <typename Request, typename Response, typename Done>
struct PeerCall {
  grpc::ClientContext context;
  Request request;
  Response response;
  Done done;
};

GrpcPeerRouter::GrpcPeerRouter(GrpcPeerRouterOptions options) : options_(std::move(options)) {}

GrpcPeerRouter::~GrpcPeerRouter() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  for (grpc::ClientContext* context : calls_) context->TryCancel();
  ended_.wait(lock, [this] { return calls_.empty(); });
}

GrpcPeerRouter::Peer* GrpcPeerRouter::peer(NodeId id) {
  std::lock_guard lock(mutex_);
  if (auto it = peers_.find(id); it != peers_.end()) return it->second.get();
  std::optional<std::string> address = options_.address_of(id);
  if (!address) return nullptr;
  auto peer = std::make_unique<Peer>();
  peer->address = *address;
  peer->stub = raftpb::RaftPeer::NewStub(make_peer_channel(*address));
  Peer* view = peer.get();
  peers_.emplace(id, std::move(peer));
  return view;
}

bool GrpcPeerRouter::reaches(NodeId id) {
  return id != options_.self && peer(id) != nullptr;
}

bool GrpcPeerRouter::begin(grpc::ClientContext* context) {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  calls_.insert(context);
  return true;
}

void GrpcPeerRouter::end(grpc::ClientContext* context) {
  std::lock_guard lock(mutex_);
  calls_.erase(context);
  if (calls_.empty()) ended_.notify_all();
}

namespace {

Status stopping() {
  return Status::unavailable("net: the member is stopping");
}

Status no_address(NodeId leader) {
  return Status::unavailable("net: no peer address is known for the leader, node " +
                             std::to_string(leader));
}

template <typename Call>
void set_deadline(Call& call, std::chrono::milliseconds timeout) {
  call.context.set_deadline(std::chrono::system_clock::now() + timeout);
}

}  // namespace

void GrpcPeerRouter::propose(NodeId leader, std::string command, int hops,
                             runtime::ProposalDone done) {
  Peer* target = peer(leader);
  if (target == nullptr) return done(no_address(leader));
  using Call = PeerCall<raftpb::ProposeRequest, raftpb::ProposeResponse, runtime::ProposalDone>;
  auto call = std::make_unique<Call>();
  call->request.mutable_header()->set_cluster_id(options_.cluster_id);
  call->request.mutable_header()->set_from(options_.self);
  call->request.set_command(std::move(command));
  call->request.set_hops(hops);
  set_deadline(*call, options_.propose_timeout);
  if (!begin(&call->context)) return done(stopping());
  call->done = std::move(done);
  Call* raw = call.release();
  target->stub->async()->Propose(
      &raw->context, &raw->request, &raw->response,
      [this, raw, leader, address = target->address](const grpc::Status& status) {
        std::unique_ptr<Call> owned(raw);
        auto& answer = owned->done;
        if (status.ok()) {
          answer(decode_outcome(owned->response.outcome()));
        } else {
          answer(call_failure(status, leader, address));
        }
        end(&owned->context);
      });
}

void GrpcPeerRouter::lease_call(NodeId leader, LeaseId id, bool renew, LeaseDone done) {
  Peer* target = peer(leader);
  if (target == nullptr) return done(no_address(leader));
  using Call = PeerCall<raftpb::LeaseRequest, raftpb::LeaseResponse, LeaseDone>;
  auto call = std::make_unique<Call>();
  call->request.mutable_header()->set_cluster_id(options_.cluster_id);
  call->request.mutable_header()->set_from(options_.self);
  call->request.set_lease_id(id);
  call->request.set_renew(renew);
  set_deadline(*call, options_.quick_timeout);
  if (!begin(&call->context)) return done(stopping());
  call->done = std::move(done);
  Call* raw = call.release();
  target->stub->async()->Lease(
      &raw->context, &raw->request, &raw->response,
      [this, raw, leader, id, address = target->address](const grpc::Status& status) {
        std::unique_ptr<Call> owned(raw);
        auto& answer = owned->done;
        if (!status.ok()) {
          answer(call_failure(status, leader, address));
        } else if (owned->response.code() != 0) {
          answer(status_from_wire(owned->response.code(), owned->response.message()));
        } else {
          answer(runtime::LeaseTimeLeft{.id = id,
                                      .ttl_seconds = owned->response.ttl_seconds(),
                                      .granted_ttl_seconds =
                                          owned->response.granted_ttl_seconds()});
        }
        end(&owned->context);
      });
}

void GrpcPeerRouter::renew_lease(NodeId leader, LeaseId id, LeaseDone done) {
  lease_call(leader, id, /*renew=*/true, std::move(done));
}

void GrpcPeerRouter::lease_time_left(NodeId leader, LeaseId id, LeaseDone done) {
  lease_call(leader, id, /*renew=*/false, std::move(done));
}

void GrpcPeerRouter::change_membership(NodeId leader, std::vector<ConfChange> changes,
                                       IndexDone done) {
  Peer* target = peer(leader);
  if (target == nullptr) return done(no_address(leader));
  using Call = PeerCall<raftpb::MembershipRequest, raftpb::MembershipResponse, IndexDone>;
  auto call = std::make_unique<Call>();
  call->request.mutable_header()->set_cluster_id(options_.cluster_id);
  call->request.mutable_header()->set_from(options_.self);
  for (const ConfChange& change : changes) to_wire(change, call->request.add_changes());
  set_deadline(*call, options_.quick_timeout);
  if (!begin(&call->context)) return done(stopping());
  call->done = std::move(done);
  Call* raw = call.release();
  target->stub->async()->ChangeMembership(
      &raw->context, &raw->request, &raw->response,
      [this, raw, leader, address = target->address](const grpc::Status& status) {
        std::unique_ptr<Call> owned(raw);
        auto& answer = owned->done;
        if (!status.ok()) {
          answer(call_failure(status, leader, address));
        } else if (owned->response.code() != 0) {
          answer(status_from_wire(owned->response.code(), owned->response.message()));
        } else {
          answer(Index{owned->response.index()});
        }
        end(&owned->context);
      });
}

void GrpcPeerRouter::transfer_leadership(NodeId leader, NodeId target_id, StatusDone done) {
  Peer* target = peer(leader);
  if (target == nullptr) return done(no_address(leader));
  using Call = PeerCall<raftpb::TransferRequest, raftpb::TransferResponse, StatusDone>;
  auto call = std::make_unique<Call>();
  call->request.mutable_header()->set_cluster_id(options_.cluster_id);
  call->request.mutable_header()->set_from(options_.self);
  call->request.set_target(target_id);
  set_deadline(*call, options_.quick_timeout);
  if (!begin(&call->context)) return done(stopping());
  call->done = std::move(done);
  Call* raw = call.release();
  target->stub->async()->TransferLeadership(
      &raw->context, &raw->request, &raw->response,
      [this, raw, leader, address = target->address](const grpc::Status& status) {
        std::unique_ptr<Call> owned(raw);
        auto& answer = owned->done;
        if (!status.ok()) {
          answer(call_failure(status, leader, address));
        } else {
          answer(status_from_wire(owned->response.code(), owned->response.message()));
        }
        end(&owned->context);
      });
}

}  // namespace dengine::net
