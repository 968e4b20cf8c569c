#include "dengine/in_process_network.h"

#include <optional>
#include <string>
#include <utility>

#include "runtime/in_process_network_impl.h"

namespace dengine {

std::shared_ptr<InProcessNetwork> InProcessNetwork::create() {
  return std::shared_ptr<InProcessNetwork>(new InProcessNetwork());
}

InProcessNetwork::InProcessNetwork() : impl_(std::make_unique<Impl>()) {}
InProcessNetwork::~InProcessNetwork() = default;

void InProcessNetwork::isolate(NodeId node, bool isolated) {
  impl_->network.isolate(node, isolated);
}

void InProcessNetwork::Impl::join(NodeId id, runtime::RaftRuntime& runtime) {
  {
    std::lock_guard lock(mutex_);
    members_[id] = &runtime;
  }
  network.attach(
      id, [&runtime](Message message) { runtime.deliver(std::move(message)); },
      [&runtime](std::string_view chunk) { return runtime.accept_snapshot_chunk(chunk); });
}

void InProcessNetwork::Impl::leave(NodeId id) {
  network.detach(id);
  std::unique_lock lock(mutex_);
  members_.erase(id);
  // Whoever reached this member before it left is done with it before it stops.
  released_.wait(lock, [this] { return users_ == 0; });
}

template <typename Call>
bool InProcessNetwork::Impl::with_member(NodeId id, Call&& call) {
  runtime::RaftRuntime* runtime = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = members_.find(id);
    if (it == members_.end()) return false;
    runtime = it->second;
    ++users_;
  }
  // The calls below only queue work or read under the runtime's own locks: they never wait
  // for another engine, so holding the member across one cannot deadlock leave().
  call(*runtime);
  std::lock_guard lock(mutex_);
  if (--users_ == 0) released_.notify_all();
  return true;
}

namespace {

Status not_here(NodeId id) {
  return Status::unavailable("engine: node " + std::to_string(id) + " left the in-process network");
}

}  // namespace

bool InProcessNetwork::Impl::reaches(NodeId id) {
  std::lock_guard lock(mutex_);
  return members_.contains(id);
}

void InProcessNetwork::Impl::propose(NodeId leader, std::string command, int hops,
                                     runtime::ProposalDone done) {
  std::optional<runtime::ProposalDone> pending(std::move(done));
  if (!with_member(leader, [&](runtime::RaftRuntime& runtime) {
        runtime.propose(std::move(command), std::move(*pending), hops);
      })) {
    (*pending)(not_here(leader));
  }
}

void InProcessNetwork::Impl::renew_lease(NodeId leader, LeaseId id, LeaseDone done) {
  Result<runtime::LeaseTimeLeft> renewed = not_here(leader);
  with_member(leader,
              [&](runtime::RaftRuntime& runtime) { renewed = runtime.renew_lease_as_leader(id); });
  done(std::move(renewed));
}

void InProcessNetwork::Impl::lease_time_left(NodeId leader, LeaseId id, LeaseDone done) {
  Result<runtime::LeaseTimeLeft> left = not_here(leader);
  with_member(leader,
              [&](runtime::RaftRuntime& runtime) { left = runtime.lease_time_left_as_leader(id); });
  done(std::move(left));
}

void InProcessNetwork::Impl::change_membership(NodeId leader, std::vector<ConfChange> changes,
                                               IndexDone done) {
  std::optional<IndexDone> pending(std::move(done));
  if (!with_member(leader, [&](runtime::RaftRuntime& runtime) {
        runtime.change_membership_as_leader(std::move(changes), std::move(*pending));
      })) {
    (*pending)(not_here(leader));
  }
}

void InProcessNetwork::Impl::transfer_leadership(NodeId leader, NodeId target, StatusDone done) {
  std::optional<StatusDone> pending(std::move(done));
  if (!with_member(leader, [&](runtime::RaftRuntime& runtime) {
        runtime.transfer_leadership_as_leader(target, std::move(*pending));
      })) {
    (*pending)(not_here(leader));
  }
}

}  // namespace dengine
