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
  const std::string where =
      "net: the leader (node " + std::to_string(leader) + " at " + address + ")";
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
  std::optional<std::string> address = options_.address_of(id);
  auto it = peers_.find(id);
  if (it != peers_.end() && (!address || *address == it->second->address)) return it->second.get();
  if (!address) return nullptr;
  if (it != peers_.end()) {
    // The member moved (etcdctl member update). Calls in flight may still use the old stub, so
    // it is kept until the router goes; moves are rare.
    moved_.push_back(std::move(it->second));
    peers_.erase(it);
  }
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

}  // namespace

// Every call goes the same way: header and deadline set, the call registered (so that the
// destructor can cancel it), the request sent; gRPC's answer, or its failure, goes to
// `answer` with the caller's completion, on a gRPC thread.
template <typename Request, typename Response, typename Done, typename Send, typename Answer>
void GrpcPeerRouter::call(NodeId leader, std::chrono::milliseconds timeout, Request request,
                          Done done, Send send, Answer answer) {
  Peer* target = peer(leader);
  if (target == nullptr) return done(no_address(leader));
  using Call = PeerCall<Request, Response, Done>;
  auto pending = std::make_unique<Call>();
  pending->request = std::move(request);
  pending->request.mutable_header()->set_cluster_id(options_.cluster_id);
  pending->request.mutable_header()->set_from(options_.self);
  pending->context.set_deadline(std::chrono::system_clock::now() + timeout);
  if (!begin(&pending->context)) return done(stopping());
  pending->done = std::move(done);
  Call* raw = pending.release();
  send(*target->stub->async(), &raw->context, &raw->request, &raw->response,
       [this, raw, answer, leader, address = target->address](const grpc::Status& status) {
         std::unique_ptr<Call> owned(raw);
         if (status.ok()) {
           answer(owned->response, owned->done);
         } else {
           owned->done(call_failure(status, leader, address));
         }
         end(&owned->context);
       });
}

void GrpcPeerRouter::propose(NodeId leader, std::string command, int hops,
                             runtime::ProposalDone done) {
  raftpb::ProposeRequest request;
  request.set_command(std::move(command));
  request.set_hops(hops);
  call<raftpb::ProposeRequest, raftpb::ProposeResponse>(
      leader, options_.propose_timeout, std::move(request), std::move(done),
      [](auto& stub, auto... args) { stub.Propose(args...); },
      [](const raftpb::ProposeResponse& response, runtime::ProposalDone& answer) {
        answer(decode_outcome(response.outcome()));
      });
}

void GrpcPeerRouter::lease_call(NodeId leader, LeaseId id, bool renew, LeaseDone done) {
  raftpb::LeaseRequest request;
  request.set_lease_id(id);
  request.set_renew(renew);
  call<raftpb::LeaseRequest, raftpb::LeaseResponse>(
      leader, options_.quick_timeout, std::move(request), std::move(done),
      [](auto& stub, auto... args) { stub.Lease(args...); },
      [id](const raftpb::LeaseResponse& response, LeaseDone& answer) {
        if (response.code() != 0) return answer(status_from_wire(response));
        answer(runtime::LeaseTimeLeft{.id = id,
                                      .ttl_seconds = response.ttl_seconds(),
                                      .granted_ttl_seconds = response.granted_ttl_seconds()});
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
  raftpb::MembershipRequest request;
  for (const ConfChange& change : changes) to_wire(change, request.add_changes());
  call<raftpb::MembershipRequest, raftpb::MembershipResponse>(
      leader, options_.quick_timeout, std::move(request), std::move(done),
      [](auto& stub, auto... args) { stub.ChangeMembership(args...); },
      [](const raftpb::MembershipResponse& response, IndexDone& answer) {
        if (response.code() != 0) return answer(status_from_wire(response));
        answer(Index{response.index()});
      });
}

void GrpcPeerRouter::transfer_leadership(NodeId leader, NodeId target, StatusDone done) {
  raftpb::TransferRequest request;
  request.set_target(target);
  call<raftpb::TransferRequest, raftpb::TransferResponse>(
      leader, options_.quick_timeout, std::move(request), std::move(done),
      [](auto& stub, auto... args) { stub.TransferLeadership(args...); },
      [](const raftpb::TransferResponse& response, StatusDone& answer) {
        answer(status_from_wire(response));
      });
}

}  // namespace dengine::net
