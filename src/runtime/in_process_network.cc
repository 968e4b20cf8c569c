#include "dengine/in_process_network.h"

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

namespace {

class MemberLease final : public runtime::PeerRouter::Lease {
 public:
  MemberLease(InProcessNetwork::Impl& impl, runtime::RaftRuntime& runtime)
      : impl_(impl), runtime_(runtime) {}
  ~MemberLease() override { impl_.release(); }
  MemberLease(const MemberLease&) = delete;
  MemberLease& operator=(const MemberLease&) = delete;
  runtime::RaftRuntime& runtime() override { return runtime_; }

 private:
  InProcessNetwork::Impl& impl_;
  runtime::RaftRuntime& runtime_;
};

}  // namespace

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

std::unique_ptr<runtime::PeerRouter::Lease> InProcessNetwork::Impl::reach(NodeId id) {
  std::lock_guard lock(mutex_);
  auto it = members_.find(id);
  if (it == members_.end()) return nullptr;
  ++users_;
  return std::make_unique<MemberLease>(*this, *it->second);
}

void InProcessNetwork::Impl::release() {
  std::lock_guard lock(mutex_);
  if (--users_ == 0) released_.notify_all();
}

}  // namespace dengine
