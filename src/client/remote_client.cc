#include "dengine/remote_client.h"

#include "client/grpc_kv_backend.h"

namespace dengine {

struct RemoteClient::Impl {
  Impl(std::unique_ptr<client::Endpoints> endpoints, RemoteClientOptions options)
      : backend(std::move(endpoints), options), kv(backend) {}
  client::GrpcKvBackend backend;
  KvClient kv;
};

Result<std::unique_ptr<RemoteClient>> RemoteClient::connect(std::vector<std::string> endpoints,
                                                            RemoteClientOptions options) {
  if (options.request_timeout.count() <= 0 || options.dial_timeout.count() <= 0) {
    return Status::invalid_argument(
        "remote client: dial_timeout and request_timeout must be positive");
  }
  Result<std::unique_ptr<client::Endpoints>> made = client::Endpoints::make(endpoints);
  if (!made) return made.status();
  Result<size_t> dialled = (*made)->dial(std::chrono::system_clock::now() + options.dial_timeout);
  if (!dialled) return dialled.status();
  return std::unique_ptr<RemoteClient>(
      new RemoteClient(std::make_unique<Impl>(std::move(*made), options)));
}

RemoteClient::RemoteClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RemoteClient::~RemoteClient() = default;

KvClient& RemoteClient::client() {
  return impl_->kv;
}

std::string RemoteClient::endpoint() const {
  client::Endpoints& endpoints = impl_->backend.endpoints();
  return endpoints.at(endpoints.current()).address;
}

}  // namespace dengine
