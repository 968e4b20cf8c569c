#include "server/etcd_server.h"

#include <chrono>
#include <climits>

#include <grpcpp/grpcpp.h>

#include "api/kv_service.h"
#include "api/lease_service.h"
#include "api/maintenance_service.h"
#include "api/member_header.h"
#include "api/watch_service.h"
#include "dengine/embedded_engine.h"
#include "server/server_ids_file.h"

namespace dengine::server {
namespace {

// etcd's gRPC settings (embed/serve.go, v3rpc/grpc.go): room for a request of
// --max-request-bytes plus 512 KiB, so that the engine's own check answers with etcd's "request
// is too large" rather than gRPC's text; clients may ping every 5 s without a call in flight
// (gRPC's default would send idle watch streams GOAWAY too_many_pings).
constexpr int kReceiveHeadroomBytes = 512 * 1024;
constexpr int kClientPingIntervalMs = 5'000;
// How long a graceful stop lets calls in flight finish.
constexpr auto kShutdownGrace = std::chrono::seconds(5);

std::string grpc_address(const Url& url) {
  const bool ipv6 = url.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

EngineOptions engine_options(const ServerConfig& config, const ServerIds& ids) {
  EngineOptions options;
  options.data_dir = config.data_dir;
  options.node_id = ids.member_id;
  options.initial_members = ids.member_ids;
  options.heartbeat_interval = std::chrono::milliseconds(config.heartbeat_interval_ms);
  options.election_timeout = std::chrono::milliseconds(config.election_timeout_ms);
  options.snapshot_every_entries = config.snapshot_count;
  return options;
}

}  // namespace

struct EtcdServer::Parts {
  std::unique_ptr<EmbeddedEngine> engine;
  std::unique_ptr<api::MemberHeader> header;
  std::unique_ptr<api::KvService> kv;
  std::unique_ptr<api::MaintenanceService> maintenance;
  std::unique_ptr<api::WatchService> watch;
  std::unique_ptr<api::LeaseService> lease;
  std::unique_ptr<grpc::Server> grpc_server;
  std::vector<std::string> client_addresses;
  ServerIds ids;
  bool stopped = false;
};

Result<std::unique_ptr<EtcdServer>> EtcdServer::start(const ServerConfig& config, ServerIds ids) {
  if (ids.member_ids.size() > 1) {
    return Status::failed_precondition(
        "dengine-server: --initial-cluster lists " + std::to_string(ids.member_ids.size()) +
        " members; clusters need the peer transport, which this build does not have yet: start "
        "a single member");
  }
  for (const Url& url : config.listen_client_urls) {
    if (url.scheme != "http") {
      return Status::invalid_argument("dengine-server: --listen-client-urls " + url.text +
                                      ": TLS (https) is not supported yet; use http");
    }
  }

  // An existing data dir overrides the bootstrap flags, as in etcd.
  Result<std::optional<ServerIds>> stored = read_server_ids(config.data_dir);
  if (!stored) return stored.status();
  if (*stored) {
    ids = **stored;
  } else if (Status written = write_server_ids(config.data_dir, ids); !written) {
    return written;
  }

  auto parts = std::make_unique<Parts>();
  parts->ids = ids;
  Result<std::unique_ptr<EmbeddedEngine>> engine =
      EmbeddedEngine::start(engine_options(config, ids));
  if (!engine) return engine.status();
  parts->engine = std::move(*engine);
  parts->header = std::make_unique<api::MemberHeader>(
      api::MemberIds{.cluster_id = ids.cluster_id, .member_id = ids.member_id}, *parts->engine);
  parts->kv = std::make_unique<api::KvService>(
      *parts->header, api::KvServiceLimits{.max_request_bytes = config.max_request_bytes,
                                           .max_txn_ops = config.max_txn_ops});
  parts->maintenance = std::make_unique<api::MaintenanceService>(*parts->header, config.data_dir);
  parts->watch = std::make_unique<api::WatchService>(*parts->header);
  parts->lease = std::make_unique<api::LeaseService>(*parts->header);

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
  builder.RegisterService(parts->maintenance.get());
  builder.RegisterService(parts->watch.get());
  builder.RegisterService(parts->lease.get());
  parts->grpc_server = builder.BuildAndStart();
  for (size_t i = 0; i < ports.size(); ++i) {
    const Url& url = config.listen_client_urls[i];
    if (parts->grpc_server == nullptr || ports[i] == 0) {
      (void)parts->engine->stop();
      return Status::unavailable("dengine-server: cannot listen for clients on " + url.text +
                                 " (address in use, or not this host's?)");
    }
    Url bound = url;
    bound.port = static_cast<uint16_t>(ports[i]);
    parts->client_addresses.push_back(grpc_address(bound));
  }
  return std::unique_ptr<EtcdServer>(new EtcdServer(std::move(parts)));
}

EtcdServer::EtcdServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

EtcdServer::~EtcdServer() {
  (void)stop();
}

const ServerIds& EtcdServer::ids() const {
  return parts_->ids;
}

const std::vector<std::string>& EtcdServer::client_addresses() const {
  return parts_->client_addresses;
}

Status EtcdServer::stop() {
  if (parts_->stopped) return Status::ok();
  parts_->stopped = true;
  // Calls in flight finish first: their completions need the engine.
  parts_->grpc_server->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  parts_->grpc_server->Wait();
  return parts_->engine->stop();
}

}  // namespace dengine::server
