#include "cluster/client_api.h"

#include <chrono>
#include <climits>

#include <grpcpp/grpcpp.h>

#include "api/backend_quota.h"
#include "api/cluster_service.h"
#include "api/concurrency_calls.h"
#include "api/election_service.h"
#include "api/kv_service.h"
#include "api/lease_service.h"
#include "api/lock_service.h"
#include "api/maintenance_service.h"
#include "api/member_header.h"
#include "api/watch_service.h"
#include "cluster/peer_address_book.h"

namespace dengine::cluster {
namespace {

// etcd's gRPC settings (embed/serve.go, v3rpc/grpc.go): room for a request of
// --max-request-bytes plus 512 KiB, so that the engine's own check answers with etcd's "request
// is too large" rather than gRPC's text; clients may ping every 5 s without a call in flight
// (gRPC's default would send idle watch streams GOAWAY too_many_pings).
constexpr int kReceiveHeadroomBytes = 512 * 1024;
constexpr int kClientPingIntervalMs = 5'000;

}  // namespace

Result<std::vector<std::string>> bound_addresses(const std::vector<Url>& urls,
                                                 const std::vector<int>& ports, bool server_started,
                                                 std::string_view what) {
  std::vector<std::string> addresses;
  for (size_t i = 0; i < urls.size(); ++i) {
    if (!server_started || ports[i] == 0) {
      return Status::unavailable("dengine: cannot listen for " + std::string(what) + " on " +
                                 urls[i].text + " (address in use, or not this host's?)");
    }
    Url bound = urls[i];
    bound.port = static_cast<uint16_t>(ports[i]);
    addresses.push_back(grpc_address(bound));
  }
  return addresses;
}

struct ClientApi::Parts {
  std::unique_ptr<api::MemberHeader> header;
  std::unique_ptr<api::BackendQuota> quota;
  std::unique_ptr<api::ClusterService> cluster;
  std::unique_ptr<api::KvService> kv;
  std::unique_ptr<api::MaintenanceService> maintenance;
  std::unique_ptr<api::WatchService> watch;
  std::unique_ptr<api::LeaseService> lease;
  // v3lock and v3election; their waiting calls' workers go after the calls (and the services).
  std::unique_ptr<api::WaitingCalls> waiting_calls;
  std::unique_ptr<api::LockService> lock;
  std::unique_ptr<api::ElectionService> election;
  std::unique_ptr<grpc::Server> server;
  std::vector<std::string> addresses;
};

Result<std::unique_ptr<ClientApi>> ClientApi::start(const MemberConfig& config,
                                                    const ClusterIds& ids, EmbeddedEngine& engine,
                                                    api::MembershipAdmin& admin) {
  auto parts = std::make_unique<Parts>();
  parts->header = std::make_unique<api::MemberHeader>(
      api::MemberIds{.cluster_id = ids.cluster_id, .member_id = ids.member_id}, engine);
  parts->cluster = std::make_unique<api::ClusterService>(*parts->header, admin);
  parts->quota = std::make_unique<api::BackendQuota>(
      engine, ids.member_id,
      config.quota_backend_bytes == 0 ? kDefaultQuotaBackendBytes : config.quota_backend_bytes);
  parts->kv = std::make_unique<api::KvService>(
      *parts->header,
      api::KvServiceLimits{.max_request_bytes = config.max_request_bytes,
                           .max_txn_ops = config.max_txn_ops},
      *parts->quota);
  // etcd waits for a leader transfer up to its request timeout: 5 s plus two election timeouts.
  parts->maintenance = std::make_unique<api::MaintenanceService>(
      *parts->header, config.data_dir,
      std::chrono::milliseconds(5'000 + 2 * config.election_timeout_ms));
  parts->watch = std::make_unique<api::WatchService>(
      *parts->header, api::WatchServiceOptions{.progress_interval = std::chrono::milliseconds(
                                                   config.watch_progress_notify_interval_ms),
                                               .max_response_bytes = config.max_request_bytes});
  parts->lease = std::make_unique<api::LeaseService>(*parts->header, *parts->quota);
  parts->waiting_calls = std::make_unique<api::WaitingCalls>();
  parts->lock = std::make_unique<api::LockService>(*parts->header, *parts->waiting_calls);
  parts->election = std::make_unique<api::ElectionService>(*parts->header, *parts->waiting_calls);

  grpc::ServerBuilder builder;
  std::vector<int> ports(config.listen_client_urls.size(), 0);
  for (size_t i = 0; i < config.listen_client_urls.size(); ++i) {
    builder.AddListeningPort(grpc_address(config.listen_client_urls[i]),
                             grpc::InsecureServerCredentials(), &ports[i]);
  }
  const uint64_t receive_limit = config.max_request_bytes + kReceiveHeadroomBytes;
  builder.SetMaxReceiveMessageSize(receive_limit > INT_MAX ? INT_MAX
                                                           : static_cast<int>(receive_limit));
  builder.SetMaxSendMessageSize(INT_MAX);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kClientPingIntervalMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.RegisterService(parts->kv.get());
  builder.RegisterService(parts->cluster.get());
  builder.RegisterService(parts->maintenance.get());
  builder.RegisterService(parts->watch.get());
  builder.RegisterService(parts->lease.get());
  builder.RegisterService(parts->lock.get());
  builder.RegisterService(parts->election.get());
  parts->server = builder.BuildAndStart();
  Result<std::vector<std::string>> addresses =
      bound_addresses(config.listen_client_urls, ports, parts->server != nullptr, "clients");
  auto api = std::unique_ptr<ClientApi>(new ClientApi(std::move(parts)));
  if (!addresses) return addresses.status();
  api->parts_->addresses = std::move(*addresses);
  return api;
}

ClientApi::ClientApi(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ClientApi::~ClientApi() {
  shut_down();
}

const std::vector<std::string>& ClientApi::addresses() const {
  return parts_->addresses;
}

void ClientApi::shut_down() {
  if (parts_->waiting_calls) parts_->waiting_calls->stop();
  if (parts_->server) {
    parts_->server->Shutdown(std::chrono::system_clock::now() + kClientShutdownGrace);
    parts_->server->Wait();
    parts_->server.reset();
  }
}

}  // namespace dengine::cluster
