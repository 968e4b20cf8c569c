#include "client/endpoints.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace dengine::client {
namespace {

// "http://host:port" and "host:port" alike.
std::string address_of(const std::string& endpoint) {
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (endpoint.starts_with(scheme)) return endpoint.substr(scheme.size());
  }
  return endpoint;
}

std::shared_ptr<grpc::Channel> open_channel(const std::string& address) {
  grpc::ChannelArguments args;
  // A restarted member is found again within a second, not gRPC's default two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // etcd's limit on a request is 1.5 MiB; a response (a range) may be larger.
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

Result<std::unique_ptr<Endpoints>> Endpoints::make(const std::vector<std::string>& addresses) {
  if (addresses.empty()) return Status::invalid_argument("remote client: no endpoints given");
  auto endpoints = std::make_unique<Endpoints>();
  for (const std::string& endpoint : addresses) {
    Member member;
    member.address = address_of(endpoint);
    if (member.address.empty()) {
      return Status::invalid_argument("remote client: an empty endpoint in the list");
    }
    member.channel = open_channel(member.address);
    member.kv = etcdserverpb::KV::NewStub(member.channel);
    member.lease = etcdserverpb::Lease::NewStub(member.channel);
    member.watch = etcdserverpb::Watch::NewStub(member.channel);
    endpoints->members_.push_back(std::move(member));
  }
  return endpoints;
}

size_t Endpoints::ready() const {
  const size_t index = current();
  if (members_[index].channel->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY) {
    return index;
  }
  return members_.size();
}

Result<size_t> Endpoints::dial(std::chrono::system_clock::time_point dial_deadline) {
  const size_t first = current();
  for (size_t tried = 0; tried < members_.size(); ++tried) {
    const size_t index = (first + tried) % members_.size();
    // Each member gets its share of what is left, the last one all of it.
    const auto now = std::chrono::system_clock::now();
    const auto share = (dial_deadline - now) / static_cast<int>(members_.size() - tried);
    if (members_[index].channel->WaitForConnected(now + share)) {
      current_.store(index, std::memory_order_release);
      return index;
    }
  }
  std::string tried;
  for (const Member& member : members_) tried += (tried.empty() ? "" : ", ") + member.address;
  return Status::unavailable("remote client: no endpoint accepted a connection (" + tried + ")");
}

void Endpoints::failed(size_t index) {
  size_t expected = index;
  current_.compare_exchange_strong(expected, (index + 1) % members_.size(),
                                   std::memory_order_acq_rel);
}

}  // namespace dengine::client
